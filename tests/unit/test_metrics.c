// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_metrics.c - unit tests for the metric registry (user/signals/metrics.c):
 * argument validation, series lookup, the series cap and overflow series,
 * updates, exemplars (histogram buckets' and counters'), the walk,
 * concurrency with rendering, speed and memory per series.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "prom.h"

/* W3C trace context ids (binary, as the registry keeps them). */
static const uint8_t TRACE_ID[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				     0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const uint8_t TRACE_ID_2[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				       0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x37};
static const uint8_t SPAN_ID[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const double http_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				      0.5,   0.75, 1,	  2.5,	5,     7.5, 10};
static const char *const six_labels[] = {
    "http_request_method", "http_route",  "http_response_status_code",
    "server_address",	   "server_port", "error_type"};

/* Collects what a walk shows, for assertions. */
struct seen {
	size_t families;
	size_t points;
	char text[4096]; /* one line per point: family{name=value,...} value|count/sum */
	size_t len;
};

static int seen_family(void *ctx, const struct metric_family *f)
{
	struct seen *s = ctx;

	(void)f;
	s->families++;
	return 0;
}

static int seen_point(void *ctx, const struct metric_point *p)
{
	struct seen *s = ctx;

	s->points++;
	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s{",
				   metric_family_name(p->family));
	for (size_t i = 0; i < p->nlabels; i++)
		s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s%s=%s",
					   i ? "," : "", p->label_names[i], p->label_values[i]);
	if (metric_family_type(p->family) == METRIC_HISTOGRAM)
		s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
					   "} %llu/%g\n", (unsigned long long)p->count, p->sum);
	else
		s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "} %g\n",
					   p->value);
	return 0;
}

static void walk_into(struct metric_registry *r, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(metric_registry_walk(r, seen_family, seen_point, s), 0);
}

static void expect_einval(struct metric_family *f)
{
	assert_null(f);
	assert_int_equal(errno, EINVAL);
}

static void test_family_validation(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const dup[] = {"a", "a"};
	const char *const le[] = {"le"};
	const char *const reserved[] = {"__name"};
	const char *const overflow[] = {METRIC_OVERFLOW_LABEL};
	const char *const dash[] = {"a-b"};
	const char *const digit[] = {"1a"};
	const double unsorted[] = {1, 0.5};
	const double equal[] = {1, 1};
	const double nan_b[] = {NAN};
	const double inf_b[] = {1, INFINITY};
	const double one[] = {1};

	(void)state;
	assert_non_null(r);
	expect_einval(metric_family_new(r, METRIC_GAUGE, "", NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, NULL, NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "1abc", NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "a-b", NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "a b", NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, (enum metric_type)7, "x", NULL, NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(NULL, METRIC_GAUGE, "x", NULL, NULL, NULL, 0, NULL, 0, 0));
	/* counters are named without _total */
	expect_einval(
	    metric_family_new(r, METRIC_COUNTER, "req_total", NULL, NULL, NULL, 0, NULL, 0, 0));
	/* the unit must be the name's suffix */
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "latency", NULL, "seconds", NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "seconds", NULL, "seconds", NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "x_seconds", NULL, "", NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "x_sec-s", NULL, "sec-s", NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "xseconds", NULL, "seconds", NULL, 0, NULL, 0, 0));
	/* labels */
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, dup, 2, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_HISTOGRAM, "x", NULL, NULL, le, 1, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, reserved, 1, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, overflow, 1, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, dash, 1, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, digit, 1, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "x", NULL, NULL, NULL, 1, NULL, 0, 0));
	/* buckets */
	expect_einval(
	    metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, unsorted, 2, 0));
	expect_einval(
	    metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, equal, 2, 0));
	expect_einval(
	    metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, nan_b, 1, 0));
	expect_einval(
	    metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, inf_b, 2, 0));
	expect_einval(metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, NULL, 1, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "g", NULL, NULL, NULL, 0, one, 1, 0));

	/* none of the rejected ones was registered */
	assert_int_equal(metric_registry_series_count(r), 0);
	{
		struct seen s;

		walk_into(r, &s);
		assert_int_equal(s.families, 0);
	}

	/* valid: "le" is only reserved in histograms; colons are allowed in names */
	assert_non_null(
	    metric_family_new(r, METRIC_GAUGE, "ns:x_seconds", NULL, "seconds", le, 1, NULL, 0, 0));
	assert_non_null(
	    metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, NULL, 0, 0));
	metric_registry_free(r);
	metric_registry_free(NULL);
}

static void test_name_collisions(void **state)
{
	struct metric_registry *r = metric_registry_new();

	(void)state;
	assert_non_null(r);
	assert_non_null(
	    metric_family_new(r, METRIC_COUNTER, "req", "h", NULL, NULL, 0, NULL, 0, 0));
	assert_non_null(
	    metric_family_new(r, METRIC_HISTOGRAM, "lat", "h", NULL, NULL, 0, NULL, 0, 0));
	/* same family name */
	expect_einval(metric_family_new(r, METRIC_COUNTER, "req", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_GAUGE, "req", "h", NULL, NULL, 0, NULL, 0, 0));
	/* names the existing families' samples use */
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "req_total", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "req_created", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "lat_bucket", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_GAUGE, "lat_count", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(
	    metric_family_new(r, METRIC_COUNTER, "lat_sum", "h", NULL, NULL, 0, NULL, 0, 0));
	/* and the other way round: a new family whose samples hit an existing name */
	assert_non_null(
	    metric_family_new(r, METRIC_GAUGE, "x_count", "h", NULL, NULL, 0, NULL, 0, 0));
	expect_einval(metric_family_new(r, METRIC_HISTOGRAM, "x", "h", NULL, NULL, 0, NULL, 0, 0));
	/* near misses are fine */
	assert_non_null(
	    metric_family_new(r, METRIC_GAUGE, "req_totals", "h", NULL, NULL, 0, NULL, 0, 0));
	assert_non_null(metric_family_new(r, METRIC_GAUGE, "re", "h", NULL, NULL, 0, NULL, 0, 0));
	metric_registry_free(r);
}

