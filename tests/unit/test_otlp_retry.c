// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_otlp_retry.c - unit tests for the OTLP retry policy
 * (user/export/otlp_retry.c): retryable statuses, Retry-After in seconds and in
 * the three HTTP-date forms, and the backoff ceiling and jitter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "otlp_retry.h"

#define DAY_MS (24ULL * 3600 * 1000)
/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994 ((time_t)784111777)

static void test_retryable(void **state)
{
	static const long yes[] = {429, 502, 503, 504};
	static const long no[] = {200, 204, 400, 401, 403, 404, 408, 413, 500, 501, 505};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(otlp_status_retryable(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(otlp_status_retryable(no[i]));
}

static void check_after(const char *v, time_t now, uint64_t want_ms)
{
	uint64_t got = 12345;

	assert_int_equal(otlp_retry_after_parse(v, now, &got), 0);
	assert_int_equal(got, want_ms);
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	check_after("120", 0, 120000);
	check_after(" 5 ", 0, 5000);
	check_after("0", 0, 0);
	check_after("86400", 0, DAY_MS);
	check_after("99999999999999999999999999", 0, DAY_MS); /* capped, no overflow */
}

static void test_retry_after_dates(void **state)
{
	(void)state;
	check_after("Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 30, 30000);
	check_after("Sunday, 06-Nov-94 08:49:37 GMT", T1994 - 2, 2000);
	check_after("Sun Nov  6 08:49:37 1994", T1994 - 1, 1000);
	check_after("Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 100, 0); /* in the past */
	check_after("Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 10 * 86400, DAY_MS);
	/* a real date relative to the real clock */
	{
		time_t now = time(NULL), later = now + 42;
		struct tm tm;
		char buf[64];

		gmtime_r(&later, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		check_after(buf, now, 42000);
	}
}

static void test_retry_after_invalid(void **state)
{
	static const char *const bad[] = {"",
					  "  ",
					  "-1",
					  "1.5",
					  "abc",
					  "5s",
					  "Sun, 06 Nov 1994 08:49:37", /* no GMT */
					  "Sun, 06 Nov 1994 08:49:37 GMT trailing",
					  "06 Nov 1994"};
	uint64_t ms = 777;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(otlp_retry_after_parse(bad[i], T1994, &ms), -EINVAL);
	assert_int_equal(otlp_retry_after_parse(NULL, T1994, &ms), -EINVAL);
	assert_int_equal(ms, 777); /* untouched on error */
}

static void test_backoff(void **state)
{
	uint64_t seed = 1, lo = UINT64_MAX, hi = 0;

	(void)state;
	for (int i = 0; i < 200; i++) {
		uint64_t d = otlp_backoff_ms(1, &seed);

		assert_in_range(d, OTLP_BACKOFF_INITIAL_MS / 2, OTLP_BACKOFF_INITIAL_MS);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(hi - lo > OTLP_BACKOFF_INITIAL_MS / 4); /* it is jittered */
	for (int i = 0; i < 50; i++) {
		assert_in_range(otlp_backoff_ms(2, &seed), 1000, 2000);
		assert_in_range(otlp_backoff_ms(3, &seed), 2000, 4000);
		assert_in_range(otlp_backoff_ms(10, &seed), OTLP_BACKOFF_MAX_MS / 2,
				OTLP_BACKOFF_MAX_MS);
		assert_in_range(otlp_backoff_ms(1000, &seed), OTLP_BACKOFF_MAX_MS / 2,
				OTLP_BACKOFF_MAX_MS);
	}
	seed = 0; /* a zero seed still works */
	assert_in_range(otlp_backoff_ms(1, &seed), 500, 1000);
	assert_int_not_equal(seed, 0);
}

static void test_retry_after_floor(void **state)
{
	(void)state;
	assert_int_equal(otlp_retry_after_floor_ms(1), OTLP_RETRY_AFTER_MIN_MS);
	assert_int_equal(otlp_retry_after_floor_ms(2), OTLP_RETRY_AFTER_MIN_MS);
	assert_int_equal(otlp_retry_after_floor_ms(3), 2 * OTLP_RETRY_AFTER_MIN_MS);
	assert_int_equal(otlp_retry_after_floor_ms(4), 4 * OTLP_RETRY_AFTER_MIN_MS);
	assert_int_equal(otlp_retry_after_floor_ms(40), OTLP_BACKOFF_MAX_MS);
	assert_int_equal(otlp_retry_after_floor_ms(UINT32_MAX), OTLP_BACKOFF_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retryable),	      cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_retry_after_dates), cmocka_unit_test(test_retry_after_invalid),
	    cmocka_unit_test(test_backoff),	      cmocka_unit_test(test_retry_after_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
