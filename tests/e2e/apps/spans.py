#!/usr/bin/env python3
"""tests/e2e/apps/spans.py - queries the spans that tests/otlp/receiver.js
decoded (its JSON lines) for the end-to-end tests.

  spans.py FILE count [FILTER...]        how many spans match
  spans.py FILE get FIELD [FILTER...]    FIELD of the first match ("" if none)
  spans.py FILE dump                     every span, one JSON line each

FILTER (otlpjson.py) is key=value on a flattened span: service, name, kind
(SERVER, CLIENT), trace, span, parent ("" for a root), status (ERROR, UNSET,
OK), or attr.<key> for an attribute; key!=value negates.
"""
import sys

import otlpjson


def flat(s, res):
    return {
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


def spans(path):
    return otlpjson.items(path, "/v1/traces", "resourceSpans", "scopeSpans", "spans", flat)


def main():
    path, cmd, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not otlpjson.common(cmd, spans(path), rest):
        otlpjson.fail(cmd)


if __name__ == "__main__":
    main()
