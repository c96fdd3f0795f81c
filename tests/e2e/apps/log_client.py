#!/usr/bin/env python3
"""tests/e2e/apps/log_client.py - concurrent HTTP client for
tests/e2e/test_logs.sh: THREADS threads send COUNT requests in all to
http://127.0.0.1:PORT/KIND/N for N in [FIRST, FIRST + COUNT), each with a W3C
traceparent whose trace id is logs.py's trace_of(N) (sampled), over
keep-alive connections.

  log_client.py PORT KIND FIRST COUNT THREADS
Prints "ok N failed M".
"""
import http.client
import sys
import threading

port, kind, first, count, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lock = threading.Lock()
done = {"ok": 0, "failed": 0}


def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    for n in range(first + k, first + count, threads):
        tp = "00-%032x-%016x-01" % (0x7E57 << 64 | n, 0x5EED0000 + n)
        try:
            conn.request("GET", "/%s/%d" % (kind, n), headers={"traceparent": tp})
            conn.getresponse().read()
            res = "ok"
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            res = "failed"
        with lock:
            done[res] += 1
    conn.close()


ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("ok %d failed %d" % (done["ok"], done["failed"]))
