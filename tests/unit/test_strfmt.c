// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_strfmt.c - unit tests for user/core/strfmt.h: each helper gives
 * byte for byte what the snprintf call it replaces gives (text, length,
 * what is left past the NUL untouched), at every size around the text's.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "strfmt.h"

#define BUF 48

/* str_copy_n(size, src, n) against snprintf("%.*s") into buffers filled
 * with 'X' beforehand: same bytes everywhere, and the returned length is
 * the text's length (snprintf's own return is the untruncated length). */
static void same_as_snprintf(const char *src, size_t n)
{
	for (size_t size = 0; size <= BUF; size++) {
		char got[BUF + 1], want[BUF + 1];
		size_t len;

		memset(got, 'X', sizeof(got));
		memset(want, 'X', sizeof(want));
		len = str_copy_n(got, size, src, n);
		snprintf(want, size, "%.*s", (int)n, src);
		assert_memory_equal(got, want, sizeof(got));
		if (size)
			assert_int_equal(len, strlen(want));
		else
			assert_int_equal(len, 0);
	}
}

static void test_copy_n(void **state)
{
	(void)state;
	same_as_snprintf("", 0);
	same_as_snprintf("", 5);
	same_as_snprintf("postgresql", 0);
	same_as_snprintf("postgresql", 3);
	same_as_snprintf("postgresql", 10);
	same_as_snprintf("example.com:8080", 11); /* a Host's name before its port */
	same_as_snprintf("WRONGTYPE Operation against a key", 15);
	same_as_snprintf("0123456789012345678901234567890123456789012345678901234567", 60);
}

/* n past the text's NUL: the copy stops at the NUL, reading no further. */
static void test_copy_n_stops_at_nul(void **state)
{
	static const char src[8] = {'a', 'b', '\0', 'c', 'd', 'e', 'f', 'g'};
	char out[16];

	(void)state;
	assert_int_equal(str_copy_n(out, sizeof(out), src, sizeof(src)), 2);
	assert_string_equal(out, "ab");
	same_as_snprintf(src, 8);
}

static void test_copy(void **state)
{
	static const char *texts[] = {"", "x", "SELECT", "SELECT users orders",
				      "0123456789012345678901234567890123456789012345678901"};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		for (size_t size = 0; size <= BUF; size++) {
			char got[BUF + 1], want[BUF + 1];

			memset(got, 'X', sizeof(got));
			memset(want, 'X', sizeof(want));
			str_copy(got, size, texts[i]);
			snprintf(want, size, "%s", texts[i]);
			assert_memory_equal(got, want, sizeof(got));
		}
	}
}

static void test_int8(void **state)
{
	static const int values[] = {
	    0,	   1,	  9,	  10,	  99,	   100,	    200,      404, 999, 1000,	 6379,
	    65535, 99999, 100000, 999999, 1000000, 9999999, 10000000, -1,  -42, INT_MAX, INT_MIN};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char got[8], want[8];

		memset(got, 'X', sizeof(got));
		memset(want, 'X', sizeof(want));
		str_int8(got, values[i]);
		snprintf(want, sizeof(want), "%d", values[i]);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_n),
	    cmocka_unit_test(test_copy_n_stops_at_nul),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_int8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
