#!/usr/bin/env python3
"""Check the Grafana provisioning examples in deploy/grafana/provisioning.

One PASS/FAIL line per file: apiVersion 1; the dashboard provider is a file
provider reading the directory `make install` fills; the data sources have a
default Prometheus whose exemplar trace links point at a data source defined
in the same file. Exits 1 on failure.
"""

import glob
import os
import re
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BASE = os.path.join(ROOT, "deploy", "grafana", "provisioning")


def check_dashboards(doc):
    errs = []
    providers = doc.get("providers") or []
    if not providers:
        errs.append("no providers")
    with open(os.path.join(ROOT, "Makefile")) as f:
        makefile = f.read()
    installs = re.search(r"\$\(datadir\)/redtap/dashboards", makefile)
    for p in providers:
        if p.get("type") != "file":
            errs.append("provider %s: type must be file" % p.get("name"))
        path = (p.get("options") or {}).get("path", "")
        if not path.endswith("/share/redtap/dashboards") or not installs:
            errs.append("provider %s: path %r is not where make install puts dashboards"
                        % (p.get("name"), path))
    return errs


def check_datasources(doc):
    errs = []
    sources = doc.get("datasources") or []
    uids = {s.get("uid") for s in sources}
    proms = [s for s in sources if s.get("type") == "prometheus"]
    if not any(s.get("isDefault") for s in proms):
        errs.append("no default Prometheus data source")
    for s in proms:
        jd = s.get("jsonData") or {}
        if not re.fullmatch(r"\d+[smh]", str(jd.get("timeInterval", ""))):
            errs.append("%s: jsonData.timeInterval (scrape interval) missing" % s.get("name"))
        for dest in jd.get("exemplarTraceIdDestinations") or []:
            if dest.get("name") != "trace_id":
                errs.append("%s: exemplar label must be trace_id" % s.get("name"))
            if dest.get("datasourceUid") not in uids:
                errs.append("%s: exemplar link to undefined data source %s"
                            % (s.get("name"), dest.get("datasourceUid")))
        if not jd.get("exemplarTraceIdDestinations"):
            errs.append("%s: no exemplar trace link" % s.get("name"))
    return errs


def main():
    failed = 0
    for kind, fn in (("dashboards", check_dashboards), ("datasources", check_datasources)):
        files = sorted(glob.glob(os.path.join(BASE, kind, "*.yaml")))
        if not files:
            print("FAIL provisioning/%s: no example" % kind)
            failed += 1
        for path in files:
            name = os.path.relpath(path, ROOT)
            with open(path) as f:
                doc = yaml.safe_load(f)
            errs = ["apiVersion must be 1"] if doc.get("apiVersion") != 1 else []
            errs += fn(doc)
            print("%s %s" % ("FAIL" if errs else "PASS", name))
            for e in errs:
                print("    " + e)
            failed += bool(errs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