static void test_series_lookup(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"method", "route"};
	const char *const a[] = {"GET", "/a"}, *const a2[] = {"GET", "/a"};
	const char *const b[] = {"GET", "/b"}, *const swapped[] = {"/a", "GET"};
	const char *const empty[] = {"", ""}, *const nulls[] = {NULL, NULL};
	const char *const joined1[] = {"ab", "c"}, *const joined2[] = {"a", "bc"};
	struct metric_family *f;
	struct metric_series *sa, *sb;
	char buf[32];

	(void)state;
	assert_non_null(r);
	f = metric_family_new(r, METRIC_COUNTER, "req", "Requests.", NULL, names, 2, NULL, 0, 0);
	assert_non_null(f);
	assert_string_equal(metric_family_name(f), "req");
	assert_int_equal(metric_family_type(f), METRIC_COUNTER);
	assert_string_equal(metric_family_help(f), "Requests.");
	assert_null(metric_family_unit(f));

	sa = metric_series_get(f, a);
	sb = metric_series_get(f, b);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_ptr_not_equal(sa, sb);
	assert_ptr_equal(metric_series_get(f, a2), sa); /* by value, not by pointer */
	assert_ptr_not_equal(metric_series_get(f, swapped), sa);
	assert_ptr_equal(metric_series_get(f, nulls), metric_series_get(f, empty));
	assert_ptr_equal(metric_series_get(f, NULL), metric_series_get(f, empty));
	assert_ptr_not_equal(metric_series_get(f, joined1), metric_series_get(f, joined2));
	assert_int_equal(metric_family_series_count(f), 6);

	/* label values are copied */
	strcpy(buf, "GET");
	{
		const char *const v[] = {buf, "/c"};
		struct metric_series *sc = metric_series_get(f, v);

		strcpy(buf, "PUT");
		assert_ptr_not_equal(metric_series_get(f, v), sc);
		strcpy(buf, "GET");
		assert_ptr_equal(metric_series_get(f, v), sc);
	}
	assert_null(metric_series_get(NULL, a));
	assert_int_equal(errno, EINVAL);
	metric_registry_free(r);
}

/* Thousands of series: the table grows and every lookup still finds its own series. */
static void test_many_series(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"id"};
	struct metric_series **s = calloc(20000, sizeof(*s));
	struct metric_family *f;
	char v[16];

	(void)state;
	assert_non_null(r);
	assert_non_null(s);
	f = metric_family_new(r, METRIC_GAUGE, "g", NULL, NULL, names, 1, NULL, 0, 0);
	assert_non_null(f);
	for (int i = 0; i < 20000; i++) {
		const char *const lv[] = {v};

		snprintf(v, sizeof(v), "%d", i);
		s[i] = metric_series_get(f, lv);
		assert_non_null(s[i]);
		metric_gauge_set(s[i], i);
	}
	for (int i = 0; i < 20000; i++) {
		const char *const lv[] = {v};

		snprintf(v, sizeof(v), "%d", i);
		assert_ptr_equal(metric_series_get(f, lv), s[i]);
	}
	assert_int_equal(metric_family_series_count(f), 20000);
	assert_int_equal(metric_registry_series_count(r), 20000);
	assert_int_equal(metric_family_overflow_total(f), 0);
	free(s);
	metric_registry_free(r);
}

static void test_overflow(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"route", "code"};
	const char *const v1[] = {"/a", "200"}, *const v2[] = {"/b", "200"};
	const char *const v3[] = {"/c", "200"}, *const v4[] = {"/d", "500"};
	struct metric_family *f, *g;
	struct metric_series *s1, *s2, *o;
	struct seen seen;

	(void)state;
	assert_non_null(r);
	f = metric_family_new(r, METRIC_COUNTER, "req", "h", NULL, names, 2, NULL, 0, 2);
	g = metric_family_new(r, METRIC_GAUGE, "other", "h", NULL, names, 2, NULL, 0, 0);
	assert_non_null(f);
	assert_non_null(g);
	s1 = metric_series_get(f, v1);
	s2 = metric_series_get(f, v2);
	metric_counter_add(s1, 1);
	metric_counter_add(s2, 2);
	assert_int_equal(metric_family_overflow_total(f), 0);

	/* past the cap: one shared overflow series, counted per fold */
	o = metric_series_get(f, v3);
	assert_non_null(o);
	assert_ptr_not_equal(o, s1);
	assert_ptr_not_equal(o, s2);
	metric_counter_add(o, 4);
	assert_ptr_equal(metric_series_get(f, v4), o);
	metric_counter_add(o, 8);
	assert_ptr_equal(metric_series_get(f, v3), o);
	metric_counter_add(o, 16);
	assert_int_equal(metric_family_overflow_total(f), 3);
	assert_int_equal(metric_family_series_count(f), 2);

	/* existing label sets keep their own series */
	assert_ptr_equal(metric_series_get(f, v1), s1);
	assert_int_equal(metric_family_overflow_total(f), 3);

	/* other families are not capped by this one */
	metric_gauge_set(metric_series_get(g, v3), 5);
	assert_int_equal(metric_registry_series_count(r), 3);

	walk_into(r, &seen);
	assert_int_equal(seen.families, 2);
	assert_string_equal(seen.text, "req{route=/a,code=200} 1\n"
				       "req{route=/b,code=200} 2\n"
				       "req{otel_metric_overflow=true} 28\n"
				       "other{route=/c,code=200} 5\n");
	metric_registry_free(r);
}

static void test_updates(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const double b[] = {0.1, 1, 10};
	struct metric_family *c, *g, *h;
	struct metric_series *sc, *sg, *sh;
	struct seen seen;

	(void)state;
	assert_non_null(r);
	c = metric_family_new(r, METRIC_COUNTER, "c", NULL, NULL, NULL, 0, NULL, 0, 0);
	g = metric_family_new(r, METRIC_GAUGE, "g", NULL, NULL, NULL, 0, NULL, 0, 0);
	h = metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, b, 3, 0);
	sc = metric_series_get(c, NULL);
	sg = metric_series_get(g, NULL);
	sh = metric_series_get(h, NULL);
	assert_non_null(sc);
	assert_non_null(sg);
	assert_non_null(sh);

	metric_counter_add(sc, 1.5);
	metric_counter_add(sc, -1);  /* ignored: counters only go up */
	metric_counter_add(sc, NAN); /* ignored */
	metric_counter_add(sc, 0);
	metric_gauge_add(sc, 100); /* wrong type: ignored */
	metric_histogram_observe(sc, 1);

	metric_gauge_set(sg, 10);
	metric_gauge_add(sg, -12.5);
	metric_counter_add(sg, 100); /* wrong type: ignored */

	metric_histogram_observe(sh, 0.1); /* le is inclusive: bucket 0.1 */
	metric_histogram_observe(sh, 0.10000000000000002);
	metric_histogram_observe(sh, 10);
	metric_histogram_observe(sh, 11);  /* +Inf */
	metric_histogram_observe(sh, -3);  /* below everything: first bucket */
	metric_histogram_observe(sh, NAN); /* ignored */
	metric_histogram_observe(sh, INFINITY);
	metric_gauge_set(sh, 1); /* wrong type: ignored */

	metric_counter_add(NULL, 1);
	metric_gauge_set(NULL, 1);
	metric_histogram_observe(NULL, 1);
	metric_histogram_observe_exemplar(NULL, 1, NULL, NULL, 0);

	walk_into(r, &seen);
	assert_string_equal(seen.text, "c{} 1.5\ng{} -2.5\nh{} 6/inf\n");
	metric_registry_free(r);
}

