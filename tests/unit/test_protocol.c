// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_protocol.c - unit tests for the protocol set (user/proto/protocol.c)
 * with two fake protocols, checking the contract of protocol.h: detection
 * in set order on either direction, the detecting chunk fed after open(),
 * a failed open() retried on the next chunk, PROTO_SNIFF_MAX tries before
 * opaque, PROTO_OPAQUE closing the state once and telling the caller once,
 * sweeps and closes reaching only the connection's own protocol, and
 * nothing for opaque connections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

/* What a fake protocol saw. */
struct calls {
	int detect, open, feed, sweep, close;
	uint8_t last_dir;
	uint64_t last_ts;
	uint64_t first_ts; /* of the first chunk fed */
	size_t first_len;
	bool fail_open;	   /* open() returns -ENOMEM */
	bool opaque_after; /* feed() answers PROTO_OPAQUE */
};

struct fake {
	const char *magic; /* a chunk starting with it is ours */
	struct calls *calls;
};

static struct calls calls_a, calls_b;
static const struct fake fake_a = {"AAA", &calls_a}, fake_b = {"BBB", &calls_b};

static void *fake_new(const struct proto_env *env)
{
	return env->sink->ctx; /* the struct fake */
}

static void fake_free(void *inst)
{
	(void)inst;
}

static enum proto_detect detect(const struct fake *f, const struct proto_chunk *ch)
{
	size_t n = strlen(f->magic);

	f->calls->detect++;
	if (ch->cap_len < n)
		return memcmp(ch->data, f->magic, ch->cap_len) ? PROTO_DETECT_NO
							       : PROTO_DETECT_MORE;
	return memcmp(ch->data, f->magic, n) ? PROTO_DETECT_NO : PROTO_DETECT_YES;
}

static enum proto_detect detect_a(const struct proto_chunk *ch)
{
	return detect(&fake_a, ch);
}

static enum proto_detect detect_b(const struct proto_chunk *ch)
{
	return detect(&fake_b, ch);
}

static int fake_open(void *inst, struct conn *c, const struct proto_chunk *first)
{
	const struct fake *f = inst;

	(void)first;
	f->calls->open++;
	if (f->calls->fail_open)
		return -ENOMEM;
	c->proto_state = malloc(8);
	return c->proto_state ? 0 : -ENOMEM;
}

static enum proto_verdict fake_feed(void *inst, struct conn *c, const struct proto_chunk *ch)
{
	const struct fake *f = inst;

	assert_non_null(c->proto_state);
	if (!f->calls->feed++) {
		f->calls->first_ts = ch->ts;
		f->calls->first_len = ch->cap_len;
	}
	f->calls->last_dir = ch->dir;
	f->calls->last_ts = ch->ts;
	return f->calls->opaque_after ? PROTO_OPAQUE : PROTO_KEEP;
}

static void fake_sweep(void *inst, struct conn *c, uint64_t now)
{
	const struct fake *f = inst;

	(void)c;
	(void)now;
	f->calls->sweep++;
}

static void fake_close(void *inst, struct conn *c, uint64_t ts)
{
	const struct fake *f = inst;

	(void)ts;
	f->calls->close++;
	free(c->proto_state);
	c->proto_state = NULL;
}

static const char *no_error_name(unsigned r)
{
	(void)r;
	return "none";
}

#define FAKE(detect_fn)                                                                            \
	{                                                                                          \
		.name = "fake", .nerrors = 1, .error_name = no_error_name, .new = fake_new,        \
		.free = fake_free, .detect = detect_fn, .open = fake_open, .feed = fake_feed,      \
		.sweep = fake_sweep, .close = fake_close,                                          \
	}

static const struct protocol proto_a = FAKE(detect_a), proto_b = FAKE(detect_b);

/* A protocol whose magic is longer than the bytes held back. */
static char magic_c[PROTO_SNIFF_BYTES + 40];
static struct calls calls_c;
static const struct fake fake_c = {magic_c, &calls_c};

static enum proto_detect detect_c(const struct proto_chunk *ch)
{
	return detect(&fake_c, ch);
}

static const struct protocol proto_c = FAKE(detect_c);
static const struct proto_sink sink_c = {.ctx = (void *)&fake_c};
static const struct proto_env env_c = {.sink = &sink_c};

