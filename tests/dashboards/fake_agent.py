#!/usr/bin/env python3
"""A stand-in for redtap's /metrics endpoint, for testing panel-queries.sh.

Serves every series the agent exports (scripts/slo/catalog.py) for one
service, with counters that grow with wall-clock time, some errors of every
kind, an overflow series, and (in OpenMetrics, which Prometheus asks for)
exemplars with trace_id and span_id on histogram buckets and on the
log_records_total series of warnings and errors. This lets the
tests run a real Prometheus against realistic input without the agent.

    fake_agent.py --port-file FILE [--service NAME] [--omit PREFIX]...

Listens on 127.0.0.1 on a free port and writes the port to FILE. --omit
drops every metric family whose name starts with PREFIX (to provoke "no
data"). Runs until killed.
"""

import argparse
import http.server
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts", "slo"))

import catalog  # noqa: E402

START = time.time()


def _om_bound(b):
    """OpenMetrics spells bucket bounds canonically: 1 -> "1.0"."""
    text = catalog.format_bound(b)
    return text if "." in text else text + ".0"


def _labels(d):
    return ",".join('%s="%s"' % (k, str(v).replace("\\", "\\\\").replace('"', '\\"')
                                 .replace("\n", "\\n")) for k, v in d.items())


def _sel(d):
    return "{%s}" % _labels(d) if d else ""


class Histogram:
    """Observations at `rate`/s, a fraction `share[i]` of them at `values[i]` seconds."""

    def __init__(self, labels, rate, values, shares):
        self.labels, self.rate, self.values, self.shares = labels, rate, values, shares

    def lines(self, name, bounds, now, openmetrics):
        n = self.rate * (now - START)
        out = []
        for b in list(bounds) + [float("inf")]:
            frac = sum(s for v, s in zip(self.values, self.shares) if v <= b)
            le = "+Inf" if b == float("inf") else (
                _om_bound(b) if openmetrics else catalog.format_bound(b))
            line = "%s_bucket%s %d" % (name, _sel(dict(self.labels, le=le)), int(n * frac))
            prev = max([p for p in bounds if p < b], default=0)
            inside = [v for v in self.values if prev < v <= b]
            if openmetrics and inside:
                trace = "%032x" % random.getrandbits(128)
                span = "%016x" % random.getrandbits(64)
                line += ' # {trace_id="%s",span_id="%s"} %g %.3f' % (trace, span, inside[0],
                                                                     now - 1)
            out.append(line)
        total_sum = sum(v * s for v, s in zip(self.values, self.shares)) * n
        out.append("%s_sum%s %.6f" % (name, _sel(self.labels), total_sum))
        out.append("%s_count%s %d" % (name, _sel(self.labels), int(n)))
        return out


