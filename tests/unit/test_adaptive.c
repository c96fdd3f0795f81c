// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_adaptive.c - unit tests for the adaptive keep-probabilities and the
 * per-node span budget (struct adaptive in user/signals/sampler.c), driven
 * by a fake clock: a healthy route stays at 0; a route whose error ratio
 * passes the threshold rises to 1 in doubling steps and decays once the
 * failures have left the window; the latency rule (more than 1 % over the
 * SLO latency); routes are judged on their own, the service's rate serves
 * routes beyond the cap; idle keys are forgotten; the budget caps spans
 * per second, refills, and leaves a quiet service its share while a busy
 * one is over; sampler_below() is monotonic in p; the rule names.
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

#define SEC 1000000000ull
#define T0  (1000 * SEC) /* the fake clock's start: any monotonic time */

static struct adaptive *open_adaptive(double error_ratio, double budget)
{
	struct adaptive_opts o = {.error_ratio = error_ratio, .budget = budget};
	struct adaptive *a = adaptive_new(&o);

	assert_non_null(a);
	return a;
}

/* n requests of svc/route at now, the first nerr of them failed. */
static void traffic(struct adaptive *a, const char *svc, const char *route, int n, int nerr,
		    int nslow, uint64_t now)
{
	for (int i = 0; i < n; i++)
		adaptive_observe(a, svc, route, i < nerr, i < nslow, now);
}

static double prob(struct adaptive *a, const char *svc, const char *route, uint64_t now,
		   enum sampling_rule *why)
{
	enum sampling_rule w;

	return adaptive_prob(a, svc, route, now, why ? why : &w);
}

static void test_healthy_stays_zero(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	enum sampling_rule why = RULE_HEAD;

	(void)state;
	for (int s = 0; s < 120; s++)
		traffic(a, "shop", "/ok", 100, 0, 1, T0 + s * SEC); /* 1 % slow: not above */
	assert_true(prob(a, "shop", "/ok", T0 + 120 * SEC, &why) == 0);
	assert_int_equal(why, RULE_NONE);
	/* never seen */
	assert_true(prob(a, "nobody", "/x", T0, &why) == 0);
	assert_int_equal(why, RULE_NONE);
	adaptive_free(a);
}

/* 10 % errors against a 0.5 % threshold: 1/64 once a second of them is
 * complete, doubling every second to 1; then the failures stop, and once
 * the window's ratio is below the threshold again (the failures leave the
 * 60 s window) the probability decays by a tenth per second. */
static void test_error_ratio_rises_and_decays(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	enum sampling_rule why;
	uint64_t t = T0;
	double p;

	(void)state;
	traffic(a, "shop", "/pay", 100, 0, 0, t);
	assert_true(prob(a, "shop", "/pay", t, NULL) == 0);
	t += SEC;
	traffic(a, "shop", "/pay", 100, 10, 0, t);
	/* the second still filling is not judged yet */
	assert_true(prob(a, "shop", "/pay", t, NULL) == 0);
	t += SEC;
	traffic(a, "shop", "/pay", 100, 10, 0, t);
	p = prob(a, "shop", "/pay", t, &why);
	assert_true(p == ADAPTIVE_P_MIN);
	assert_int_equal(why, RULE_ADAPTIVE_ERROR);
	for (int s = 1; s <= 6; s++) {
		t += SEC;
		traffic(a, "shop", "/pay", 100, 10, 0, t);
		assert_true(prob(a, "shop", "/pay", t, NULL) == ADAPTIVE_P_MIN * (1 << s));
	}
	t += SEC;
	traffic(a, "shop", "/pay", 100, 10, 0, t);
	assert_true(prob(a, "shop", "/pay", t, NULL) == 1.0);
	/* recovered: still 1 while the errors are in the window */
	for (int s = 0; s < 48; s++) {
		t += SEC;
		traffic(a, "shop", "/pay", 100, 0, 0, t);
	}
	assert_true(prob(a, "shop", "/pay", t, NULL) == 1.0);
	for (int s = 0; s < 12; s++) {
		t += SEC;
		traffic(a, "shop", "/pay", 100, 0, 0, t);
	}
	p = prob(a, "shop", "/pay", t, &why);
	assert_true(p < 1.0 && p > 0.5);
	assert_int_equal(why, RULE_ADAPTIVE_ERROR); /* what raised it */
	for (int s = 0; s < 100; s++) {
		t += SEC;
		traffic(a, "shop", "/pay", 100, 0, 0, t);
	}
	assert_true(prob(a, "shop", "/pay", t, &why) == 0);
	assert_int_equal(why, RULE_NONE);
	adaptive_free(a);
}

