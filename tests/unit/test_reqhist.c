// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_reqhist.c - CMocka tests of the per-thread request history
 * (user/signals/reqhist.c) and of DB spans parented by time through the
 * daemon's pipeline: a thread serves request A, runs a query, serves request
 * B, and the shim's batch holding the query arrives during B (sent by the
 * thread itself, or by another thread: RT_SHIM_MSG_F_FOREIGN); the query's
 * span must be A's child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "records.h"
#include "redtap/shim.h"
#include "reqhist.h"
#include "tracer.h"

#define MS 1000000ull

static struct reqhist_req req(uint64_t start, uint8_t id)
{
	struct reqhist_req r = {.start_ns = start, .sampled = true};

	memset(r.trace_id, id, 16);
	memset(r.span_id, id, 8);
	return r;
}

/* The span id's first byte of what find() returns for tid at ts, 0 for none. */
static int found(const struct reqhist *h, uint32_t tgid, uint32_t tid, uint64_t ts)
{
	struct reqhist_req r;

	if (!reqhist_find(h, tgid, tid, ts, &r))
		return 0;
	return r.span_id[0];
}

static void start(struct reqhist *h, uint32_t tgid, uint32_t tid, uint64_t at, uint8_t id)
{
	struct reqhist_req r = req(at, id);

	reqhist_start(h, tgid, tid, &r);
}

static void end(struct reqhist *h, uint32_t tid, uint8_t id, uint64_t at)
{
	uint8_t span[8];

	memset(span, id, 8);
	reqhist_end(h, tid, span, at);
}

static void test_by_time(void **state)
{
	struct reqhist *h = reqhist_new();

	(void)state;
	assert_non_null(h);
	assert_int_equal(found(h, 1, 7, 100), 0);
	start(h, 1, 7, 100, 0xa);
	assert_int_equal(found(h, 1, 7, 99), 0);    /* before it */
	assert_int_equal(found(h, 1, 7, 100), 0xa); /* open */
	end(h, 7, 0xa, 200);
	start(h, 1, 7, 300, 0xb);
	assert_int_equal(found(h, 1, 7, 150), 0xa); /* inside A, asked during B */
	assert_int_equal(found(h, 1, 7, 200), 0xa); /* A's end is inclusive */
	assert_int_equal(found(h, 1, 7, 250), 0);   /* between A and B */
	assert_int_equal(found(h, 1, 7, 300), 0xb);
	assert_int_equal(found(h, 1, 7, 300 + REQHIST_OPEN_NS), 0xb);
	assert_int_equal(found(h, 1, 7, 301 + REQHIST_OPEN_NS), 0); /* open too long */
	end(h, 7, 0xb, 400);
	assert_int_equal(found(h, 1, 7, 401), 0);
	/* another process's thread of the same tid, or another tid: nothing */
	assert_int_equal(found(h, 2, 7, 150), 0);
	assert_int_equal(found(h, 1, 8, 150), 0);
	/* an unknown end changes nothing; ending twice keeps the first end */
	end(h, 7, 0xc, 1000);
	end(h, 9, 0xa, 1000);
	end(h, 7, 0xa, 1000);
	assert_int_equal(found(h, 1, 7, 500), 0);
	reqhist_free(h);
}

static void test_nested_latest_wins(void **state)
{
	struct reqhist *h = reqhist_new();

	(void)state;
	/* an event loop: B starts while A is open; work after B's start is B's */
	start(h, 1, 7, 100, 0xa);
	start(h, 1, 7, 200, 0xb);
	assert_int_equal(found(h, 1, 7, 150), 0xa);
	assert_int_equal(found(h, 1, 7, 250), 0xb);
	end(h, 7, 0xb, 300);
	assert_int_equal(found(h, 1, 7, 250), 0xb);
	assert_int_equal(found(h, 1, 7, 350), 0xa); /* A still open */
	end(h, 7, 0xa, 400);
	assert_int_equal(found(h, 1, 7, 350), 0xa);
	assert_int_equal(found(h, 1, 7, 450), 0);
	/* two that start at once: the one started last */
	start(h, 1, 7, 500, 0xc);
	start(h, 1, 7, 500, 0xd);
	assert_int_equal(found(h, 1, 7, 500), 0xd);
	end(h, 7, 0xd, 600);
	end(h, 7, 0xc, 600);
	assert_int_equal(found(h, 1, 7, 550), 0xd);
	reqhist_free(h);
}

