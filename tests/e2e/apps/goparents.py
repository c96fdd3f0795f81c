#!/usr/bin/env python3
"""tests/e2e/apps/goparents.py - checks the parenting of a Go service's spans
for tests/e2e/test_go_traces.sh, from the receiver's decoded spans.

  goparents.py SPANS_JSONL SERVICE TRACEIDS_FILE

Every line of TRACEIDS_FILE is the trace id of one request the load
generator sent with its own traceparent. The service makes one downstream
HTTP call, one PostgreSQL query and one Redis GET per request. For each
request and each of the three kinds, the child is "own" when exactly one
CLIENT span of that kind is in the request's trace with the request's
SERVER span as parent; every span beyond one of a kind in a request's trace
is "foreign" (it was attached to a request that did not make it). Prints
"requests=N expected=N own=N foreign=N servers=N".
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import spans as sp  # noqa: E402


def kind_of(s):
    if s.get("attr.db.system.name") == "postgresql":
        return "pg"
    if s.get("attr.db.system.name") == "redis":
        return "redis"
    if s.get("attr.http.request.method"):
        return "http"
    return None


def main():
    path, service, ids = sys.argv[1], sys.argv[2], sys.argv[3]
    traces = {line.strip() for line in open(ids) if line.strip()}
    server = {}
    children = {}
    for s in sp.spans(path):
        if s["service"] != service or s["trace"] not in traces:
            continue
        if s["kind"] == "SERVER":
            server[s["trace"]] = s["span"]
        elif s["kind"] == "CLIENT":
            children.setdefault(s["trace"], []).append(s)
    own = foreign = 0
    for t in traces:
        per = {}
        for c in children.get(t, []):
            k = kind_of(c)
            if k:
                per.setdefault(k, []).append(c)
        for k, cs in per.items():
            foreign += max(0, len(cs) - 1)
            if len(cs) == 1 and t in server and cs[0]["parent"] == server[t]:
                own += 1
    print("requests=%d expected=%d own=%d foreign=%d servers=%d"
          % (len(traces), 3 * len(traces), own, foreign, len(server)))


if __name__ == "__main__":
    main()
