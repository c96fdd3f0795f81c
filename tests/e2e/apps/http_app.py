#!/usr/bin/env python3
"""tests/e2e/apps/http_app.py - a small threaded HTTP/1.1 server for the
end-to-end tests. Routes:
  /items/<id>   200 with a Content-Length body
  /error        500
  /slow         200 after 200 ms
  /hold         200 after 1.5 s (a request in flight long enough to scrape)
  /chunked      200 with a chunked body
  /big          200 with a 64 KiB body (more than any capture prefix)
  /close        200 delimited by closing the connection (HTTP/1.0 style)
  anything else 404
Usage: http_app.py PORT
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n) if n else b""
        self.send_body(201, b"created %d\n" % len(data))

    def do_GET(self):
        p = self.path.split("?")[0]
        if p.startswith("/items/"):
            self.send_body(200, b'{"id": "%s"}\n' % p[7:].encode())
        elif p == "/error":
            self.send_body(500, b"boom\n")
        elif p == "/slow":
            time.sleep(0.2)
            self.send_body(200, b"slow\n")
        elif p == "/hold":
            time.sleep(1.5)
            self.send_body(200, b"held\n")
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif p == "/big":
            self.send_body(200, b"x" * 65536)
        elif p == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close\n")
            self.close_connection = True
        else:
            self.send_body(404, b"not found\n")


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
