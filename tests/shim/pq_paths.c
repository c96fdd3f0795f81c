// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pq_paths.c - drives every libpq path the shim wraps against a real
 * PostgreSQL, and prints what the host program sees (statuses, values,
 * SQLSTATEs, errno) so that a run with the shim can be compared with a run
 * without it: the output must be byte-for-byte identical.
 *
 * Usage: pq_paths "host=127.0.0.1 port=25432 dbname=shimtest user=postgres"
 * The expected shim records, in order, are in tests/shim/expected/pq_paths.txt.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "-";
}

/* Prints one result the way the host would see it, then frees it. */
static void show(const char *what, PGresult *r)
{
	int st = r ? (int)PQresultStatus(r) : -1;
	int e = errno;

	printf("%s: %s", what, r ? PQresStatus(PQresultStatus(r)) : "NULL");
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
		printf(" rows=%d first=%.20s", PQntuples(r), PQgetvalue(r, 0, 0));
	if (st == PGRES_FATAL_ERROR)
		printf(" sqlstate=%s", sqlstate(r));
	printf(" errno=%d\n", e);
	PQclear(r);
}

static PGresult *exec_show(PGconn *c, const char *what, const char *sql)
{
	errno = 777;
	show(what, PQexec(c, sql));
	return NULL;
}

/* Drains PQgetResult until NULL, printing each result. */
static void drain(PGconn *c, const char *what)
{
	PGresult *r;
	int n = 0;

	while ((r = PQgetResult(c))) {
		char label[64];

		snprintf(label, sizeof(label), "%s[%d]", what, n++);
		show(label, r);
	}
	printf("%s: end\n", what);
}

static void sync_paths(PGconn *c)
{
	const char *vals[2] = {"1", "renamed"};
	const char *upd[2] = {"renamed", "1"};

	exec_show(c, "drop", "DROP TABLE IF EXISTS t1");
	exec_show(c, "create", "CREATE TABLE t1 (id int PRIMARY KEY, name text)");
	exec_show(c, "insert", "INSERT INTO t1 VALUES (1, 'a'), (2, 'b')");
	exec_show(c, "missing", "SELECT * FROM nosuchtable");
	errno = 777;
	show("params",
	     PQexecParams(c, "SELECT name FROM t1 WHERE id = $1", 1, NULL, vals, NULL, NULL, 0));
	errno = 777;
	show("prepare", PQprepare(c, "s1", "UPDATE t1 SET name = $1 WHERE id = $2", 2, NULL));
	errno = 777;
	show("execprepared", PQexecPrepared(c, "s1", 2, upd, NULL, NULL, 0));
	errno = 777;
	show("describeprepared", PQdescribePrepared(c, "s1"));
	exec_show(c, "begin", "BEGIN");
	exec_show(c, "declare", "DECLARE c1 CURSOR FOR SELECT * FROM t1");
	errno = 777;
	show("describeportal", PQdescribePortal(c, "c1"));
	exec_show(c, "commit", "COMMIT");
	errno = 777;
	show("execunknown", PQexecPrepared(c, "nosuch", 0, NULL, NULL, NULL, 0));
	(void)vals;
}

static void async_paths(PGconn *c)
{
	const char *dup[2] = {"1", "dup"};

	printf("sendquery: %d\n", PQsendQuery(c, "SELECT pg_sleep(0.01), 1"));
	drain(c, "sendquery");
	printf("sendparams: %d\n",
	       PQsendQueryParams(c, "INSERT INTO t1 VALUES ($1, $2)", 2, NULL, dup, NULL, NULL, 0));
	drain(c, "sendparams");
	printf("sendprepare: %d\n", PQsendPrepare(c, "s2", "SELECT count(*) FROM t1", 0, NULL));
	drain(c, "sendprepare");
	printf("sendprepared: %d\n", PQsendQueryPrepared(c, "s2", 0, NULL, NULL, NULL, 0));
	drain(c, "sendprepared");
	printf("senddescribeprepared: %d\n", PQsendDescribePrepared(c, "s2"));
	drain(c, "senddescribeprepared");
	printf("senddescribeportal: %d\n", PQsendDescribePortal(c, "nosuchportal"));
	drain(c, "senddescribeportal");
	printf("batch: %d\n", PQsendQuery(c, "SELECT 1; SELECT 2"));
	drain(c, "batch");
	printf("singlerow: %d %d\n", PQsendQuery(c, "SELECT generate_series(1, 3)"),
	       PQsetSingleRowMode(c));
	drain(c, "singlerow");
	/* A second send while busy: libpq refuses it (client error). */
	printf("busy1: %d\n", PQsendQuery(c, "SELECT 10"));
	printf("busy2: %d\n", PQsendQuery(c, "SELECT 11"));
	drain(c, "busy");
}

