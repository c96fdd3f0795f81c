#!/usr/bin/env python3
"""tests/e2e/apps/logs.py - queries the log records that tests/otlp/receiver.js
decoded (its JSON lines) for the end-to-end tests of zero-code logs.

  logs.py FILE count [FILTER...]         how many records match
  logs.py FILE get FIELD [FILTER...]     FIELD of the first match ("" if none)
  logs.py FILE grep TEXT                 how many bodies contain TEXT
  logs.py FILE correlate [FILTER...]     over the matching records whose body is
                                         JSON with a "rid": "N" member, prints
                                         "total right wrong none": right = the
                                         record's trace id is trace_of(N), wrong
                                         = another trace id, none = no trace id
  logs.py FILE dump                      every record, one JSON line each

FILTER is key=value on a flattened record: service, body, severity (the
number), severity_text, trace, span, flags, rid, or attr.<key>; key!=value
negates, key~=text means "contains", key>=N compares numbers.
trace_of(N) is the trace id the test clients send for request N: "%032x" %
(0x7e57 << 64 | N).
"""
import json
import sys

import otlpjson
from otlpjson import match, value


def trace_of(n):
    return "%032x" % (0x7E57 << 64 | int(n))


SEV = {"SEVERITY_NUMBER_UNSPECIFIED": 0}
for i, name in enumerate(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]):
    for j in range(4):
        SEV["SEVERITY_NUMBER_%s%s" % (name, "" if j == 0 else j + 1)] = 1 + 4 * i + j


def flat(r, res):
    sev = r.get("severityNumber", 0)
    d = {
        "service": res.get("service.name", ""),
        "body": value(r.get("body", {})),
        "severity": str(SEV.get(sev, sev) if isinstance(sev, str) else sev),
        "severity_text": r.get("severityText", ""),
        "trace": r.get("traceId", "") or "",
        "span": r.get("spanId", "") or "",
        "flags": str(r.get("flags", 0)),
    }
    try:
        body = json.loads(d["body"])
        if isinstance(body, dict) and "rid" in body:
            d["rid"] = str(body["rid"])
    except ValueError:
        pass
    return d


def records(path):
    return otlpjson.items(path, "/v1/logs", "resourceLogs", "scopeLogs", "logRecords", flat)


def main():
    path, cmd, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    recs = records(path)
    if otlpjson.common(cmd, recs, rest):
        return
    if cmd == "grep":
        print(sum(1 for r in recs if rest[0] in r["body"]))
    elif cmd == "correlate":
        total = right = wrong = none = 0
        for r in recs:
            if "rid" not in r or not match(r, rest):
                continue
            total += 1
            if not r["trace"]:
                none += 1
            elif r["trace"] == trace_of(r["rid"]):
                right += 1
            else:
                wrong += 1
        print(total, right, wrong, none)
    else:
        otlpjson.fail(cmd)


if __name__ == "__main__":
    main()
