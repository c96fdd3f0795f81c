"""Unit tests for scripts/gen-slo-rules and its modules (scripts/slo/).

Run by tests/rules/run.sh; also runnable alone: python3 tests/rules/test_gen_slo.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from decimal import Decimal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "slo"))
sys.path.insert(0, os.path.join(ROOT, "tests", "dashboards"))

import catalog  # noqa: E402
import promql_lint  # noqa: E402
import render  # noqa: E402
import spec  # noqa: E402

GEN = os.path.join(ROOT, "scripts", "gen-slo-rules")


def _doc(**slo):
    entry = {"sli": "availability", "objective": 99.9}
    entry.update(slo)
    return {"services": [{"service": "api", "slos": [entry]}]}


class SpecTest(unittest.TestCase):
    def assertSpecError(self, doc, needle):
        with self.assertRaises(spec.SpecError) as cm:
            spec.load(doc)
        self.assertIn(needle, str(cm.exception))

    def test_defaults(self):
        (slo,) = spec.load(_doc())
        self.assertEqual(slo.name, "api-availability")
        self.assertEqual(slo.errors, "5xx")
        self.assertEqual(slo.period_hours, 720)
        self.assertEqual(slo.budget, Decimal("0.001"))

    def test_route_name_is_slugged(self):
        (slo,) = spec.load(_doc(route="/users/{id}/Orders"))
        self.assertEqual(slo.name, "api-users-id-orders-availability")
        self.assertEqual(spec.slugify("/"), "root")

    def test_threshold_must_be_a_bucket_bound(self):
        self.assertSpecError(_doc(sli="latency", threshold=0.3), "not a bucket bound")
        (slo,) = spec.load(_doc(sli="latency", threshold=2.5))
        self.assertEqual(slo.threshold, 2.5)
        self.assertSpecError(_doc(sli="latency"), "numeric threshold")
        self.assertSpecError(_doc(threshold=0.5), "latency SLOs only")

    def test_objective_range(self):
        for bad in (100, 0, -1, "abc", True):
            self.assertSpecError(_doc(objective=bad), "objective")

    def test_typos_are_errors(self):
        self.assertSpecError(_doc(objectve=99), "unknown key(s) objectve")
        self.assertSpecError({"services": [{"service": "a", "slo": []}]}, "unknown key(s) slo")
        self.assertSpecError(_doc(sli="availabilty"), "sli must be one of")
        self.assertSpecError(_doc(errors="4xx"), "errors must be one of")

    def test_duplicate_names(self):
        doc = {"services": [{"service": "a", "slos": [
            {"sli": "availability", "objective": 99},
            {"sli": "availability", "objective": 98}]}]}
        self.assertSpecError(doc, "already used")

    def test_selector_and_labels(self):
        doc = _doc()
        doc["services"][0]["selector"] = 'job="x", namespace=~"prod-.*"'
        doc["services"][0]["labels"] = {"team": "core"}
        (slo,) = spec.load(doc)
        self.assertEqual(slo.labels, {"team": "core"})
        doc["services"][0]["selector"] = "job=x}"
        self.assertSpecError(doc, "selector")
        doc["services"][0]["selector"] = ""
        doc["services"][0]["labels"] = {"severity": "low"}
        self.assertSpecError(doc, "set by the generator")

    def test_tenant_and_channel(self):
        (slo,) = spec.load(_doc(tenant="acme", channel="web", route="/pay"))
        self.assertEqual(slo.match, {"channel": "web", "tenant": "acme"})
        self.assertEqual(slo.name, "api-pay-channel-web-tenant-acme-availability")
        (slo,) = spec.load(_doc(match={"tenant_bucket": "b7"}, by="channel"))
        self.assertEqual(slo.match, {"tenant_bucket": "b7"})
        self.assertEqual(slo.by, ("channel",))
        self.assertEqual(slo.name, "api-tenant-bucket-b7-by-channel-availability")
        self.assertSpecError(_doc(tenant="a", match={"tenant": "b"}), "given twice")
        self.assertSpecError(_doc(match={"service_name": "x"}), "cannot select")
        self.assertSpecError(_doc(match={"http_route": "/x"}), "use route")
        self.assertSpecError(_doc(match={"tenant": ""}), "non-empty")
        self.assertSpecError(_doc(match=["tenant"]), "mapping")
        self.assertSpecError(_doc(tenant="a", by="tenant"), "selected already")
        self.assertSpecError(_doc(route="/x", by="http_route"), "selected already")
        self.assertSpecError(_doc(by=[]), "by must be")
        self.assertSpecError(_doc(by="le"), "cannot select")

    def test_period(self):
        self.assertEqual(spec.parse_period("4w"), 672)
        with self.assertRaises(spec.SpecError):
            spec.parse_period("2d")
        with self.assertRaises(spec.SpecError):
            spec.parse_period("30 days")


class RenderTest(unittest.TestCase):
    def test_workbook_factors_for_30_days(self):
        (slo,) = spec.load(_doc())
        got = [render.burn_factor(slo, lw, spent)
               for _sev, pairs in render.BURN_ALERTS for lw, _sw, spent in pairs]
        self.assertEqual([str(x) for x in got], ["14.4", "6", "3", "1"])

    def test_factors_scale_with_period(self):
        doc = _doc()
        doc["period"] = "28d"
        (slo,) = spec.load(doc)
        self.assertEqual(render.burn_factor(slo, "1h", Decimal("0.02")), Decimal("13.44"))
        self.assertEqual(render.burn_factor(slo, "6h", Decimal("0.05")), Decimal("5.6"))

    def test_le_matcher_accepts_both_spellings(self):
        self.assertEqual(catalog.le_matcher(0.25), "0\\\\.25")
        self.assertEqual(catalog.le_matcher(1), "1(\\\\.0)?")
        self.assertEqual(catalog.le_matcher(10.0), "10(\\\\.0)?")

    def test_expressions_escape_and_use_known_names(self):
        (slo,) = spec.load(_doc(route='/a"b\\c'))
        expr = render.sli_error_expr(slo, "5m")
        self.assertIn('http_route="/a\\"b\\\\c"', expr)
        (lat,) = spec.load(_doc(sli="latency", threshold=0.5))
        for s in (slo, lat):
            rules = render.group(s)["rules"]
            recorded = [r["record"] for r in rules if "record" in r]
            for rule in rules:
                self.assertEqual(promql_lint.problems(rule["expr"], recorded), [], rule["expr"])

    def test_tenant_selectors_and_grouping(self):
        (slo,) = spec.load(_doc(tenant="acme", channel="web"))
        expr = render.sli_error_expr(slo, "1h")
        self.assertIn('service_name="api",channel="web",tenant="acme"', expr)
        self.assertEqual(expr.count("sum(rate("), 3)
        rules = render.group(slo)["rules"]
        self.assertEqual(rules[0]["labels"]["tenant"], "acme")
        self.assertEqual(rules[0]["labels"]["channel"], "web")
        (by,) = spec.load(_doc(sli="latency", threshold=0.5, by=["tenant", "channel"]))
        expr = render.sli_error_expr(by, "5m")
        self.assertEqual(expr.count("sum by (tenant, channel) (rate("), 3)
        self.assertNotIn("tenant=", expr)

    def test_no_traffic_is_no_data_not_nan(self):
        for kw in ({}, {"sli": "latency", "threshold": 0.5}, {"by": "tenant"}):
            (slo,) = spec.load(_doc(**kw))
            self.assertTrue(render.sli_error_expr(slo, "5m").endswith(") > 0)\n"))

    def test_budget_rules(self):
        (slo,) = spec.load(_doc(objective=99.5))
        rules = {r["record"]: r for r in render.group(slo)["rules"] if "record" in r}
        self.assertEqual(rules["slo:objective:ratio"]["expr"], "vector(0.995)\n")
        self.assertIn('slo:sli_error:ratio_rate5m{slo="api-availability"}[30d]',
                      rules["slo:sli_error:ratio_period"]["expr"])
        self.assertEqual(rules["slo:error_budget_remaining:ratio"]["expr"],
                         '1 - slo:sli_error:ratio_period{slo="api-availability"} / 0.005\n')

    def test_availability_kinds(self):
        (five,) = spec.load(_doc())
        (any_error,) = spec.load(_doc(errors="error_type"))
        self.assertIn('http_response_status_code=~"5.."', render.sli_error_expr(five, "1h"))
        self.assertIn('error_type!=""', render.sli_error_expr(any_error, "1h"))

    def test_one_file_per_service(self):
        doc = {"services": [
            {"service": "A b", "slos": [{"sli": "availability", "objective": 99}]},
            {"service": "c", "slos": [{"sli": "availability", "objective": 99}]}]}
        files = render.files(spec.load(doc), "x.yaml")
        self.assertEqual(sorted(files), ["slo-a-b.yml", "slo-c.yml"])
        clash = {"services": [
            {"service": "a-b", "slos": [{"sli": "availability", "objective": 99}]},
            {"service": "a b", "slos": [{"sli": "availability", "objective": 99}]}]}
        with self.assertRaises(spec.SpecError):
            render.files(spec.load(clash), "x.yaml")


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        shutil.copy(os.path.join(ROOT, "tests", "rules", "fixtures", "slos.yaml"), self.dir)
        self.spec = os.path.join(self.dir, "slos.yaml")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def gen(self, *args):
        return subprocess.run([sys.executable, GEN, "--spec", self.spec] + list(args),
                              capture_output=True, text=True, timeout=60)

    def test_check_detects_stale_missing_and_extra_files(self):
        self.assertEqual(self.gen("--check").returncode, 1)
        self.assertEqual(self.gen().returncode, 0)
        self.assertEqual(sorted(f for f in os.listdir(self.dir) if f.startswith("slo-")),
                         ["slo-checkout.yml", "slo-search.yml", "slo-tenants.yml"])
        self.assertEqual(self.gen("--check").returncode, 0)

        with open(os.path.join(self.dir, "slo-search.yml"), "a") as f:
            f.write("# edited by hand\n")
        open(os.path.join(self.dir, "slo-gone.yml"), "w").close()
        r = self.gen("--check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("out of date: " + os.path.join(self.dir, "slo-search.yml"), r.stdout)
        self.assertIn("not produced by the spec: " + os.path.join(self.dir, "slo-gone.yml"),
                      r.stdout)

        self.assertEqual(self.gen().returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "slo-gone.yml")))
        self.assertEqual(self.gen("--check").returncode, 0)

    def test_bad_spec_exits_2_with_reason(self):
        with open(self.spec, "w") as f:
            f.write("services:\n  - service: a\n    slos:\n"
                    "      - {sli: latency, objective: 99, threshold: 0.3}\n")
        r = self.gen()
        self.assertEqual(r.returncode, 2)
        self.assertIn("threshold 0.3 is not a bucket bound", r.stderr)
        self.assertFalse([f for f in os.listdir(self.dir) if f.startswith("slo-")])


if __name__ == "__main__":
    unittest.main()
