// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_selfmetrics.c - unit tests for the redtap_* self-metrics
 * (user/signals/selfmetrics.c): running totals become counters without
 * double counting, and the threading model holds - one writer (the event
 * loop: records into the pipeline, self-metrics in its sweep) while
 * several threads scrape the registry (as libmicrohttpd does) and another
 * encodes OTLP metrics from it (as the exporter's thread does). Run under
 * SANITIZER=thread (scripts/run-tests.sh, suite unit-tsan) the threaded
 * test must be race-free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "otlp_encode.h"
#include "pipeline.h"
#include "prom.h"
#include "promtext.h"
#include "records.h"
#include "selfmetrics.h"

#define MS	 1000000ull
#define TGID	 777
#define ROUNDS	 400 /* exchanges the writer makes */
#define SCRAPERS 3

/* line (ending in a newline) is one of text's lines, whole. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n))
			return true;
	return false;
}

static char *render(struct metric_registry *r)
{
	return promtext(r, PROM_FMT_TEXT);
}

/* A registry with the self-metrics declared on it, for each test. */
struct fixture {
	struct metric_registry *r;
	struct selfmetrics *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	f->r = metric_registry_new();
	f->s = f->r ? selfmetrics_new(f->r) : NULL;
	return f->s ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	selfmetrics_free(f->s);
	metric_registry_free(f->r);
	free(f);
	return 0;
}

static void test_running_totals(void **state)
{
	struct fixture *f = *state;
	struct metric_registry *r = f->r;
	struct selfmetrics *s = f->s;
	struct self_snapshot snap = {0};
	char *text;

	snap.events[RT_EV_DATA] = 3;
	snap.conn_table_full = 2;
	snap.parse_errors[0] = (struct parse_error_count){"http", "bad_header", 4};
	snap.nparse_errors = 1;
	snap.shim_rejected[SELF_SHIM_UNVERIFIED] = 6;
	snap.shim_rejected[SELF_SHIM_DROPS_CAPPED] = 1;
	snap.sql_skipped = 7;
	snap.budget_spans = 11;
	snap.http_unseen = 8;
	snap.conn_own = 9;
	selfmetrics_update(s, &snap);
	snap.events[RT_EV_DATA] = 5;
	selfmetrics_update(s, &snap);
	snap.events[RT_EV_DATA] = 4; /* a total never goes back */
	selfmetrics_update(s, &snap);
	text = render(r);
	assert_true(has_line(text, "redtap_events_received_total{type=\"data\"} 5\n"));
	assert_true(has_line(text, "redtap_connections_untracked_total 2\n"));
	assert_true(has_line(
	    text, "redtap_parse_errors_total{protocol=\"http\",reason=\"bad_header\"} 4\n"));
	assert_true(has_line(text, "redtap_shim_rejected_total{reason=\"hello_unverified\"} 6\n"));
	assert_true(has_line(text, "redtap_shim_rejected_total{reason=\"ack_table_full\"} 0\n"));
	assert_true(
	    has_line(text, "redtap_shim_rejected_total{reason=\"drop_report_capped\"} 1\n"));
	assert_true(has_line(text, "redtap_sql_summaries_skipped_total 7\n"));
	assert_true(has_line(text, "redtap_traces_budget_dropped_total 11\n"));
	assert_true(has_line(text, "redtap_http_requests_unseen_total 8\n"));
	assert_true(has_line(text, "redtap_connections_own_total 9\n"));
	free(text);
}

/* The agent's own cost: CPU seconds by mode and resident memory when read,
 * and a pair of counters per BPF program, made when it is first seen
 * having run, in seconds and runs, never going back. */
static void test_own_cost(void **state)
{
	struct fixture *f = *state;
	struct metric_registry *r = f->r;
	struct selfmetrics *s = f->s;
	struct self_snapshot snap = {0};
	char *text;

	snap.cpu_ns[0] = 5000000000ull; /* not read: left out */
	selfmetrics_update(s, &snap);
	text = render(r);
	assert_true(has_line(text, "redtap_process_cpu_time_seconds_total{cpu_mode=\"user\"} 0\n"));
	assert_true(has_line(text, "redtap_process_memory_usage_bytes 0\n"));
	assert_null(strstr(text, "redtap_bpf_program_runs_total{"));
	free(text);

	snap.own_read = true;
	snap.cpu_ns[0] = 1500000000ull;
	snap.cpu_ns[1] = 250000000ull;
	snap.rss_bytes = 12345678;
	snap.progs[0] = (struct self_prog){"exit_read", 3000000000ull, 1000};
	snap.nprogs = 1;
	selfmetrics_update(s, &snap);
	snap.cpu_ns[0] = 2000000000ull;
	snap.rss_bytes = 1000;
	snap.progs[0].run_ns = 4500000000ull;
	snap.progs[0].runs = 1500;
	snap.progs[1] = (struct self_prog){"exit_writev", 250000000ull, 7};
	snap.nprogs = 2;
	selfmetrics_update(s, &snap);
	snap.progs[0] = snap.progs[1]; /* another order; exit_read not listed */
	snap.progs[0].runs = 5;	       /* a total never goes back */
	snap.nprogs = 1;
	selfmetrics_update(s, &snap);
	text = render(r);
	assert_true(has_line(text, "redtap_process_cpu_time_seconds_total{cpu_mode=\"user\"} 2\n"));
	assert_true(
	    has_line(text, "redtap_process_cpu_time_seconds_total{cpu_mode=\"system\"} 0.25\n"));
	assert_true(has_line(text, "redtap_process_memory_usage_bytes 1000\n"));
	assert_true(has_line(
	    text, "redtap_bpf_program_run_time_seconds_total{program=\"exit_read\"} 4.5\n"));
	assert_true(has_line(text, "redtap_bpf_program_runs_total{program=\"exit_read\"} 1500\n"));
	assert_true(has_line(
	    text, "redtap_bpf_program_run_time_seconds_total{program=\"exit_writev\"} 0.25\n"));
	assert_true(has_line(text, "redtap_bpf_program_runs_total{program=\"exit_writev\"} 7\n"));
	free(text);
}

/* --- the threads --- */

struct world {
	struct rec_world rw;
	struct selfmetrics *self;
	int done;			/* the writer finished; atomic */
	unsigned long scrapes, exports; /* atomic */
};

/* The event loop: records in, self-metrics refreshed every few rounds. */
static void *writer(void *arg)
{
	struct world *w = arg;
	struct rt_conn_id id = {.gen = 1, .tgid = TGID, .fd = 9};
	struct self_snapshot snap;
	uint64_t t = MS;

	rec_open(w->rw.pipe, &id, t, rec_ep(10, 0, 0, 1, 80), rec_ep(10, 0, 0, 2, 5000),
		 RT_ROLE_SERVER);
	for (int i = 0; i < ROUNDS; i++) {
		char req[64];

		snprintf(req, sizeof(req), "GET /r/%d HTTP/1.1\r\n\r\n", i % 7);
		rec_data(w->rw.pipe, &id, RT_DIR_INGRESS, t += MS, TGID, req);
		rec_data(w->rw.pipe, &id, RT_DIR_EGRESS, t += MS, TGID,
			 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		if (i % 10 == 9) {
			pipeline_sweep(w->rw.pipe, t);
			pipeline_self_snapshot(w->rw.pipe, &snap);
			selfmetrics_update(w->self, &snap);
		}
	}
	pipeline_self_snapshot(w->rw.pipe, &snap);
	selfmetrics_update(w->self, &snap);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* /metrics on the HTTP server's threads. */
static void *scraper(void *arg)
{
	struct world *w = arg;

	do {
		char *text = render(w->rw.reg);

		assert_non_null(strstr(text, "redtap_build_info"));
		free(text);
		__atomic_add_fetch(&w->scrapes, 1, __ATOMIC_RELAXED);
	} while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE));
	return NULL;
}

/* The OTLP metrics thread: a snapshot of the registry, encoded. */
static void *exporter(void *arg)
{
	struct world *w = arg;
	struct otlp_resource_ctx r;

	assert_int_equal(otlp_resource_ctx_init(&r, NULL), 0);
	do {
		struct metric_snapshot *snap = metric_registry_snapshot(w->rw.reg);
		uint8_t *body = NULL;
		size_t len = 0;

		assert_non_null(snap);
		assert_int_equal(otlp_encode_metrics(&r, snap, 1, 2, &body, &len), 0);
		assert_true(len > 0);
		free(body);
		metric_snapshot_free(snap);
		__atomic_add_fetch(&w->exports, 1, __ATOMIC_RELAXED);
	} while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE));
	otlp_resource_ctx_release(&r);
	return NULL;
}

