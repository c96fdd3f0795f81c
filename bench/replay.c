// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - feeds synthetic ring-buffer records (include/redtap/event.h)
 * straight into the daemon's pipeline (user/core/pipeline.h: the same code
 * the agent runs, from the connection table to the metric registry) to
 * measure what the daemon can process without the kernel in the way.
 *
 *   replay [-n REQUESTS] [-c CONNS] [-k PER_CONN] [-p PASSES]
 *       Builds REQUESTS keep-alive HTTP/1.1 exchanges (nginx-like request
 *       and response records) over CONNS concurrent connections, each
 *       closed and reopened every PER_CONN requests, in memory; then
 *       dispatches them PASSES times and prints
 *       "events=<n> cpu_s=<s> events_per_core_s=<n> exchanges=<n>".
 *   replay --series N
 *       Dispatches N exchanges with N distinct routes (generated one at a
 *       time, so the input takes no memory) and prints the process's RSS
 *       before and after: "series=<n> rss_before_kib=<n> rss_after_kib=<n>".
 *
 * Exits 1 when the modules did not produce the exchanges or series the
 * input implies: a number measured on work that was not done is worthless.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "pipeline.h"
#include "procs.h"
#include "redtap/event.h"
#include "route.h"

#define RECORD_ALIGN 8 /* records sit 8-byte aligned, as in a BPF ring buffer */
#define TEXT_MAX     512
#define FD_BASE	     100

/* The daemon's pipeline and what it borrows, without tracing. */
struct bench {
	struct metric_registry *reg;
	struct route_table *routes;
	struct procs *procs;
	struct pipeline *pipe;
};

/* Records laid end to end. */
struct arena {
	uint8_t *buf;
	size_t len, cap;
};

/* Generator state: the clock and the generations of the fds in use. */
struct gen {
	uint32_t tgid;
	uint64_t ts;
	uint64_t next_gen;
};

static const char *const routes_pool[] = {
    "/api/users/%u",	"/api/users/%u/orders", "/api/orders/%u/items", "/api/cart",
    "/api/products/%u", "/api/search?q=%u",	"/static/app.js",	"/healthz",
    "/api/accounts/%u", "/api/login",
};

static const char request_fmt[] = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				  "User-Agent: wrk/4.1\r\nAccept: */*\r\n\r\n";
static const char response_fmt[] = "HTTP/1.1 %d %s\r\nServer: nginx/1.22.1\r\n"
				   "Date: Tue, 25 Nov 2025 10:00:00 GMT\r\n"
				   "Content-Type: text/plain\r\nContent-Length: 3\r\n"
				   "Connection: keep-alive\r\n\r\nok\n";

/* --- the pipeline --- */

static int bench_init(struct bench *b, size_t max_series)
{
	struct procs_selectors none = {0};
	struct pipeline_opts o = {.max_series = max_series, .max_conns = 65536};

	memset(b, 0, sizeof(*b));
	b->reg = metric_registry_new();
	b->routes = route_table_new();
	b->procs = procs_new(&none, 0);
	if (!b->reg || !b->routes || !b->procs)
		return -ENOMEM;
	o.reg = b->reg;
	o.routes = b->routes;
	o.procs = b->procs;
	b->pipe = pipeline_new(&o);
	return b->pipe ? 0 : -ENOMEM;
}

static void bench_release(struct bench *b)
{
	pipeline_free(b->pipe);
	procs_free(b->procs);
	route_table_free(b->routes);
	metric_registry_free(b->reg);
}

static uint64_t records_accepted(const struct pipeline_stats *st)
{
	uint64_t n = 0;

	for (unsigned t = 0; t < RT_EV_TYPE_MAX; t++)
		n += st->events[t];
	return n;
}

/* --- record generation --- */

