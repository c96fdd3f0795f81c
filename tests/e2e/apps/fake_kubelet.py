#!/usr/bin/env python3
"""fake_kubelet.py - a stand-in for the kubelet's /pods endpoint for
tests/e2e/test_k8s_api.sh: HTTPS on 127.0.0.1 with the given certificate,
answering GET /pods with the pod list in PODLIST_FILE only when the request
carries 'Authorization: Bearer <TOKEN>', 401 otherwise. Each request is
logged to LOG_FILE as "<status> <path>".

usage: fake_kubelet.py PORT CERT KEY TOKEN PODLIST_FILE LOG_FILE
"""
import http.server
import ssl
import sys

PORT, CERT, KEY, TOKEN, PODLIST, LOG = sys.argv[1:7]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        ok = self.headers.get("Authorization") == "Bearer " + TOKEN
        status = 200 if ok and self.path == "/pods" else 401 if not ok else 404
        with open(LOG, "a") as f:
            f.write("%d %s\n" % (status, self.path))
        body = open(PODLIST, "rb").read() if status == 200 else b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
