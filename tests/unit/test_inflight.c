// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_inflight.c - unit tests for the in-flight table (user/signals/inflight.c)
 * over a real registry's gauge, read back from the Prometheus text: counts
 * reach the gauge only at a flush, an exchange that starts and ends between
 * two flushes leaves it at 0 (its series made all the same), a count moves
 * whole when the labels it is looked up with change, a full set refuses a
 * new key (the caller's own path) and takes it again once freed, and
 * exchanges the table did not count are told apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inflight.h"
#include "metrics.h"
#include "promtext.h"

struct fx {
	struct metric_registry *r;
	struct metric_family *gauge;
	struct inflight *t;
	const char *suffix; /* appended to the service label: the labels "moved" */
	unsigned finds;
	char *text;
};

static int setup(void **state)
{
	static const char *const names[] = {"service_name", "http_request_method"};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->r = metric_registry_new();
	f->gauge = metric_family_new(f->r, METRIC_GAUGE, "inflight", "In flight.", NULL, names, 2,
				     NULL, 0, 100);
	f->t = inflight_new();
	assert_non_null(f->gauge);
	assert_non_null(f->t);
	f->suffix = "";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	inflight_free(f->t);
	inflight_free(NULL);
	metric_registry_free(f->r);
	free(f->text);
	free(f);
	return 0;
}

static struct metric_series *find(void *ctx, const struct inflight_key *k)
{
	struct fx *f = ctx;
	char service[INFLIGHT_SERVICE_MAX + 8];
	const char *labels[] = {service, k->method == HTTP1_M_GET ? "GET" : "POST"};

	f->finds++;
	snprintf(service, sizeof(service), "%s%s", k->service, f->suffix);
	return metric_series_get(f->gauge, labels);
}

/* The gauge's value for service and method, NAN when it has no such series. */
static double gauge(struct fx *f, const char *service, const char *method)
{
	char series[256];

	snprintf(series, sizeof(series), "inflight{service_name=\"%s\",http_request_method=\"%s\"}",
		 service, method);
	return promtext_value(promtext_into(&f->text, f->r, PROM_FMT_TEXT), series);
}

static struct http_exchange exchange(uint32_t tgid, enum http1_method method)
{
	struct http_exchange x;

	memset(&x, 0, sizeof(x));
	x.server = true;
	x.tgid = tgid;
	x.method = method;
	return x;
}

static void start(struct fx *f, struct http_exchange *x, const char *service)
{
	assert_true(inflight_start(f->t, x, service, (uint8_t)x->method, false));
}

static void test_counts_reach_the_gauge_at_a_flush(void **state)
{
	struct fx *f = *state;
	struct http_exchange a = exchange(10, HTTP1_M_GET), b = a, c = exchange(10, HTTP1_M_POST);

	start(f, &a, "shop");
	start(f, &b, "shop");
	start(f, &c, "shop");
	assert_true(isnan(gauge(f, "shop", "GET"))); /* nothing before the flush */
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "shop", "GET") == 2);
	assert_true(gauge(f, "shop", "POST") == 1);
	assert_true(inflight_done(f->t, &a));
	assert_true(gauge(f, "shop", "GET") == 2);
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "shop", "GET") == 1);
	assert_true(inflight_done(f->t, &b));
	assert_true(inflight_done(f->t, &c));
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "shop", "GET") == 0);
	assert_true(gauge(f, "shop", "POST") == 0);
	/* a flush with nothing changed looks nothing up */
	f->finds = 0;
	inflight_flush(f->t, find, f);
	assert_int_equal(f->finds, 0);
}

static void test_start_and_end_within_a_drain(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 50; i++) {
		struct http_exchange x = exchange(11, HTTP1_M_GET);

		start(f, &x, "api");
		assert_true(inflight_done(f->t, &x));
	}
	f->finds = 0;
	inflight_flush(f->t, find, f);
	/* one look-up for the key, not one per exchange; the series exists and says 0 */
	assert_int_equal(f->finds, 1);
	assert_true(gauge(f, "api", "GET") == 0);
}

static void test_count_follows_labels_that_moved(void **state)
{
	struct fx *f = *state;
	struct http_exchange a = exchange(12, HTTP1_M_GET), b = a, c = a;

	start(f, &a, "svc");
	start(f, &b, "svc");
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "svc", "GET") == 2);
	/* the process's labels change (pod labels found, say) */
	f->suffix = "-pod";
	start(f, &c, "svc");
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "svc", "GET") == 0);
	assert_true(gauge(f, "svc-pod", "GET") == 3);
	/* the ends are taken from where the count is now */
	assert_true(inflight_done(f->t, &a));
	assert_true(inflight_done(f->t, &b));
	assert_true(inflight_done(f->t, &c));
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "svc-pod", "GET") == 0);
	assert_true(gauge(f, "svc", "GET") == 0);
}

static void test_full_set_and_refusals(void **state)
{
	struct fx *f = *state;
	struct http_exchange x[INFLIGHT_SLOTS + 1], other = exchange(0, HTTP1_M_GET);
	char longname[INFLIGHT_SERVICE_MAX + 1];
	unsigned taken = 0, refused = INFLIGHT_SLOTS + 1;

	/* distinct keys until one's set is full */
	for (unsigned i = 0; i <= INFLIGHT_SLOTS; i++) {
		x[i] = exchange(100 + i, HTTP1_M_GET);
		if (!inflight_start(f->t, &x[i], "many", HTTP1_M_GET, false)) {
			refused = i;
			break;
		}
		assert_int_not_equal(x[i].inflight_slot, 0);
		taken++;
	}
	assert_true(refused <= INFLIGHT_SLOTS);
	assert_true(taken >= INFLIGHT_WAYS);
	assert_int_equal(x[refused].inflight_slot, 0);
	assert_false(inflight_done(f->t, &x[refused])); /* not counted here */
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "many", "GET") == taken);
	/* once the counts are applied back to 0, the slots take new keys */
	for (unsigned i = 0; i < taken; i++)
		assert_true(inflight_done(f->t, &x[i]));
	inflight_flush(f->t, find, f);
	assert_true(gauge(f, "many", "GET") == 0);
	x[refused] = exchange(100 + refused, HTTP1_M_GET);
	start(f, &x[refused], "many");
	assert_true(inflight_done(f->t, &x[refused]));

	/* no process, or a service name longer than a slot holds: refused */
	assert_false(inflight_start(f->t, &other, "many", HTTP1_M_GET, false));
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	other.tgid = 7;
	assert_false(inflight_start(f->t, &other, longname, HTTP1_M_GET, false));
	assert_false(inflight_done(f->t, &other));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_counts_reach_the_gauge_at_a_flush),
	    T(test_start_and_end_within_a_drain),
	    T(test_count_follows_labels_that_moved),
	    T(test_full_set_and_refusals),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