/* Copies the first histogram point's bucket counts and exemplars. */
struct hist_copy {
	uint64_t counts[8];
	struct metric_exemplar ex[8];
	bool has_ex;
	size_t nbounds;
};

static int copy_hist(void *ctx, const struct metric_point *p)
{
	struct hist_copy *h = ctx;

	if (metric_family_type(p->family) != METRIC_HISTOGRAM)
		return 0;
	h->nbounds = p->nbounds;
	memcpy(h->counts, p->bucket_counts, (p->nbounds + 1) * sizeof(uint64_t));
	h->has_ex = p->exemplars != NULL;
	if (p->exemplars)
		memcpy(h->ex, p->exemplars, (p->nbounds + 1) * sizeof(*p->exemplars));
	return 1; /* stop: the walk returns it */
}

static void test_histogram_buckets(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const double b[] = {0.1, 1, 10};
	struct metric_family *h;
	struct metric_series *s;
	struct hist_copy hc;

	(void)state;
	assert_non_null(r);
	h = metric_family_new(r, METRIC_HISTOGRAM, "h_seconds", "x", "seconds", NULL, 0, b, 3, 0);
	assert_non_null(h);
	s = metric_series_get(h, NULL);
	metric_histogram_observe(s, 0.1);
	metric_histogram_observe(s, 0.10000000000000002);
	metric_histogram_observe(s, 1);
	metric_histogram_observe(s, 10);
	metric_histogram_observe(s, 11);
	metric_histogram_observe(s, -3);
	metric_histogram_observe(s, NAN);

	memset(&hc, 0, sizeof(hc));
	assert_int_equal(metric_registry_walk(r, NULL, copy_hist, &hc), 1);
	assert_int_equal(hc.nbounds, 3);
	assert_int_equal(hc.counts[0], 2);
	assert_int_equal(hc.counts[1], 2);
	assert_int_equal(hc.counts[2], 1);
	assert_int_equal(hc.counts[3], 1);
	assert_false(hc.has_ex);
	metric_registry_free(r);
}

static void test_exemplars(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const double b[] = {0.1, 1};
	const uint8_t zero16[16] = {0}, zero8[8] = {0};
	struct metric_family *h;
	struct metric_series *s;
	struct hist_copy hc;

	(void)state;
	assert_non_null(r);
	h = metric_family_new(r, METRIC_HISTOGRAM, "h", "x", NULL, NULL, 0, b, 2, 0);
	s = metric_series_get(h, NULL);

	/* absent (all-zero or NULL) ids: counted, no exemplar */
	metric_histogram_observe_exemplar(s, 0.5, zero16, SPAN_ID, 1);
	metric_histogram_observe_exemplar(s, 0.5, TRACE_ID, zero8, 1);
	metric_histogram_observe_exemplar(s, 0.5, TRACE_ID, NULL, 1);
	metric_histogram_observe_exemplar(s, 0.5, NULL, SPAN_ID, 1);
	memset(&hc, 0, sizeof(hc));
	metric_registry_walk(r, NULL, copy_hist, &hc);
	assert_int_equal(hc.counts[1], 4);
	assert_false(hc.has_ex);

	metric_histogram_observe_exemplar(s, 0.5, TRACE_ID, SPAN_ID, 1700000000.25);
	metric_histogram_observe_exemplar(s, 0.7, TRACE_ID_2, SPAN_ID, 1700000001);
	metric_histogram_observe_exemplar(s, 5, TRACE_ID, SPAN_ID, 1700000002);
	metric_histogram_observe(s, 0.05);
	memset(&hc, 0, sizeof(hc));
	metric_registry_walk(r, NULL, copy_hist, &hc);
	assert_true(hc.has_ex);
	assert_int_equal(hc.counts[0], 1);
	assert_int_equal(hc.counts[1], 6);
	assert_int_equal(hc.counts[2], 1);
	assert_false(metric_exemplar_present(&hc.ex[0]));
	/* the latest exemplar of the bucket wins */
	assert_true(metric_exemplar_present(&hc.ex[1]));
	assert_int_equal(hc.ex[1].trace_id[0], 0x4b);
	assert_int_equal(hc.ex[1].trace_id[15], 0x37);
	assert_int_equal(hc.ex[1].span_id[0], 0x00);
	assert_int_equal(hc.ex[1].span_id[7], 0xb7);
	assert_true(hc.ex[1].value == 0.7);
	assert_true(hc.ex[1].timestamp == 1700000001);
	assert_true(metric_exemplar_present(&hc.ex[2]));
	assert_true(hc.ex[2].value == 5);
	assert_int_equal(hc.ex[2].trace_id[15], 0x36);
	metric_registry_free(r);
}

/* The counter points of a walk: value and exemplar by label value k. */
struct counter_copy {
	size_t n;
	char k[4][8];
	double value[4];
	size_t nexemplars[4];
	struct metric_exemplar ex[4];
};

static int copy_counters(void *ctx, const struct metric_point *p)
{
	struct counter_copy *c = ctx;

	if (metric_family_type(p->family) != METRIC_COUNTER || c->n == 4)
		return 0;
	snprintf(c->k[c->n], sizeof(c->k[0]), "%s", p->label_values[0]);
	c->value[c->n] = p->value;
	c->nexemplars[c->n] = p->nexemplars;
	assert_true((p->exemplars != NULL) == (p->nexemplars != 0));
	if (p->exemplars)
		c->ex[c->n] = p->exemplars[0];
	c->n++;
	return 0;
}