static void *arena_reserve(struct arena *a, size_t len)
{
	size_t need = (len + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
	void *rec;

	if (a->len + need > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1 << 20;
		uint8_t *nb;

		while (cap < a->len + need)
			cap *= 2;
		nb = realloc(a->buf, cap);
		if (!nb)
			return NULL;
		a->buf = nb;
		a->cap = cap;
	}
	rec = a->buf + a->len;
	memset(rec, 0, need);
	a->len += need;
	return rec;
}

static void fill_hdr(struct rt_event_hdr *h, struct gen *g, uint16_t type, uint32_t len)
{
	g->ts += 1000;
	h->ts = g->ts;
	h->pid_tgid = (uint64_t)g->tgid << 32 | g->tgid;
	h->len = len;
	h->type = type;
	h->version = RT_EVENT_VERSION;
}

static int put_open(struct arena *a, struct gen *g, const struct rt_conn_id *id)
{
	struct rt_conn_event *ev = arena_reserve(a, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	fill_hdr(&ev->hdr, g, RT_EV_CONN_OPEN, sizeof(*ev));
	ev->conn = *id;
	ev->family = 2; /* AF_INET */
	ev->role = RT_ROLE_SERVER;
	ev->local.addr[10] = ev->local.addr[11] = 0xff;
	ev->local.addr[12] = 127;
	ev->local.addr[15] = 1;
	ev->local.port = 8080;
	memcpy(ev->remote.addr, ev->local.addr, sizeof(ev->remote.addr));
	ev->remote.port = (uint16_t)(40000 + id->fd);
	return 0;
}

static int put_close(struct arena *a, struct gen *g, const struct rt_conn_id *id)
{
	struct {
		struct rt_event_hdr hdr;
		struct rt_conn_id conn;
	} *ev = arena_reserve(a, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	fill_hdr(&ev->hdr, g, RT_EV_CONN_CLOSE, sizeof(*ev));
	ev->conn = *id;
	return 0;
}

static int put_data(struct arena *a, struct gen *g, const struct rt_conn_id *id, uint8_t dir,
		    const char *text, size_t len)
{
	size_t cap = len < RT_CAPTURE_DEFAULT ? len : RT_CAPTURE_DEFAULT;
	struct rt_data_event *ev = arena_reserve(a, sizeof(*ev) + cap);

	if (!ev)
		return -ENOMEM;
	fill_hdr(&ev->hdr, g, RT_EV_DATA, (uint32_t)(sizeof(*ev) + cap));
	ev->conn = *id;
	ev->len = len;
	ev->cap_len = (uint32_t)cap;
	ev->dir = dir;
	memcpy(ev->data, text, cap);
	return 0;
}

/* One request and its response on connection id; some answers are errors
 * (404, 500) unless all_ok. */
static int put_exchange(struct arena *a, struct gen *g, const struct rt_conn_id *id,
			const char *path, bool all_ok)
{
	char text[TEXT_MAX];
	int n, status = 200;
	const char *reason = "OK";

	n = snprintf(text, sizeof(text), request_fmt, path);
	if (put_data(a, g, id, RT_DIR_INGRESS, text, (size_t)n))
		return -ENOMEM;
	if (all_ok) {
		/* 200 OK: every route keeps its own series */
	} else if (g->ts % 97000 == 0) {
		status = 500;
		reason = "Internal Server Error";
	} else if (g->ts % 31000 == 0) {
		status = 404;
		reason = "Not Found";
	}
	n = snprintf(text, sizeof(text), response_fmt, status, reason);
	return put_data(a, g, id, RT_DIR_EGRESS, text, (size_t)n);
}

/* The throughput workload: nconns connections in round robin, each
 * reopened (fd reuse, next generation) every per_conn requests. */
static int build_workload(struct arena *a, struct gen *g, long requests, unsigned nconns,
			  long per_conn)
{
	struct rt_conn_id *ids = calloc(nconns, sizeof(*ids));
	long *served = calloc(nconns, sizeof(*served));
	char path[64];
	int rc = -ENOMEM;

	if (!ids || !served)
		goto out_free;
	for (unsigned c = 0; c < nconns; c++) {
		ids[c] =
		    (struct rt_conn_id){.gen = ++g->next_gen, .tgid = g->tgid, .fd = FD_BASE + c};
		if (put_open(a, g, &ids[c]))
			goto out_free;
	}
	for (long i = 0; i < requests; i++) {
		unsigned c = (unsigned)(i % nconns);

		snprintf(path, sizeof(path),
			 routes_pool[i % (long)(sizeof(routes_pool) / sizeof(routes_pool[0]))],
			 (unsigned)(1000 + i % 5000));
		if (put_exchange(a, g, &ids[c], path, false))
			goto out_free;
		if (++served[c] == per_conn) {
			served[c] = 0;
			if (put_close(a, g, &ids[c]))
				goto out_free;
			ids[c].gen = ++g->next_gen;
			if (put_open(a, g, &ids[c]))
				goto out_free;
		}
	}
	for (unsigned c = 0; c < nconns; c++)
		if (put_close(a, g, &ids[c]))
			goto out_free;
	rc = 0;
out_free:
	free(served);
	free(ids);
	return rc;
}

/* Records the agent drains at a time: a wake-up's 32 KiB of ~150-byte
 * records (capture.bpf.h), each drain ended by pipeline_flush() as the
 * event loop does. */
#define DRAIN_RECORDS 200

static void dispatch_arena(struct bench *b, const struct arena *a)
{
	size_t off = 0, n = 0;

	while (off + sizeof(struct rt_event_hdr) <= a->len) {
		const struct rt_event_hdr *h = (const void *)(a->buf + off);

		pipeline_record(b->pipe, h, h->len);
		off += (h->len + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
		if (++n % DRAIN_RECORDS == 0)
			pipeline_flush(b->pipe);
	}
	pipeline_flush(b->pipe);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_throughput(long requests, unsigned nconns, long per_conn, int passes)
{
	struct gen g = {.tgid = (uint32_t)getpid()};
	struct pipeline_stats st;
	struct arena a = {0};
	struct bench b;
	uint64_t want, warm, events;
	double t0, cpu;
	int rc = 1;

	if (bench_init(&b, 2000) || build_workload(&a, &g, requests, nconns, per_conn)) {
		fprintf(stderr, "replay: out of memory\n");
		goto out_release;
	}
	dispatch_arena(&b, &a); /* warm-up: series, service names, allocator */
	pipeline_stats(b.pipe, &st);
	warm = records_accepted(&st);
	t0 = cpu_seconds();
	for (int i = 0; i < passes; i++)
		dispatch_arena(&b, &a);
	cpu = cpu_seconds() - t0;
	pipeline_stats(b.pipe, &st);
	events = records_accepted(&st) - warm;
	want = (uint64_t)requests * (uint64_t)(passes + 1);
	if (st.exchanges != want || st.bad_records || st.conn_full || cpu <= 0) {
		fprintf(stderr,
			"replay: %llu exchanges for %llu requests, %llu records rejected, "
			"%llu without a connection\n",
			(unsigned long long)st.exchanges, (unsigned long long)want,
			(unsigned long long)st.bad_records, (unsigned long long)st.conn_full);
		goto out_release;
	}
	printf("events=%llu cpu_s=%.3f events_per_core_s=%.0f exchanges=%llu series=%zu\n",
	       (unsigned long long)events, cpu, (double)events / cpu, (unsigned long long)want,
	       metric_registry_series_count(b.reg));
	rc = 0;
out_release:
	free(a.buf);
	bench_release(&b);
	return rc;
}

/* VmRSS of this process in KiB, 0 if unknown. */
static long rss_kib(void)
{
	char line[256];
	long kib = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* A route word for i that route normalisation keeps: letters g..z only. */
static void route_word(long i, char *out)
{
	for (int k = 0; k < 6; k++) {
		out[k] = (char)('g' + i % 20);
		i /= 20;
	}
	out[6] = '\0';
}

static int run_series(long nseries)
{
	struct gen g = {.tgid = (uint32_t)getpid()};
	struct rt_conn_id id = {.gen = 1, .tgid = g.tgid, .fd = FD_BASE};
	struct arena a = {0};
	struct bench b;
	char path[32] = "/api/", *word = path + 5;
	long before, after;
	size_t series;
	int rc = 1;

	if (bench_init(&b, (size_t)nseries + 16))
		goto out_release;
	before = rss_kib();
	for (long i = 0; i < nseries; i++) {
		a.len = 0; /* one exchange at a time: the input takes no memory */
		route_word(i, word);
		if ((i == 0 && put_open(&a, &g, &id)) || put_exchange(&a, &g, &id, path, true))
			goto out_release;
		dispatch_arena(&b, &a);
	}
	after = rss_kib();
	series = metric_registry_series_count(b.reg);
	/* one server series per route, plus the in-flight gauge's one */
	if (series < (size_t)nseries) {
		fprintf(stderr, "replay: %zu series for %ld routes\n", series, nseries);
		goto out_release;
	}
	printf("series=%zu rss_before_kib=%ld rss_after_kib=%ld\n", series, before, after);
	rc = 0;
out_release:
	free(a.buf);
	bench_release(&b);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: replay [-n REQUESTS] [-c CONNS] [-k PER_CONN] [-p PASSES]\n"
			"       replay --series N\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"series", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	long requests = 200000, per_conn = 1000, series = 0;
	unsigned nconns = 64;
	int passes = 5, c;

	while ((c = getopt_long(argc, argv, "n:c:k:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			requests = atol(optarg);
			break;
		case 'c':
			nconns = (unsigned)atoi(optarg);
			break;
		case 'k':
			per_conn = atol(optarg);
			break;
		case 'p':
			passes = atoi(optarg);
			break;
		case 's':
			series = atol(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || requests <= 0 || nconns == 0 || nconns > 60000 || per_conn <= 0 ||
	    passes <= 0 || series < 0) {
		usage();
		return 2;
	}
	if (series)
		return run_series(series);
	return run_throughput(requests, nconns, per_conn, passes);
}
