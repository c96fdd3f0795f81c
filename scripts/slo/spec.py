"""Load and validate redtap's SLO spec (rules/slos.yaml).

The spec declares SLOs per service, and optionally per route, tenant and
channel (exact values of the request labels, match; or one objective per
value, by), on the HTTP server histogram http_server_request_duration_seconds. load() returns a
list of Slo records ready for rule generation, or raises SpecError naming
the offending entry. Unknown keys are errors, so a typo cannot silently
drop an objective.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from catalog import HTTP_BUCKETS, format_bound

SLIS = ("availability", "latency")
ERROR_KINDS = ("5xx", "error_type")
DEFAULT_PERIOD = "30d"

_DURATION = re.compile(r"^([1-9][0-9]*)([hdw])$")
_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*'
_SELECTOR = re.compile(r"^%s(,%s)*,?\s*$" % (_MATCHER, _MATCHER))
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = ("slo", "sli", "severity", "service_name", "http_route", "alertname")
# Labels a tenant/channel selector (match, by) may not name: the generator's
# own, the service's, and the histogram's.
_NOT_MATCHABLE = ("slo", "sli", "severity", "alertname", "service_name", "le", "job",
                  "instance", "http_request_method", "http_response_status_code",
                  "error_type", "network_protocol_version")


class SpecError(Exception):
    """The spec is malformed; the message says where and why."""


@dataclass
class Slo:
    """One objective, as rule generation needs it."""
    name: str            # unique id, used as the value of the "slo" label
    service: str
    route: str | None
    sli: str             # "availability" | "latency"
    objective: Decimal   # percent, e.g. Decimal("99.95")
    threshold: float | None   # seconds, latency SLOs only; a bucket bound
    errors: str          # availability: "5xx" | "error_type"
    selector: str        # extra PromQL matchers, may be ""
    labels: dict = field(default_factory=dict)   # extra alert labels
    period_hours: int = 720
    # request labels (traces.attribute_labels) selected: {label: value},
    # e.g. {"tenant": "acme", "channel": "web"}; on the recorded series too
    match: dict = field(default_factory=dict)
    # one objective per value of these labels (e.g. ("tenant_bucket",)):
    # the ratios are summed by them, the alerts fire per value
    by: tuple = ()

    @property
    def budget(self):
        """Allowed fraction of bad requests, e.g. Decimal("0.0005")."""
        return (Decimal(100) - self.objective) / Decimal(100)


def slugify(text):
    """Return a lower-case [a-z0-9-] form of text ("/api/v1/{id}" -> "api-v1-id")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "root"


def parse_period(text):
    """Return the number of hours in a duration such as "30d", "4w" or "720h"."""
    m = _DURATION.match(str(text))
    if not m:
        raise SpecError("period %r: expected a duration such as 30d, 4w or 720h" % (text,))
    hours = int(m.group(1)) * _HOURS[m.group(2)]
    if hours < 72:
        raise SpecError("period %r: must be at least 3d, the longest alert window" % (text,))
    return hours


def _check_keys(where, entry, allowed):
    if not isinstance(entry, dict):
        raise SpecError("%s: expected a mapping, got %s" % (where, type(entry).__name__))
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise SpecError("%s: unknown key(s) %s; allowed: %s"
                        % (where, ", ".join(unknown), ", ".join(allowed)))