/* Below the threshold (0.4 % < 0.5 %) nothing moves; error_ratio 0 turns
 * the error rule off. */
static void test_error_threshold(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	struct adaptive *off = open_adaptive(0, 0);

	(void)state;
	for (int s = 0; s < 10; s++) {
		traffic(a, "shop", "/pay", 1000, 4, 0, T0 + s * SEC);
		traffic(off, "shop", "/pay", 100, 100, 0, T0 + s * SEC);
	}
	assert_true(prob(a, "shop", "/pay", T0 + 10 * SEC, NULL) == 0);
	assert_true(prob(off, "shop", "/pay", T0 + 10 * SEC, NULL) == 0);
	adaptive_free(a);
	adaptive_free(off);
}

/* p99 above the SLO latency: more than 1 % of the window's requests slow. */
static void test_latency_rule(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	enum sampling_rule why;

	(void)state;
	traffic(a, "shop", "/search", 100, 0, 2, T0);
	traffic(a, "shop", "/search", 100, 0, 2, T0 + SEC);
	assert_true(prob(a, "shop", "/search", T0 + SEC, &why) == ADAPTIVE_P_MIN);
	assert_int_equal(why, RULE_ADAPTIVE_SLOW);
	traffic(a, "shop", "/search", 100, 0, 2, T0 + 4 * SEC);
	assert_true(prob(a, "shop", "/search", T0 + 4 * SEC, NULL) == ADAPTIVE_P_MIN * 8);
	adaptive_free(a);
}

/* Each route has its own rate; a request without a route, or of a route
 * beyond the cap, gets its service's. */
static void test_routes_apart_and_cap(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	struct adaptive_stats st;
	char route[32];
	enum sampling_rule why;

	(void)state;
	for (int s = 0; s < 8; s++) {
		traffic(a, "shop", "/pay", 100, 10, 0, T0 + s * SEC);
		traffic(a, "shop", "/ok", 100, 0, 0, T0 + s * SEC);
		traffic(a, "other", "/pay", 100, 0, 0, T0 + s * SEC);
	}
	assert_true(prob(a, "shop", "/pay", T0 + 8 * SEC, NULL) == 1.0);
	assert_true(prob(a, "shop", "/ok", T0 + 8 * SEC, NULL) == 0);
	assert_true(prob(a, "other", "/pay", T0 + 8 * SEC, NULL) == 0);
	/* the service as a whole fails 5 %: its rate serves untracked routes */
	assert_true(prob(a, "shop", "", T0 + 8 * SEC, &why) == 1.0);
	assert_int_equal(why, RULE_ADAPTIVE_ERROR);
	assert_true(prob(a, "shop", NULL, T0 + 8 * SEC, NULL) == 1.0);
	for (int i = 0; i < ADAPTIVE_ROUTES; i++) {
		snprintf(route, sizeof(route), "/r%d", i);
		adaptive_observe(a, "shop", route, false, false, T0 + 8 * SEC);
	}
	adaptive_stats(a, &st);
	assert_int_equal(st.untracked, 3); /* the table held 3 routes before */
	assert_true(prob(a, "shop", "/r600", T0 + 8 * SEC, NULL) == 1.0);
	assert_true(prob(a, "shop", "/r0", T0 + 8 * SEC, NULL) == 0);
	adaptive_free(a);
}

/* A key idle for a whole window is forgotten: its room serves a new route. */
static void test_sweep_forgets_idle(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 0);
	struct adaptive_stats st;
	char route[32];
	double p;

	(void)state;
	for (int i = 0; i < ADAPTIVE_ROUTES; i++) {
		snprintf(route, sizeof(route), "/r%d", i);
		adaptive_observe(a, "shop", route, true, false, T0);
	}
	adaptive_observe(a, "shop", "/late", true, false, T0);
	adaptive_stats(a, &st);
	assert_int_equal(st.untracked, 1);
	/* /r7 stays busy */
	for (int s = 1; s <= 70; s++)
		adaptive_observe(a, "shop", "/r7", false, false, T0 + s * SEC);
	adaptive_sweep(a, T0 + 59 * SEC);
	adaptive_observe(a, "shop", "/late", false, false, T0 + 59 * SEC);
	adaptive_stats(a, &st);
	assert_int_equal(st.untracked, 2);
	adaptive_sweep(a, T0 + 70 * SEC);
	for (int s = 0; s < 3; s++)
		adaptive_observe(a, "shop", "/late", true, false, T0 + (70 + s) * SEC);
	adaptive_stats(a, &st);
	assert_int_equal(st.untracked, 2);
	assert_true(prob(a, "shop", "/late", T0 + 72 * SEC, NULL) == ADAPTIVE_P_MIN * 2);
	/* /r7 was kept: it remembers its failure at T0, and decays since it left */
	p = prob(a, "shop", "/r7", T0 + 72 * SEC, NULL);
	assert_true(p > 0 && p < 0.5);
	adaptive_free(a);
}

