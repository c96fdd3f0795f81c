#!/usr/bin/env python3
"""tests/e2e/apps/py_dbclient.py - Python database clients that know nothing
about redtap, for tests/e2e/test_wire_clients.sh (run it with /usr/bin/python3:
Debian's psycopg2 and redis-py).
  py_dbclient.py pg PGPORT N      psycopg2: N SELECTs, a failing query
                                  (42703), a transaction (BEGIN, UPDATE, COMMIT)
  py_dbclient.py redis RDPORT N   redis-py: N SETs and N GETs, a pipeline of N
                                  GETs, a MULTI/EXEC pipeline of 2 INCRs, a
                                  WRONGTYPE error
Prints what it did as name=count lines; exits non-zero on a surprise. Waits a
second first, so that the agent names it from OTEL_SERVICE_NAME while it lives.
"""
import sys
import time


def pg(port, n):
    import psycopg2
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="redtap", user="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    for i in range(n):
        cur.execute("SELECT item FROM orders WHERE id = %s", (i % 100 + 1,))
        cur.fetchone()
    try:
        cur.execute("SELECT no_such_column FROM orders")
        sys.exit("psycopg2: the failing query did not fail")
    except psycopg2.Error as e:
        if e.pgcode != "42703":
            sys.exit("psycopg2: want 42703, got %s" % e.pgcode)
    conn.autocommit = False  # psycopg2 sends BEGIN before the first statement
    cur.execute("UPDATE orders SET item = %s WHERE id = %s", ("py", 3))
    conn.commit()
    conn.close()
    print("select=%d\nfailed=1\nbegin=1\nupdate=1\ncommit=1" % n)


def rd(port, n):
    import redis
    r = redis.Redis(host="127.0.0.1", port=port)
    for i in range(n):
        r.set("py:%d" % i, i)
        if int(r.get("py:%d" % i)) != i:
            sys.exit("redis-py: bad GET")
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.get("py:%d" % i)
    if [int(v) for v in p.execute()] != list(range(n)):
        sys.exit("redis-py: bad pipeline")
    p = r.pipeline(transaction=True)
    p.incr("py:count")
    p.incr("py:count")
    p.execute()
    try:
        r.lpush("py:0", "x")
        sys.exit("redis-py: LPUSH on a string did not fail")
    except redis.ResponseError as e:
        if not str(e).startswith("WRONGTYPE"):
            sys.exit("redis-py: want WRONGTYPE, got %s" % e)
    print("set=%d\nget=%d\nmulti=1\nincr=2\nexec=1\nwrongtype=1" % (n, 2 * n))


if __name__ == "__main__":
    time.sleep(1)
    {"pg": pg, "redis": rd}[sys.argv[1]](int(sys.argv[2]), int(sys.argv[3]))
