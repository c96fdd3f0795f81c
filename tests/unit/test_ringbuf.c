// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_ringbuf.c - CMocka tests of the BPF ring-buffer reader
 * (user/intake/ringbuf.c) on a ring laid out in memory as the kernel
 * maps it (the data twice in a row), read through a window smaller than
 * the ring, as the daemon does: records in order with their content, a
 * record that wraps past the end in one piece, many laps of the ring and
 * window moves, a record still being written (busy bit) left for the next
 * read, a discarded one skipped, a callback error stopping the read after
 * that record, and a record longer than the window skipped; a ring mapped
 * whole as the daemon maps a small one (a record as long as the tail read
 * whole wherever it starts, never a move). Several
 * rings: records handed out in the order of their stamps across rings and
 * in each ring's own order, a record stamped after the read began left for
 * the next read (with the rest of its ring), one stamped far in the future
 * not held back, a record not committed in one ring not holding back
 * another ring, a callback error; a time namespace's offsets text read.
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

#include <linux/bpf.h>

#include "ringbuf.h"

#define SIZE   4096u
#define WINDOW 1024u

struct ring {
	unsigned long cons, prod;
	uint8_t data[2 * SIZE]; /* the kernel's view: the data twice in a row */
};

static void put(struct ring *r, unsigned long pos, uint8_t b)
{
	r->data[pos & (SIZE - 1)] = b;
	r->data[SIZE + (pos & (SIZE - 1))] = b;
}

struct seen {
	int n;
	size_t lens[64];
	uint8_t first[64], last[64];
	int fail_at; /* return -5 at this record (1-based); 0: never */
};

static int record(void *ctx, void *data, size_t len)
{
	struct seen *s = ctx;
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++)
		assert_int_equal(b[i], (uint8_t)(b[0] + i)); /* content in one piece */
	if (s->n < 64) {
		s->lens[s->n] = len;
		s->first[s->n] = len ? b[0] : 0;
		s->last[s->n] = len ? b[len - 1] : 0;
	}
	s->n++;
	return s->fail_at && s->n == s->fail_at ? -5 : 0;
}

/* Writes a record of len bytes (b0, b0+1, ...) at the producer position,
 * with the header flags given; returns the header's address. */
static uint32_t *produce(struct ring *r, uint32_t len, uint8_t b0, uint32_t flags)
{
	uint32_t *hdr = (uint32_t *)(r->data + (r->prod & (SIZE - 1)));
	uint32_t *hdr2 = (uint32_t *)(r->data + SIZE + (r->prod & (SIZE - 1)));
	unsigned long at = r->prod + BPF_RINGBUF_HDR_SZ;

	hdr[0] = hdr2[0] = len | flags;
	hdr[1] = hdr2[1] = 0;
	for (uint32_t i = 0; i < len; i++)
		put(r, at + i, (uint8_t)(b0 + i));
	r->prod += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	return hdr;
}

static struct rb_reader *reader(struct ring *r, struct seen *s)
{
	struct rb_reader *rd = rb_reader_wrap(&r->cons, &r->prod, r->data, SIZE, WINDOW, record, s);

	assert_non_null(rd);
	return rd;
}

static void test_in_order(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);

	(void)state;
	produce(r, 10, 1, 0);
	produce(r, 0, 0, 0);
	produce(r, 100, 7, 0);
	assert_int_equal(rb_reader_poll(rd, 0), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.lens[0], 10);
	assert_int_equal(s.lens[1], 0);
	assert_int_equal(s.lens[2], 100);
	assert_int_equal(s.first[2], 7);
	assert_int_equal(r->cons, r->prod);
	assert_int_equal(rb_reader_consume(rd), 0); /* nothing new */
	rb_reader_free(rd);
	free(r);
}

static void test_wraps(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);

	(void)state;
	/* start 24 bytes before the end: the header fits, the body wraps */
	r->cons = r->prod = 5 * SIZE - 24;
	produce(r, 200, 3, 0);
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.lens[0], 200);
	assert_int_equal(s.first[0], 3);
	assert_int_equal(s.last[0], (uint8_t)(3 + 199));
	/* a header in the last 8 bytes: the body starts at offset 0 */
	r->cons = r->prod = 7 * SIZE - 8;
	produce(r, 33, 9, 0);
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.lens[1], 33);
	assert_int_equal(s.first[1], 9);
	rb_reader_free(rd);
	free(r);
}

