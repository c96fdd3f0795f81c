#!/usr/bin/env python3
"""tests/e2e/apps/shop_app.py - a threaded Python HTTP server that, for
each request, queries PostgreSQL with psycopg2 (libpq) and Redis through
hiredis (build/tests/librediswrap.so, loaded with ctypes). Nothing in it
knows about redtap.
  GET /order/<id>   SELECT from orders, INCR in Redis, and (when
                    INVENTORY_PORT is given) GET /items/<id> from it; 200
  GET /broken       SELECT from a missing table (SQLSTATE 42P01), logs an
                    ERROR line to stderr, 500
Usage: shop_app.py PORT PG_PORT REDIS_PORT WRAP_SO [INVENTORY_PORT]
"""
import ctypes
import http.client
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

PORT, PG_PORT, REDIS_PORT, WRAP = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
redis = ctypes.CDLL(WRAP)
redis.rw_incr.restype = ctypes.c_longlong
redis.rw_incr.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
INVENTORY = int(sys.argv[5]) if len(sys.argv) > 5 else 0
DSN = "host=127.0.0.1 port=%s dbname=redtap user=postgres" % PG_PORT


def inventory(item):
    c = http.client.HTTPConnection("127.0.0.1", INVENTORY, timeout=5)
    try:
        c.request("GET", "/items/%d" % item)
        return c.getresponse().read()
    finally:
        c.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        conn = psycopg2.connect(DSN)
        try:
            cur = conn.cursor()
            if self.path.startswith("/order/"):
                cur.execute("SELECT id, item FROM orders WHERE id = %s", (int(self.path[7:]),))
                row = cur.fetchone()
                hits = redis.rw_incr(b"127.0.0.1", REDIS_PORT, b"hits")
                if INVENTORY:
                    inventory(int(self.path[7:]))
                self.reply(200, b"%r %d\n" % (row, hits))
            elif self.path == "/broken":
                try:
                    cur.execute("SELECT * FROM no_such_table")
                except psycopg2.Error as e:
                    print("ERROR broken: %s" % e.pgcode, file=sys.stderr, flush=True)
                self.reply(500, b"broken\n")
            else:
                self.reply(404, b"no\n")
        finally:
            conn.close()


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