static void test_counter_exemplars(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"k"};
	const char *const a[] = {"a"}, *const b[] = {"b"}, *const c3[] = {"c"};
	const double bounds[] = {1};
	const uint8_t zero16[16] = {0};
	struct metric_family *c, *g, *h;
	struct metric_snapshot *snap;
	struct counter_copy cc;
	struct hist_copy hc;
	struct seen seen;

	(void)state;
	assert_non_null(r);
	c = metric_family_new(r, METRIC_COUNTER, "c", "x", NULL, names, 1, NULL, 0, 2);
	g = metric_family_new(r, METRIC_GAUGE, "g", "x", NULL, NULL, 0, NULL, 0, 0);
	h = metric_family_new(r, METRIC_HISTOGRAM, "h", "x", NULL, NULL, 0, bounds, 1, 0);
	assert_non_null(c);
	assert_non_null(g);
	assert_non_null(h);

	/* absent ids: added, no exemplar; another series never pays for one */
	metric_counter_add_exemplar(metric_series_get(c, a), 1, zero16, SPAN_ID, 1);
	metric_counter_add_exemplar(metric_series_get(c, a), 1, TRACE_ID, NULL, 1);
	metric_counter_add_exemplar(metric_series_get(c, b), 2, NULL, NULL, 1);
	/* bad increments are ignored, exemplar included */
	metric_counter_add_exemplar(metric_series_get(c, b), -1, TRACE_ID, SPAN_ID, 1);
	metric_counter_add_exemplar(metric_series_get(c, b), NAN, TRACE_ID, SPAN_ID, 1);
	/* other types and NULL: ignored */
	metric_counter_add_exemplar(metric_series_get(g, NULL), 5, TRACE_ID, SPAN_ID, 1);
	metric_counter_add_exemplar(metric_series_get(h, NULL), 5, TRACE_ID, SPAN_ID, 1);
	metric_counter_add_exemplar(NULL, 5, TRACE_ID, SPAN_ID, 1);
	memset(&cc, 0, sizeof(cc));
	metric_registry_walk(r, NULL, copy_counters, &cc);
	assert_int_equal(cc.n, 2);
	assert_true(cc.value[0] == 2 && cc.value[1] == 2);
	assert_int_equal(cc.nexemplars[0], 0);
	assert_int_equal(cc.nexemplars[1], 0);
	memset(&hc, 0, sizeof(hc));
	metric_registry_walk(r, NULL, copy_hist, &hc);
	assert_false(hc.has_ex);
	walk_into(r, &seen);
	assert_string_equal(seen.text, "c{k=a} 2\nc{k=b} 2\ng{} 0\nh{} 0/0\n");

	/* the latest exemplar of the series wins */
	metric_counter_add_exemplar(metric_series_get(c, a), 1, TRACE_ID, SPAN_ID, 1700000000.5);
	metric_counter_add_exemplar(metric_series_get(c, a), 3, TRACE_ID_2, SPAN_ID, 1700000001);
	metric_counter_add(metric_series_get(c, a), 1); /* keeps the exemplar */
	snap = metric_registry_snapshot(r);
	assert_non_null(snap);
	metric_counter_add_exemplar(metric_series_get(c, a), 1, TRACE_ID, SPAN_ID, 1700000002);
	memset(&cc, 0, sizeof(cc));
	metric_registry_walk(r, NULL, copy_counters, &cc);
	assert_string_equal(cc.k[0], "a");
	assert_true(cc.value[0] == 8);
	assert_int_equal(cc.nexemplars[0], 1);
	assert_int_equal(cc.nexemplars[1], 0);
	assert_int_equal(cc.ex[0].trace_id[15], 0x36);
	assert_true(cc.ex[0].timestamp == 1700000002);

	/* the snapshot holds its own copy, taken before the last update */
	memset(&cc, 0, sizeof(cc));
	metric_snapshot_walk(snap, NULL, copy_counters, &cc);
	assert_true(cc.value[0] == 7);
	assert_int_equal(cc.nexemplars[0], 1);
	assert_int_equal(cc.ex[0].trace_id[15], 0x37);
	assert_int_equal(cc.ex[0].span_id[7], 0xb7);
	assert_true(cc.ex[0].value == 3);
	assert_true(cc.ex[0].timestamp == 1700000001);
	metric_snapshot_free(snap);

	/* the overflow series (cap 2) keeps one too */
	metric_counter_add_exemplar(metric_series_get(c, c3), 1, TRACE_ID, SPAN_ID, 1);
	memset(&cc, 0, sizeof(cc));
	metric_registry_walk(r, NULL, copy_counters, &cc);
	assert_int_equal(cc.n, 3);
	assert_string_equal(cc.k[2], "true");
	assert_int_equal(cc.nexemplars[2], 1);
	metric_registry_free(r);
}

/* Only counter series that got an exemplar pay for it: one struct and its malloc header. */
static void test_counter_exemplar_memory(void **state)
{
	const char *const names[] = {"k"};
	struct metric_registry *r;
	struct metric_family *f;
	struct mallinfo2 before, after;
	size_t used;

	(void)state;
	if (SANITIZED) {
		skip();
		return;
	}
	r = metric_registry_new();
	assert_non_null(r);
	f = metric_family_new(r, METRIC_COUNTER, "c", "x", NULL, names, 1, NULL, 0, 0);
	assert_non_null(f);
	for (int i = 0; i < 1000; i++) {
		char k[16];
		const char *const lv[] = {k};

		snprintf(k, sizeof(k), "%d", i);
		metric_counter_add(metric_series_get(f, lv), 1);
	}
	before = mallinfo2();
	for (int i = 0; i < 1000; i++) {
		char k[16];
		const char *const lv[] = {k};

		snprintf(k, sizeof(k), "%d", i);
		/* twice: replacing one allocates nothing */
		metric_counter_add_exemplar(metric_series_get(f, lv), 1, TRACE_ID, SPAN_ID, 1);
		metric_counter_add_exemplar(metric_series_get(f, lv), 1, TRACE_ID, SPAN_ID, 2);
	}
	after = mallinfo2();
	used = after.uordblks - before.uordblks;
	print_message("counter exemplar: %zu bytes/series\n", used / 1000);
	assert_true(used >= 1000 * sizeof(struct metric_exemplar));
	assert_true(used <= 1000 * (sizeof(struct metric_exemplar) + 16));
	metric_registry_free(r);
}

static int stop_after_first(void *ctx, const struct metric_family *f)
{
	int *n = ctx;

	(void)f;
	return ++*n == 1 ? -42 : 0;
}

static void count_points(void *ctx, const struct metric_point *p)
{
	(void)p;
	++*(int *)ctx;
}

static void test_walk(void **state)
{
	struct metric_registry *r = metric_registry_new();
	struct metric_family *g, *empty;
	struct seen seen;
	int n = 0;
	char *out;

	(void)state;
	assert_non_null(r);
	g = metric_family_new(r, METRIC_GAUGE, "self_renders", "h", NULL, NULL, 0, NULL, 0, 0);
	empty = metric_family_new(r, METRIC_GAUGE, "empty", "h", NULL, NULL, 0, NULL, 0, 0);
	assert_non_null(g);
	assert_non_null(empty);
	metric_gauge_set(metric_series_get(g, NULL), 1);

	walk_into(r, &seen);
	assert_int_equal(seen.families, 2); /* families without series are walked too */
	assert_int_equal(seen.points, 1);
	assert_string_equal(seen.text, "self_renders{} 1\n");
	metric_registry_visit(r, count_points, &n);
	assert_int_equal(n, 1);
	assert_int_equal(prom_render(r, PROM_FMT_TEXT, &out, NULL), 0);
	assert_non_null(strstr(out, "self_renders 1\n"));
	free(out);

	n = 0;
	assert_int_equal(metric_registry_walk(r, stop_after_first, NULL, &n), -42);
	assert_int_equal(n, 1);
	metric_registry_free(r);
}