static void test_many_laps(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);
	int total = 0;

	(void)state;
	for (int lap = 0; lap < 200; lap++) {
		/* odd sizes, so that every alignment is crossed */
		for (int i = 0; i < 5; i++)
			produce(r, (uint32_t)(lap * 7 + i * 61) % 700, (uint8_t)(lap + i), 0);
		total += 5;
		assert_int_equal(rb_reader_consume(rd), 5);
	}
	assert_int_equal(s.n, total);
	assert_true(rb_reader_moves(rd) > 100); /* the 1 KiB window moved along */
	assert_int_equal(rb_reader_skipped(rd), 0);
	assert_true(r->cons > 50 * SIZE); /* about 85 laps */
	rb_reader_free(rd);
	free(r);
}

static void test_busy_then_committed(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);
	uint32_t *busy;

	(void)state;
	produce(r, 16, 1, 0);
	busy = produce(r, 16, 2, BPF_RINGBUF_BUSY_BIT);
	produce(r, 16, 3, 0);
	assert_int_equal(rb_reader_consume(rd), 1); /* stops at the busy one */
	assert_int_equal(s.n, 1);
	busy[0] &= ~BPF_RINGBUF_BUSY_BIT;
	busy[SIZE / 4] &= ~BPF_RINGBUF_BUSY_BIT; /* the second copy */
	assert_int_equal(rb_reader_consume(rd), 2);
	assert_int_equal(s.first[1], 2);
	assert_int_equal(s.first[2], 3);
	rb_reader_free(rd);
	free(r);
}

static void test_discarded_skipped(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);

	(void)state;
	produce(r, 40, 1, BPF_RINGBUF_DISCARD_BIT);
	produce(r, 40, 2, 0);
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.first[0], 2);
	assert_int_equal(r->cons, r->prod);
	rb_reader_free(rd);
	free(r);
}

static void test_callback_error_stops(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {.fail_at = 2};
	struct rb_reader *rd = reader(r, &s);
	unsigned long after_second;

	(void)state;
	produce(r, 8, 1, 0);
	produce(r, 8, 2, 0);
	after_second = r->prod;
	produce(r, 8, 3, 0);
	assert_int_equal(rb_reader_consume(rd), -5);
	assert_int_equal(r->cons, after_second); /* the failing record is consumed */
	s.fail_at = 0;
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.first[2], 3);
	rb_reader_free(rd);
	free(r);
}

static void test_longer_than_window_skipped(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = reader(r, &s);

	(void)state;
	produce(r, WINDOW, 1, 0); /* cannot fit with its header */
	produce(r, 20, 2, 0);
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.first[0], 2);
	assert_int_equal(rb_reader_skipped(rd), 1);
	assert_int_equal(r->cons, r->prod);
	rb_reader_free(rd);
	free(r);
}

/* A ring mapped whole (rb_reader_wrap_whole()): a record of exactly the
 * tail's length, header included, is read whole from every start near the
 * ring's end, where it wraps into the tail; one 8 bytes longer is skipped
 * and counted; nothing ever moves. */
#define TAIL 512u

static struct rb_reader *whole_reader(struct ring *r, struct seen *s)
{
	struct rb_reader *rd = rb_reader_wrap_whole(&r->cons, &r->prod, r->data, SIZE, TAIL,
						    record, s);

	assert_non_null(rd);
	return rd;
}

static void test_whole_ring_record_of_tail(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = whole_reader(r, &s);

	(void)state;
	for (unsigned long at = SIZE - TAIL - 16; at <= SIZE + 16; at += 8) {
		s.n = 0;
		r->cons = r->prod = 3 * SIZE + at;
		produce(r, TAIL - BPF_RINGBUF_HDR_SZ, (uint8_t)at, 0);
		assert_int_equal(rb_reader_consume(rd), 1);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.lens[0], TAIL - BPF_RINGBUF_HDR_SZ);
		assert_int_equal(s.first[0], (uint8_t)at);
	}
	s.n = 0;
	assert_int_equal(rb_reader_skipped(rd), 0);
	r->cons = r->prod = 5 * SIZE - 40;
	produce(r, TAIL - BPF_RINGBUF_HDR_SZ + 8, 1, 0); /* 8 bytes past the tail */
	produce(r, 20, 2, 0);
	assert_int_equal(rb_reader_consume(rd), 1);
	assert_int_equal(s.first[0], 2);
	assert_int_equal(rb_reader_skipped(rd), 1);
	assert_int_equal(r->cons, r->prod);
	assert_int_equal(rb_reader_moves(rd), 0);
	rb_reader_free(rd);
	free(r);
}

