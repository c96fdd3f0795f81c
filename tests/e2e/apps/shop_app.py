#!/usr/bin/env python3
"""tests/e2e/apps/shop_app.py - a threaded Python HTTP server that, for
each request, queries PostgreSQL with psycopg2 (libpq) and Redis through
hiredis (build/tests/librediswrap.so, loaded with ctypes). Nothing in it
knows about redtap.
  GET /order/<id>   SELECT from orders, INCR in Redis, 200
  GET /broken       SELECT from a missing table (SQLSTATE 42P01), 500
Usage: shop_app.py PORT PG_PORT REDIS_PORT WRAP_SO
"""
import ctypes
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

PORT, PG_PORT, REDIS_PORT, WRAP = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
redis = ctypes.CDLL(WRAP)
redis.rw_incr.restype = ctypes.c_longlong
redis.rw_incr.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
DSN = "host=127.0.0.1 port=%s dbname=redtap user=postgres" % PG_PORT


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
                self.reply(200, b"%r %d\n" % (row, hits))
            elif self.path == "/broken":
                try:
                    cur.execute("SELECT * FROM no_such_table")
                except psycopg2.Error:
                    pass
                self.reply(500, b"broken\n")
            else:
                self.reply(404, b"no\n")
        finally:
            conn.close()


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
