"""Lint Prometheus rule files beyond what promtool checks.

    python3 tests/rules/lint_rules.py FILE...

- every recording rule is named level:metric:operations;
- every expression names only series and labels redtap exports, or series
  recorded by one of the given files (tests/dashboards/promql_lint.py);
- every alert has a severity of page or ticket, a summary and a description.
Prints one line per problem; exits 1 if there is any.
"""

import os
import re
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dashboards"))

import promql_lint  # noqa: E402

_RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z0-9_]+$")


def main(paths):
    rules = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                rules.append((path, group["name"], rule))
    recorded = {r["record"] for _p, _g, r in rules if "record" in r}
    bad = 0
    for path, group, rule in rules:
        where = "%s: %s: %s" % (path, group, rule.get("record") or rule.get("alert"))
        msgs = promql_lint.problems(rule["expr"], recorded)
        if "record" in rule and not _RECORD_NAME.match(rule["record"]):
            msgs.append("recording rule name is not level:metric:operations")
        if "alert" in rule:
            if rule.get("labels", {}).get("severity") not in ("page", "ticket"):
                msgs.append("severity must be page or ticket")
            for key in ("summary", "description"):
                if not rule.get("annotations", {}).get(key):
                    msgs.append("missing annotation %s" % key)
        for msg in msgs:
            print("%s: %s" % (where, msg))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
