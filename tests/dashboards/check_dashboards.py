#!/usr/bin/env python3
"""Structural checks of redtap's Grafana dashboards (dashboards/*.json).

    check_dashboards.py [--schema-version N] [--promtool PATH] FILE...

For each dashboard, one PASS/FAIL line per check:
  model       top-level fields, schemaVersion, null id, no installation-specific
              uids or URLs, unique uid and title across the files
  variables   data source variable of type prometheus; job and service variables
              (agent health: job and instance); query variables use the data source;
              every variable a query uses is defined and every one defined is used
  panel ids   unique positive integers
  grid        gridPos inside the 24 columns, no overlaps, panels listed in grid order,
              rows full width
  datasource  every panel and target refers to ${datasource}
  targets     unique refIds; PromQL names only series and labels redtap exports
  exemplars   range queries on histogram buckets and on log_records_total (whose
              warning and error series carry one) have exemplars on, and the RED and
              database dashboards have such panels
  promql      every query, variables substituted, parses (promtool check rules)
Exits 1 if any check failed.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grafana_vars  # noqa: E402
import promql_lint  # noqa: E402

GRID = 24
DS_REF = {"type": "prometheus", "uid": "${datasource}"}
LABEL_VALUES = re.compile(r"^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$")
# Dashboards about services must let the user pick one; the agent health
# dashboard is about the agents, whose own metrics carry no service_name.
REQUIRED_VARS = {"redtap-agent-health": ("job", "instance")}
DEFAULT_VARS = ("job", "service")
EXEMPLAR_DASHBOARDS = ("redtap-service-overview", "redtap-database", "redtap-errors",
                       "redtap-traffic-matrix")
# Series the shipped rules record (rules/*.yml): the SLO health dashboard reads them.
RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules")


def _recorded():
    import glob

    import yaml

    out = set()
    for path in glob.glob(os.path.join(RULES, "*.yml")):
        with open(path, encoding="utf-8") as f:
            for group in (yaml.safe_load(f) or {}).get("groups", []):
                out.update(r["record"] for r in group.get("rules", []) if "record" in r)
    return frozenset(out)


RECORDED = _recorded()
_URL = re.compile(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", re.I)


def _strings(obj, path=""):
    """Yield (path, string) for every string in a JSON value."""
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(v, "%s.%s" % (path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, "%s[%d]" % (path, i))


def _panels(dash):
    """All panels, including those inside collapsed rows."""
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []) if p.get("type") == "row" else []:
            yield q


def _targets(dash):
    for p in _panels(dash):
        for t in p.get("targets", []) or []:
            yield p, t


def check_model(dash, schema_version):
    errs = []
    for key in ("uid", "title", "panels", "templating", "schemaVersion", "time"):
        if key not in dash:
            errs.append("missing %s" % key)
    uid = dash.get("uid", "")
    if not re.fullmatch(r"[a-zA-Z0-9_-]{8,40}", uid or ""):
        errs.append("uid %r must be 8-40 characters of [a-zA-Z0-9_-]" % uid)
    if dash.get("schemaVersion") != schema_version:
        errs.append("schemaVersion %s, current is %s" % (dash.get("schemaVersion"),
                                                          schema_version))
    if dash.get("id") is not None:
        errs.append("id must be null (ids belong to one Grafana instance)")
    for key in ("__inputs", "__requires", "gnetId", "iteration"):
        if key in dash:
            errs.append("export-only field %s" % key)
    for path, s in _strings(dash):
        if _URL.search(s):
            errs.append("URL in %s: %s" % (path, s))
        if path.endswith("datasource.uid") and s not in ("${datasource}", "-- Grafana --"):
            errs.append("fixed data source uid in %s: %s" % (path, s))
    return errs


def check_variables(dash):
    errs = []
    variables = grafana_vars.dashboard_variables(dash)
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errs.append("needs a variable 'datasource' of type datasource with query prometheus")
    for name in REQUIRED_VARS.get(dash.get("uid"), DEFAULT_VARS):
        if name not in variables:
            errs.append("missing variable %s" % name)
    for name, var in variables.items():
        if var.get("type") == "query":
            if var.get("datasource") != DS_REF:
                errs.append("variable %s does not use ${datasource}" % name)
            query = var.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            m = LABEL_VALUES.match(query or "")
            if not m:
                errs.append("variable %s: expected label_values(selector, label), got %r"
                            % (name, query))
                continue
            try:
                sel = grafana_vars.substitute(m.group(1), {}, variables)
            except grafana_vars.UnknownVariable as e:
                errs.append("variable %s uses undefined variable %s" % (name, e))
                continue
            errs += ["variable %s: %s" % (name, p) for p in promql_lint.problems(sel)]
            if m.group(2) not in promql_lint.ALL_LABELS:
                errs.append("variable %s: label %s is not exported" % (name, m.group(2)))
            if var.get("includeAll") and not var.get("allValue"):
                errs.append("variable %s: includeAll needs an allValue regex" % name)
    used = set()
    for _p, t in _targets(dash):
        used.update(grafana_vars.names(t.get("expr", "")))
    for var in variables.values():
        q = var.get("query")
        used.update(grafana_vars.names(q if isinstance(q, str) else json.dumps(q)))
    for name in sorted(used):
        if name not in variables and name not in grafana_vars.BUILTINS:
            errs.append("undefined variable $%s" % name)
    for name in sorted(set(variables) - used - {"datasource"}):
        errs.append("variable %s is never used" % name)
    return errs


def check_ids(dash):
    errs, seen = [], {}
    for p in _panels(dash):
        pid = p.get("id")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            errs.append("panel %r: id %r is not a positive integer" % (p.get("title"), pid))
        elif pid in seen:
            errs.append("panel id %d used by %r and %r" % (pid, seen[pid], p.get("title")))
        else:
            seen[pid] = p.get("title")
    titles = [p.get("title") for p in _panels(dash) if p.get("type") != "row"]
    for t in sorted({t for t in titles if titles.count(t) > 1}):
        errs.append("panel title %r is not unique" % t)
    return errs


def check_grid(dash):
    errs, boxes, prev = [], [], None
    for p in dash.get("panels", []):
        g = p.get("gridPos")
        name = "panel %s %r" % (p.get("id"), p.get("title"))
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in "hwxy"):
            errs.append("%s: gridPos needs integer h, w, x, y" % name)
            continue
        if g["w"] < 1 or g["h"] < 1 or g["x"] < 0 or g["y"] < 0:
            errs.append("%s: gridPos %s has a negative or empty extent" % (name, g))
        if g["x"] + g["w"] > GRID:
            errs.append("%s: x %d + w %d exceeds %d columns" % (name, g["x"], g["w"], GRID))
        if p.get("type") == "row" and (g["w"] != GRID or g["h"] != 1 or g["x"] != 0):
            errs.append("%s: a row must be 24 wide, 1 high, at x 0" % name)
        if prev is not None and (g["y"], g["x"]) < prev:
            errs.append("%s: listed before a panel above or left of it" % name)
        prev = (g["y"], g["x"])
        for other, og in boxes:
            if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"] and
                    g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                errs.append("%s overlaps %s" % (name, other))
        boxes.append((name, g))
    return errs


def check_datasources(dash):
    errs = []
    for p in _panels(dash):
        if p.get("type") == "row":
            continue
        if p.get("datasource") != DS_REF:
            errs.append("panel %r: datasource %r" % (p.get("title"), p.get("datasource")))
        if not p.get("targets"):
            errs.append("panel %r has no queries" % p.get("title"))
        for t in p.get("targets", []):
            if t.get("datasource") != DS_REF:
                errs.append("panel %r target %s: datasource %r"
                            % (p.get("title"), t.get("refId"), t.get("datasource")))
    return errs


def check_targets(dash):
    errs = []
    variables = grafana_vars.dashboard_variables(dash)
    for p in _panels(dash):
        refs = [t.get("refId") for t in p.get("targets", [])]
        if len(set(refs)) != len(refs) or not all(refs):
            errs.append("panel %r: refIds %s must be set and unique" % (p.get("title"), refs))
    for p, t in _targets(dash):
        expr = t.get("expr", "")
        if not expr.strip():
            errs.append("panel %r target %s: empty expr" % (p.get("title"), t.get("refId")))
            continue
        try:
            sub = grafana_vars.substitute(expr, {}, variables)
        except grafana_vars.UnknownVariable as e:
            errs.append("panel %r: undefined variable %s" % (p.get("title"), e))
            continue
        for msg in promql_lint.problems(sub, RECORDED):
            errs.append("panel %r target %s: %s" % (p.get("title"), t.get("refId"), msg))
    return errs


def check_exemplars(dash):
    errs, count = [], 0
    for p, t in _targets(dash):
        if p.get("type") not in ("timeseries", "heatmap") or t.get("instant"):
            continue
        if "_bucket{" in t.get("expr", ""):
            if t.get("exemplar") is not True:
                errs.append("panel %r target %s: latency query without exemplars"
                            % (p.get("title"), t.get("refId")))
            count += 1
        elif "log_records_total{" in t.get("expr", "") and t.get("exemplar") is not True:
            errs.append("panel %r target %s: error-log query without exemplars"
                        % (p.get("title"), t.get("refId")))
    if dash.get("uid") in EXEMPLAR_DASHBOARDS and count == 0:
        errs.append("no latency panel with exemplars")
    return errs


def check_promql(dash, promtool):
    """Parse every query (variables substituted) with promtool's PromQL parser."""
    variables = grafana_vars.dashboard_variables(dash)
    rules, names = [], {}
    for p, t in _targets(dash):
        try:
            expr = grafana_vars.substitute(t.get("expr", ""), {}, variables)
        except grafana_vars.UnknownVariable:
            continue  # reported by check_targets
        record = "panel_%s_%s" % (p.get("id"), t.get("refId"))
        names[record] = "panel %r target %s" % (p.get("title"), t.get("refId"))
        rules.append({"record": record, "expr": expr})
    for name, var in variables.items():
        m = LABEL_VALUES.match(str(var.get("query", "")))
        if m:
            try:
                sel = grafana_vars.substitute(m.group(1), {}, variables)
            except grafana_vars.UnknownVariable:
                continue
            record = "variable_%s" % name
            names[record] = "variable %s" % name
            rules.append({"record": record, "expr": sel})
    errs = []
    with tempfile.TemporaryDirectory() as tmp:
        for rule in rules:
            path = os.path.join(tmp, "q.json")  # JSON is YAML; no quoting worries
            with open(path, "w") as f:
                json.dump({"groups": [{"name": "q", "rules": [rule]}]}, f)
            r = subprocess.run([promtool, "check", "rules", path], capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 0:
                detail = (r.stderr + r.stdout).strip().splitlines()
                errs.append("%s does not parse: %s (%s)" % (names[rule["record"]],
                                                             detail[-1] if detail else "?",
                                                             rule["expr"]))
    return errs, len(rules)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema-version", type=int, default=42)
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    failed = 0

    def report(name, errs, note=""):
        nonlocal failed
        if errs:
            failed += 1
            print("FAIL %s" % name)
            for e in errs:
                print("    %s" % e)
        else:
            print("PASS %s%s" % (name, note))

    uids, titles = {}, {}
    for path in args.files:
        base = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                dash = json.load(f)
        except (OSError, ValueError) as e:
            report("%s: valid JSON" % base, [str(e)])
            continue
        model = check_model(dash, args.schema_version)
        for seen, key in ((uids, "uid"), (titles, "title")):
            if dash.get(key) in seen:
                model.append("%s %r also used by %s" % (key, dash.get(key), seen[dash[key]]))
            seen[dash.get(key)] = base
        report("%s: dashboard model" % base, model)
        report("%s: variables" % base, check_variables(dash))
        report("%s: unique panel ids and titles" % base, check_ids(dash))
        report("%s: grid positions" % base, check_grid(dash))
        report("%s: data source references" % base, check_datasources(dash))
        report("%s: query names and labels" % base, check_targets(dash))
        report("%s: exemplars on latency queries" % base, check_exemplars(dash))
        errs, n = check_promql(dash, args.promtool)
        report("%s: PromQL parses" % base, errs, " (%d queries)" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
