// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pq_faults.c - host programs that make life hard for the shim:
 *   fork CONNINFO        query, fork, query in the child, exec self as "child"
 *   child CONNINFO       one query (the exec'd child)
 *   closefds CONNINFO    close every fd >= 3 first (as daemons do), then query
 *   loop CONNINFO N MS   N queries MS milliseconds apart
 *   threads CONNINFO N M N threads, each its own connection and M queries
 *   slowdrain CONNINFO MS an asynchronous query of 10 ms whose caller waits
 *                        MS milliseconds between its result and the NULL
 * Each prints what it saw; exit 0 when every query succeeded.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *conninfo;
static int per_thread;

static int query(const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;

	printf("%s: %s\n", sql, ok ? PQgetvalue(r, 0, 0) : PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : 1;
}

static void *thread_main(void *arg)
{
	PGconn *c = PQconnectdb(conninfo);
	long fails = 0;
	int i;

	(void)arg;
	for (i = 0; i < per_thread; i++) {
		PGresult *r = PQexecParams(c, "SELECT $1::int + 1", 0, NULL, NULL, NULL, NULL, 0);

		fails += PQresultStatus(r) != PGRES_FATAL_ERROR; /* no parameter given: error */
		PQclear(r);
		r = PQexec(c, "SELECT 1");
		fails += PQresultStatus(r) != PGRES_TUPLES_OK;
		PQclear(r);
	}
	PQfinish(c);
	return (void *)fails;
}

int main(int argc, char **argv)
{
	int status, rc = 0, i, n;

	if (argc < 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	conninfo = argv[2];
	if (!strcmp(argv[1], "fork")) {
		pid_t pid;

		rc |= query("SELECT 1");
		pid = fork();
		if (pid == 0) {
			rc |= query("SELECT 2");
			execl("/proc/self/exe", argv[0], "child", conninfo, (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		rc |= !WIFEXITED(status) || WEXITSTATUS(status);
		rc |= query("SELECT 4");
	} else if (!strcmp(argv[1], "child")) {
		rc = query("SELECT 3");
	} else if (!strcmp(argv[1], "closefds")) {
		for (i = 3; i < 4096; i++)
			close(i);
		rc = query("SELECT 5");
	} else if (!strcmp(argv[1], "loop") && argc >= 5) {
		n = atoi(argv[3]);
		for (i = 0; i < n; i++) {
			rc |= query("SELECT 6");
			usleep((useconds_t)atoi(argv[4]) * 1000);
		}
	} else if (!strcmp(argv[1], "slowdrain") && argc >= 4) {
		PGconn *c = PQconnectdb(conninfo);
		PGresult *r;

		rc = !PQsendQuery(c, "SELECT pg_sleep(0.01), 7");
		r = PQgetResult(c);
		rc |= PQresultStatus(r) != PGRES_TUPLES_OK;
		printf("slowdrain: %s\n", rc ? PQerrorMessage(c) : PQgetvalue(r, 0, 1));
		PQclear(r);
		usleep((useconds_t)atoi(argv[3]) * 1000); /* the caller's own work */
		rc |= PQgetResult(c) != NULL;
		PQfinish(c);
	} else if (!strcmp(argv[1], "threads") && argc >= 5) {
		pthread_t t[64];
		void *fails;

		n = atoi(argv[3]);
		per_thread = atoi(argv[4]);
		for (i = 0; i < n && i < 64; i++)
			pthread_create(&t[i], NULL, thread_main, NULL);
		for (i = 0; i < n && i < 64; i++) {
			pthread_join(t[i], &fails);
			rc |= fails != NULL;
		}
		printf("threads: %s\n", rc ? "failed" : "ok");
	} else {
		return 2;
	}
	return rc;
}
