"""The dashboard checks must be able to fail: feed them broken copies of a real dashboard.

Run by tests/dashboards/run.sh; also runnable alone (needs promtool).
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHECK = os.path.join(HERE, "check_dashboards.py")
with open(os.path.join(ROOT, "dashboards", "redtap-service-overview.json")) as f:
    GOOD = json.load(f)


def _panel(dash, title):
    return next(p for p in dash["panels"] if p.get("title") == title)


class BrokenDashboards(unittest.TestCase):
    def run_check(self, dash):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "d.json")
            with open(path, "w") as f:
                json.dump(dash, f)
            r = subprocess.run([sys.executable, CHECK, path], capture_output=True, text=True,
                               timeout=120)
        return r.returncode, r.stdout

    def assertFails(self, mutate, check, needle):
        dash = copy.deepcopy(GOOD)
        mutate(dash)
        rc, out = self.run_check(dash)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL d.json: %s" % check, out)
        self.assertIn(needle, out)

    def test_good_dashboard_passes(self):
        rc, out = self.run_check(GOOD)
        self.assertEqual(rc, 0, out)

    def test_duplicate_panel_id(self):
        def m(d):
            d["panels"][3]["id"] = d["panels"][2]["id"]
        self.assertFails(m, "unique panel ids", "used by")

    def test_panel_wider_than_grid(self):
        def m(d):
            _panel(d, "In flight")["gridPos"]["w"] = 8
        self.assertFails(m, "grid positions", "exceeds 24 columns")

    def test_overlapping_panels(self):
        def m(d):
            _panel(d, "Error ratio")["gridPos"]["x"] = 3
        self.assertFails(m, "grid positions", "overlaps")

    def test_fixed_datasource_uid(self):
        def m(d):
            _panel(d, "Request rate")["targets"][0]["datasource"] = {"type": "prometheus",
                                                                     "uid": "P1809F7CD0C75ACF3"}
        self.assertFails(m, "data source references", "P1809F7CD0C75ACF3")

    def test_installation_url(self):
        def m(d):
            d["links"].append({"title": "ours", "type": "link",
                               "url": "https://grafana.example.com/d/x"})
        self.assertFails(m, "dashboard model", "URL in")

    def test_old_schema_version(self):
        def m(d):
            d["schemaVersion"] = 36
        self.assertFails(m, "dashboard model", "schemaVersion 36")

    def test_misspelt_metric_and_label(self):
        def m(d):
            t = _panel(d, "Request rate")["targets"][0]
            t["expr"] = t["expr"].replace("seconds_count", "second_count")
            t2 = _panel(d, "In flight")["targets"][0]
            t2["expr"] = t2["expr"].replace("service_name", "service")
        self.assertFails(m, "query names and labels", "unknown series")
        self.assertFails(m, "query names and labels", "label service is not exported")

    def test_unparsable_promql(self):
        def m(d):
            _panel(d, "Request rate")["targets"][0]["expr"] += ")"
        self.assertFails(m, "PromQL parses", "does not parse")

    def test_undefined_and_unused_variables(self):
        def m(d):
            d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "route"]
        self.assertFails(m, "variables", "undefined variable $route")

        def m2(d):
            for p in d["panels"]:
                for t in p.get("targets", []):
                    t["expr"] = t["expr"].replace(', http_route=~"$route"', "")
            d["templating"]["list"][3]["definition"] = "unused"
        self.assertFails(m2, "variables", "variable route is never used")

    def test_latency_without_exemplars(self):
        def m(d):
            _panel(d, "Latency percentiles")["targets"][1]["exemplar"] = False
        self.assertFails(m, "exemplars on latency queries", "latency query without exemplars")

    def test_error_logs_without_exemplars(self):
        with open(os.path.join(ROOT, "dashboards", "redtap-errors.json")) as f:
            dash = json.load(f)
        rc, out = self.run_check(dash)
        self.assertEqual(rc, 0, out)
        _panel(dash, "Error-log rate by severity")["targets"][0]["exemplar"] = False
        rc, out = self.run_check(dash)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL d.json: exemplars on latency queries", out)
        self.assertIn("error-log query without exemplars", out)


if __name__ == "__main__":
    unittest.main()