static int seen_point_relock(void *ctx, const struct metric_point *p)
{
	/* no lock is held during a snapshot walk: calling back into the registry is fine */
	assert_true(metric_family_series_count(p->family) > 0);
	return seen_point(ctx, p);
}

static void test_snapshot(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"k"};
	const char *const a[] = {"a"}, *const b[] = {"b"};
	const double bounds[] = {1};
	struct metric_family *c, *h;
	struct metric_snapshot *snap;
	struct hist_copy hc;
	struct seen live, snapped;

	(void)state;
	assert_non_null(r);
	c = metric_family_new(r, METRIC_COUNTER, "c", NULL, NULL, names, 1, NULL, 0, 1);
	h = metric_family_new(r, METRIC_HISTOGRAM, "h", NULL, NULL, NULL, 0, bounds, 1, 0);
	assert_non_null(c);
	assert_non_null(h);
	metric_counter_add(metric_series_get(c, a), 1);
	metric_counter_add(metric_series_get(c, b), 2); /* overflow */
	metric_histogram_observe_exemplar(metric_series_get(h, NULL), 0.5, TRACE_ID, SPAN_ID, 1);
	walk_into(r, &live);

	snap = metric_registry_snapshot(r);
	assert_non_null(snap);
	/* later updates do not show in the snapshot */
	metric_counter_add(metric_series_get(c, a), 10);
	metric_histogram_observe(metric_series_get(h, NULL), 0.25);
	assert_non_null(
	    metric_family_new(r, METRIC_GAUGE, "late", NULL, NULL, NULL, 0, NULL, 0, 0));

	memset(&snapped, 0, sizeof(snapped));
	assert_int_equal(metric_snapshot_walk(snap, seen_family, seen_point_relock, &snapped), 0);
	assert_int_equal(snapped.families, 2);
	assert_string_equal(snapped.text, live.text);
	assert_string_equal(snapped.text, "c{k=a} 1\nc{otel_metric_overflow=true} 2\nh{} 1/0.5\n");
	memset(&hc, 0, sizeof(hc));
	assert_int_equal(metric_snapshot_walk(snap, NULL, copy_hist, &hc), 1);
	assert_int_equal(hc.counts[0], 1);
	assert_true(hc.has_ex);
	assert_true(hc.ex[0].value == 0.5);

	walk_into(r, &live);
	assert_int_equal(live.families, 3);
	assert_string_equal(live.text, "c{k=a} 11\nc{otel_metric_overflow=true} 2\nh{} 2/0.75\n");
	metric_snapshot_free(snap);
	metric_snapshot_free(NULL);
	metric_registry_free(r);
}

/* ---- concurrency ---- */

#define THREADS	       4
#define OBS_PER_THREAD 200000

struct worker {
	struct metric_family *hist, *ctr;
	int id;
};

static void *observe_loop(void *arg)
{
	struct worker *w = arg;
	char own[16];
	const char *const shared_v[] = {"shared"}, *const own_v[] = {own};

	snprintf(own, sizeof(own), "t%d", w->id);
	for (int i = 0; i < OBS_PER_THREAD; i++) {
		metric_histogram_observe(metric_series_get(w->hist, (i & 1) ? shared_v : own_v),
					 (i % 100) / 1000.0);
		metric_counter_add(metric_series_get(w->ctr, own_v), 1);
		if (i % 1000 == 0) {
			/* new label sets keep appearing; past the cap they fold */
			char v[24];
			const char *const lv[] = {v};

			snprintf(v, sizeof(v), "t%d-%d", w->id, i);
			metric_counter_add(metric_series_get(w->ctr, lv), 1);
		}
	}
	return NULL;
}

struct totals {
	uint64_t hist_count;
	uint64_t bucket_sum;
	double ctr_sum;
};

static void add_totals(void *ctx, const struct metric_point *p)
{
	struct totals *t = ctx;

	if (metric_family_type(p->family) == METRIC_HISTOGRAM) {
		t->hist_count += p->count;
		for (size_t i = 0; i <= p->nbounds; i++)
			t->bucket_sum += p->bucket_counts[i];
	} else {
		t->ctr_sum += p->value;
	}
}

static void test_threads_observe_while_rendering(void **state)
{
	struct metric_registry *r = metric_registry_new();
	const char *const names[] = {"who"};
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	struct totals t = {0};
	int renders = 0;

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < THREADS; i++) {
		w[i].hist =
		    i ? w[0].hist
		      : metric_family_new(r, METRIC_HISTOGRAM, "lat_seconds", "h", "seconds", names,
					  1, http_buckets, NELEM(http_buckets), 0);
		w[i].ctr = i ? w[0].ctr
			     : metric_family_new(r, METRIC_COUNTER, "ops", "h", NULL, names, 1,
						 NULL, 0, 50);
		w[i].id = i;
		assert_non_null(w[i].hist);
		assert_non_null(w[i].ctr);
	}
	/* each thread's own counter series exists before the cap can fill */
	for (int i = 0; i < THREADS; i++) {
		char own[16];
		const char *const own_v[] = {own};

		snprintf(own, sizeof(own), "t%d", i);
		assert_non_null(metric_series_get(w[0].ctr, own_v));
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, observe_loop, &w[i]), 0);
	for (int done = 0; !done; renders++) {
		char *out;
		size_t len;

		assert_int_equal(
		    prom_render(r, renders & 1 ? PROM_FMT_OPENMETRICS : PROM_FMT_TEXT, &out, &len),
		    0);
		assert_int_equal(strlen(out), len);
		free(out);
		done = metric_family_overflow_total(w[0].ctr) > 0 &&
		       metric_registry_series_count(r) > 0 && renders > 20;
		if (done)
			for (int i = 0; i < THREADS; i++)
				pthread_join(tid[i], NULL);
	}
	metric_registry_visit(r, add_totals, &t);
	assert_int_equal(t.hist_count, (uint64_t)THREADS * OBS_PER_THREAD);
	assert_int_equal(t.bucket_sum, (uint64_t)THREADS * OBS_PER_THREAD);
	assert_true(t.ctr_sum == (double)THREADS * (OBS_PER_THREAD + OBS_PER_THREAD / 1000));
	assert_int_equal(metric_family_series_count(w[0].ctr), 50);
	assert_int_equal(metric_family_series_count(w[0].hist), THREADS + 1);
	assert_int_equal(metric_family_overflow_total(w[0].ctr),
			 (uint64_t)THREADS * (OBS_PER_THREAD / 1000) - (50 - THREADS));
	metric_registry_free(r);
}

