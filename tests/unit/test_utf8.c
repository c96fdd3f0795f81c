// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_utf8.c - unit tests for user/core/utf8.h: utf8_seq() against a
 * reference written the other way round (decode the code point, then ask
 * whether it is a scalar value encoded in the fewest bytes), on every
 * first and second byte with the third and fourth taken from each class
 * of byte, and on the named cases the exporters and the SQL summaries rely
 * on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

/* The reference: the sequence's length from its first byte's high bits, the
 * code point from its payload bits, then the rules of RFC 3629. */
static size_t ref_seq(const unsigned char *p)
{
	size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
				  : (p[0] & 0xf8) == 0xf0 ? 4
							   : 0;
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp;

	if (n <= 1)
		return n;
	cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void test_against_reference(void **state)
{
	/* one byte of each class: NUL, ASCII, continuation low/high, lead bytes */
	static const unsigned char tail[] = {0x00, 0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
					     0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff};
	unsigned char s[5] = {0};
	long valid = 0;

	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t c = 0; c < sizeof(tail); c++)
				for (size_t d = 0; d < sizeof(tail); d++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = tail[c];
					s[3] = tail[d];
					if (utf8_seq(s) != ref_seq(s))
						fail_msg("%02x %02x %02x %02x: %zu, want %zu", a, b,
							 tail[c], tail[d], utf8_seq(s), ref_seq(s));
					valid += utf8_seq(s) > 1;
				}
	assert_true(valid > 100000); /* the loops did reach the multi-byte forms */
}

static void test_named_cases(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq((const unsigned char *)"a"), 1);
	assert_int_equal(utf8_seq((const unsigned char *)""), 1); /* the NUL itself */
	assert_int_equal(utf8_seq((const unsigned char *)"\xc3\xa9"), 2);		  /* é */
	assert_int_equal(utf8_seq((const unsigned char *)"\xe2\x82\xac"), 3);	  /* € */
	assert_int_equal(utf8_seq((const unsigned char *)"\xef\xbf\xbd"), 3);	  /* U+FFFD */
	assert_int_equal(utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80"), 4); /* U+1F600 */
	assert_int_equal(utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(utf8_seq((const unsigned char *)"\xc0\x80"), 0);	  /* overlong NUL */
	assert_int_equal(utf8_seq((const unsigned char *)"\xc1\xbf"), 0);	  /* overlong */
	assert_int_equal(utf8_seq((const unsigned char *)"\xe0\x9f\xbf"), 0);	  /* overlong */
	assert_int_equal(utf8_seq((const unsigned char *)"\xf0\x8f\xbf\xbf"), 0); /* overlong */
	assert_int_equal(utf8_seq((const unsigned char *)"\xed\xa0\x80"), 0);	  /* U+D800 */
	assert_int_equal(utf8_seq((const unsigned char *)"\xed\xbf\xbf"), 0);	  /* U+DFFF */
	assert_int_equal(utf8_seq((const unsigned char *)"\xf4\x90\x80\x80"), 0); /* U+110000 */
	assert_int_equal(utf8_seq((const unsigned char *)"\xf5\x80\x80\x80"), 0);
	assert_int_equal(utf8_seq((const unsigned char *)"\x80"), 0); /* a lone continuation */
	assert_int_equal(utf8_seq((const unsigned char *)"\xff"), 0);
}

/* A sequence cut by the string's end stops at the NUL: nothing past it is
 * read (each string sits in a heap block of its exact size, so that the
 * unit-asan suite sees any read beyond it). */
static void test_cut_at_nul(void **state)
{
	static const char *cut[] = {"\xc3", "\xe2", "\xe2\x82", "\xf0", "\xf0\x9f", "\xf0\x9f\x98"};

	(void)state;
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		size_t n = strlen(cut[i]) + 1;
		unsigned char *p = malloc(n);

		assert_non_null(p);
		memcpy(p, cut[i], n);
		assert_int_equal(utf8_seq(p), 0);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_against_reference),
	    cmocka_unit_test(test_named_cases),
	    cmocka_unit_test(test_cut_at_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
