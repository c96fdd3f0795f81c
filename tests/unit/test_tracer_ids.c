// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tracer_ids.c - CMocka tests of the tracer's hardening (issue 10 low
 * items): span and trace ids come from the kernel's random source, fetched
 * in batches (getrandom() is interposed here to see the bytes and count the
 * calls), stay unique if it fails; REDTAP_TRACES_SLOW_MS refuses NaN,
 * infinities and huge values instead of casting them to an integer.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "tracer.h"

/* ---- getrandom() as the tracer sees it ---- */

enum fake_mode { REAL, PATTERN, FAILING };
static enum fake_mode mode;
static unsigned int calls;
static uint8_t last[4096]; /* the bytes the last PATTERN call handed out */

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	if (mode == REAL)
		return syscall(SYS_getrandom, buf, len, flags);
	calls++;
	if (mode == FAILING) {
		errno = ENOSYS;
		return -1;
	}
	for (size_t i = 0; i < len; i++) { /* known, but without period */
		uint64_t h = ((uint64_t)calls << 32 | i) + 0x9e3779b97f4a7c15ull;

		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
		h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
		((uint8_t *)buf)[i] = (uint8_t)(h ^ (h >> 31));
	}
	memcpy(last, buf, len < sizeof(last) ? len : sizeof(last));
	return (ssize_t)len;
}

static void on_emit(void *ctx, const struct span *s)
{
	(void)ctx;
	(void)s;
}

static struct tracer *tracer(void)
{
	struct tracer_opts o = {.sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true}};
	struct tracer *t = tracer_new(&o, on_emit, NULL);

	assert_non_null(t);
	return t;
}

/* Starts a server exchange with no traceparent: a new trace, a new span. */
static void start(struct tracer *t, struct http_exchange *x)
{
	memset(x, 0, sizeof(*x));
	x->server = true;
	x->method = HTTP1_M_GET;
	snprintf(x->path, sizeof(x->path), "/");
	tracer_http_start(t, x);
	assert_true(x->trace.valid);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_ids_from_getrandom(void **state)
{
	static struct http_exchange x;
	uint64_t ids[400];
	unsigned int before;
	struct tracer *t;

	(void)state;
	mode = PATTERN;
	calls = 0;
	t = tracer();
	start(t, &x);
	/* the span id, then the trace id: the first bytes of the batch just fetched */
	assert_memory_equal(x.trace.span_id, last, 8);
	assert_memory_equal(x.trace.trace_id, last + 8, 16);
	before = calls;
	for (int i = 0; i < 200; i++) {
		start(t, &x);
		memcpy(&ids[2 * i], x.trace.span_id, 8);
		memcpy(&ids[2 * i + 1], x.trace.trace_id, 8);
	}
	/* 200 * 24 bytes in batches: about ten calls, not four hundred */
	assert_in_range(calls - before, 8, 12);
	qsort(ids, 400, sizeof(ids[0]), cmp_u64);
	for (int i = 1; i < 400; i++)
		assert_true(ids[i] != ids[i - 1]);
	tracer_free(t);
	mode = REAL;
}

static void test_ids_when_getrandom_fails(void **state)
{
	static struct http_exchange x;
	uint8_t zero[16] = {0};
	uint64_t ids[100];
	struct tracer *t;

	(void)state;
	mode = FAILING;
	t = tracer();
	for (int i = 0; i < 100; i++) {
		start(t, &x);
		assert_memory_not_equal(x.trace.span_id, zero, 8);
		assert_memory_not_equal(x.trace.trace_id, zero, 16);
		memcpy(&ids[i], x.trace.span_id, 8);
	}
	qsort(ids, 100, sizeof(ids[0]), cmp_u64);
	for (int i = 1; i < 100; i++)
		assert_true(ids[i] != ids[i - 1]);
	tracer_free(t);
	mode = REAL;
}

static void test_slow_thresholds(void **state)
{
	static const char *const bad[] = {
	    "nan",    "NaN",	  "inf",     "-inf",	  "1e300", "-1",  "86400001",
	    "/a=nan", "/a=1e999", "/a=-0.5", "10,/a=inf", "x",	   "/a=",
	};
	const char *routes;
	uint64_t ns = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 7;
		if (tracer_parse_slow(bad[i], &ns, &routes) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(ns == 7 || i >= 7); /* a bad default is never stored */
	}
	assert_int_equal(tracer_parse_slow("86400000", &ns, &routes), 0);
	assert_true(ns == 86400000ull * 1000000ull);
	assert_int_equal(tracer_parse_slow("0.5,/a=10", &ns, &routes), 0);
	assert_true(ns == 500000ull);
	assert_string_equal(routes, "/a=10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids_from_getrandom),
	    cmocka_unit_test(test_ids_when_getrandom_fails),
	    cmocka_unit_test(test_slow_thresholds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
