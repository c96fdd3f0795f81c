#!/usr/bin/env python3
"""bench/py_log_app.py - the service of bench/logs.sh: bench/py_app.py's
thread-per-connection server that also writes one JSON log line per
request to stdout (Python logging with a JSON formatter, python-json-
logger's field names), as a typical instrumented handler does.
With "flood N" instead of a port it writes N short lines per second to
stdout, one write each, until killed (the flood of bench/logs.sh).
Usage: py_log_app.py PORT | py_log_app.py flood N
"""
import json
import logging
import os
import sys
import time

if sys.argv[1] == "flood":
    rate, out, n = int(sys.argv[2]), sys.stdout.fileno(), 0
    start = time.monotonic()
    while True:
        for _ in range(rate // 100):
            os.write(out, b"DEBUG flood %d\n" % n)
            n += 1
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import py_app  # noqa: E402  (the same handler and server)


class JsonFormatter(logging.Formatter):
    def format(self, record):
        return json.dumps({"asctime": self.formatTime(record), "levelname": record.levelname,
                           "message": record.getMessage(), "path": record.args[0]})


LOG = logging.getLogger("items")
_h = logging.StreamHandler(sys.stdout)
_h.setFormatter(JsonFormatter())
LOG.addHandler(_h)
LOG.setLevel(logging.INFO)


class Handler(py_app.Handler):
    def do_GET(self):
        LOG.info("GET %s", self.path)
        super().do_GET()


if __name__ == "__main__":
    py_app.ThreadingHTTPServer.daemon_threads = True
    py_app.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