/* ---- cost ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_observe_speed(void **state)
{
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f;
	char vals[64][6][48];
	const int n = 1000000;
	double t0, ns;

	(void)state;
	assert_non_null(r);
	f = metric_family_new(r, METRIC_HISTOGRAM, "http_server_request_duration_seconds", "h",
			      "seconds", six_labels, 6, http_buckets, NELEM(http_buckets), 0);
	assert_non_null(f);
	for (int i = 0; i < 64; i++) {
		snprintf(vals[i][0], 48, "%s", i & 1 ? "GET" : "POST");
		snprintf(vals[i][1], 48, "/api/v1/items/{id}/part%d", i);
		snprintf(vals[i][2], 48, "%d", 200 + i % 5);
		snprintf(vals[i][3], 48, "backend-%d.local", i % 3);
		snprintf(vals[i][4], 48, "8080");
		snprintf(vals[i][5], 48, "%s", i % 7 ? "" : "timeout");
	}
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		const char *const lv[] = {vals[i & 63][0], vals[i & 63][1], vals[i & 63][2],
					  vals[i & 63][3], vals[i & 63][4], vals[i & 63][5]};

		metric_histogram_observe(metric_series_get(f, lv), (i % 1000) / 1000.0);
	}
	ns = (now_s() - t0) / n * 1e9;
	print_message("get + observe with 6 labels: %.0f ns\n", ns);
	assert_int_equal(metric_family_series_count(f), 64);
	if (!SANITIZED)
		assert_true(ns < 1000);
	metric_registry_free(r);
}

/* Bytes malloc has handed out and not taken back (the memory tests'). */
static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* A new registry with one HTTP-duration-like histogram family, *f. */
static struct metric_registry *registry_with_histogram(struct metric_family **f,
							const char *const *names, size_t n)
{
	struct metric_registry *r = metric_registry_new();

	assert_non_null(r);
	*f = metric_family_new(r, METRIC_HISTOGRAM, "http_server_request_duration_seconds", "h",
			       "seconds", names, n, http_buckets, NELEM(http_buckets), 0);
	assert_non_null(*f);
	return r;
}

static void test_memory_per_series(void **state)
{
	struct metric_registry *r;
	struct metric_family *f;
	size_t before, used;

	(void)state;
	if (SANITIZED) {
		skip();
		return;
	}
	before = heap_used();
	r = registry_with_histogram(&f, six_labels, 6);
	for (int i = 0; i < 10000; i++) {
		char route[48], code[8];
		const char *const lv[] = {"GET",  route, code, "api.internal.example.com",
					  "8443", ""};

		snprintf(route, sizeof(route), "/api/v1/customers/{id}/orders/%d", i);
		snprintf(code, sizeof(code), "%d", 200 + i % 300);
		/* worst case: every bucket holds an exemplar */
		for (size_t b = 0; b <= NELEM(http_buckets); b++)
			metric_histogram_observe_exemplar(metric_series_get(f, lv),
							  b < NELEM(http_buckets) ? http_buckets[b]
										  : 99,
							  TRACE_ID, SPAN_ID, 1700000000);
	}
	used = heap_used() - before;
	print_message("10000 histogram series with exemplars: %.1f MiB (%zu bytes/series)\n",
		      used / 1048576.0, used / 10000);
	assert_int_equal(metric_family_series_count(f), 10000);
	assert_true(used < 16u << 20);
	metric_registry_free(r);
}

/* ---- expiry and fair shares (issue 10 item 7) ---- */

static const char *const svc_labels[] = {"service_name", "http_route"};

/* Looks one series {service_name, http_route} of a family up in a walk. */
struct find {
	const char *family, *svc, *route;
	bool found;
	double value;
};

static int find_point(void *ctx, const struct metric_point *p)
{
	struct find *q = ctx;

	if (!strcmp(metric_family_name(p->family), q->family) && p->nlabels == 2 &&
	    !strcmp(p->label_values[0], q->svc) && !strcmp(p->label_values[1], q->route)) {
		q->found = true;
		q->value = p->value;
	}
	return 0;
}

/*
 * An HTTP server duration series as the daemon keeps it (15 labels, most
 * of them short or empty, no exemplar): a series stores a 16-bit offset per
 * label value, not a pointer, so 10 000 of them fit in 400 bytes each with
 * the family's hash table (about 460 with pointers).
 */
static void test_memory_per_plain_series(void **state)
{
	static const char *const names[] = {
	    "service_name", "http_request_method", "http_response_status_code", "http_route",
	    "error_type",   "network_protocol_version", "url_scheme", "req_a", "req_b",
	    "req_c",	    "req_d", "k8s_namespace_name", "k8s_pod_name", "k8s_container_name",
	    "k8s_node_name"};
	struct metric_registry *r;
	struct metric_family *f;
	size_t before, used;

	(void)state;
	if (SANITIZED) {
		skip();
		return;
	}
	before = heap_used();
	r = registry_with_histogram(&f, names, NELEM(names));
	for (int i = 0; i < 10000; i++) {
		char route[48];
		const char *const lv[] = {"checkout", "GET", "200", route, "", "1.1", "http", "", "",
					  "", "", "", "", "", ""};

		snprintf(route, sizeof(route), "/api/orders/r%d", i);
		metric_histogram_observe(metric_series_get(f, lv), 0.003);
	}
	used = heap_used() - before;
	print_message("10000 HTTP duration series: %zu bytes/series\n", used / 10000);
	assert_int_equal(metric_family_series_count(f), 10000);
	assert_true(used / 10000 < 400);
	metric_registry_free(r);
}

/* The limits of a series' layout: METRIC_LABELS_MAX labels a family, and
 * label values whose offsets fit in 16 bits (their sum under 64 KiB). */
