// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_reqlabels.c - unit tests for the bounded metric labels of request
 * attributes (user/signals/reqlabels.c, traces.attribute_labels): the
 * setting's grammar, the stable bucket hash, the allow-list and _other,
 * baggage entries as sources, and the labels end to end on the HTTP
 * duration families as /metrics renders them (empty ones left out).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "httpmetrics.h"
#include "httptrack.h"
#include "metrics.h"
#include "prom.h"
#include "reqlabels.h"
#include "semconv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse(void **state)
{
	static const char *const good[] = {
	    "",
	    "none",
	    "tenant=buckets:64",
	    "tenant=buckets:1,channel=allow:web|mobile",
	    "a=allow:x,b=allow:y,c=buckets:1024,d=allow:z",
	};
	static const char *const bad[] = {
	    "tenant",
	    "tenant=",
	    "tenant=buckets:0",
	    "tenant=buckets:1025",
	    "tenant=buckets:99999999999999999999",
	    "tenant=buckets:6x",
	    "tenant=allow:",
	    "tenant=allow:a||b",
	    "tenant=allow:a b",
	    "tenant=hash:4",
	    "Tenant=buckets:4",
	    "1tenant=buckets:4",
	    "tenant=buckets:4,",
	    "tenant=buckets:4,tenant=allow:a",
	    "a=allow:x,b=allow:y,c=buckets:2,d=allow:z,e=allow:w",
	    "a_key_longer_than_the_label_room=buckets:2",
	    "t=allow:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q",
	};
	struct reqlabel l[REQLABELS_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < NELEM(good); i++)
		assert_int_equal(reqlabels_parse(good[i], NULL, &n), 0);
	for (size_t i = 0; i < NELEM(bad); i++)
		if (reqlabels_parse(bad[i], NULL, &n) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(reqlabels_parse("tenant=buckets:64,channel=allow:web|mobile", l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].attr, "tenant");
	assert_int_equal(l[0].nbuckets, 64);
	assert_string_equal(l[1].attr, "channel");
	assert_int_equal(l[1].nbuckets, 0);
	assert_int_equal(l[1].nallow, 2);
	assert_string_equal(l[1].allow[0], "web");
	assert_string_equal(l[1].allow[1], "mobile");
}

/* FNV-1a 32: the published test vectors, so buckets never move. */
static void test_bucket_stable(void **state)
{
	struct reqlabel l = {.nbuckets = 64};
	char out[REQLABELS_VALUE];

	(void)state;
	assert_int_equal(reqlabels_bucket("", 0), 0);
	assert_int_equal(reqlabels_bucket("a", 0xffffffffu), 0xe40c292cu % 0xffffffffu);
	assert_int_equal(reqlabels_bucket("foobar", 0xffffffffu), 0xbf9cf968u % 0xffffffffu);
	assert_int_equal(reqlabels_bucket("a", 64), 0xe40c292cu % 64);
	reqlabels_value(&l, "a", out);
	assert_string_equal(out, "b44"); /* 0xe40c292c % 64 */
	reqlabels_value(&l, "", out);
	assert_string_equal(out, "");
	/* every value lands in one of the 64 */
	for (int i = 0; i < 1000; i++) {
		char v[16];

		snprintf(v, sizeof(v), "tenant-%d", i);
		assert_true(reqlabels_bucket(v, 64) < 64);
	}
}

static void test_allow_list(void **state)
{
	struct reqlabel l;
	char out[REQLABELS_VALUE];
	size_t n;

	(void)state;
	assert_int_equal(reqlabels_parse("channel=allow:web|mobile", &l, &n), 0);
	reqlabels_value(&l, "web", out);
	assert_string_equal(out, "web");
	reqlabels_value(&l, "mobile", out);
	assert_string_equal(out, "mobile");
	reqlabels_value(&l, "Web", out);
	assert_string_equal(out, "_other");
	reqlabels_value(&l, "order-123456", out);
	assert_string_equal(out, "_other");
	reqlabels_value(&l, "", out);
	assert_string_equal(out, "");
}

static void test_configure(void **state)
{
	const char *keys[] = {"tenant", "order", "channel"};
	const char *bag[] = {"chan"};
	struct reqlabels_src src = {
	    .keys = keys, .nattrs = 3, .nbaggage = 1, .bag_entries = bag, .bag_header = 2};
	struct http_exchange x;
	char out[REQLABELS_MAX][REQLABELS_VALUE], err[256];
	const char *p[REQLABELS_MAX];

	(void)state;
	assert_int_equal(reqlabels_configure("nope=buckets:4", &src, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(reqlabels_configure("x=buckets:4", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(
	    reqlabels_configure("channel=allow:web|app,tenant=buckets:8", &src, err, sizeof(err)),
	    0);
	assert_string_equal(semconv_key(SC_REQUEST_LABEL0), "channel");
	assert_string_equal(semconv_key(SC_REQUEST_LABEL0 + 1), "tenant_bucket");
	assert_string_equal(semconv_key(SC_REQUEST_LABEL0 + 2), "redtap.request_label.2");

	memset(&x, 0, sizeof(x));
	snprintf(x.captured[0], sizeof(x.captured[0]), "acme");
	snprintf(x.captured[1], sizeof(x.captured[1]), "order-77");
	snprintf(x.captured[2], sizeof(x.captured[2]), "chan=app;p=1,other=x");
	reqlabels_values(&x, out, p);
	assert_string_equal(p[0], "app");
	assert_string_equal(out[0], "app");
	snprintf(err, sizeof(err), "b%u", reqlabels_bucket("acme", 8));
	assert_string_equal(p[1], err);
	assert_string_equal(p[2], "");
	assert_string_equal(p[3], "");
	snprintf(x.captured[2], sizeof(x.captured[2]), "chan=tv");
	x.captured[0][0] = '\0';
	reqlabels_values(&x, out, p);
	assert_string_equal(p[0], "_other");
	assert_string_equal(p[1], "");

	assert_int_equal(reqlabels_configure("", &src, err, sizeof(err)), 0);
	reqlabels_values(&x, out, p);
	for (size_t i = 0; i < REQLABELS_MAX; i++)
		assert_string_equal(p[i], "");
	assert_string_equal(semconv_key(SC_REQUEST_LABEL0), "redtap.request_label.0");
}

/* The labels on the server family's series, as /metrics shows them. */
static void test_metrics(void **state)
{
	const char *keys[] = {"tenant", "channel"};
	struct reqlabels_src src = {.keys = keys, .nattrs = 2};
	struct metric_registry *r;
	struct httpmetrics *m;
	struct http_exchange x;
	char err[256], want[512], *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(
	    reqlabels_configure("tenant=buckets:64,channel=allow:web", &src, err, sizeof(err)), 0);
	r = metric_registry_new();
	assert_non_null(r);
	m = httpmetrics_new(r, 100);
	assert_non_null(m);
	memset(&x, 0, sizeof(x));
	x.server = true;
	x.method = HTTP1_M_GET;
	x.status = 200;
	x.start_ns = 1000;
	x.end_ns = 1000 + 20000000;
	snprintf(x.route, sizeof(x.route), "/pay");
	snprintf(x.captured[0], sizeof(x.captured[0]), "a");
	snprintf(x.captured[1], sizeof(x.captured[1]), "batch");
	httpmetrics_done(m, &x, "shop", false);
	x.captured[0][0] = x.captured[1][0] = '\0';
	httpmetrics_done(m, &x, "shop", false);
	assert_int_equal(prom_render(r, PROM_FMT_TEXT, &text, &len), 0);
	snprintf(want, sizeof(want),
		 "http_server_request_duration_seconds_count{service_name=\"shop\","
		 "http_request_method=\"GET\",http_response_status_code=\"200\","
		 "http_route=\"/pay\",error_type=\"\",network_protocol_version=\"1.1\","
		 "url_scheme=\"http\",tenant_bucket=\"b44\",channel=\"_other\"} 1\n");
	if (!strstr(text, want))
		fail_msg("no %s in\n%s", want, text);
	/* without the attributes: the labels are left out */
	assert_non_null(strstr(text, "network_protocol_version=\"1.1\",url_scheme=\"http\"} 1\n"));
	/* a raw value never shows */
	assert_null(strstr(text, "batch"));
	free(text);
	httpmetrics_free(m);
	metric_registry_free(r);
	assert_int_equal(reqlabels_configure("", NULL, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),      cmocka_unit_test(test_bucket_stable),
	    cmocka_unit_test(test_allow_list), cmocka_unit_test(test_configure),
	    cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