static void test_one_writer_many_readers(void **state)
{
	struct pipeline_opts o = {.max_series = 100, .max_conns = 16};
	struct world w = {0};
	pthread_t wt, et, st[SCRAPERS];
	char *text, line[128];

	(void)state;
	assert_int_equal(rec_world_open(&w.rw, o), 0);
	w.self = selfmetrics_new(w.rw.reg);
	assert_non_null(w.self);

	for (int i = 0; i < SCRAPERS; i++)
		assert_int_equal(pthread_create(&st[i], NULL, scraper, &w), 0);
	assert_int_equal(pthread_create(&et, NULL, exporter, &w), 0);
	assert_int_equal(pthread_create(&wt, NULL, writer, &w), 0);
	pthread_join(wt, NULL);
	pthread_join(et, NULL);
	for (int i = 0; i < SCRAPERS; i++)
		pthread_join(st[i], NULL);
	assert_true(w.scrapes >= SCRAPERS);
	assert_true(w.exports >= 1);

	/* what the readers saw last is exact */
	text = render(w.rw.reg);
	snprintf(line, sizeof(line), "redtap_events_received_total{type=\"data\"} %d\n",
		 2 * ROUNDS);
	assert_true(has_line(text, line));
	assert_true(has_line(text, "redtap_events_received_total{type=\"conn_open\"} 1\n"));
	assert_true(has_line(
	    text, "redtap_parse_errors_total{protocol=\"http\",reason=\"bad_request_line\"} 0\n"));
	free(text);

	rec_world_close(&w.rw);
	selfmetrics_free(w.self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_running_totals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_cost, setup, teardown),
	    cmocka_unit_test(test_one_writer_many_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