static void test_label_limits(void **state)
{
	char names[METRIC_LABELS_MAX + 1][8];
	const char *np[METRIC_LABELS_MAX + 1], *vals[2];
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f;
	char *big = malloc(40000);
	struct find q = {.family = "big", .svc = "a", .route = big};

	(void)state;
	assert_non_null(r);
	assert_non_null(big);
	for (size_t i = 0; i <= METRIC_LABELS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "l%zu", i);
		np[i] = names[i];
	}
	errno = 0;
	assert_null(metric_family_new(r, METRIC_COUNTER, "too_many", "h", NULL, np,
				      METRIC_LABELS_MAX + 1, NULL, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_non_null(metric_family_new(r, METRIC_COUNTER, "most", "h", NULL, np,
					  METRIC_LABELS_MAX, NULL, 0, 0));

	f = metric_family_new(r, METRIC_GAUGE, "big", "h", NULL, svc_labels, 2, NULL, 0, 0);
	assert_non_null(f);
	memset(big, 'x', 39999);
	big[39999] = 0;
	vals[0] = "a";
	vals[1] = big;
	metric_gauge_set(metric_series_get(f, vals), 7); /* 40 000 bytes: kept */
	metric_registry_walk(r, NULL, find_point, &q);
	assert_true(q.found);
	assert_true(q.value == 7);
	vals[0] = big; /* 80 000 bytes: past a 16-bit offset, refused */
	errno = 0;
	assert_null(metric_series_get(f, vals));
	assert_int_equal(errno, E2BIG);
	assert_int_equal(metric_family_series_count(f), 1);
	free(big);
	metric_registry_free(r);
}

/* The value of the series, or -1 when it does not exist. */
static double series_value(struct metric_registry *r, const char *family, const char *svc,
			   const char *route)
{
	struct find q = {.family = family, .svc = svc, .route = route};

	metric_registry_walk(r, NULL, find_point, &q);
	return q.found ? q.value : -1;
}

static struct metric_series *svc_get(struct metric_family *f, const char *svc, const char *route)
{
	const char *const lv[] = {svc, route};

	return metric_series_get(f, lv);
}

/*
 * The expiry tests' time base. A registry starts its clock at the
 * CLOCK_MONOTONIC time of its creation and stamps its first series with it,
 * so a made-up base (say 1000 s) would make the outcome depend on the
 * machine's uptime; one read just before metric_registry_new() does not.
 */
static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_series_expire(void **state)
{
	const uint64_t s1 = 1000000000ull, ttl = 300 * s1;
	const uint64_t t0 = mono_now_ns(); /* before the registry reads its clock */
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f, *own, *g;
	struct metric_snapshot *snap;
	struct seen seen;
	size_t i;

	(void)state;
	assert_non_null(r);
	f = metric_family_new(r, METRIC_COUNTER, "reqs", "r", NULL, svc_labels, 2, NULL, 0, 10);
	own = metric_family_new(r, METRIC_COUNTER, "own", "o", NULL, NULL, 0, NULL, 0, 0);
	g = metric_family_new(r, METRIC_GAUGE, "inflight", "g", NULL, svc_labels, 2, NULL, 0, 10);
	assert_non_null(f);
	assert_non_null(own);
	assert_non_null(g);
	metric_counter_add(metric_series_get(own, NULL), 1);
	/* without a TTL nothing expires */
	metric_counter_add(svc_get(f, "a", "/old"), 5);
	assert_int_equal(metric_registry_expire(r, t0 + 10 * ttl), 0);
	metric_registry_set_ttl(r, ttl);
	assert_int_equal(metric_registry_expire(r, t0), 0); /* the clock moves backwards: kept */
	metric_counter_add(svc_get(f, "a", "/old"), 1);
	metric_gauge_add(svc_get(g, "a", "GET"), 1);  /* a request in flight */
	metric_gauge_add(svc_get(g, "a", "POST"), 0); /* none */
	assert_int_equal(metric_registry_expire(r, t0 + ttl / 2), 0);
	metric_counter_add(svc_get(f, "a", "/live"), 1);
	/* /old and POST idle for the TTL go; /live (seen later) and the busy gauge stay */
	assert_int_equal(metric_registry_expire(r, t0 + ttl), 2);
	walk_into(r, &seen);
	assert_null(strstr(seen.text, "/old"));
	assert_null(strstr(seen.text, "POST"));
	assert_non_null(strstr(seen.text, "reqs{service_name=a,http_route=/live} 1"));
	assert_non_null(strstr(seen.text, "inflight{service_name=a,http_route=GET} 1"));
	assert_non_null(strstr(seen.text, "own{} 1")); /* uncapped: never expires */
	assert_int_equal(metric_family_series_count(f), 1);
	/* seen again: a new series from zero, with a later start time */
	metric_counter_add(svc_get(f, "a", "/old"), 2);
	walk_into(r, &seen);
	assert_non_null(strstr(seen.text, "reqs{service_name=a,http_route=/old} 2"));
	/* a snapshot alive while series expire still reads their labels */
	snap = metric_registry_snapshot(r);
	assert_non_null(snap);
	assert_int_equal(metric_registry_expire(r, t0 + 3 * ttl), 2);
	memset(&seen, 0, sizeof(seen));
	metric_snapshot_walk(snap, NULL, seen_point, &seen);
	assert_non_null(strstr(seen.text, "http_route=/old} 2"));
	metric_snapshot_free(snap);
	/* the cap frees up: ten new label sets fit again */
	for (i = 0; i < 10; i++) {
		char route[16];

		snprintf(route, sizeof(route), "/n%zu", i);
		metric_counter_add(svc_get(f, "a", route), 1);
	}
	assert_int_equal(metric_family_series_count(f), 10);
	assert_int_equal(metric_family_overflow_total(f), 0);
	metric_registry_free(r);
}

static int start_of(void *ctx, const struct metric_point *p)
{
	*(uint64_t *)ctx = p->start_unix_ns;
	return 0;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A re-created series starts again: OTLP's cumulative start time follows it. */
static void test_series_start_time(void **state)
{
	const uint64_t s1 = 1000000000ull;
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f;
	uint64_t before = realtime_ns(), first = 0, second = 0;

	(void)state;
	f = metric_family_new(r, METRIC_COUNTER, "reqs", "r", NULL, svc_labels, 2, NULL, 0, 10);
	assert_non_null(f);
	metric_registry_set_ttl(r, s1);
	metric_registry_expire(r, 100 * s1);
	metric_counter_add(svc_get(f, "a", "/x"), 1);
	metric_registry_walk(r, NULL, start_of, &first);
	assert_true(first >= before && first <= realtime_ns());
	usleep(2000);
	assert_int_equal(metric_registry_expire(r, 101 * s1), 1);
	metric_counter_add(svc_get(f, "a", "/x"), 1);
	metric_registry_walk(r, NULL, start_of, &second);
	assert_true(second > first);
	metric_registry_free(r);
}

/* One service floods new label sets; another still gets its fair share. */
/* A memo finds its series again while the family removed none, and never after. */
static void test_series_memo(void **state)
{
	const uint64_t s1 = 1000000000ull, ttl = 300 * s1;
	const uint64_t t0 = mono_now_ns(); /* before the registry reads its clock */
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f, *other;
	struct metric_memo memo = {0}, full = {0};
	const char *a_x[] = {"a", "/x"}, *a_y[] = {"a", "/y"}, *b_x[] = {"b", "/x"};
	struct metric_series *s;
	char route[16];

	(void)state;
	f = metric_family_new(r, METRIC_COUNTER, "reqs", "r", NULL, svc_labels, 2, NULL, 0, 4);
	other = metric_family_new(r, METRIC_COUNTER, "more", "m", NULL, svc_labels, 2, NULL, 0, 4);
	assert_non_null(f);
	assert_non_null(other);
	assert_null(metric_series_recall(f, &memo, a_x, ~0ull)); /* empty */
	s = metric_series_get_memo(f, a_x, &memo);
	assert_non_null(s);
	assert_ptr_equal(s, svc_get(f, "a", "/x"));
	assert_ptr_equal(metric_series_recall(f, &memo, a_x, ~0ull), s);
	assert_null(metric_series_recall(other, &memo, a_x, ~0ull)); /* another family's */
	/* the labels in check are compared; the others the caller vouches for */
	assert_null(metric_series_recall(f, &memo, a_y, ~0ull));
	assert_null(metric_series_recall(f, &memo, b_x, ~0ull));
	assert_ptr_equal(metric_series_recall(f, &memo, a_y, 1), s);
	assert_null(metric_series_recall(f, &memo, NULL, 1)); /* NULL values are "" */
	/* a recall with an update applies it as metric_counter_add() would, only on a hit */
	assert_ptr_equal(metric_series_recall_update(f, &memo, a_x, ~0ull, 2), s);
	assert_ptr_equal(metric_series_recall_update(f, &memo, a_x, ~0ull, -5), s); /* ignored */
	assert_null(metric_series_recall_update(f, &memo, b_x, ~0ull, 7));
	assert_true(series_value(r, "reqs", "a", "/x") == 2);
	assert_true(series_value(r, "reqs", "b", "/x") < 0);
	/* a recall is a get for expiry: the series stays while recalled */
	metric_registry_set_ttl(r, ttl);
	assert_int_equal(metric_registry_expire(r, t0), 0);
	metric_counter_add(svc_get(f, "a", "/y"), 1);
	assert_int_equal(metric_registry_expire(r, t0 + ttl / 2), 0);
	assert_ptr_equal(metric_series_recall(f, &memo, a_x, ~0ull), s);
	assert_int_equal(metric_registry_expire(r, t0 + ttl), 1); /* /y went, /x stayed */
	assert_int_equal(metric_family_series_count(f), 1);
	/* but any removal in the family voids every memo of it, even of a series kept */
	assert_null(metric_series_recall(f, &memo, a_x, ~0ull));
	assert_ptr_equal(metric_series_get_memo(f, a_x, &memo), s);
	assert_ptr_equal(metric_series_recall(f, &memo, a_x, ~0ull), s);
	assert_int_equal(metric_registry_expire(r, t0 + 3 * ttl), 1); /* /x went */
	assert_null(metric_series_recall(f, &memo, a_x, ~0ull));      /* not the freed one */
	/* the overflow series is never noted: every fold is counted */
	for (int i = 0; i < 5; i++) {
		snprintf(route, sizeof(route), "/r%d", i);
		metric_counter_add(svc_get(f, "a", route), 1);
	}
	assert_int_equal(metric_family_overflow_total(f), 1);
	s = metric_series_get_memo(f, a_y, &full);
	assert_non_null(s);
	assert_int_equal(metric_family_overflow_total(f), 2);
	assert_null(metric_series_recall(f, &full, a_y, ~0ull));
	metric_registry_free(r);
}

static void test_fair_share(void **state)
{
	struct metric_registry *r = metric_registry_new();
	struct metric_family *f, *plain;
	char route[32];
	int i;

	(void)state;
	f = metric_family_new(r, METRIC_COUNTER, "reqs", "r", NULL, svc_labels, 2, NULL, 0, 100);
	plain = metric_family_new(r, METRIC_COUNTER, "plain", "p", NULL, six_labels, 6, NULL, 0, 5);
	assert_non_null(f);
	assert_non_null(plain);
	for (i = 0; i < 3000; i++) {
		snprintf(route, sizeof(route), "/flood/%d", i);
		metric_counter_add(svc_get(f, "noisy", route), 1);
	}
	assert_int_equal(metric_family_series_count(f), 100);
	assert_int_equal(metric_family_overflow_total(f), 2900);
	/* a second service gets up to half of the cap, from the noisy one's oldest */
	for (i = 0; i < 80; i++) {
		snprintf(route, sizeof(route), "/legit/%d", i);
		metric_counter_add(svc_get(f, "shop", route), 1);
	}
	assert_int_equal(metric_family_series_count(f), 100);
	assert_int_equal(metric_family_evicted_total(f), 50);
	assert_int_equal(metric_family_overflow_total(f), 2930);
	assert_true(series_value(r, "reqs", "shop", "/legit/0") == 1);
	assert_true(series_value(r, "reqs", "shop", "/legit/49") == 1);
	assert_true(series_value(r, "reqs", "shop", "/legit/50") < 0);
	assert_true(series_value(r, "reqs", "noisy", "/flood/0") < 0);	 /* the oldest went first */
	assert_true(series_value(r, "reqs", "noisy", "/flood/99") == 1); /* the newest stayed */
	/* the noisy service cannot take them back: it is over its share */
	metric_counter_add(svc_get(f, "noisy", "/flood/again"), 1);
	assert_int_equal(metric_family_evicted_total(f), 50);
	/* existing series of either service are found as before */
	metric_counter_add(svc_get(f, "shop", "/legit/0"), 1);
	metric_counter_add(svc_get(f, "noisy", "/flood/99"), 1);
	assert_int_equal(metric_family_overflow_total(f), 2931);
	/* a third service: shares of a third each */
	for (i = 0; i < 40; i++) {
		snprintf(route, sizeof(route), "/third/%d", i);
		metric_counter_add(svc_get(f, "third", route), 1);
	}
	assert_int_equal(metric_family_series_count(f), 100);
	assert_true(series_value(r, "reqs", "third", "/third/32") == 1);
	assert_true(series_value(r, "reqs", "third", "/third/33") < 0);
	/* a family without a service label keeps the plain cap */
	for (i = 0; i < 10; i++) {
		const char *lv[] = {"GET", route, "200", "", "", ""};

		snprintf(route, sizeof(route), "/p/%d", i);
		metric_counter_add(metric_series_get(plain, lv), 1);
	}
	assert_int_equal(metric_family_series_count(plain), 5);
	assert_int_equal(metric_family_evicted_total(plain), 0);
	metric_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_validation),
	    cmocka_unit_test(test_name_collisions),
	    cmocka_unit_test(test_series_lookup),
	    cmocka_unit_test(test_many_series),
	    cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_updates),
	    cmocka_unit_test(test_histogram_buckets),
	    cmocka_unit_test(test_exemplars),
	    cmocka_unit_test(test_counter_exemplars),
	    cmocka_unit_test(test_counter_exemplar_memory),
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_snapshot),
	    cmocka_unit_test(test_threads_observe_while_rendering),
	    cmocka_unit_test(test_observe_speed),
	    cmocka_unit_test(test_memory_per_series),
	    cmocka_unit_test(test_memory_per_plain_series),
	    cmocka_unit_test(test_label_limits),
	    cmocka_unit_test(test_series_expire),
	    cmocka_unit_test(test_series_start_time),
	    cmocka_unit_test(test_series_memo),
	    cmocka_unit_test(test_fair_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
