// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shim_batch.c - CMocka tests of the ioctl channel's batches, both
 * ends: the shim's writer (preload/batch.c, built in here, its ioctl caught
 * by the ioctl() below) and the daemon's walker (shim_batch_next in
 * user/intake/shim_decode.c). Every record added comes out exactly once,
 * byte for byte, in order; batches are sent on the size, count and time
 * bounds, when another thread's record lands in the slot (flagged foreign),
 * at flush_all; a forked child forgets its copies; the walker refuses every
 * framing that does not add up and never reads past the message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../preload/batch.c"
#include "shim_decode.h"

#define SENT_MAX 64

/* The messages the writer sent, as the kernel would copy them. */
static struct {
	uint32_t count; /* rt_shim_msg.count */
	uint32_t len;
	uint8_t data[RT_SHIM_BATCH_MAX];
} sent[SENT_MAX];
static int nsent;

int ioctl(int fd, unsigned long cmd, ...)
{
	const struct rt_shim_msg *m;
	va_list ap;

	va_start(ap, cmd);
	m = va_arg(ap, const struct rt_shim_msg *);
	va_end(ap);
	assert_int_equal(fd, RT_SHIM_IOCTL_FD);
	assert_int_equal(cmd, RT_SHIM_IOCTL_CMD);
	assert_int_equal(m->magic, RT_SHIM_MAGIC);
	assert_true(m->len <= RT_SHIM_BATCH_MAX);
	assert_true(nsent < SENT_MAX);
	sent[nsent].count = m->count;
	sent[nsent].len = m->len;
	memcpy(sent[nsent].data, m->data, m->len);
	nsent++;
	errno = EBADF;
	return -1;
}

struct rec {
	struct rt_shim_op op;
	uint8_t text[RT_SHIM_TEXT_MAX];
};

/* A PostgreSQL record of thread tid whose text says "SELECT seq" padded to textlen. */
static uint32_t mkrec(struct rec *r, uint32_t tid, unsigned seq, size_t textlen)
{
	char sql[RT_SHIM_TEXT_MAX + 1];
	int n = snprintf(sql, sizeof(sql), "SELECT %u", seq);

	memset(r, 0, sizeof(*r));
	if (textlen < (size_t)n)
		textlen = (size_t)n;
	memset(sql + n, ' ', textlen - (size_t)n);
	r->op.hdr.magic = RT_SHIM_REC_MAGIC;
	r->op.hdr.version = RT_SHIM_REC_VERSION;
	r->op.hdr.type = RT_SHIM_REC_OP;
	r->op.hdr.pid = 42;
	r->op.hdr.tid = tid;
	r->op.start_ns = seq;
	r->op.end_ns = seq + 10;
	r->op.system = RT_SHIM_SYS_POSTGRESQL;
	r->op.kind = RT_SHIM_KIND_QUERY;
	memcpy(r->text, sql, textlen);
	r->op.text_len = (uint16_t)textlen;
	r->op.hdr.len = (uint32_t)(sizeof(r->op) + textlen);
	return r->op.hdr.len;
}

static int setup(void **state)
{
	(void)state;
	batch_init("1");
	batch_after_fork(); /* empty slots */
	nsent = 0;
	return 0;
}

/* Walks sent[i] like the daemon: returns the records, checks each decodes. */
static int walk(int i, uint64_t *seqs, int max)
{
	const void *rec;
	size_t off = 0;
	int rlen, n = 0;
	struct db_op op;

	while ((rlen = shim_batch_next(sent[i].data, sent[i].len, &off, &rec)) > 0) {
		assert_true(n < max);
		assert_int_equal((uintptr_t)rec % 8, (uintptr_t)sent[i].data % 8);
		assert_int_equal(shim_decode(rec, (size_t)rlen, &op), 0);
		seqs[n++] = op.start_ns;
	}
	assert_int_equal(rlen, 0);
	assert_int_equal(n, (int)(sent[i].count & RT_SHIM_MSG_COUNT_MASK));
	return n;
}

static void test_flush_all_sends_in_order(void **state)
{
	struct rec r;
	uint64_t seqs[RT_SHIM_BATCH_RECS_MAX];

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = mkrec(&r, 7, 100 + i, 3 + i * 5); /* odd lengths: padding */
		assert_true(batch_add(&r, len, 7, 1000));
	}
	assert_int_equal(nsent, 0);
	batch_flush_all(7);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].count, 3); /* its own thread: not foreign */
	assert_int_equal(walk(0, seqs, RT_SHIM_BATCH_RECS_MAX), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(seqs[i], 100 + i);
	batch_flush_all(7);
	assert_int_equal(nsent, 1); /* nothing left */
}

