// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_sampler.c - unit tests for OTEL_TRACES_SAMPLER head sampling
 * (user/signals/sampler.c): sampler_parse() on the six OpenTelemetry sampler
 * names, the default when unset, bad names and ratios (-EINVAL and a
 * sentence); sampler_decide() for always_on/off, the trace-id ratio rule
 * (the last 8 bytes of the trace id, big-endian, below ratio * 2^64 are
 * kept) with ids crafted on both sides of the threshold, and how
 * parent-based samplers follow a remote parent's flag while the others
 * ignore it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sampler.h"

/* A trace id whose first 8 bytes are hi_fill and last 8 bytes are low,
 * big-endian. */
static void trace_id(uint8_t id[16], uint8_t hi_fill, uint64_t low)
{
	memset(id, hi_fill, 8);
	for (int i = 15; i >= 8; i--) {
		id[i] = (uint8_t)low;
		low >>= 8;
	}
}

static bool keeps(const struct sampler *s, uint64_t low)
{
	uint8_t id[16];

	trace_id(id, 0xa5, low);
	return sampler_decide(s, id, false, false);
}

static struct sampler parse_ok(const char *name, const char *arg)
{
	struct sampler s;
	char err[160] = "";

	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(sampler_parse(&s, name, arg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	return s;
}

/* --- sampler_parse --- */

static void test_parse_names(void **state)
{
	static const struct {
		const char *name;
		enum sampler_kind root;
		bool parent_based;
	} cases[] = {
	    {"always_on", SAMPLER_ALWAYS_ON, false},
	    {"always_off", SAMPLER_ALWAYS_OFF, false},
	    {"traceidratio", SAMPLER_RATIO, false},
	    {"parentbased_always_on", SAMPLER_ALWAYS_ON, true},
	    {"parentbased_always_off", SAMPLER_ALWAYS_OFF, true},
	    {"parentbased_traceidratio", SAMPLER_RATIO, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sampler s = parse_ok(cases[i].name, NULL);

		assert_int_equal(s.root, cases[i].root);
		assert_int_equal(s.parent_based, cases[i].parent_based);
		/* the ratio samplers default to 1.0 without an argument */
		if (s.root == SAMPLER_RATIO)
			assert_true(s.ratio == 1.0);
	}
}

static void test_parse_default(void **state)
{
	struct sampler s;

	(void)state;
	/* unset or empty: parentbased_always_on, whatever the argument */
	s = parse_ok(NULL, NULL);
	assert_int_equal(s.root, SAMPLER_ALWAYS_ON);
	assert_true(s.parent_based);
	s = parse_ok("", "0.1");
	assert_int_equal(s.root, SAMPLER_ALWAYS_ON);
	assert_true(s.parent_based);
}

static void test_parse_ratio(void **state)
{
	struct sampler s;

	(void)state;
	s = parse_ok("traceidratio", "0.25");
	assert_int_equal(s.root, SAMPLER_RATIO);
	assert_false(s.parent_based);
	assert_true(s.ratio == 0.25);
	s = parse_ok("parentbased_traceidratio", "0");
	assert_int_equal(s.root, SAMPLER_RATIO);
	assert_true(s.parent_based);
	assert_true(s.ratio == 0.0);
	s = parse_ok("parentbased_traceidratio", "1");
	assert_true(s.ratio == 1.0);
	s = parse_ok("traceidratio", "");
	assert_true(s.ratio == 1.0);
	/* the argument belongs to the ratio samplers only */
	s = parse_ok("always_off", "not a number");
	assert_int_equal(s.root, SAMPLER_ALWAYS_OFF);
	assert_false(s.parent_based);
}

static void expect_einval(const char *name, const char *arg, const char *mention)
{
	struct sampler s;
	char err[160] = "";

	assert_int_equal(sampler_parse(&s, name, arg, err, sizeof(err)), -EINVAL);
	/* a sentence that names the offending value */
	assert_true(strlen(err) > 20);
	if (!strstr(err, mention))
		fail_msg("error \"%s\" does not mention \"%s\"", err, mention);
}

static void test_parse_bad_names(void **state)
{
	(void)state;
	expect_einval("AlwaysOn", NULL, "AlwaysOn");
	expect_einval("always_on ", NULL, "always_on ");
	expect_einval("jaeger_remote", "x", "jaeger_remote");
	expect_einval("parentbased", NULL, "parentbased");
	expect_einval("ALWAYS_OFF", NULL, "ALWAYS_OFF");
}

static void test_parse_bad_ratios(void **state)
{
	(void)state;
	expect_einval("traceidratio", "1.5", "1.5");
	expect_einval("traceidratio", "-0.1", "-0.1");
	expect_einval("parentbased_traceidratio", "abc", "abc");
	expect_einval("traceidratio", "0.5x", "0.5x");
	expect_einval("traceidratio", "0.5 ", "0.5 ");
	expect_einval("traceidratio", "inf", "inf");
}

/* A NaN ratio passes "< 0 || > 1" and then keeps nothing. */
static void test_parse_nan_ratio(void **state)
{
	(void)state;
	expect_einval("traceidratio", "nan", "nan");
}

static void test_parse_small_err_buffer(void **state)
{
	struct sampler s;
	char err[9];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(sampler_parse(&s, "no_such_sampler", NULL, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7); /* truncated inside the buffer */
	assert_int_equal(err[8], 'x');
}

/* --- sampler_decide --- */

static void test_always(void **state)
{
	struct sampler on = {.root = SAMPLER_ALWAYS_ON}, off = {.root = SAMPLER_ALWAYS_OFF};

	(void)state;
	assert_true(keeps(&on, 0));
	assert_true(keeps(&on, UINT64_MAX));
	assert_false(keeps(&off, 0));
	assert_false(keeps(&off, UINT64_MAX));
}

static void test_ratio_edges(void **state)
{
	struct sampler zero = {.root = SAMPLER_RATIO, .ratio = 0.0};
	struct sampler one = {.root = SAMPLER_RATIO, .ratio = 1.0};

	(void)state;
	assert_false(keeps(&zero, 0));
	assert_false(keeps(&zero, 1));
	assert_false(keeps(&zero, UINT64_MAX));
	assert_true(keeps(&one, 0));
	assert_true(keeps(&one, UINT64_MAX));
	assert_true(keeps(&one, 1ull << 63));
}

static void test_ratio_half(void **state)
{
	struct sampler half = {.root = SAMPLER_RATIO, .ratio = 0.5};
	uint8_t a[16], b[16];

	(void)state;
	assert_true(keeps(&half, 0));
	assert_true(keeps(&half, (1ull << 62)));
	assert_true(keeps(&half, (1ull << 63) - 4096));
	assert_false(keeps(&half, 1ull << 63));
	assert_false(keeps(&half, (1ull << 63) + 1));
	assert_false(keeps(&half, UINT64_MAX));

	/* big-endian: the first of the last 8 bytes is the most significant */
	trace_id(a, 0, 0);
	a[8] = 0x7f;
	a[15] = 0xff;
	trace_id(b, 0, 0);
	b[8] = 0x80;
	assert_true(sampler_decide(&half, a, false, false));
	assert_false(sampler_decide(&half, b, false, false));

	/* the first 8 bytes play no part */
	trace_id(a, 0x00, 0x8000000000000000ull);
	trace_id(b, 0xff, 0x8000000000000000ull);
	assert_false(sampler_decide(&half, a, false, false));
	assert_false(sampler_decide(&half, b, false, false));
	trace_id(a, 0x00, 0x10);
	trace_id(b, 0xff, 0x10);
	assert_true(sampler_decide(&half, a, false, false));
	assert_true(sampler_decide(&half, b, false, false));
}

/* Right below the threshold: ids that a double cannot tell from
 * ratio * 2^64 must still be kept ("below" is exact). */
static void test_ratio_threshold_exact(void **state)
{
	struct sampler half = {.root = SAMPLER_RATIO, .ratio = 0.5};
	struct sampler quarter = {.root = SAMPLER_RATIO, .ratio = 0.25};

	(void)state;
	assert_true(keeps(&half, (1ull << 63) - 1));
	assert_true(keeps(&half, (1ull << 63) - 256));
	assert_true(keeps(&quarter, (1ull << 62) - 1));
	assert_false(keeps(&quarter, 1ull << 62));
}

static void test_ratio_proportion(void **state)
{
	struct sampler s = {.root = SAMPLER_RATIO, .ratio = 0.3};
	uint64_t x = 0x243f6a8885a308d3ull;
	int kept = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		kept += keeps(&s, x);
	}
	assert_in_range(kept, 29000, 31000);
}

static void test_parent_based(void **state)
{
	struct sampler on = {.root = SAMPLER_ALWAYS_ON, .parent_based = true};
	struct sampler off = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true};
	struct sampler ratio0 = {.root = SAMPLER_RATIO, .parent_based = true, .ratio = 0.0};
	uint8_t id[16];

	(void)state;
	trace_id(id, 1, 5);
	assert_false(sampler_decide(&on, id, true, false));
	assert_true(sampler_decide(&on, id, true, true));
	assert_true(sampler_decide(&off, id, true, true));
	assert_false(sampler_decide(&off, id, true, false));
	assert_true(sampler_decide(&ratio0, id, true, true));
	/* without a parent: the root sampler */
	assert_true(sampler_decide(&on, id, false, false));
	assert_false(sampler_decide(&off, id, false, true));
	assert_false(sampler_decide(&ratio0, id, false, true));
}

static void test_not_parent_based(void **state)
{
	struct sampler on = {.root = SAMPLER_ALWAYS_ON};
	struct sampler off = {.root = SAMPLER_ALWAYS_OFF};
	struct sampler half = {.root = SAMPLER_RATIO, .ratio = 0.5};
	uint8_t lo[16], hi[16];

	(void)state;
	trace_id(lo, 1, 5);
	trace_id(hi, 1, UINT64_MAX - 5);
	assert_true(sampler_decide(&on, lo, true, false));
	assert_false(sampler_decide(&off, lo, true, true));
	assert_true(sampler_decide(&half, lo, true, false));
	assert_false(sampler_decide(&half, hi, true, true));
}

/* What sampler_parse builds behaves as its name says. */
static void test_parse_then_decide(void **state)
{
	struct sampler s;
	uint8_t lo[16], hi[16];

	(void)state;
	trace_id(lo, 0, 1ull << 60);
	trace_id(hi, 0, 3ull << 62);
	s = parse_ok("parentbased_traceidratio", "0.5");
	assert_true(sampler_decide(&s, lo, false, false));
	assert_false(sampler_decide(&s, hi, false, false));
	assert_true(sampler_decide(&s, hi, true, true));
	assert_false(sampler_decide(&s, lo, true, false));
	s = parse_ok(NULL, NULL);
	assert_true(sampler_decide(&s, hi, false, false));
	assert_false(sampler_decide(&s, hi, true, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test(test_parse_default),
	    cmocka_unit_test(test_parse_ratio),
	    cmocka_unit_test(test_parse_bad_names),
	    cmocka_unit_test(test_parse_bad_ratios),
	    cmocka_unit_test(test_parse_nan_ratio),
	    cmocka_unit_test(test_parse_small_err_buffer),
	    cmocka_unit_test(test_always),
	    cmocka_unit_test(test_ratio_edges),
	    cmocka_unit_test(test_ratio_half),
	    cmocka_unit_test(test_ratio_threshold_exact),
	    cmocka_unit_test(test_ratio_proportion),
	    cmocka_unit_test(test_parent_based),
	    cmocka_unit_test(test_not_parent_based),
	    cmocka_unit_test(test_parse_then_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