static void test_depth_and_reuse(void **state)
{
	struct reqhist *h = reqhist_new();

	(void)state;
	for (uint8_t i = 1; i <= REQHIST_DEPTH + 1; i++) {
		start(h, 1, 7, i * 100u, i);
		end(h, 7, i, i * 100u + 50);
	}
	/* the ring forgets the oldest */
	assert_int_equal(found(h, 1, 7, 110), 0);
	for (uint8_t i = 2; i <= REQHIST_DEPTH + 1; i++)
		assert_int_equal(found(h, 1, 7, i * 100u + 10), i);
	/* the tid reused by another process starts afresh */
	start(h, 2, 7, 1000, 0x20);
	assert_int_equal(found(h, 1, 7, 210), 0);
	assert_int_equal(found(h, 2, 7, 210), 0);
	assert_int_equal(found(h, 2, 7, 1000), 0x20);
	reqhist_free(h);
}

/* More threads than the table holds: the least recently started go, and
 * every thread kept still answers exactly. */
static void test_bounded_lru(void **state)
{
	const uint32_t n = REQHIST_SETS * REQHIST_WAYS * 2;
	struct reqhist *h = reqhist_new();
	uint32_t kept = 0;

	(void)state;
	assert_true(reqhist_bytes() < 512 * 1024);
	for (uint32_t tid = 1; tid <= n; tid++)
		start(h, 1, tid, tid, (uint8_t)(tid | 1));
	/* a busy early thread starts a request again: it is recent now */
	start(h, 1, 1, n + 1, 0x55);
	for (uint32_t tid = 1; tid <= n; tid++) {
		int got = found(h, 1, tid, n + 10);

		if (got) {
			kept++;
			assert_int_equal(got, tid == 1 ? 0x55 : (uint8_t)(tid | 1));
		}
	}
	assert_true(kept <= REQHIST_SETS * REQHIST_WAYS);
	assert_true(kept >= REQHIST_SETS * REQHIST_WAYS / 2);
	assert_int_equal(found(h, 1, 1, n + 1), 0x55);
	/* the most recent threads are all kept */
	for (uint32_t tid = n - REQHIST_WAYS + 1; tid <= n; tid++)
		assert_int_not_equal(found(h, 1, tid, n + 10), 0);
	reqhist_free(h);
}

/* --- through the pipeline: late and foreign batches --- */

#define TGID 100
#define TID  7

struct world {
	struct rec_world w;
	struct tracer *t;
	struct span spans[16];
	size_t n;
};

static void on_emit(void *ctx, const struct span *s)
{
	struct world *wd = ctx;

	if (wd->n < 16)
		span_copy(&wd->spans[wd->n], s);
	wd->n++;
}

static int setup(void **state)
{
	struct tracer_opts o = {.sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true}};
	struct pipeline_opts po = {.max_series = 100, .max_conns = 16};
	struct world *wd = calloc(1, sizeof(*wd));

	assert_non_null(wd);
	wd->t = tracer_new(&o, on_emit, wd);
	assert_non_null(wd->t);
	po.tracer = wd->t;
	assert_int_equal(rec_world_open(&wd->w, po), 0);
	*state = wd;
	return 0;
}

static int teardown(void **state)
{
	struct world *wd = *state;

	rec_world_close(&wd->w);
	tracer_free(wd->t);
	free(wd);
	return 0;
}

/* A batch of shim operations (record pid rpid, tid rtid; op i runs at
 * starts[i] for 1 ms) sent by thread sender at ts, flagged foreign or not. */
static void send_batch(struct world *wd, uint32_t rpid, uint32_t rtid, const uint64_t *starts,
		       unsigned n, uint32_t sender, bool foreign, uint64_t ts)
{
	static uint8_t buf[sizeof(struct rt_shim_event) + RT_SHIM_BATCH_MAX];
	struct rt_shim_event *se = (struct rt_shim_event *)buf;
	size_t off = 0;

	memset(buf, 0, sizeof(buf));
	for (unsigned i = 0; i < n; i++) {
		struct rt_shim_op *op = (struct rt_shim_op *)(se->data + off);

		op->hdr.magic = RT_SHIM_REC_MAGIC;
		op->hdr.version = RT_SHIM_REC_VERSION;
		op->hdr.type = RT_SHIM_REC_OP;
		op->hdr.len = sizeof(*op);
		op->hdr.pid = rpid;
		op->hdr.tid = rtid;
		op->start_ns = starts[i];
		op->end_ns = starts[i] + MS;
		op->system = RT_SHIM_SYS_REDIS;
		op->kind = RT_SHIM_KIND_COMMAND;
		snprintf((char *)op->operation, sizeof(op->operation), "GET");
		off += sizeof(*op); /* a multiple of 8 */
	}
	rec_hdr(&se->hdr, RT_EV_SHIM, (uint32_t)(sizeof(*se) + off), ts, TGID, sender);
	se->len = (uint32_t)off;
	se->count = n | (foreign ? RT_SHIM_MSG_F_FOREIGN : 0);
	assert_int_equal(pipeline_record(wd->w.pipe, se, sizeof(*se) + off), 0);
}