/* Every record exactly once, in order, over many batches of mixed sizes. */
static void test_size_and_count_bounds(void **state)
{
	struct rec r;
	uint64_t seqs[RT_SHIM_BATCH_RECS_MAX], next = 0;
	unsigned total = 200;

	(void)state;
	for (unsigned i = 0; i < total; i++) {
		uint32_t len = mkrec(&r, 9, (unsigned)i, (i * 37) % 700);

		assert_true(batch_add(&r, len, 9, 5000));
		if (nsent >= SENT_MAX - 1) {
			for (int k = 0; k < nsent; k++) {
				int n = walk(k, seqs, RT_SHIM_BATCH_RECS_MAX);

				for (int j = 0; j < n; j++)
					assert_int_equal(seqs[j], next++);
			}
			nsent = 0;
		}
	}
	batch_flush_all(9);
	for (int k = 0; k < nsent; k++) {
		int n = walk(k, seqs, RT_SHIM_BATCH_RECS_MAX);

		assert_true(n >= 1 && n <= RT_SHIM_BATCH_RECS_MAX);
		for (int j = 0; j < n; j++)
			assert_int_equal(seqs[j], next++);
	}
	assert_int_equal(next, total);
}

static void test_size_bound(void **state)
{
	struct rec r;
	uint32_t len = mkrec(&r, 3, 1, 0); /* 304 bytes: 26 fit, then no room for one more */
	int fit = (int)((RT_SHIM_BATCH_MAX - sizeof(struct rt_shim_op)) / len) + 1;

	(void)state;
	assert_true(fit < RT_SHIM_BATCH_RECS_MAX);
	for (int i = 0; i < fit - 1; i++)
		assert_true(batch_add(&r, len, 3, 1));
	assert_int_equal(nsent, 0);
	assert_true(batch_add(&r, len, 3, 1));
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].count, fit);
	assert_true(sent[0].len <= RT_SHIM_BATCH_MAX);
}

static void test_count_bound(void **state)
{
	struct rt_shim_hello h;
	uint64_t seqs[RT_SHIM_BATCH_RECS_MAX];

	(void)state;
	memset(&h, 0, sizeof(h));
	h.hdr.magic = RT_SHIM_REC_MAGIC;
	h.hdr.version = RT_SHIM_REC_VERSION;
	h.hdr.type = RT_SHIM_REC_HELLO;
	h.hdr.len = sizeof(h);
	h.hdr.tid = 11;
	for (int i = 0; i < RT_SHIM_BATCH_RECS_MAX; i++)
		assert_true(batch_add(&h, sizeof(h), 11, 1));
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].count, RT_SHIM_BATCH_RECS_MAX);
	assert_int_equal(walk(0, seqs, RT_SHIM_BATCH_RECS_MAX), RT_SHIM_BATCH_RECS_MAX);
}

static void test_time_bound(void **state)
{
	struct rec r;
	uint32_t len = mkrec(&r, 5, 1, 10);

	(void)state;
	assert_true(batch_add(&r, len, 5, 1000));
	assert_true(batch_add(&r, len, 5, 1000 + BATCH_WAIT_NS - 1));
	assert_int_equal(nsent, 0);
	/* the next call after the deadline sends the old batch first */
	assert_true(batch_add(&r, len, 5, 1000 + BATCH_WAIT_NS));
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].count, 2);
	/* another thread's calls send a stale batch of a thread that went quiet */
	assert_true(batch_add(&r, len, 5, 2000 + BATCH_WAIT_NS));
	assert_int_equal(slots[5].count, 2);
	for (int i = 0; i < BATCH_SLOTS && slots[5].count; i++)
		assert_true(batch_add(&r, len, 8, 2000 + 3 * BATCH_WAIT_NS));
	assert_int_equal(slots[5].count, 0);
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].count, 2 | RT_SHIM_MSG_F_FOREIGN);
}

static void test_other_thread_in_slot(void **state)
{
	struct rec r;
	uint32_t len = mkrec(&r, 2, 1, 10);

	(void)state;
	assert_true(batch_add(&r, len, 2, 1));
	assert_true(batch_add(&r, len, 2 + BATCH_SLOTS, 1)); /* same slot */
	assert_int_equal(nsent, 1);
	/* thread 2's record sent by thread 18: flagged, the daemon takes the records' tid */
	assert_int_equal(sent[0].count, 1 | RT_SHIM_MSG_F_FOREIGN);
	batch_flush_all(2 + BATCH_SLOTS);
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].count, 1);
}

static void test_busy_slot_and_fork(void **state)
{
	struct rec r;
	uint32_t len = mkrec(&r, 4, 1, 10);

	(void)state;
	slots[4].lock = 1; /* a signal handler interrupted thread 4 mid-add */
	assert_false(batch_add(&r, len, 4, 1));
	slots[4].lock = 0;
	assert_true(batch_add(&r, len, 4, 1));
	batch_after_fork(); /* the child: its parent sends that record */
	batch_flush_all(4);
	assert_int_equal(nsent, 0);
	batch_init("0");
	assert_false(batch_on());
	batch_init("off");
	assert_false(batch_on());
	batch_init(NULL); /* the default: auto */
	assert_true(batch_on());
}

