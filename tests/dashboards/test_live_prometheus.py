#!/usr/bin/env python3
"""Dashboards and rules against a real Prometheus scraping a fake agent.

Starts fake_agent.py (every redtap series, OpenMetrics with exemplars) and
Prometheus (Debian's 2.42, exemplar storage on) on 127.0.0.1, loads
rules/redtap-*.yml plus SLO rules generated for the fake service, waits
for a few scrapes, and then checks, one PASS/FAIL line each, that
  - panel-queries.sh passes for the fake service, exemplars included;
  - panel-queries.sh fails, naming the panels, for a service with no data;
  - the recording rules and the SLO rules produce series from real scrapes
    (the integral latency threshold 1s matches OpenMetrics' le="1.0").
Everything is stopped on exit; every wait is bounded.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SERVICE = "checkout"
results = []


def report(name, ok, detail=""):
    results.append(ok)
    print("%s %s" % ("PASS" if ok else "FAIL", name))
    if not ok and detail:
        for line in detail.rstrip().splitlines()[-40:]:
            print("    " + line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(prom, expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["data"]["result"]


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if fn():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    report(what, False, "gave up after %ds" % timeout)
    return False


def main():
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        report("prometheus is installed (apt-get install prometheus)", False)
        return 1
    tmp = tempfile.mkdtemp(prefix="redtap-live-")
    procs = []
    try:
        port_file = os.path.join(tmp, "agent.port")
        procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, "fake_agent.py"),
                                       "--port-file", port_file, "--service", SERVICE]))
        if not wait_for("fake agent starts", lambda: os.path.exists(port_file), 20):
            return 1
        with open(port_file) as f:
            agent = "127.0.0.1:%s" % f.read().strip()

        spec = os.path.join(tmp, "slos.yaml")
        with open(spec, "w") as f:
            f.write("services:\n  - service: %s\n    slos:\n"
                    "      - {sli: availability, objective: 99.9}\n"
                    "      - {sli: latency, objective: 99, threshold: 1}\n" % SERVICE)
        gen = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-slo-rules"),
                              "--spec", spec, "--out-dir", tmp], capture_output=True, text=True,
                             timeout=60)
        report("generate SLO rules for the fake service", gen.returncode == 0, gen.stderr)
        rule_files = [os.path.join(ROOT, "rules", f) for f in sorted(os.listdir(
            os.path.join(ROOT, "rules"))) if f.startswith("redtap-") and f.endswith(".yml")]
        rule_files.append(os.path.join(tmp, "slo-%s.yml" % SERVICE))
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                       "rule_files": rule_files,
                       "scrape_configs": [{"job_name": "redtap",
                                           "static_configs": [{"targets": [agent]}]}]}, f)
        port = free_port()
        prom = "http://127.0.0.1:%d" % port
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        procs.append(subprocess.Popen(
            [prom_bin, "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(tmp, "db"),
             "--web.listen-address=127.0.0.1:%d" % port, "--enable-feature=exemplar-storage",
             "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT))

        def scraped():
            r = query(prom, 'count_over_time(up{job="redtap"}[1m])')
            ups = query(prom, 'up{job="redtap"}')
            return r and float(r[0]["value"][1]) >= 5 and ups and ups[0]["value"][1] == "1"
        if not wait_for("Prometheus scrapes the fake agent", scraped, 60):
            with open(os.path.join(tmp, "prometheus.log")) as f:
                print(f.read()[-3000:])
            return 1
        report("Prometheus scrapes the fake agent", True)

        pq = os.path.join(HERE, "panel-queries.sh")
        env = dict(os.environ, PROM_URL=prom)
        r = subprocess.run([pq, "--exemplars", SERVICE], capture_output=True, text=True,
                           env=env, timeout=300)
        report("panel-queries.sh: every panel has data (and exemplars) for %s" % SERVICE,
               r.returncode == 0, r.stdout + r.stderr)
        r = subprocess.run([pq, "-v", "job=redtap", "All"], capture_output=True, text=True,
                           env=env, timeout=300)
        report("panel-queries.sh: every panel has data for service All, job redtap",
               r.returncode == 0, r.stdout + r.stderr)
        r = subprocess.run([pq, "no-such-service"], capture_output=True, text=True, env=env,
                           timeout=300)
        named = ("FAIL redtap / Service overview (RED) / Request rate (id 2): target A: no data"
                 in r.stdout)
        report("panel-queries.sh: fails and names the panels for a service without data",
               r.returncode == 1 and named, r.stdout + r.stderr)

        def recorded(expr):
            return lambda: bool(query(prom, expr))
        for expr in ('service_route:http_server_request_duration_seconds:p95_rate5m'
                     '{service_name="%s", http_route="/api/items"}' % SERVICE,
                     'service_route:http_server_request_errors_per_requests:ratio_rate5m'
                     '{service_name="%s", http_route="/api/pay"} > 0' % SERVICE,
                     'service_db:db_client_operation_duration_seconds:p95_rate5m'
                     '{db_system_name="redis"}',
                     'service_peer:http_client_request_duration_seconds_count:rate5m'
                     '{server_address="inventory"}',
                     'instance:redtap_kernel_events_dropped_per_events:ratio_rate5m',
                     'slo:sli_error:ratio_rate5m{slo="%s-availability"} > 0' % SERVICE,
                     'slo:sli_error:ratio_rate5m{slo="%s-latency"} > 0' % SERVICE):
            if wait_for("rule output %s" % expr, recorded(expr), 30):
                report("rule output %s" % expr, True)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