def _objective(where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SpecError("%s: objective must be a number (percent)" % where)
    try:
        objective = Decimal(str(value))
    except InvalidOperation:
        raise SpecError("%s: objective %r is not a number" % (where, value)) from None
    if not Decimal(0) < objective < Decimal(100):
        raise SpecError("%s: objective %s must be a percentage strictly between 0 and 100"
                        % (where, value))
    return objective


def _threshold(where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError("%s: latency SLO needs a numeric threshold in seconds" % where)
    for bound in HTTP_BUCKETS:
        if float(value) == float(bound):
            return float(bound)
    raise SpecError("%s: threshold %s is not a bucket bound of "
                    "http_server_request_duration_seconds (one of %s)"
                    % (where, value, ", ".join(format_bound(b) for b in HTTP_BUCKETS)))


def _labels(where, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError("%s: labels must be a mapping" % where)
    out = {}
    for key, val in value.items():
        if not isinstance(key, str) or not _LABEL_NAME.match(key) or key.startswith("__"):
            raise SpecError("%s: %r is not a valid label name" % (where, key))
        if key in _RESERVED_LABELS:
            raise SpecError("%s: label %r is set by the generator" % (where, key))
        if not isinstance(val, (str, int, float)) or isinstance(val, bool):
            raise SpecError("%s: label %s must have a string value" % (where, key))
        out[key] = str(val)
    return out


def _nonempty_str(where, what, value):
    if not isinstance(value, str) or not value.strip():
        raise SpecError("%s: %s must be a non-empty string" % (where, what))
    return value


def _match_label(where, key):
    if not isinstance(key, str) or not _LABEL_NAME.match(key) or key.startswith("__"):
        raise SpecError("%s: %r is not a valid label name" % (where, key))
    if key in _NOT_MATCHABLE:
        raise SpecError("%s: label %r cannot select a tenant or channel" % (where, key))
    return key


def _match(where, entry):
    """The exact-value selectors: match plus the tenant and channel shortcuts."""
    value = entry.get("match")
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise SpecError("%s: match must be a mapping of label: value" % where)
    out = {}
    for key in ("tenant", "channel"):
        if key in entry:
            if key in value:
                raise SpecError("%s: %s given twice (key and match)" % (where, key))
            out[key] = entry[key]
    out.update(value)
    for key, val in list(out.items()):
        _match_label(where, key)
        if key == "http_route":
            raise SpecError("%s: use route to select a route" % where)
        if not isinstance(val, (str, int)) or isinstance(val, bool) or not str(val):
            raise SpecError("%s: %s must have a non-empty string value" % (where, key))
        out[key] = str(val)
    return dict(sorted(out.items()))


def _by(where, value, route, match):
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise SpecError("%s: by must be a label or a list of labels" % where)
    out = []
    for key in value:
        _match_label(where, key)
        if key in match or key in out or (key == "http_route" and route is not None):
            raise SpecError("%s: by label %r is selected already" % (where, key))
        out.append(key)
    return tuple(out)


def _load_slo(where, entry, service, selector, labels, period_hours):
    _check_keys(where, entry,
                ("name", "sli", "objective", "threshold", "route", "errors", "labels",
                 "tenant", "channel", "match", "by"))
    sli = entry.get("sli")
    if sli not in SLIS:
        raise SpecError("%s: sli must be one of %s" % (where, ", ".join(SLIS)))
    if "objective" not in entry:
        raise SpecError("%s: objective is required" % where)
    objective = _objective(where, entry["objective"])
    route = entry.get("route")
    if route is not None:
        route = _nonempty_str(where, "route", route)
    threshold = None
    if sli == "latency":
        threshold = _threshold(where, entry.get("threshold"))
    elif "threshold" in entry:
        raise SpecError("%s: threshold applies to latency SLOs only" % where)
    errors = entry.get("errors", "5xx")
    if sli != "availability" and "errors" in entry:
        raise SpecError("%s: errors applies to availability SLOs only" % where)
    if errors not in ERROR_KINDS:
        raise SpecError("%s: errors must be one of %s" % (where, ", ".join(ERROR_KINDS)))
    match = _match(where, entry)
    by = _by(where, entry.get("by"), route, match)
    name = entry.get("name")
    if name is None:
        parts = ([service] + ([route] if route else [])
                 + ["%s-%s" % kv for kv in match.items()]
                 + ["by-%s" % b for b in by] + [sli])
        name = "-".join(slugify(p) for p in parts)
    elif not isinstance(name, str) or not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
        raise SpecError("%s: name %r must match [a-z0-9][a-z0-9-]*" % (where, name))
    merged = dict(labels)
    merged.update(_labels(where, entry.get("labels")))
    return Slo(name=name, service=service, route=route, sli=sli, objective=objective,
               threshold=threshold, errors=errors, selector=selector, labels=merged,
               period_hours=period_hours, match=match, by=by)


def load(doc):
    """Validate the parsed YAML document `doc`; return a list of Slo in spec order."""
    _check_keys("spec", doc, ("period", "services"))
    period_hours = parse_period(doc.get("period", DEFAULT_PERIOD))
    services = doc.get("services")
    if not isinstance(services, list) or not services:
        raise SpecError("spec: services must be a non-empty list")
    slos, seen = [], {}
    for i, svc in enumerate(services):
        where = "services[%d]" % i
        _check_keys(where, svc, ("service", "selector", "labels", "slos"))
        service = _nonempty_str(where, "service", svc.get("service"))
        where = "service %s" % service
        selector = svc.get("selector", "")
        if selector is None:
            selector = ""
        if not isinstance(selector, str) or (selector and not _SELECTOR.match(selector)):
            raise SpecError('%s: selector must be PromQL matchers such as job="redtap"' % where)
        selector = selector.strip().rstrip(",")
        labels = _labels(where, svc.get("labels"))
        entries = svc.get("slos")
        if not isinstance(entries, list) or not entries:
            raise SpecError("%s: slos must be a non-empty list" % where)
        for j, entry in enumerate(entries):
            slo = _load_slo("%s, slos[%d]" % (where, j), entry, service, selector, labels,
                            period_hours)
            if slo.name in seen:
                raise SpecError("%s, slos[%d]: SLO name %r already used by %s"
                                % (where, j, slo.name, seen[slo.name]))
            seen[slo.name] = "%s, slos[%d]" % (where, j)
            slos.append(slo)
    return slos