static void pipeline_paths(PGconn *c)
{
	const char *one[1] = {"7"};
	PGresult *r;
	int i;

	printf("enter: %d\n", PQenterPipelineMode(c));
	printf("q1: %d\n", PQsendQueryParams(c, "SELECT $1::int", 1, NULL, one, NULL, NULL, 0));
	printf("q2: %d\n",
	       PQsendQueryParams(c, "SELECT * FROM nosuch2", 0, NULL, NULL, NULL, NULL, 0));
	printf("q3: %d\n", PQsendQueryParams(c, "SELECT 3", 0, NULL, NULL, NULL, NULL, 0));
	printf("sync: %d\n", PQpipelineSync(c));
	printf("q4: %d\n", PQsendQueryParams(c, "UPDATE t1 SET name = 'p' WHERE id = 2", 0, NULL,
					     NULL, NULL, NULL, 0));
	printf("sync: %d\n", PQpipelineSync(c));
	/* 4 queries and 2 syncs: each query ends with NULL, syncs do not */
	for (i = 0; i < 6; i++) {
		char label[32];

		snprintf(label, sizeof(label), "pipe%d", i);
		while ((r = PQgetResult(c))) {
			int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;

			show(label, r);
			if (sync)
				break;
		}
	}
	printf("exit: %d\n", PQexitPipelineMode(c));
}

static void copy_paths(PGconn *c)
{
	char *buf;
	int n, rows = 0;

	exec_show(c, "copyin", "COPY t1 FROM STDIN");
	printf("putdata: %d\n", PQputCopyData(c, "10\tx\n11\ty\n", 10));
	printf("putend: %d\n", PQputCopyEnd(c, NULL));
	drain(c, "copyin");
	exec_show(c, "copybad", "COPY t1 FROM STDIN");
	printf("putdata: %d\n", PQputCopyData(c, "notanint\tx\n", 11));
	printf("putend: %d\n", PQputCopyEnd(c, NULL));
	drain(c, "copybad");
	exec_show(c, "copyout", "COPY (SELECT id FROM t1 ORDER BY id) TO STDOUT");
	while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
		rows++;
		PQfreemem(buf);
	}
	printf("copyout: rows=%d last=%d\n", rows, n);
	drain(c, "copyout");
}

static void fastpath(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT 'int4abs'::regproc::oid");
	PQArgBlock arg;
	int result = 0, len = 0;
	int oid = atoi(PQgetvalue(r, 0, 0));

	PQclear(r);
	arg.isint = 1;
	arg.len = 4;
	arg.u.integer = -5;
	errno = 777;
	show("fn", PQfn(c, oid, &result, &len, 1, &arg, 1));
	printf("fn: result=%d len=%d\n", result, len);
}

static void odd_inputs(PGconn *c)
{
	size_t big = 1 << 20;
	char *q = malloc(big + 64);

	strcpy(q, "SELECT length('");
	memset(q + strlen(q), 'x', big);
	strcpy(q + 15 + big, "')");
	exec_show(c, "bigquery", q);
	free(q);
	exec_show(c, "badutf8", "SELECT 'caf\xc3' AS \"\xff\"");
}

static void connect_paths(const char *conninfo, const char *host, const char *port)
{
	const char *kw[] = {"host", "port", "dbname", "user", NULL};
	const char *vals[] = {host, port, "postgres", "postgres", NULL};
	PostgresPollingStatusType st;
	PGconn *c;

	c = PQconnectdbParams(kw, vals, 0);
	printf("params: %s\n", PQstatus(c) == CONNECTION_OK ? "ok" : "bad");
	exec_show(c, "params-select", "SELECT 1");
	PQfinish(c);

	c = PQsetdbLogin(host, port, NULL, NULL, "shimtest", "postgres", NULL);
	printf("setdb: %s\n", PQstatus(c) == CONNECTION_OK ? "ok" : "bad");
	exec_show(c, "setdb-select", "SELECT 2");
	PQfinish(c);

	c = PQconnectStart(conninfo);
	do {
		st = PQconnectPoll(c);
		if (st == PGRES_POLLING_READING || st == PGRES_POLLING_WRITING)
			usleep(1000);
	} while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED);
	printf("start: %s\n", st == PGRES_POLLING_OK ? "ok" : "bad");
	exec_show(c, "start-select", "SELECT 3");

	/* A query pending when the connection is reset, then finished. */
	printf("pending-reset: %d\n", PQsendQuery(c, "SELECT pg_sleep(0.02)"));
	PQreset(c);
	printf("reset: %s\n", PQstatus(c) == CONNECTION_OK ? "ok" : "bad");
	exec_show(c, "after-reset", "SELECT 4");
	printf("pending-finish: %d\n", PQsendQuery(c, "SELECT 5"));
	PQfinish(c);

	/* The server drops the connection. */
	c = PQconnectdb(conninfo);
	exec_show(c, "terminate", "SELECT pg_terminate_backend(pg_backend_pid())");
	exec_show(c, "dead", "SELECT 6");
	PQfinish(c);
}

int main(int argc, char **argv)
{
	PGconn *c;

	if (argc < 4) {
		fprintf(stderr, "usage: %s CONNINFO HOST PORT\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(c));
		return 1;
	}
	exec_show(c, "quiet", "SET client_min_messages = warning");
	sync_paths(c);
	async_paths(c);
	pipeline_paths(c);
	copy_paths(c);
	fastpath(c);
	odd_inputs(c);
	PQfinish(c);
	connect_paths(argv[1], argv[2], argv[3]);
	printf("done\n");
	/* Skip library destructors: under AddressSanitizer, libp11-kit's (pulled
	 * in by libpq's TLS stack) deadlocks in freelocale at exit. */
	fflush(stdout);
	_exit(0);
}
