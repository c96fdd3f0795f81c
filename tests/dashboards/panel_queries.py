"""Run every panel query of redtap's dashboards against a Prometheus; fail on "No data".

Used by panel-queries.sh (see there for usage). For each panel of each
dashboard, substitutes the template variables the way Grafana does
(grafana_vars.py), runs each visible target as an instant query on
PROM_URL/api/v1/query, and prints one line per panel:
    PASS <dashboard> / <panel title>
    FAIL <dashboard> / <panel title> (id N): target B: no data: <query>
With --exemplars, targets that have exemplars turned on must also return
exemplars from /api/v1/query_exemplars over the last --window.
Exits 1 if any panel failed, 2 on usage errors.
"""

import argparse
import glob
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grafana_vars  # noqa: E402

class Unreachable(Exception):
    """Prometheus did not answer at all."""


ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def _get(url, params, timeout):
    req = urllib.request.Request(url + "?" + urllib.parse.urlencode(params),
                                 headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            body = {}
        return {"status": "error", "error": body.get("error") or "HTTP %d" % e.code}
    except (urllib.error.URLError, OSError) as e:
        raise Unreachable("%s: %s" % (url, getattr(e, "reason", e))) from None


def _parse_duration(text):
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if not text or text[-1] not in units or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError("expected a duration such as 5m, got %r" % text)
    return int(text[:-1]) * units[text[-1]]


def check_target(prom, expr, exemplar, args):
    """Return None if the target has data, else a short reason."""
    res = _get(prom + "/api/v1/query", {"query": expr, "time": "%.3f" % time.time()},
               args.timeout)
    if res.get("status") != "success":
        return "query failed: %s" % res.get("error")
    data = res.get("data", {})
    result = data.get("result")
    if data.get("resultType") == "scalar":
        result = [result]
    if not result:
        return "no data"
    if exemplar and args.exemplars:
        now = time.time()
        ex = _get(prom + "/api/v1/query_exemplars",
                  {"query": expr, "start": "%.3f" % (now - args.window), "end": "%.3f" % now},
                  args.timeout)
        if ex.get("status") != "success":
            return "exemplar query failed: %s" % ex.get("error")
        if not any(s.get("exemplars") for s in ex.get("data") or []):
            return "no exemplars"
    return None


def main():
    ap = argparse.ArgumentParser(prog="panel-queries.sh",
                                 description="Run every dashboard panel query against "
                                             "Prometheus and fail naming each panel that "
                                             "returns no data.")
    ap.add_argument("service", help='service_name to select, or "All"')
    ap.add_argument("-d", "--dashboard", action="append", default=[],
                    help="dashboard JSON file (repeatable; default: dashboards/*.json)")
    ap.add_argument("-v", "--var", action="append", default=[], metavar="NAME=VALUE",
                    help='set a variable; "All" selects its All value (default for all '
                         'variables but service)')
    ap.add_argument("--exemplars", action="store_true",
                    help="require exemplars on targets that have them turned on")
    ap.add_argument("--window", type=_parse_duration, default=600,
                    help="how far back to look for exemplars (default 10m)")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    prom = os.environ.get("PROM_URL", "").rstrip("/")
    if not prom:
        print("panel-queries.sh: set PROM_URL, e.g. PROM_URL=http://127.0.0.1:9090",
              file=sys.stderr)
        return 2
    values = {"service": args.service}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep:
            print("panel-queries.sh: -v wants NAME=VALUE, got %r" % item, file=sys.stderr)
            return 2
        values[name] = value

    files = args.dashboard or sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json")))
    if not files:
        print("panel-queries.sh: no dashboards found", file=sys.stderr)
        return 2
    failed = total = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        variables = grafana_vars.dashboard_variables(dash)
        for panel in dash.get("panels", []):
            for p in [panel] + (panel.get("panels", []) if panel.get("type") == "row" else []):
                if p.get("type") == "row":
                    continue
                total += 1
                name = "%s / %s" % (dash.get("title", os.path.basename(path)), p.get("title"))
                problems = []
                for t in p.get("targets", []):
                    if t.get("hide"):
                        continue
                    try:
                        expr = grafana_vars.substitute(t.get("expr", ""), values, variables)
                    except grafana_vars.UnknownVariable as e:
                        problems.append("target %s: undefined variable %s"
                                        % (t.get("refId"), e))
                        continue
                    why = check_target(prom, expr, t.get("exemplar"), args)
                    if why:
                        problems.append("target %s: %s: %s" % (t.get("refId"), why, expr))
                if problems:
                    failed += 1
                    print("FAIL %s (id %s): %s" % (name, p.get("id"), "; ".join(problems)))
                else:
                    print("PASS %s" % name)
    print("%d panels, %d without data" % (total, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Unreachable as e:
        print("panel-queries.sh: cannot reach Prometheus: %s" % e, file=sys.stderr)
        sys.exit(2)
