#!/usr/bin/env python3
"""tests/e2e/apps/spans.py - queries the spans that tests/otlp/receiver.js
decoded (its JSON lines) for the end-to-end tests.

  spans.py FILE count [FILTER...]        how many spans match
  spans.py FILE get FIELD [FILTER...]    FIELD of the first match ("" if none)
  spans.py FILE dump                     every span, one JSON line each

FILTER is key=value on a flattened span: service, name, kind (SERVER,
CLIENT), trace, span, parent ("" for a root), status (ERROR, UNSET, OK),
or attr.<key> for an attribute; key!=value negates.
"""
import json
import sys


def value(v):
    for k in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if k in v:
            return str(v[k]).lower() if k == "boolValue" else str(v[k])
    return ""


def spans(path):
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec.get("path") != "/v1/traces" or "request" not in rec:
                continue
            for rs in rec["request"].get("resourceSpans", []):
                res = {a["key"]: value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        flat = {
                            "service": res.get("service.name", ""),
                            "name": s.get("name", ""),
                            "kind": str(s.get("kind", "")).replace("SPAN_KIND_", ""),
                            "trace": s.get("traceId", ""),
                            "span": s.get("spanId", ""),
                            "parent": s.get("parentSpanId", "") or "",
                            "status": str(s.get("status", {}).get("code", "UNSET")).replace("STATUS_CODE_", ""),
                            "tracestate": s.get("traceState", ""),
                            "start": int(s.get("startTimeUnixNano", 0)),
                            "end": int(s.get("endTimeUnixNano", 0)),
                        }
                        for a in s.get("attributes", []):
                            flat["attr." + a["key"]] = value(a["value"])
                        for k, v in res.items():
                            flat["res." + k] = v
                        out.append(flat)
    return out


def match(s, filters):
    for f in filters:
        neg = "!=" in f
        k, v = f.split("!=" if neg else "=", 1)
        if (str(s.get(k, "")) == v) == neg:
            return False
    return True


def main():
    path, cmd, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    all_spans = spans(path)
    if cmd == "count":
        print(sum(1 for s in all_spans if match(s, rest)))
    elif cmd == "get":
        hits = [s for s in all_spans if match(s, rest[1:])]
        print(hits[0].get(rest[0], "") if hits else "")
    elif cmd == "dump":
        for s in all_spans:
            print(json.dumps(s, sort_keys=True))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
