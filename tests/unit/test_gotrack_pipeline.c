// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gotrack_pipeline.c - a Go process's records from gotrack_deliver()
 * (user/intake/gotrack.c) into the pipeline (user/core/pipeline.c), as
 * capture.c wires them: the record itself with the goroutine's executor id
 * beside it (pipeline_record_as()). The tracer's serving table and the log
 * correlation must key the goroutine's work by that executor, never by the
 * thread id the record carries: a request read on one thread and a log line
 * the same goroutine writes on another share a trace, while another
 * goroutine on the request's thread gets none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gotrack.h"
#include "logs.h"
#include "metrics.h"
#include "pipeline.h"
#include "procs.h"
#include "records.h"
#include "redtap/event.h"
#include "tracer.h"

#define TGID 4242u
#define FD   5u

struct fx {
	struct metric_registry *reg;
	struct procs *procs;
	struct tracer *tracer;
	struct logs *logs;
	struct pipeline *pipe;
	struct gotrack *go;
	unsigned nlogs;
	struct log_record last; /* the last log record's fixed part */
	uint8_t buf[512];
};

static void on_log(void *ctx, const struct log_record *r)
{
	struct fx *f = ctx;

	f->nlogs++;
	memcpy(&f->last, r, sizeof(f->last));
}

static int setup(void **state)
{
	struct procs_selectors none = {0};
	struct tracer_opts to = {.sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true}};
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->reg = metric_registry_new();
	f->procs = procs_new(&none, 0);
	f->tracer = tracer_new(&to, NULL, NULL);
	assert_non_null(f->reg);
	assert_non_null(f->procs);
	assert_non_null(f->tracer);
	struct logs_opts lo = {.procs = f->procs, .tracer = f->tracer, .emit = on_log, .ctx = f};

	f->logs = logs_new(&lo, err, sizeof(err));
	assert_non_null(f->logs);
	struct pipeline_opts po = {
	    .reg = f->reg,
	    .procs = f->procs,
	    .tracer = f->tracer,
	    .logs = f->logs,
	    .max_series = 100,
	    .max_conns = 16,
	};

	f->pipe = pipeline_new(&po);
	f->go = gotrack_new();
	assert_non_null(f->pipe);
	assert_non_null(f->go);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gotrack_free(f->go);
	pipeline_stopping(f->pipe); /* the open requests are not reported */
	pipeline_free(f->pipe);
	logs_free(f->logs);
	tracer_free(f->tracer);
	procs_free(f->procs);
	metric_registry_free(f->reg);
	free(f);
	return 0;
}

/* A data (fd FD) or log (fd 1) record of thread tid, written by goroutine
 * goid (0: none), through gotrack into the pipeline. */
static void deliver(struct fx *f, uint16_t type, uint8_t dir, uint32_t tid, uint64_t goid,
		    const char *s)
{
	struct rt_data_event *ev = (struct rt_data_event *)f->buf;
	size_t n = strlen(s), len = sizeof(*ev) + n + (goid ? sizeof(goid) : 0);

	assert_true(len <= sizeof(f->buf));
	memset(f->buf, 0, len);
	rec_hdr(&ev->hdr, type, (uint32_t)len, 1000, TGID, tid);
	ev->conn = (struct rt_conn_id){.gen = 1, .tgid = TGID, .fd = type == RT_EV_LOG ? 1 : FD};
	ev->len = n;
	ev->cap_len = (uint32_t)n;
	ev->dir = dir;
	memcpy(ev->data, s, n);
	if (goid)
		memcpy(ev->data + n, &goid, sizeof(goid));
	assert_int_equal(gotrack_deliver(f->go, f->buf, len, pipeline_record_as, f->pipe), 0);
	/* handed on as it was: the thread id went beside it */
	assert_int_equal((uint32_t)ev->hdr.pid_tgid, tid);
}

static void test_goroutine_not_thread(void **state)
{
	struct fx *f = *state;
	struct rt_conn_event open;
	uint8_t trace[16], span[8], want[16];
	uint32_t exec;
	bool sampled;

	memset(&open, 0, sizeof(open));
	rec_hdr(&open.hdr, RT_EV_CONN_OPEN, sizeof(open), 900, TGID, TGID);
	open.conn = (struct rt_conn_id){.gen = 1, .tgid = TGID, .fd = FD};
	open.family = 2;
	open.role = RT_ROLE_SERVER;
	open.local = rec_ep(127, 0, 0, 1, 8080);
	open.remote = rec_ep(127, 0, 0, 1, 40000);
	assert_int_equal(gotrack_deliver(f->go, &open, sizeof(open), pipeline_record_as, f->pipe),
			 0);

	/* goroutine 99 reads a request on thread 11: its executor serves it */
	deliver(f, RT_EV_DATA, RT_DIR_INGRESS, 11, 99, "GET /pay HTTP/1.1\r\nHost: a\r\n\r\n");
	exec = gotrack_executor(f->go, TGID, 99);
	assert_true(exec >= GOTRACK_EXEC_BASE);
	assert_true(tracer_thread_context(f->tracer, exec, want, span, &sampled));
	assert_false(tracer_thread_context(f->tracer, 11, trace, span, &sampled));

	/* the same goroutine logs on thread 12: the request's trace */
	deliver(f, RT_EV_LOG, RT_DIR_EGRESS, 12, 99, "paying\n");
	assert_int_equal(f->nlogs, 1);
	assert_true(f->last.has_trace);
	assert_memory_equal(f->last.trace_id, want, 16);
	assert_int_equal(f->last.tid, exec);

	/* another goroutine on thread 11, and thread 11 without a goroutine:
	 * none (the thread serves nothing, the executor does) */
	deliver(f, RT_EV_LOG, RT_DIR_EGRESS, 11, 100, "tick\n");
	assert_int_equal(f->nlogs, 2);
	assert_false(f->last.has_trace);
	deliver(f, RT_EV_LOG, RT_DIR_EGRESS, 11, 0, "gc\n");
	assert_int_equal(f->nlogs, 3);
	assert_false(f->last.has_trace);
	assert_int_equal(f->last.tid, 11);
}

/* pipeline_record() is pipeline_record_as() with no executor: the record's
 * own thread serves. */
static void test_no_override(void **state)
{
	struct fx *f = *state;
	struct rt_conn_id id = {.gen = 1, .tgid = TGID, .fd = FD};
	uint8_t trace[16], span[8];
	bool sampled;

	assert_int_equal(rec_open(f->pipe, &id, 900, rec_ep(127, 0, 0, 1, 8080),
				  rec_ep(127, 0, 0, 1, 40001), RT_ROLE_SERVER),
			 0);
	assert_int_equal(
	    rec_data(f->pipe, &id, RT_DIR_INGRESS, 1000, 21, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    0);
	assert_true(tracer_thread_context(f->tracer, 21, trace, span, &sampled));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_goroutine_not_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_override, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
