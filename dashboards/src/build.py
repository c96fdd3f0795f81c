#!/usr/bin/env python3
"""Write redtap's Grafana dashboards (dashboards/*.json) from their definitions.

    python3 dashboards/src/build.py [--check] [--out-dir DIR]

Each module listed in DASHBOARDS defines one dashboard with build(). With
--check nothing is written; the exit status is 1 and the stale, missing or
extra files are named when dashboards/ differs from what the sources make.
Edit the sources, not the JSON: a test compares the two.
"""

import argparse
import json
import os
import sys

import agent_health
import database
import errors
import go_runtime
import service_overview
import slo_health
import traffic_matrix

DASHBOARDS = (service_overview, database, traffic_matrix, errors, agent_health, slo_health,
              go_runtime)
OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def render():
    """Return {file name: JSON text} for every dashboard."""
    out = {}
    for module in DASHBOARDS:
        dash = module.build().to_json()
        out[dash["uid"] + ".json"] = json.dumps(dash, indent=2, ensure_ascii=False) + "\n"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out-dir", default=OUT_DIR)
    args = ap.parse_args()
    wanted = render()
    have = {}
    if os.path.isdir(args.out_dir):
        for name in os.listdir(args.out_dir):
            if name.endswith(".json"):
                with open(os.path.join(args.out_dir, name), encoding="utf-8") as f:
                    have[name] = f.read()
    if args.check:
        bad = [n for n in sorted(set(wanted) | set(have)) if wanted.get(n) != have.get(n)]
        for name in bad:
            what = ("missing" if name not in have else
                    "not made by dashboards/src" if name not in wanted else "out of date")
            print("%s: %s" % (what, os.path.join(args.out_dir, name)))
        if bad:
            print("run python3 dashboards/src/build.py to regenerate", file=sys.stderr)
        return 1 if bad else 0
    os.makedirs(args.out_dir, exist_ok=True)
    for name, text in wanted.items():
        if have.get(name) != text:
            with open(os.path.join(args.out_dir, name), "w", encoding="utf-8") as f:
                f.write(text)
            print("wrote %s" % os.path.join(args.out_dir, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