static void test_whole_ring_many_laps(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	struct seen s = {0};
	struct rb_reader *rd = whole_reader(r, &s);

	(void)state;
	for (int lap = 0; lap < 200; lap++) {
		for (int i = 0; i < 5; i++)
			produce(r, (uint32_t)(lap * 7 + i * 61) % (TAIL - 8), (uint8_t)(lap + i), 0);
		assert_int_equal(rb_reader_consume(rd), 5);
	}
	assert_int_equal(s.n, 1000);
	assert_int_equal(rb_reader_skipped(rd), 0);
	assert_int_equal(rb_reader_moves(rd), 0);
	assert_true(r->cons > 30 * SIZE);
	rb_reader_free(rd);
	free(r);
}

/* Several rings: records are a stamp (8 bytes) and a tag byte. */
struct stamped {
	int n;
	uint64_t ts[64];
	uint8_t tag[64];
	int fail_at;
};

static int on_stamped(void *ctx, void *data, size_t len)
{
	struct stamped *s = ctx;
	uint64_t ts;

	assert_int_equal(len, 9);
	memcpy(&ts, data, 8);
	assert_true(s->n < 64);
	s->ts[s->n] = ts;
	s->tag[s->n] = ((const uint8_t *)data)[8];
	s->n++;
	return s->fail_at && s->n == s->fail_at ? -7 : 0;
}

static uint32_t *produce_stamped(struct ring *r, uint64_t ts, uint8_t tag, uint32_t flags)
{
	uint32_t *hdr = produce(r, 9, 0, flags);
	unsigned long at = r->prod - 16; /* the body: 8 + 9 bytes padded to 24 */

	for (int i = 0; i < 8; i++)
		put(r, at + (unsigned long)i, (uint8_t)(ts >> (8 * i)));
	put(r, at + 8, tag);
	return hdr;
}

static struct rb_reader *two_rings(struct ring *a, struct ring *b, struct stamped *s)
{
	struct rb_reader *rd =
	    rb_reader_wrap(&a->cons, &a->prod, a->data, SIZE, WINDOW, on_stamped, s);

	assert_non_null(rd);
	assert_int_equal(rb_reader_wrap_add(rd, &b->cons, &b->prod, b->data), 0);
	return rd;
}

static void test_rings_merged_by_stamp(void **state)
{
	struct ring *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct stamped s = {0};
	struct rb_reader *rd = two_rings(a, b, &s);
	const uint8_t want[] = {'1', '2', '3', '4', '5', '6', '7'};

	(void)state;
	produce_stamped(a, 10, '1', 0);
	produce_stamped(b, 20, '2', 0);
	produce_stamped(a, 30, '3', 0);
	produce_stamped(a, 40, '4', 0);
	produce_stamped(b, 50, '5', 0);
	/* preempted between its stamp and its reservation: after 6 in its
	 * ring, so after it (a ring's order is kept), not before */
	produce_stamped(b, 70, '6', 0);
	produce_stamped(b, 60, '7', 0);
	assert_int_equal(rb_reader_consume_until(rd, 1000), 7);
	assert_int_equal(s.n, 7);
	assert_memory_equal(s.tag, want, sizeof(want));
	assert_int_equal(a->cons, a->prod);
	assert_int_equal(b->cons, b->prod);
	assert_int_equal(rb_reader_consume(rd), 0);
	rb_reader_free(rd);
	free(a);
	free(b);
}

static void test_stamped_after_until_waits(void **state)
{
	struct ring *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct stamped s = {0};
	struct rb_reader *rd = two_rings(a, b, &s);
	unsigned long a_after_first;

	(void)state;
	produce_stamped(a, 100, 'a', 0);
	a_after_first = a->prod;
	produce_stamped(a, 300, 'c', 0);
	produce_stamped(a, 150, 'd', 0); /* behind c in its ring: waits with it */
	produce_stamped(b, 200, 'b', 0);
	assert_int_equal(rb_reader_consume_until(rd, 250), 2);
	assert_int_equal(s.tag[0], 'a');
	assert_int_equal(s.tag[1], 'b');
	assert_int_equal(a->cons, a_after_first); /* published for the kernel */
	assert_int_equal(b->cons, b->prod);
	assert_int_equal(rb_reader_consume_until(rd, 400), 2);
	assert_int_equal(s.tag[2], 'c');
	assert_int_equal(s.tag[3], 'd');
	rb_reader_free(rd);
	free(a);
	free(b);
}

/* A stamp far past the read's start means the clocks disagree (a daemon
 * in a time namespace it did not correct for): never held back. */
