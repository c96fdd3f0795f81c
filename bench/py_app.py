#!/usr/bin/env python3
"""bench/py_app.py - the Python service of bench/app.sh: a thread-per-
connection HTTP/1.1 server (http.server's ThreadingHTTPServer, keep-alive)
that answers GET /items/<id> with a small JSON document built per request,
like a typical CRUD handler. TCP_NODELAY is on (without it every response
waits for the client's delayed ACK, 40 ms, and the benchmark would measure
Nagle's algorithm). 127.0.0.1 only.
Usage: py_app.py PORT
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.split("/")
        if len(parts) == 3 and parts[1] == "items" and parts[2].isdigit():
            item = {"id": int(parts[2]), "name": "item-" + parts[2], "price": 9.99,
                    "tags": ["a", "b", "c"], "stock": 42}
            body, code = json.dumps(item).encode(), 200
        else:
            body, code = b'{"error": "not found"}', 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
