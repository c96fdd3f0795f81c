/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stub_pq.h - the few libpq entry points the shim microbenchmark
 * (bench/shimcall.c) calls, and that the stub library bench/stub_pq.c
 * implements as a fake libpq.so.5 whose calls return at once, so that the
 * benchmark times the shim's wrapper and nothing else.
 *
 * API: the signatures are libpq's own (libpq-fe.h), with opaque types.
 * The stub's PGconn and PGresult are static objects: nothing is allocated,
 * PQclear() and PQfinish() do nothing, and every result is PGRES_TUPLES_OK.
 * PQgetResult() alternates a result and NULL, as after one PQsendQuery().
 * Thread-safety: the stub keeps no state but that alternation (per thread).
 */
#ifndef REDTAP_BENCH_STUB_PQ_H
#define REDTAP_BENCH_STUB_PQ_H

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

#define STUB_PGRES_TUPLES_OK 2 /* ExecStatusType */

PGconn *PQconnectdb(const char *conninfo);
void PQfinish(PGconn *conn);
PGresult *PQexec(PGconn *conn, const char *query);
int PQsendQuery(PGconn *conn, const char *query);
PGresult *PQgetResult(PGconn *conn);
void PQclear(PGresult *res);

/* Accessors the shim calls on its own. */
int PQresultStatus(const PGresult *res);
char *PQresultErrorField(const PGresult *res, int fieldcode);
int PQstatus(const PGconn *conn);
int PQpipelineStatus(const PGconn *conn);
char *PQhost(const PGconn *conn);
char *PQport(const PGconn *conn);
char *PQdb(const PGconn *conn);

#endif /* REDTAP_BENCH_STUB_PQ_H */
