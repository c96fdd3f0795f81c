# tests/shim/psycopg_paths.py - a Python program using psycopg2, whose
# extension module loads libpq with RTLD_LOCAL: the shim must still find the
# real libpq functions (dlopen RTLD_NOLOAD fallback) and time every call.
# Usage: python3 psycopg_paths.py CONNINFO
import sys

import psycopg2

conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("CREATE TABLE IF NOT EXISTS py_t (a int)")
conn.commit()
cur.execute("SELECT count(*) FROM pg_class WHERE relname = %s", ("py_t",))
print("count", cur.fetchone()[0])
try:
    cur.execute("SELECT * FROM nosuch_py")
except psycopg2.Error as e:
    print("error", e.pgcode)
    conn.rollback()
cur.execute("INSERT INTO py_t VALUES (%s)", (1,))
conn.commit()
conn.close()
print("done")
