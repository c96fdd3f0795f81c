"""tests/e2e/apps/otlpjson.py - what the e2e query tools (spans.py, logs.py)
share over the JSON lines tests/otlp/receiver.js writes: flattening each
exported item with its resource, the FILTER language, and the count / get /
dump commands. Run alone, it queries metric data points:

  otlpjson.py FILE points count|get FIELD|dump [FILTER...]

A point is flattened to metric (the OTLP name), kind (sum, gauge,
histogram), value (sum and gauge), count and sum (histogram), exemplars
(how many) and, for its last exemplar, exemplar.trace, exemplar.span (hex)
and exemplar.value, exemplar.time (unix ns).

FILTER is key=value on a flattened item; key!=value negates, key~=text means
"contains", key>=N compares numbers. Attributes are attr.<key>, resource
attributes res.<key>.
"""
import json
import sys


def value(v):
    for k in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if k in v:
            return str(v[k]).lower() if k == "boolValue" else str(v[k])
    return ""


def items(path, url, res_list, scope_list, item_list, flat):
    """Every item of the requests to url, as flat(item, resource) plus its
    attributes (attr.*) and resource attributes (res.*)."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("path") != url or "request" not in rec:
                continue
            for rl in rec["request"].get(res_list, []):
                res = {a["key"]: value(a["value"]) for a in rl.get("resource", {}).get("attributes", [])}
                for sl in rl.get(scope_list, []):
                    for it in sl.get(item_list, []):
                        d = flat(it, res)
                        for a in it.get("attributes", []):
                            d["attr." + a["key"]] = value(a["value"])
                        for k, v in res.items():
                            d["res." + k] = v
                        out.append(d)
    return out


def match(r, filters):
    for f in filters:
        if ">=" in f:
            k, v = f.split(">=", 1)
            try:
                if int(r.get(k, "")) < int(v):
                    return False
            except ValueError:
                return False
            continue
        if "~=" in f:
            k, v = f.split("~=", 1)
            if v not in str(r.get(k, "")):
                return False
            continue
        neg = "!=" in f
        k, v = f.split("!=" if neg else "=", 1)
        if (str(r.get(k, "")) == v) == neg:
            return False
    return True


def common(cmd, recs, rest):
    """Runs count, get or dump; False for another command."""
    if cmd == "count":
        print(sum(1 for r in recs if match(r, rest)))
    elif cmd == "get":
        hits = [r for r in recs if match(r, rest[1:])]
        print(hits[0].get(rest[0], "") if hits else "")
    elif cmd == "dump":
        for r in recs:
            print(json.dumps(r, sort_keys=True))
    else:
        return False
    return True


def fail(cmd):
    sys.exit("unknown command " + cmd)


def _point(m, kind, dp, res):
    d = {"metric": m.get("name", ""), "kind": kind, "service": res.get("service.name", "")}
    if kind == "histogram":
        d["count"], d["sum"] = str(dp.get("count", "0")), str(dp.get("sum", ""))
    else:
        d["value"] = str(dp.get("asDouble", dp.get("asInt", "")))
    ex = dp.get("exemplars", [])
    d["exemplars"] = str(len(ex))
    if ex:
        d["exemplar.trace"] = ex[-1].get("traceId", "")
        d["exemplar.span"] = ex[-1].get("spanId", "")
        d["exemplar.value"] = str(ex[-1].get("asDouble", ex[-1].get("asInt", "")))
        d["exemplar.time"] = str(ex[-1].get("timeUnixNano", ""))
    for a in dp.get("attributes", []):
        d["attr." + a["key"]] = value(a["value"])
    for k, v in res.items():
        d["res." + k] = v
    return d


def points(path):
    """Every metric data point of the /v1/metrics requests, flattened (see above)."""
    out = []
    for rm in items(path, "/v1/metrics", "resourceMetrics", "scopeMetrics", "metrics",
                    lambda m, res: {"m": m, "res": res}):
        for kind in ("sum", "gauge", "histogram"):
            for dp in rm["m"].get(kind, {}).get("dataPoints", []):
                out.append(_point(rm["m"], kind, dp, rm["res"]))
    return out


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[2] != "points" or not common(
            sys.argv[3], points(sys.argv[1]), sys.argv[4:]):
        sys.exit(__doc__)
