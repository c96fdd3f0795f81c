#!/usr/bin/env python3
"""tests/e2e/apps/sampling_app.py - the HTTP/1.1 server of test_sampling.sh.
Routes:
  /ok            200
  /flaky?fail=1  500 (200 without fail=1): a route that starts failing
  /call          calls /ok on this server (a CLIENT span under /call), then 200
  /hang          calls /ok on this server (a CLIENT span under /hang), then
                 answers only after 30 s: its trace waits for a tail
                 decision when the agent is stopped
  anything else  404
Usage: sampling_app.py PORT
"""
import http.client
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/ok":
            self.answer(200, b"ok\n")
        elif path == "/flaky":
            self.answer(500 if "fail=1" in query else 200, b"flaky\n")
        elif path in ("/call", "/hang"):
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            c.request("GET", "/ok")
            c.getresponse().read()
            c.close()
            if path == "/hang":
                time.sleep(30)
            self.answer(200, b"called\n")
        else:
            self.answer(404, b"not found\n")


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
