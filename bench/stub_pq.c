// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stub_pq.c - a fake libpq.so.5 for the shim microbenchmark: every call
 * returns at once without I/O. See stub_pq.h.
 */
#include <stddef.h>

#include "stub_pq.h"

#define STUB_EXPORT __attribute__((visibility("default")))

/* Any distinct non-NULL addresses serve as the connection and the result. */
static char stub_conn_obj, stub_result_obj;
static __thread int stub_result_pending;

STUB_EXPORT PGconn *PQconnectdb(const char *conninfo)
{
	(void)conninfo;
	return (PGconn *)&stub_conn_obj;
}

STUB_EXPORT void PQfinish(PGconn *conn)
{
	(void)conn;
}

STUB_EXPORT PGresult *PQexec(PGconn *conn, const char *query)
{
	(void)query;
	return conn ? (PGresult *)&stub_result_obj : NULL;
}

STUB_EXPORT int PQsendQuery(PGconn *conn, const char *query)
{
	(void)query;
	stub_result_pending = conn != NULL;
	return stub_result_pending;
}

STUB_EXPORT PGresult *PQgetResult(PGconn *conn)
{
	(void)conn;
	if (!stub_result_pending)
		return NULL;
	stub_result_pending = 0;
	return (PGresult *)&stub_result_obj;
}

STUB_EXPORT void PQclear(PGresult *res)
{
	(void)res;
}

STUB_EXPORT int PQresultStatus(const PGresult *res)
{
	return res ? STUB_PGRES_TUPLES_OK : 7 /* PGRES_FATAL_ERROR */;
}

STUB_EXPORT char *PQresultErrorField(const PGresult *res, int fieldcode)
{
	(void)res;
	(void)fieldcode;
	return NULL;
}

STUB_EXPORT int PQstatus(const PGconn *conn)
{
	return conn ? 0 /* CONNECTION_OK */ : 1 /* CONNECTION_BAD */;
}

STUB_EXPORT int PQpipelineStatus(const PGconn *conn)
{
	(void)conn;
	return 0; /* PQ_PIPELINE_OFF */
}

STUB_EXPORT char *PQhost(const PGconn *conn)
{
	(void)conn;
	return (char *)"127.0.0.1";
}

STUB_EXPORT char *PQport(const PGconn *conn)
{
	(void)conn;
	return (char *)"5432";
}

STUB_EXPORT char *PQdb(const PGconn *conn)
{
	(void)conn;
	return (char *)"bench";
}
