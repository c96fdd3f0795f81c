#!/usr/bin/env python3
"""tests/otlp/check.py - checks what tests/otlp/receiver.js decoded (its JSON
lines) against what tests/otlp/driver.c sent. Used by the exporter e2e
tests; prints what is wrong and exits 1, or prints a summary and exits 0.

  check.py spans FILE N PROCESSES        every synthetic span 0..N-1 exactly once, all fields
  check.py spans-subset FILE N PROCESSES spans arrived at most once each and are correct;
                                         prints how many arrived
  check.py metrics FILE                  the driver's registry, mapped to OTel names
  check.py requests FILE PATH [STATUS]   prints how many requests to PATH (with STATUS)
  check.py header FILE NAME VALUE        every OTLP request carried header NAME: VALUE
  check.py encoding FILE ENC             every OTLP request had Content-Encoding ENC
  check.py gaps FILE STATUS MIN_MS       each request after a STATUS answer came >= MIN_MS later
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def otlp(lines):
    return [l for l in lines if l.get("path") in ("/v1/traces", "/v1/metrics")]


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv.get("value", {})
        if "stringValue" in v:
            out[kv["key"]] = v["stringValue"]
        elif "intValue" in v:
            out[kv["key"]] = int(v["intValue"])
        elif "boolValue" in v:
            out[kv["key"]] = v["boolValue"]
        elif "doubleValue" in v:
            out[kv["key"]] = v["doubleValue"]
        else:
            out[kv["key"]] = None
    return out


def expected_span(i, nproc):
    """What driver.c builds for span i (see its header comment)."""
    err = i % 10 == 9
    start = 1700000000 * 10**9 + i * 10**6
    a = {"http.request.method": "GET", "url.path": "/items/%d" % i,
         "http.response.status_code": 500 if err else 200}
    if i == 3:
        a["error.type"] = "bad\ufffd"
    s = {
        "traceId": (b"redtap\0\0" + i.to_bytes(8, "big")).hex(),
        "spanId": (i + 1).to_bytes(8, "big").hex(),
        "parentSpanId": i.to_bytes(8, "big").hex() if i % 2 else None,
        "name": "GET /items/{id}",
        "kind": "SPAN_KIND_CLIENT" if i % 2 else "SPAN_KIND_SERVER",
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + (i % 50 + 1) * 10**6),
        "traceState": "vendor=v%d" % i if i % 7 == 0 else None,
        "attributes": a,
        "status": {"code": "STATUS_CODE_ERROR", "message": "HTTP 500"} if err else None,
    }
    res = {"service.name": "svc-%d" % (i % nproc), "process.pid": 1000 + i % nproc,
           "process.executable.name": "app%d" % (i % nproc)}
    return s, res


def check_spans(path, n, nproc, subset):
    errors, seen = [], {}
    for line in otlp(load(path)):
        if line["path"] != "/v1/traces" or line.get("status") != 200:
            continue
        if "error" in line:
            errors.append("request %d did not decode: %s" % (line["seq"], line["error"]))
            continue
        for rs in line["request"].get("resourceSpans", []):
            res = attrs(rs["resource"].get("attributes"))
            for k in ("telemetry.sdk.name", "host.name", "service.instance.id"):
                if k not in res:
                    errors.append("resource without %s" % k)
            if res.get("telemetry.sdk.name") != "redtap":
                errors.append("telemetry.sdk.name is %r" % res.get("telemetry.sdk.name"))
            for ss in rs.get("scopeSpans", []):
                if ss.get("scope", {}).get("name") != "redtap":
                    errors.append("scope is %r" % ss.get("scope"))
                for sp in ss.get("spans", []):
                    i = int(sp["spanId"], 16) - 1
                    if i in seen:
                        errors.append("span %d arrived twice" % i)
                    seen[i] = True
                    if not 0 <= i < n:
                        errors.append("unexpected span id %s" % sp["spanId"])
                        continue
                    want, wres = expected_span(i, nproc)
                    for k, v in wres.items():
                        if res.get(k) != v:
                            errors.append("span %d: resource %s is %r, want %r" % (i, k, res.get(k), v))
                    got = {k: sp.get(k) for k in want if k not in ("attributes", "status")}
                    got["attributes"] = attrs(sp.get("attributes"))
                    got["status"] = sp.get("status")
                    for k, v in want.items():
                        if got.get(k) != v:
                            errors.append("span %d: %s is %r, want %r" % (i, k, got.get(k), v))
    if not subset:
        missing = [i for i in range(n) if i not in seen]
        if missing:
            errors.append("%d spans missing, e.g. %s" % (len(missing), missing[:5]))
    return errors, len(seen)


def points(metric):
    for kind in ("histogram", "sum", "gauge"):
        if kind in metric:
            return kind, metric[kind].get("dataPoints", [])
    return None, []


def check_metrics(path):
    errors = []
    reqs = [l for l in otlp(load(path)) if l["path"] == "/v1/metrics" and l.get("status") == 200]
    if len(reqs) < 2:
        return ["%d metrics requests, want >= 2" % len(reqs)]
    starts = set()
    for line in reqs:
        by_service = {}
        for rm in line["request"].get("resourceMetrics", []):
            res = attrs(rm["resource"].get("attributes"))
            by_service[res.get("service.name")] = {
                m["name"]: m for sm in rm.get("scopeMetrics", []) for m in sm.get("metrics", [])}
            if "service.instance.id" not in res or res.get("telemetry.sdk.name") != "redtap":
                errors.append("metrics resource %r lacks identity attributes" % res)
        for svc in ("svc-a", "svc-b", "redtap"):
            if svc not in by_service:
                errors.append("no resource for service %s (have %s)" % (svc, sorted(by_service)))
        if errors:
            return errors
        h = by_service["svc-a"].get("http.server.request.duration")
        if not h or h.get("unit") != "s":
            errors.append("svc-a: http.server.request.duration missing or unit wrong: %r" % h)
            return errors
        kind, pts = points(h)
        if kind != "histogram" or h["histogram"].get("aggregationTemporality") != "AGGREGATION_TEMPORALITY_CUMULATIVE":
            errors.append("not a cumulative histogram: %r" % h)
        p = pts[0]
        a = attrs(p.get("attributes"))
        if a != {"http.request.method": "GET", "http.response.status_code": 200, "http.route": "/users/{id}"}:
            errors.append("svc-a point attributes %r" % a)
        if p.get("count") != "3" or abs(p.get("sum", 0) - 0.223) > 1e-9:
            errors.append("svc-a count/sum %r/%r" % (p.get("count"), p.get("sum")))
        if [int(c) for c in p.get("bucketCounts", [])] != [1, 0, 1, 0, 0, 0, 1] + [0] * 8:
            errors.append("svc-a buckets %r" % p.get("bucketCounts"))
        if len(p.get("explicitBounds", [])) != 14 or p["explicitBounds"][0] != 0.005:
            errors.append("svc-a bounds %r" % p.get("explicitBounds"))
        ex = p.get("exemplars", [])
        if len(ex) != 1 or ex[0].get("traceId") != "4bf92f3577b34da6a3ce929d0e0e4736" \
                or ex[0].get("spanId") != "00f067aa0ba902b7" or ex[0].get("asDouble") != 0.2:
            errors.append("svc-a exemplar %r" % ex)
        starts.add(p.get("startTimeUnixNano"))
        g = by_service["svc-a"].get("http.server.active_requests")
        if not g or points(g)[0] != "gauge" or g.get("unit") != "{request}" \
                or points(g)[1][0].get("asDouble") != 3:
            errors.append("svc-a gauge %r" % g)
        _, bp = points(by_service["svc-b"]["http.server.request.duration"])
        if attrs(bp[0].get("attributes")).get("http.response.status_code") != 500:
            errors.append("svc-b attributes %r" % bp[0].get("attributes"))
        self_m = by_service["redtap"]
        c = self_m.get("redtap.events.received")
        if not c or points(c)[0] != "sum" or not c["sum"].get("isMonotonic") \
                or points(c)[1][0].get("asDouble") != 42:
            errors.append("redtap counter %r" % c)
        ov = self_m.get("http.server.request.duration")
        if not ov or attrs(points(ov)[1][0].get("attributes")) != {"otel.metric.overflow": True}:
            errors.append("overflow series %r" % ov)
    if len(starts) != 1:
        errors.append("start time not stable across exports: %r" % starts)
    return errors


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd in ("spans", "spans-subset"):
        errors, n = check_spans(path, int(argv[3]), int(argv[4]), cmd == "spans-subset")
        for e in errors[:20]:
            print("  " + e)
        if cmd == "spans-subset":
            print(n)
        return 1 if errors else 0
    if cmd == "metrics":
        errors = check_metrics(path)
        for e in errors[:20]:
            print("  " + e)
        return 1 if errors else 0
    lines = otlp(load(path))
    if cmd == "requests":
        want = int(argv[4]) if len(argv) > 4 else None
        print(sum(1 for l in lines if l["path"] == argv[3] and (want is None or l.get("status") == want)))
        return 0
    if cmd == "header":
        bad = [l["seq"] for l in lines if l.get("headers", {}).get(argv[3].lower()) != argv[4]]
        if bad or not lines:
            print("  requests without %s: %s" % (argv[3], bad[:10]))
            return 1
        return 0
    if cmd == "encoding":
        bad = [l["seq"] for l in lines if l.get("encoding") != argv[3]]
        if bad or not lines:
            print("  requests not %s: %s" % (argv[3], bad[:10]))
            return 1
        return 0
    if cmd == "gaps":
        status, min_ms = int(argv[3]), int(argv[4])
        ok, n = True, 0
        for prev, cur in zip(lines, lines[1:]):
            if prev.get("status") == status and prev["path"] == cur["path"]:
                n += 1
                if cur["ts_ms"] - prev["ts_ms"] < min_ms:
                    print("  request %d came %d ms after a %d" % (cur["seq"], cur["ts_ms"] - prev["ts_ms"], status))
                    ok = False
        if not n:
            print("  no request followed a %d" % status)
        return 0 if ok and n else 1
    print("unknown command " + cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