/* 100 spans per second, one service: ten traces of 10 spans, the 11th is
 * dropped and counted; a second later there is room again. */
static void test_budget_caps(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 100);
	struct adaptive *free_run = open_adaptive(0.005, 0);
	struct adaptive_stats st;
	int kept = 0;

	(void)state;
	for (int i = 0; i < 11; i++)
		kept += adaptive_budget(a, "shop", 10, T0);
	assert_int_equal(kept, 10);
	adaptive_stats(a, &st);
	assert_int_equal(st.budget_traces, 1);
	assert_int_equal(st.budget_spans, 10);
	/* 50 ms refill 5 spans: one more trace, which overdraws */
	assert_true(adaptive_budget(a, "shop", 10, T0 + SEC / 20));
	assert_false(adaptive_budget(a, "shop", 10, T0 + SEC / 20));
	assert_true(adaptive_budget(a, "shop", 10, T0 + SEC + SEC / 20));
	/* no cap */
	for (int i = 0; i < 10000; i++)
		assert_true(adaptive_budget(free_run, "shop", 10, T0));
	adaptive_free(a);
	adaptive_free(free_run);
}

/* Two services: the busy one cannot take the quiet one's share. Over ten
 * seconds the busy service asks for 5000 spans a second, the quiet one 20:
 * the quiet one gets all of its traces, the busy one about the rest. */
static void test_budget_fair(void **state)
{
	struct adaptive *a = open_adaptive(0.005, 100);
	int busy = 0, quiet = 0;

	(void)state;
	adaptive_budget(a, "busy", 1, T0);
	adaptive_budget(a, "quiet", 1, T0);
	for (uint64_t ms = 1; ms <= 10000; ms++) {
		uint64_t now = T0 + ms * 1000000ull;

		for (int i = 0; i < 5; i++)
			busy += adaptive_budget(a, "busy", 1, now);
		if (ms % 50 == 0)
			quiet += adaptive_budget(a, "quiet", 1, now);
	}
	assert_int_equal(quiet, 200);
	/* 100 spans a second in all, less the quiet service's 20 */
	assert_in_range(busy, 700, 860);
	adaptive_free(a);
}

static void test_below_monotonic(void **state)
{
	uint8_t id[16] = {0};
	int at_quarter = 0, at_half = 0;

	(void)state;
	for (int i = 0; i < 4096; i++) {
		uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15ull;

		for (int b = 0; b < 8; b++)
			id[15 - b] = (uint8_t)(v >> (8 * b));
		if (sampler_below(id, 0.25)) {
			at_quarter++;
			assert_true(sampler_below(id, 0.5));
		}
		at_half += sampler_below(id, 0.5);
		assert_true(sampler_below(id, 1.0));
		assert_false(sampler_below(id, 0));
	}
	assert_in_range(at_quarter, 900, 1150);
	assert_in_range(at_half, 1900, 2200);
}

static void test_rule_names(void **state)
{
	(void)state;
	assert_string_equal(sampling_rule_name(RULE_HEAD), "head");
	assert_string_equal(sampling_rule_name(RULE_ERROR), "error");
	assert_string_equal(sampling_rule_name(RULE_SLOW), "slow");
	assert_string_equal(sampling_rule_name(RULE_CRITICAL), "critical");
	assert_string_equal(sampling_rule_name(RULE_ADAPTIVE_ERROR), "adaptive.error_ratio");
	assert_string_equal(sampling_rule_name(RULE_ADAPTIVE_SLOW), "adaptive.latency");
	assert_string_equal(sampling_rule_name(RULE_NONE), "");
	assert_string_equal(sampling_rule_name((enum sampling_rule)99), "");
	adaptive_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthy_stays_zero),
	    cmocka_unit_test(test_error_ratio_rises_and_decays),
	    cmocka_unit_test(test_error_threshold),
	    cmocka_unit_test(test_latency_rule),
	    cmocka_unit_test(test_routes_apart_and_cap),
	    cmocka_unit_test(test_sweep_forgets_idle),
	    cmocka_unit_test(test_budget_caps),
	    cmocka_unit_test(test_budget_fair),
	    cmocka_unit_test(test_below_monotonic),
	    cmocka_unit_test(test_rule_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
