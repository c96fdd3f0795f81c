#!/usr/bin/env python3
"""tests/e2e/apps/tls_app.py - Python ssl programs for test_tls.sh (127.0.0.1 only).

  tls_app.py server PORT CERT KEY        threaded HTTPS/1.1 server: /items/N -> 200, /error -> 500
  tls_app.py client PORT N PATH          N GET PATH on one keep-alive HTTPS connection
  tls_app.py hold PORT GO N PATH DONE    one request now on a kept connection, then, once the
                                         file GO exists, N more on it; writes DONE (bounded: 60 s)
"""
import http.client
import http.server
import os
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 500 if self.path == "/error" else 200
        body = b"ok %s\n" % self.path.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def server(port, cert, key):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def connect(port):
    return http.client.HTTPSConnection("127.0.0.1", int(port), timeout=10,
                                       context=ssl._create_unverified_context())


def get(conn, path):
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def client(port, n, path):
    conn = connect(port)
    for _ in range(int(n)):
        get(conn, path)
    conn.close()


def hold(port, go, n, path, done):
    conn = connect(port)
    get(conn, path)
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    for _ in range(int(n)):
        get(conn, path)
    with open(done, "w") as f:
        f.write("done\n")
    time.sleep(1)
    conn.close()


if __name__ == "__main__":
    {"server": server, "client": client, "hold": hold}[sys.argv[1]](*sys.argv[2:])