def families(service):
    """[(name, type, [(labels, rate or value or Histogram)])] for one service."""
    s = {"service_name": service}
    fast, slow = (0.003, 0.02, 0.08, 0.3, 1.2), (0.25, 0.3, 0.2, 0.15, 0.1)
    ok = dict(s, http_request_method="GET", http_response_status_code="200",
              network_protocol_version="1.1")
    server = [
        Histogram(dict(ok, http_route="/api/items"), 20, fast, slow),
        Histogram(dict(ok, http_route="/health"), 5, (0.002,), (1,)),
        Histogram(dict(ok, http_route="/api/items", network_protocol_version="2"), 6, fast, slow),
        Histogram(dict(s, http_request_method="POST", http_response_status_code="201",
                       http_route="/api/pay"), 4, fast, slow),
        Histogram(dict(s, http_request_method="POST", http_response_status_code="500",
                       http_route="/api/pay", error_type="500"), 0.5, (0.4, 2), (0.5, 0.5)),
        Histogram(dict(s, http_request_method="GET", http_route="/api/items",
                       error_type="connection_closed"), 0.2, (6,), (1,)),
        Histogram({catalog.OVERFLOW_LABEL: "true"}, 0.1, (0.05,), (1,)),
    ]
    client = [
        Histogram(dict(ok, http_route="/stock", server_address="inventory",
                       server_port="8080"), 8, fast, slow),
        Histogram(dict(s, http_request_method="GET", http_response_status_code="503",
                       http_route="/stock", error_type="503", server_address="inventory",
                       server_port="8080"), 0.3, (0.01,), (1,)),
        Histogram(dict(s, http_request_method="POST", http_response_status_code="200",
                       http_route="/charge", server_address="payments.internal",
                       server_port="443"), 2, (0.2, 0.6), (0.7, 0.3)),
    ]
    pg = dict(s, db_system_name="postgresql", db_namespace="shop", server_address="db",
              server_port="5432")
    rd = dict(s, db_system_name="redis", db_namespace="0", server_address="cache",
              server_port="6379")
    db = [
        Histogram(dict(pg, db_operation_name="SELECT", db_query_summary="SELECT orders"), 15,
                  (0.0008, 0.004, 0.03), (0.5, 0.4, 0.1)),
        Histogram(dict(pg, db_operation_name="INSERT", db_query_summary="INSERT payments"), 3,
                  (0.004, 0.2), (0.9, 0.1)),
        Histogram(dict(pg, db_operation_name="SELECT", db_query_summary="SELECT missing",
                       error_type="42P01", db_response_status_code="42P01"), 0.2,
                  (0.002,), (1,)),
        Histogram(dict(rd, db_operation_name="GET", db_query_summary="GET"), 30, (0.0004,), (1,)),
        Histogram(dict(rd, db_operation_name="INCR", db_query_summary="INCR",
                       error_type="WRONGTYPE", db_response_status_code="WRONGTYPE"), 0.1,
                  (0.0005,), (1,)),
    ]
    grpc = dict(s, rpc_system="grpc", rpc_service="shop.v1.Catalog",
                network_protocol_version="2")
    rpc_server = [
        Histogram(dict(grpc, rpc_method="GetItem", rpc_grpc_status_code="0"), 10, fast, slow),
        Histogram(dict(grpc, rpc_method="GetItem", rpc_grpc_status_code="14",
                       error_type="UNAVAILABLE"), 0.4, (0.01,), (1,)),
        Histogram(dict(grpc, rpc_method="Watch", rpc_grpc_status_code="0"), 0.5, (2, 8),
                  (0.5, 0.5)),
    ]
    rpc_client = [
        Histogram(dict(grpc, rpc_service="pay.v1.Payments", rpc_method="Charge",
                       rpc_grpc_status_code="0", server_address="payments",
                       server_port="50051"), 2, fast, slow),
        Histogram(dict(grpc, rpc_service="pay.v1.Payments", rpc_method="Charge",
                       rpc_grpc_status_code="4", error_type="DEADLINE_EXCEEDED",
                       server_address="payments", server_port="50051"), 0.1, (1.2,), (1,)),
    ]
    g = dict(s, grpc_service="shop.v1.Catalog")
    handling = [
        Histogram(dict(g, grpc_type="unary", grpc_method="GetItem", grpc_code="OK"), 10, fast,
                  slow),
        Histogram(dict(g, grpc_type="unary", grpc_method="GetItem", grpc_code="UNAVAILABLE"),
                  0.4, (0.01,), (1,)),
        Histogram(dict(g, grpc_type="server_stream", grpc_method="Watch", grpc_code="OK"), 0.5,
                  (2, 8), (0.5, 0.5)),
    ]
    return [
        ("http_server_request_duration_seconds", "histogram", server),
        ("rpc_server_duration_seconds", "histogram", rpc_server),
        ("rpc_client_duration_seconds", "histogram", rpc_client),
        ("grpc_server_handling_seconds", "histogram", handling),
        ("http_client_request_duration_seconds", "histogram", client),
        ("db_client_operation_duration_seconds", "histogram", db),
        ("http_server_active_requests", "gauge",
         [(dict(s, http_request_method="GET"), 3), (dict(s, http_request_method="POST"), 1)]),
        ("redtap_build_info", "gauge", [({"version": "0.1.0", "revision": "fake"}, 1)]),
        ("redtap_events_received_total", "counter",
         [({"type": "syscall"}, 400), ({"type": "shim"}, 50)]),
        ("redtap_kernel_events_dropped_total", "counter", [({"reason": "ringbuf_full"}, 0.5)]),
        ("redtap_parse_errors_total", "counter", [({"protocol": "http"}, 0.05)]),
        ("redtap_metric_series", "gauge",
         [({"metric": "http_server_request_duration_seconds"}, 6),
          ({"metric": "db_client_operation_duration_seconds"}, 5)]),
        ("redtap_metric_series_overflow_total", "counter",
         [({"metric": "http_server_request_duration_seconds"}, 0.1)]),
        ("redtap_instrumented_processes", "gauge", [({}, 4)]),
        ("redtap_shim_events_dropped_total", "counter", [({}, 0.01)]),
        ("redtap_connections_untracked_total", "counter", [({}, 0.01)]),
        ("redtap_otlp_export_errors_total", "counter", [({"signal": "traces"}, 0.02)]),
        ("redtap_otlp_dropped_total", "counter", [({"signal": "traces"}, 0.5)]),
        ("redtap_go_runtime_unread_total", "counter", [({"reason": "no_symbols"}, 0.001)]),
        ("redtap_process_cpu_time_seconds_total", "counter",
         [({"cpu_mode": "user"}, 0.02), ({"cpu_mode": "system"}, 0.01)]),
        ("redtap_process_memory_usage_bytes", "gauge", [({}, 15728640)]),
        ("redtap_bpf_program_run_time_seconds_total", "counter",
         [({"program": "exit_read"}, 0.004), ({"program": "exit_writev"}, 0.006)]),
        ("redtap_bpf_program_runs_total", "counter",
         [({"program": "exit_read"}, 9000), ({"program": "exit_writev"}, 10000)]),
        ("process_cpu_time_seconds_total", "counter",
         [(dict(s, cpu_mode="user"), 0.2), (dict(s, cpu_mode="system"), 0.05)]),
        ("process_memory_usage_bytes", "gauge", [(s, 52428800)]),
        ("process_threads", "gauge", [(s, 12)]),
        ("process_unix_file_descriptors", "gauge", [(s, 40)]),
        ("go_goroutines", "gauge", [(s, 150)]),
        ("go_processor_limit", "gauge", [(s, 4)]),
        ("go_memory_gc_goal_bytes", "gauge", [(s, 8388608)]),
        ("go_memory_heap_live_bytes", "gauge", [(s, 5242880)]),
        ("go_gc_cycles_total", "counter", [(s, 0.5)]),
        ("go_gc_pause_time_seconds_total", "counter", [(s, 0.0002)]),
        ("go_memory_used_bytes", "gauge",
         [(dict(s, go_memory_type="stack"), 2097152), (dict(s, go_memory_type="other"), 31457280)]),
        ("go_memory_allocated_bytes_total", "counter", [(s, 1048576)]),
        # (labels, rate, exemplar): the agent keeps the trace of the latest WARN+ line
        ("log_records_total", "counter",
         [(dict(s, severity="INFO"), 12), (dict(s, severity="WARN"), 0.4, True),
          (dict(s, severity="ERROR"), 0.3, True)]),
    ]


def exposition(service, omit, openmetrics):
    now = time.time()
    out = []
    for name, kind, series in families(service):
        if any(name.startswith(p) for p in omit):
            continue
        family = name[:-len("_total")] if openmetrics and kind == "counter" else name
        out.append("# TYPE %s %s" % (family, kind))
        if kind == "histogram":
            bounds = catalog.buckets(name)
            for h in series:
                out.extend(h.lines(name, bounds, now, openmetrics))
            continue
        for labels, value, *ex in series:
            if kind == "counter":
                value = value * (now - START)
            line = "%s%s %s" % (name, _sel(labels), repr(float(value)))
            if openmetrics and ex and ex[0]:
                line += ' # {trace_id="%032x",span_id="%016x"} 1 %.3f' % (
                    random.getrandbits(128), random.getrandbits(64), now - 1)
            out.append(line)
    if openmetrics:
        out.append("# EOF")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--service", default="checkout")
    ap.add_argument("--omit", action="append", default=[])
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            om = "application/openmetrics-text" in self.headers.get("Accept", "")
            body = exposition(args.service, args.omit, om).encode()
            ctype = ("application/openmetrics-text; version=1.0.0; charset=utf-8" if om
                     else "text/plain; version=0.0.4; charset=utf-8")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
