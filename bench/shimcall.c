// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shimcall.c - microbenchmark of the shim's wrapped-call overhead. It calls
 * a stub libpq (bench/stub_pq.c, linked as libpq.so.5) whose functions
 * return at once, so the time per call is the wrapper's own cost when the
 * shim is preloaded, and the bare call's cost when it is not.
 *
 *   shimcall measure N [SETTLE_S]
 *       N synchronous operations (PQexec + PQclear) and N asynchronous
 *       ones (PQsendQuery + 2 x PQgetResult + PQclear), timed in 5 batches
 *       after SETTLE_S seconds of untimed calls (time for an agent to
 *       acknowledge the shim's hello; the shim looks again every 5 s);
 *       prints one line: "pqexec_ns=<median> async_ns=<median>
 *       pqexec_from=<object that defines PQexec> pqexec_cpu_ns=<median>
 *       async_cpu_ns=<median>" (the _cpu_ figures: the thread's CPU time).
 *   shimcall ring SHIM N
 *       creates a shared-memory ring (user/intake/shm_ring.h) in a temporary file,
 *       drains it and keeps its heartbeat fresh from a thread, and runs
 *       "shimcall measure N" with SHIM preloaded and the ring as its
 *       transport: the cost of a call whose record is delivered. Adds
 *       "ring_records=<n> ring_dropped=<n>" to the child's line.
 *
 * Exit status 0 on success, 1 on failure (with one line on stderr).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm_ring.h"
#include "stub_pq.h"

#define BATCHES	   5
#define WARMUP	   20000
#define RING_BYTES (64u << 20)

static const char query[] = "SELECT abalance FROM pgbench_accounts WHERE aid = 4242";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void op_sync(PGconn *conn)
{
	PQclear(PQexec(conn, query));
}

static void op_async(PGconn *conn)
{
	PGresult *res;

	if (!PQsendQuery(conn, query))
		return;
	while ((res = PQgetResult(conn)))
		PQclear(res);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The calling thread's CPU time: what a call costs, without the time it
 * waited for a CPU on a busy node. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Median over BATCHES batches of n operations, in ns per operation, of
 * wall time (returned) and of the thread's CPU time (*cpu). */
static double time_op(void (*op)(PGconn *), PGconn *conn, long n, double *cpu)
{
	double per[BATCHES], per_cpu[BATCHES];

	for (long i = 0; i < WARMUP; i++)
		op(conn);
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns(), c0 = cpu_ns();

		for (long i = 0; i < n; i++)
			op(conn);
		per_cpu[b] = (double)(cpu_ns() - c0) / (double)n;
		per[b] = (double)(now_ns() - t0) / (double)n;
	}
	qsort(per, BATCHES, sizeof(per[0]), cmp_double);
	qsort(per_cpu, BATCHES, sizeof(per_cpu[0]), cmp_double);
	*cpu = per_cpu[BATCHES / 2];
	return per[BATCHES / 2];
}

static const char *defining_object(void)
{
	Dl_info info;
	const char *slash;

	if (!dladdr(dlsym(RTLD_DEFAULT, "PQexec"), &info) || !info.dli_fname)
		return "unknown";
	slash = strrchr(info.dli_fname, '/');
	return slash ? slash + 1 : info.dli_fname;
}

static int measure(long n, double settle_s)
{
	PGconn *conn = PQconnectdb("host=127.0.0.1 dbname=bench");
	uint64_t settle_end = now_ns() + (uint64_t)(settle_s * 1e9);
	double sync_ns, async_ns, sync_cpu, async_cpu;

	if (!conn) {
		fprintf(stderr, "shimcall: the stub libpq returned no connection\n");
		return 1;
	}
	while (now_ns() < settle_end) {
		op_sync(conn);
		usleep(1000);
	}
	sync_ns = time_op(op_sync, conn, n, &sync_cpu);
	async_ns = time_op(op_async, conn, n, &async_cpu);
	printf("pqexec_ns=%.1f async_ns=%.1f pqexec_from=%s pqexec_cpu_ns=%.1f async_cpu_ns=%.1f\n",
	       sync_ns, async_ns, defining_object(), sync_cpu, async_cpu);
	fflush(stdout);
	PQfinish(conn);
	return 0;
}

/* --- ring mode: a daemon's end of the shared-memory ring, in a thread --- */

struct drainer {
	struct shm_ring *ring;
	volatile int stop;
	uint64_t records;
};

static void count_record(void *ctx, const void *rec, size_t len)
{
	(void)rec;
	(void)len;
	(*(uint64_t *)ctx)++;
}

static void *drain_loop(void *arg)
{
	struct drainer *d = arg;
	uint64_t last_beat = 0;

	while (!d->stop) {
		uint64_t now = now_ns();

		if (now - last_beat >= 100000000ull) {
			shm_ring_heartbeat(d->ring);
			last_beat = now;
		}
		if (shm_ring_drain(d->ring, count_record, &d->records) == 0)
			usleep(100);
	}
	shm_ring_drain(d->ring, count_record, &d->records);
	return NULL;
}

static int run_child(const char *shim, const char *ring_path, const char *n)
{
	char *args[] = {"shimcall", "measure", (char *)n, NULL};
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv("LD_PRELOAD", shim, 1);
		setenv("REDTAP_SHIM_RING", ring_path, 1);
		setenv("REDTAP_SHIM_TRANSPORT", "ring", 1);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

static int ring_host(const char *shim, const char *n)
{
	char path[] = "/dev/shm/redtap-bench-ring-XXXXXX";
	struct drainer d = {0};
	pthread_t thr;
	int fd, rc;

	/* A unique name: mkstemp reserves it, the ring replaces the file. */
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "shimcall: cannot make a ring path: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	unlink(path);
	d.ring = shm_ring_create(path, RING_BYTES);
	if (!d.ring) {
		fprintf(stderr, "shimcall: cannot create the ring %s: %s\n", path, strerror(errno));
		return 1;
	}
	shm_ring_heartbeat(d.ring);
	rc = pthread_create(&thr, NULL, drain_loop, &d);
	if (rc) {
		fprintf(stderr, "shimcall: cannot start the drain thread: %s\n", strerror(rc));
		goto out_destroy;
	}
	rc = run_child(shim, path, n);
	d.stop = 1;
	pthread_join(thr, NULL);
	if (rc) {
		fprintf(stderr, "shimcall: the measuring child failed\n");
		goto out_destroy;
	}
	printf("ring_records=%llu ring_dropped=%llu\n", (unsigned long long)d.records,
	       (unsigned long long)shm_ring_dropped(d.ring));
out_destroy:
	shm_ring_destroy(d.ring);
	return rc ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: shimcall measure N [SETTLE_S] | shimcall ring SHIM N\n");
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "measure") == 0 && atol(argv[2]) > 0)
		return measure(atol(argv[2]), argc == 4 ? atof(argv[3]) : 0);
	if (argc == 4 && strcmp(argv[1], "ring") == 0 && atol(argv[3]) > 0)
		return ring_host(argv[2], argv[3]);
	usage();
	return 2;
}