struct fx {
	struct proto_set set;
	struct proto_sink sink_a, sink_b;
	struct proto_env env_a, env_b;
	struct conn c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&calls_a, 0, sizeof(calls_a));
	memset(&calls_b, 0, sizeof(calls_b));
	f->sink_a.ctx = (void *)&fake_a;
	f->sink_b.ctx = (void *)&fake_b;
	f->env_a.sink = &f->sink_a;
	f->env_b.sink = &f->sink_b;
	assert_int_equal(proto_set_add(&f->set, &proto_a, &f->env_a), 0);
	assert_int_equal(proto_set_add(&f->set, &proto_b, &f->env_b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	proto_set_close(&f->set, &f->c, 0);
	assert_null(f->c.proto_state);
	proto_set_release(&f->set);
	free(f);
	return 0;
}

static bool feed(struct fx *f, uint8_t dir, uint64_t ts, const char *s)
{
	struct proto_chunk ch = {.data = (const uint8_t *)s,
				 .cap_len = strlen(s),
				 .len = strlen(s),
				 .ts = ts,
				 .dir = dir};

	return proto_set_feed(&f->set, &f->c, &ch);
}

static void test_detect_in_order_either_direction(void **state)
{
	struct fx *f = *state;

	assert_false(feed(f, RT_DIR_EGRESS, 1, "BBB hello"));
	assert_int_equal(f->c.proto, CONN_PROTO_FIRST + 1);
	assert_ptr_equal(proto_set_of(&f->set, &f->c), &proto_b);
	assert_int_equal(calls_a.detect, 1); /* asked first, said no */
	assert_int_equal(calls_b.open, 1);
	assert_int_equal(calls_b.feed, 1); /* the detecting chunk is fed */
	assert_int_equal(calls_b.last_dir, RT_DIR_EGRESS);
	assert_false(feed(f, RT_DIR_INGRESS, 2, "AAA but on a BBB connection"));
	assert_int_equal(calls_b.feed, 2);
	assert_int_equal(calls_b.last_ts, 2);
	assert_int_equal(calls_a.detect, 1); /* classified: no more detection */
	assert_int_equal(calls_a.feed, 0);
	proto_set_sweep(&f->set, &f->c, 10);
	assert_int_equal(calls_b.sweep, 1);
	assert_int_equal(calls_a.sweep, 0);
	proto_set_close(&f->set, &f->c, 11);
	assert_int_equal(calls_b.close, 1);
	assert_null(f->c.proto_state);
	assert_int_equal(f->c.proto, CONN_PROTO_OPAQUE);
	proto_set_close(&f->set, &f->c, 12); /* exactly once */
	assert_int_equal(calls_b.close, 1);
}

static void test_sniff_limit(void **state)
{
	struct fx *f = *state;
	int told = 0;

	for (int i = 0; i < PROTO_SNIFF_MAX; i++) {
		assert_int_equal(f->c.proto, CONN_PROTO_UNKNOWN);
		told += feed(f, (uint8_t)(i & 1), (uint64_t)i, i % 2 ? "AAB" : "zzz");
	}
	assert_int_equal(f->c.proto, CONN_PROTO_OPAQUE);
	assert_int_equal(told, 1); /* the caller is told once */
	assert_false(feed(f, RT_DIR_INGRESS, 100, "AAA too late"));
	assert_int_equal(calls_a.open, 0);
	assert_null(proto_set_of(&f->set, &f->c));
	proto_set_sweep(&f->set, &f->c, 200);
	assert_int_equal(calls_a.sweep + calls_b.sweep, 0);
}

/* A message written a byte at a time is classified on its joined bytes,
 * which are fed once, with the time of the first. */
static void test_held_bytes_joined(void **state)
{
	struct fx *f = *state;

	assert_false(feed(f, RT_DIR_INGRESS, 1, "A"));
	assert_false(feed(f, RT_DIR_EGRESS, 2, "B")); /* the other direction holds its own */
	assert_false(feed(f, RT_DIR_INGRESS, 3, "A"));
	assert_int_equal(f->c.proto, CONN_PROTO_UNKNOWN);
	assert_int_equal(f->c.sniff_tries, 0); /* too few to tell is no refusal */
	assert_false(feed(f, RT_DIR_INGRESS, 4, "A and the rest"));
	assert_int_equal(f->c.proto, CONN_PROTO_FIRST);
	assert_int_equal(calls_a.open, 1);
	assert_int_equal(calls_a.feed, 2); /* the held "AA", then the chunk */
	assert_int_equal(calls_a.first_ts, 1);
	assert_int_equal(calls_a.first_len, 2);
	assert_int_equal(calls_a.last_ts, 4);
	assert_null(f->c.sniff); /* freed once classified */
}

/* Held bytes that turn out to be nobody's are one refusal, and the chunk
 * that refused them is looked at alone. */
static void test_held_then_refused(void **state)
{
	struct fx *f = *state;

	assert_false(feed(f, RT_DIR_INGRESS, 1, "BB"));
	assert_false(feed(f, RT_DIR_INGRESS, 2, "AAA"));
	assert_int_equal(f->c.sniff_tries, 1);
	assert_int_equal(f->c.proto, CONN_PROTO_FIRST);
	assert_int_equal(calls_a.feed, 1);
	assert_int_equal(calls_a.first_ts, 2);
}

/* Bytes are never held across a capture gap, nor beyond PROTO_SNIFF_BYTES. */
static void test_held_bounded(void **state)
{
	struct fx *f = *state;
	struct proto_chunk gap = {.data = (const uint8_t *)"A", .cap_len = 1, .len = 50};
	int told = 0;

	assert_false(proto_set_feed(&f->set, &f->c, &gap));
	assert_int_equal(f->c.sniff_tries, 1);
	assert_false(feed(f, RT_DIR_INGRESS, 1, "A"));
	gap.data = (const uint8_t *)"A";
	assert_false(proto_set_feed(&f->set, &f->c, &gap)); /* "AA" then a gap */
	assert_int_equal(f->c.sniff_tries, 3);		    /* the joined, then the chunk */
	assert_int_equal(f->c.proto, CONN_PROTO_UNKNOWN);
	/* A prefix that never ends (C's magic is longer than what is held):
	 * refused every PROTO_SNIFF_BYTES bytes. */
	memset(magic_c, 'C', sizeof(magic_c) - 1);
	assert_int_equal(proto_set_add(&f->set, &proto_c, &env_c), 0);
	for (int i = 0; i < PROTO_SNIFF_BYTES * PROTO_SNIFF_MAX && f->c.proto != CONN_PROTO_OPAQUE;
	     i++) {
		told += feed(f, RT_DIR_EGRESS, (uint64_t)i, "C");
		if (i == PROTO_SNIFF_BYTES - 2)
			assert_int_equal(f->c.sniff_tries, 3); /* 127 bytes held */
		if (i == PROTO_SNIFF_BYTES - 1)
			assert_int_equal(f->c.sniff_tries, 4);
	}
	assert_int_equal(calls_c.open, 0);
	assert_int_equal(f->c.proto, CONN_PROTO_OPAQUE);
	assert_int_equal(told, 1);
	assert_null(f->c.sniff);
}

static void test_open_failure_retried(void **state)
{
	struct fx *f = *state;

	calls_a.fail_open = true;
	assert_false(feed(f, RT_DIR_INGRESS, 1, "AAA"));
	assert_int_equal(f->c.proto, CONN_PROTO_UNKNOWN);
	assert_int_equal(calls_a.feed, 0);
	calls_a.fail_open = false;
	assert_false(feed(f, RT_DIR_INGRESS, 2, "AAA"));
	assert_int_equal(f->c.proto, CONN_PROTO_FIRST);
	assert_int_equal(calls_a.open, 2);
	assert_int_equal(calls_a.feed, 1);
}

static void test_opaque_verdict(void **state)
{
	struct fx *f = *state;

	assert_false(feed(f, RT_DIR_INGRESS, 1, "AAA"));
	calls_a.opaque_after = true;
	assert_true(feed(f, RT_DIR_INGRESS, 2, "encrypted from here"));
	assert_int_equal(calls_a.close, 1); /* state closed at once */
	assert_null(f->c.proto_state);
	assert_int_equal(f->c.proto, CONN_PROTO_OPAQUE);
	assert_false(feed(f, RT_DIR_INGRESS, 3, "more"));
	assert_int_equal(calls_a.feed, 2);
}

static void test_set_bounded(void **state)
{
	struct fx *f = *state;

	for (size_t i = f->set.n; i < PROTO_SET_MAX; i++)
		assert_int_equal(proto_set_add(&f->set, &proto_a, &f->env_a), 0);
	assert_int_equal(proto_set_add(&f->set, &proto_a, &f->env_a), -ENOSPC);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_detect_in_order_either_direction),
	    T(test_sniff_limit),
	    T(test_held_bytes_joined),
	    T(test_held_then_refused),
	    T(test_held_bounded),
	    T(test_open_failure_retried),
	    T(test_opaque_verdict),
	    T(test_set_bounded),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