/* Auto mode (the default): a slot batches only after a window of
 * BATCH_BUSY_MIN records or more; a quiet caller's records go at once, and
 * a slot that falls quiet sends what it held with the next record. */
static void test_auto_batches_under_load(void **state)
{
	const uint64_t w = BATCH_WAIT_NS, t0 = 5 * BATCH_WAIT_NS;
	struct rec r;
	uint32_t len = mkrec(&r, 6, 1, 10);
	uint64_t seqs[RT_SHIM_BATCH_RECS_MAX];

	(void)state;
	batch_init(NULL);
	/* one call per window: never batched */
	for (uint64_t i = 0; i < 4; i++)
		assert_false(batch_add(&r, len, 6, t0 + i * w));
	/* a busy window, then the next one batches */
	for (int i = 0; i < BATCH_BUSY_MIN - 1; i++)
		assert_false(batch_add(&r, len, 6, t0 + 4 * w + (uint64_t)i));
	assert_false(batch_add(&r, len, 6, t0 + 4 * w + w / 2)); /* the 16th, still counted */
	assert_true(batch_add(&r, len, 6, t0 + 5 * w));
	assert_true(batch_add(&r, len, 6, t0 + 5 * w + 1));
	assert_int_equal(nsent, 0);
	assert_int_equal(slots[6].count, 2);
	/* the window that follows had 2 records: quiet, the held ones go first */
	assert_false(batch_add(&r, len, 6, t0 + 6 * w + 1));
	assert_int_equal(nsent, 1);
	assert_int_equal(walk(0, seqs, RT_SHIM_BATCH_RECS_MAX), 2);
	assert_int_equal(slots[6].count, 0);
	/* a busy window followed by a gap says nothing: not batched */
	for (int i = 0; i < BATCH_BUSY_MIN; i++)
		assert_false(batch_add(&r, len, 6, t0 + 7 * w + (uint64_t)i));
	assert_false(batch_add(&r, len, 6, t0 + 10 * w));
	assert_int_equal(nsent, 1);
	batch_init("1");
}

static void test_walker_refuses_bad_framing(void **state)
{
	struct rec r;
	uint8_t buf[RT_SHIM_BATCH_MAX];
	uint32_t len = mkrec(&r, 1, 1, 20), len2;
	const void *rec;
	size_t off;
	struct rt_shim_hdr *h2;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &r, len);
	len2 = (len + 7) & ~7u;
	memcpy(buf + len2, &r, len);
	h2 = (struct rt_shim_hdr *)(buf + len2);
	/* good: two records */
	off = 0;
	assert_int_equal(shim_batch_next(buf, len2 + len, &off, &rec), (int)len);
	assert_int_equal(shim_batch_next(buf, len2 + len, &off, &rec), (int)len);
	assert_ptr_equal(rec, buf + len2);
	assert_int_equal(shim_batch_next(buf, len2 + len, &off, &rec), 0);
	/* every cut of the second record fails, never reads past */
	for (size_t cut = len2 + 1; cut < len2 + len; cut++) {
		uint8_t *copy = malloc(cut);

		memcpy(copy, buf, cut);
		off = 0;
		assert_int_equal(shim_batch_next(copy, cut, &off, &rec), (int)len);
		assert_int_equal(shim_batch_next(copy, cut, &off, &rec), -EINVAL);
		free(copy);
	}
	/* hdr.len below a header, over the maximum */
	h2->len = sizeof(struct rt_shim_hdr) - 1;
	off = len2;
	assert_int_equal(shim_batch_next(buf, sizeof(buf), &off, &rec), -EINVAL);
	h2->len = RT_SHIM_REC_MAX + 1;
	off = len2;
	assert_int_equal(shim_batch_next(buf, sizeof(buf), &off, &rec), -EINVAL);
	/* bad arguments */
	off = 5;
	assert_int_equal(shim_batch_next(buf, 4, &off, &rec), -EINVAL);
	assert_int_equal(shim_batch_next(NULL, 4, &off, &rec), -EINVAL);
	off = 0;
	assert_int_equal(shim_batch_next(buf, 0, &off, &rec), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_flush_all_sends_in_order, setup),
	    cmocka_unit_test_setup(test_size_and_count_bounds, setup),
	    cmocka_unit_test_setup(test_size_bound, setup),
	    cmocka_unit_test_setup(test_count_bound, setup),
	    cmocka_unit_test_setup(test_time_bound, setup),
	    cmocka_unit_test_setup(test_other_thread_in_slot, setup),
	    cmocka_unit_test_setup(test_busy_slot_and_fork, setup),
	    cmocka_unit_test_setup(test_auto_batches_under_load, setup),
	    cmocka_unit_test_setup(test_walker_refuses_bad_framing, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
