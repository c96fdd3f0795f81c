#!/usr/bin/env python3
"""tests/e2e/apps/log_app.py - a thread-per-request HTTP server that logs
JSON lines (Python logging with a JSON formatter, python-json-logger's
field names) to stdout inside its handlers, for tests/e2e/test_logs.sh.

  log_app.py PORT

GET /work/<rid>  logs INFO "start <rid>", sleeps a little, logs WARNING
                 "slow <rid>", answers 200.
GET /fail/<rid>  logs ERROR "failed <rid>" with an error field, answers 500.
GET /secret/<rid> logs INFO with a password and an Authorization header.
Every line names its request id in "rid", so that a decoder can tell
which request a log record was written for.
"""
import json
import logging
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonFormatter(logging.Formatter):
    def format(self, record):
        out = {
            "asctime": self.formatTime(record),
            "levelname": record.levelname,
            "name": record.name,
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        return json.dumps(out)


LOG = logging.getLogger("shop")
_h = logging.StreamHandler(sys.stdout)
_h.setFormatter(JsonFormatter())
LOG.addHandler(_h)
LOG.setLevel(logging.INFO)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"ok\n"):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("/")
        kind, rid = (parts[1], parts[2]) if len(parts) > 2 else ("", "")
        if kind == "work":
            LOG.info("start %s", rid, extra={"fields": {"rid": rid}})
            time.sleep(0.005)
            LOG.warning("slow %s", rid, extra={"fields": {"rid": rid, "ms": 5}})
            self.answer(200)
        elif kind == "fail":
            LOG.error("failed %s", rid, extra={"fields": {"rid": rid, "error": "db down"}})
            self.answer(500)
        elif kind == "secret":
            LOG.info("login %s password=hunter2-%s Authorization: Bearer tok-%s", rid, rid, rid,
                     extra={"fields": {"rid": rid}})
            self.answer(200)
        else:
            self.answer(404)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