static const struct span *server_span(struct world *wd, const char *path)
{
	for (size_t i = 0; i < wd->n && i < 16; i++)
		if (wd->spans[i].kind == SPAN_KIND_SERVER &&
		    strstr(span_get(&wd->spans[i], SPAN_NAME), path))
			return &wd->spans[i];
	fail_msg("no server span for %s", path);
	return NULL;
}

/* The DB span that started at start (unix ns relative to the first span). */
static const struct span *db_span_at(struct world *wd, const struct span *ref, uint64_t ref_mono,
				     uint64_t start_mono)
{
	for (size_t i = 0; i < wd->n && i < 16; i++)
		if (wd->spans[i].kind == SPAN_KIND_CLIENT &&
		    wd->spans[i].start_unix_ns - ref->start_unix_ns == start_mono - ref_mono)
			return &wd->spans[i];
	fail_msg("no DB span at +%llu", (unsigned long long)(start_mono - ref_mono));
	return NULL;
}

/* Request A [t, t+10ms], its queries at t+2 and t+4 ms; request B opens at
 * t+20 ms; a query between them at t+12 ms; the batch arrives during B. */
static void late_batch(void **state, uint32_t rpid, uint32_t sender, bool foreign, bool parented)
{
	struct world *wd = *state;
	struct rt_conn_id id = {.gen = 1, .tgid = TGID, .fd = 3};
	uint64_t t = 1000 * MS;
	uint64_t starts[3] = {t + 2 * MS, t + 4 * MS, t + 12 * MS};
	const struct span *a, *b, *q;

	assert_int_equal(rec_open(wd->w.pipe, &id, t, rec_ep(10, 0, 0, 2, 80),
				  rec_ep(10, 0, 0, 9, 5555), RT_ROLE_UNKNOWN),
			 0);
	assert_int_equal(
	    rec_data(wd->w.pipe, &id, RT_DIR_INGRESS, t, TID, "GET /a HTTP/1.1\r\n\r\n"), 0);
	assert_int_equal(rec_data(wd->w.pipe, &id, RT_DIR_EGRESS, t + 10 * MS, TID,
				  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 0);
	assert_int_equal(
	    rec_data(wd->w.pipe, &id, RT_DIR_INGRESS, t + 20 * MS, TID, "GET /b HTTP/1.1\r\n\r\n"),
	    0);
	assert_int_equal(wd->n, 1);
	send_batch(wd, rpid, TID, starts, 3, sender, foreign, t + 25 * MS);
	assert_int_equal(rec_data(wd->w.pipe, &id, RT_DIR_EGRESS, t + 30 * MS, TID,
				  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 0);
	assert_int_equal(wd->n, 5);
	a = server_span(wd, "/a");
	b = server_span(wd, "/b");
	for (int i = 0; i < 2; i++) {
		q = db_span_at(wd, a, t, starts[i]);
		if (parented) {
			assert_memory_equal(q->trace_id, a->trace_id, 16);
			assert_memory_equal(q->parent_span_id, a->span_id, 8);
		} else {
			assert_memory_not_equal(q->trace_id, a->trace_id, 16);
			assert_memory_not_equal(q->trace_id, b->trace_id, 16);
		}
	}
	/* the query between the requests belongs to neither */
	q = db_span_at(wd, a, t, starts[2]);
	assert_memory_not_equal(q->trace_id, a->trace_id, 16);
	assert_memory_not_equal(q->trace_id, b->trace_id, 16);
}

/* The thread sends its own batch during B. */
static void test_late_own_batch(void **state)
{
	late_batch(state, TGID, TID, false, true);
}

/* Another thread of the process sends it (same pid namespace). */
static void test_late_foreign_batch(void **state)
{
	late_batch(state, TGID, TID + 1, true, true);
}

/* A foreign batch from another pid namespace: its tid is not the kernel's,
 * so no parent (never a wrong one). */
static void test_foreign_other_namespace(void **state)
{
	late_batch(state, 12, TID + 1, true, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_by_time),
	    cmocka_unit_test(test_nested_latest_wins),
	    cmocka_unit_test(test_depth_and_reuse),
	    cmocka_unit_test(test_bounded_lru),
	    cmocka_unit_test_setup_teardown(test_late_own_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_foreign_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_other_namespace, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
