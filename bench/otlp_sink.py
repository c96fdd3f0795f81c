#!/usr/bin/env python3
"""bench/otlp_sink.py - a minimal OTLP/HTTP receiver for the benchmark's
"tracing + OTLP" variant: it accepts POSTs to /v1/traces and /v1/metrics,
reads and counts them, and answers 200 with an empty protobuf body (a valid
empty Export*ServiceResponse). Usage: otlp_sink.py PORT
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