static void test_far_future_stamp_not_held(void **state)
{
	struct ring *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct stamped s = {0};
	struct rb_reader *rd = two_rings(a, b, &s);

	(void)state;
	produce_stamped(a, 5000000000ull, 'f', 0); /* 5 s after until */
	produce_stamped(b, 1100000000ull, 'n', 0); /* 0.1 s after: waits */
	produce_stamped(b, 100, 'o', 0);
	assert_int_equal(rb_reader_consume_until(rd, 1000000000ull), 1);
	assert_int_equal(s.tag[0], 'f');
	assert_int_equal(rb_reader_consume_until(rd, 1200000000ull), 2);
	assert_int_equal(s.tag[1], 'n');
	assert_int_equal(s.tag[2], 'o');
	rb_reader_free(rd);
	free(a);
	free(b);
}

static void test_timens_offset(void **state)
{
	(void)state;
	assert_int_equal(rb_timens_offset("monotonic           0         0\n"
					  "boottime            0         0\n"),
			 0);
	assert_int_equal(rb_timens_offset("monotonic        -300    500000000\n"
					  "boottime            7         0\n"),
			 -299500000000ll);
	assert_int_equal(rb_timens_offset("boottime 7 0\nmonotonic 86400 1\n"),
			 86400000000001ll);
	assert_int_equal(rb_timens_offset(""), 0);
	assert_int_equal(rb_timens_offset("monotonic x y\n"), 0);
}

static void test_busy_ring_holds_only_itself(void **state)
{
	struct ring *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct stamped s = {0};
	struct rb_reader *rd = two_rings(a, b, &s);
	uint32_t *busy;

	(void)state;
	busy = produce_stamped(a, 10, 'x', BPF_RINGBUF_BUSY_BIT);
	produce_stamped(a, 11, 'y', 0);
	produce_stamped(b, 20, 'b', 0);
	assert_int_equal(rb_reader_consume_until(rd, 100), 1);
	assert_int_equal(s.tag[0], 'b');
	busy[0] &= ~BPF_RINGBUF_BUSY_BIT;
	busy[SIZE / 4] &= ~BPF_RINGBUF_BUSY_BIT;
	assert_int_equal(rb_reader_consume_until(rd, 100), 2);
	assert_int_equal(s.tag[1], 'x');
	assert_int_equal(s.tag[2], 'y');
	rb_reader_free(rd);
	free(a);
	free(b);
}

static void test_rings_callback_error(void **state)
{
	struct ring *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct stamped s = {.fail_at = 2};
	struct rb_reader *rd = two_rings(a, b, &s);

	(void)state;
	produce_stamped(a, 1, '1', 0);
	produce_stamped(b, 2, '2', 0);
	produce_stamped(a, 3, '3', 0);
	assert_int_equal(rb_reader_consume_until(rd, 10), -7);
	assert_int_equal(b->cons, b->prod); /* the failing record is consumed */
	assert_int_not_equal(a->cons, a->prod);
	s.fail_at = 0;
	assert_int_equal(rb_reader_consume_until(rd, 10), 1);
	assert_int_equal(s.tag[2], '3');
	for (int i = 0; i < RB_RINGS_MAX - 2; i++)
		assert_int_equal(rb_reader_wrap_add(rd, &b->cons, &b->prod, b->data), 0);
	assert_int_equal(rb_reader_wrap_add(rd, &b->cons, &b->prod, b->data), -EINVAL);
	rb_reader_free(rd);
	free(a);
	free(b);
}

static void test_bad_size(void **state)
{
	unsigned long c = 0, p = 0;
	uint8_t d[16] = {0};

	(void)state;
	assert_null(rb_reader_wrap(&c, &p, d, 3000, 1024, record, NULL));
	assert_null(rb_reader_wrap(&c, &p, d, 0, 8, record, NULL));
	assert_null(rb_reader_wrap(&c, &p, d, 4096, 8192, record, NULL)); /* window > ring */
	assert_null(rb_reader_wrap_whole(&c, &p, d, 4096, 8192, record, NULL)); /* tail > ring */
	assert_null(rb_reader_wrap_whole(&c, &p, d, 4096, 12, record, NULL));
	rb_reader_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_wraps),
	    cmocka_unit_test(test_many_laps),
	    cmocka_unit_test(test_busy_then_committed),
	    cmocka_unit_test(test_discarded_skipped),
	    cmocka_unit_test(test_callback_error_stops),
	    cmocka_unit_test(test_longer_than_window_skipped),
	    cmocka_unit_test(test_whole_ring_record_of_tail),
	    cmocka_unit_test(test_whole_ring_many_laps),
	    cmocka_unit_test(test_rings_merged_by_stamp),
	    cmocka_unit_test(test_stamped_after_until_waits),
	    cmocka_unit_test(test_far_future_stamp_not_held),
	    cmocka_unit_test(test_timens_offset),
	    cmocka_unit_test(test_busy_ring_holds_only_itself),
	    cmocka_unit_test(test_rings_callback_error),
	    cmocka_unit_test(test_bad_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
