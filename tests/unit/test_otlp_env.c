// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_otlp_env.c - unit tests for the OTLP configuration from the
 * environment (user/export/otlp_env.c): endpoints and the per-signal URL rule,
 * precedence of per-signal variables, exporter selection, protocol errors,
 * headers with percent-decoding, numbers, compression, batch settings, and
 * the list and URL helpers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp.h"
#include "otlp_env.h"

extern char **environ;

/* Every test starts from an environment without OTEL_* variables. */
static int clear_otel(void **state)
{
	(void)state;
	for (;;) {
		char name[256];
		char **e;

		for (e = environ; *e && strncmp(*e, "OTEL_", 5); e++)
			;
		if (!*e)
			return 0;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
		unsetenv(name);
	}
}

static struct otlp_config cfg;
static char err[512];

static int load(void)
{
	return otlp_config_from_env(&cfg, err, sizeof(err));
}

static void test_nothing_set(void **state)
{
	(void)state;
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "");
	assert_string_equal(cfg.metrics_url, "");
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_int_equal(cfg.metric_interval_ms, 60000);
	assert_int_equal(cfg.queue_max_spans, 2048);
	assert_int_equal(cfg.batch_max_spans, 512);
	assert_int_equal(cfg.batch_delay_ms, 5000);
	assert_int_equal(cfg.batch_export_timeout_ms, 30000);
	assert_int_equal(cfg.metric_export_timeout_ms, 30000);
	assert_false(cfg.gzip);
	assert_string_equal(cfg.headers, "");
	assert_string_equal(cfg.resource_attrs, "");
}

static void test_base_endpoint(void **state)
{
	static const struct {
		const char *base, *traces, *metrics;
	} cases[] = {
	    {"http://collector:4318", "http://collector:4318/v1/traces",
	     "http://collector:4318/v1/metrics"},
	    {"http://collector:4318/", "http://collector:4318/v1/traces",
	     "http://collector:4318/v1/metrics"},
	    {"https://otlp.example.com/api/otel/", "https://otlp.example.com/api/otel/v1/traces",
	     "https://otlp.example.com/api/otel/v1/metrics"},
	    {"http://h:1/p?tenant=a", "http://h:1/p/v1/traces?tenant=a",
	     "http://h:1/p/v1/metrics?tenant=a"},
	    {"HTTP://h", "HTTP://h/v1/traces", "HTTP://h/v1/metrics"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("OTEL_EXPORTER_OTLP_ENDPOINT", cases[i].base, 1);
		assert_int_equal(load(), 0);
		assert_string_equal(cfg.traces_url, cases[i].traces);
		assert_string_equal(cfg.metrics_url, cases[i].metrics);
	}
}

static void test_signal_endpoint_as_is(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/custom", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "http://tempo:4318/custom"); /* nothing appended */
	assert_string_equal(cfg.metrics_url, "http://base:4318/v1/metrics");

	/* only a per-signal endpoint: the other signal stays off */
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "http://tempo:4318/custom");
	assert_string_equal(cfg.metrics_url, "");

	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://prom:9090/api/v1/otlp/v1/metrics", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.metrics_url, "http://prom:9090/api/v1/otlp/v1/metrics");
}

static void test_empty_is_unset(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", 1);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "http://base:4318/v1/traces");
	assert_int_equal(cfg.timeout_ms, 10000);
}

static void test_exporter_selection(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_TRACES_EXPORTER", "none", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "");
	assert_string_equal(cfg.metrics_url, "http://base:4318/v1/metrics");

	setenv("OTEL_TRACES_EXPORTER", "console", 1); /* unsupported: no otlp, so off */
	setenv("OTEL_METRICS_EXPORTER", "prometheus, OTLP", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "");
	assert_string_equal(cfg.metrics_url, "http://base:4318/v1/metrics");

	/* otlp asked for explicitly with no endpoint: the spec default */
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
	unsetenv("OTEL_METRICS_EXPORTER");
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "http://localhost:4318/v1/traces");
	assert_string_equal(cfg.metrics_url, "");

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_SDK_DISABLED", "TRUE", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "");
	assert_string_equal(cfg.metrics_url, "");
}

static void test_protocol(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/Protobuf", 1);
	assert_int_equal(load(), 0);

	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	assert_int_equal(load(), -EINVAL);
	assert_non_null(strstr(err, "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported"));
	assert_non_null(strstr(err, "the key otlp.protocol"));
	assert_non_null(strstr(err, "http/protobuf"));
	assert_string_equal(cfg.traces_url, "");
	assert_string_equal(cfg.metrics_url, "");

	/* the per-signal protocol wins; a disabled signal's protocol does not matter */
	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf", 1);
	setenv("OTEL_METRICS_EXPORTER", "none", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_url, "http://base:4318/v1/traces");

	setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", 1);
	assert_int_equal(load(), -EINVAL);
	assert_non_null(strstr(err, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=\"http/json\""));
	assert_non_null(strstr(err, "the key otlp.traces.protocol"));

	/* no endpoint: nothing is sent, so the protocol is not an error */
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	assert_int_equal(load(), 0);
}

static void test_bad_endpoints(void **state)
{
	static const char *const bad[] = {"collector:4318", "ftp://h/",	   "http://",
					  "http:///x",	    "http://h /x", "localhost"};
	char longurl[1100];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("OTEL_EXPORTER_OTLP_ENDPOINT", bad[i], 1);
		assert_int_equal(load(), -EINVAL);
		assert_non_null(strstr(err, "is not a valid endpoint"));
		unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
		setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", bad[i], 1);
		assert_int_equal(load(), -EINVAL);
		assert_non_null(strstr(err, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
		unsetenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
	}
	memcpy(longurl, "http://h/", 9);
	memset(longurl + 9, 'a', sizeof(longurl) - 10);
	longurl[sizeof(longurl) - 1] = '\0';
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", longurl, 1);
	assert_int_equal(load(), -EINVAL);
}

static void test_headers(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318", 1);
	setenv("OTEL_EXPORTER_OTLP_HEADERS",
	       " api-key = secret%20value , X-Scope-OrgID=t1,bad header=x,c=%2C,noeq,,auth=a=b", 1);
	assert_int_equal(load(), 0);
	/* the name with a space, the decoded comma and the member without '=' are dropped */
	assert_string_equal(cfg.headers, "api-key=secret value,X-Scope-OrgID=t1,auth=a=b");
	assert_string_equal(cfg.traces_headers, "");
	assert_string_equal(cfg.metrics_headers, "");

	/* the per-signal variable replaces the generic one for its signal */
	setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-trace=1%2B1", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.traces_headers, "x-trace=1+1");
	assert_string_equal(cfg.metrics_headers, "");
	assert_string_equal(cfg.headers, "api-key=secret value,X-Scope-OrgID=t1,auth=a=b");

	setenv("OTEL_EXPORTER_OTLP_HEADERS", "crlf=a%0D%0Ab,nul=%00", 1);
	assert_int_equal(load(), 0);
	assert_string_equal(cfg.headers, "");
}

static void test_numbers_and_compression(void **state)
{
	(void)state;
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5000", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", " 7000 ", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "abc", 1); /* ignored */
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd", 1); /* ignored */
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "15000", 1);
	setenv("OTEL_METRIC_EXPORT_TIMEOUT", "2000", 1);
	setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
	setenv("OTEL_BSP_EXPORT_TIMEOUT", "3000", 1);
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500", 1); /* larger than the queue */
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.timeout_ms, 5000);
	assert_int_equal(cfg.metrics_timeout_ms, 7000);
	assert_int_equal(cfg.traces_timeout_ms, 0);
	assert_true(cfg.gzip);
	assert_int_equal(cfg.metrics_compression, OTLP_COMPRESSION_NONE);
	assert_int_equal(cfg.traces_compression, OTLP_COMPRESSION_INHERIT);
	assert_int_equal(cfg.metric_interval_ms, 15000);
	assert_int_equal(cfg.metric_export_timeout_ms, 2000);
	assert_int_equal(cfg.batch_delay_ms, 100);
	assert_int_equal(cfg.batch_export_timeout_ms, 3000);
	assert_int_equal(cfg.queue_max_spans, 100);
	assert_int_equal(cfg.batch_max_spans, 100);

	/* values that do not parse keep the defaults */
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "-5", 1);
	setenv("OTEL_METRIC_EXPORT_INTERVAL", "10s", 1);
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "0", 1);
	setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "99999999999999999999", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli", 1);
	assert_int_equal(load(), 0);
	assert_int_equal(cfg.timeout_ms, 10000);
	assert_int_equal(cfg.metric_interval_ms, 60000);
	assert_int_equal(cfg.queue_max_spans, 2048);
	assert_int_equal(cfg.batch_max_spans, 512);
	assert_false(cfg.gzip);
}

static void test_resource_attributes(void **state)
{
	(void)state;
	setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,k8s.node.name=n%201", 1);
	assert_int_equal(load(), 0);
	/* kept as set: decoded when the resources are built */
	assert_string_equal(cfg.resource_attrs, "deployment.environment=prod,k8s.node.name=n%201");
}

static void test_url_join(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(otlp_url_join(out, sizeof(out), "http://a//", "/v1/traces"), 0);
	assert_string_equal(out, "http://a/v1/traces");
	assert_int_equal(otlp_url_join(out, sizeof(out), "http://a:1#frag", "v1/x"), 0);
	assert_string_equal(out, "http://a:1/v1/x#frag");
	assert_int_equal(otlp_url_join(out, sizeof(out), "http://a/long/path/here", "v1/metrics"),
			 -ENAMETOOLONG);
	assert_int_equal(otlp_url_join(out, sizeof(out), "a:1", "v1/x"), -EINVAL);
	assert_true(otlp_url_valid("https://[::1]:4318/v1/traces"));
	assert_false(otlp_url_valid("https://:4318"));
	assert_false(otlp_url_valid("http://a\tb"));
}

static void test_percent_decode(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(otlp_percent_decode(out, sizeof(out), "%41%zz%4", 8), 6);
	assert_string_equal(out, "A%zz%4");
	assert_int_equal(otlp_percent_decode(out, sizeof(out), "a+b%2b%C3%A9", 12), 6);
	assert_string_equal(out, "a+b+\xc3\xa9");
	assert_int_equal(otlp_percent_decode(out, sizeof(out), "x%00", 4), -EINVAL);
	/* a raw NUL inside the given length is refused too (found by fuzz_otlp_env) */
	assert_int_equal(otlp_percent_decode(out, sizeof(out), "a\0b", 3), -EINVAL);
	assert_int_equal(otlp_percent_decode(out, 4, "abcd", 4), -ENAMETOOLONG);
	assert_int_equal(otlp_percent_decode(out, 5, "abcd", 4), 4);
}

struct collected {
	char buf[256];
};

static int collect(void *ctx, const char *key, const char *val)
{
	struct collected *c = ctx;
	size_t n = strlen(c->buf);

	snprintf(c->buf + n, sizeof(c->buf) - n, "[%s|%s]", key, val);
	return 0;
}

static int stop_at_b(void *ctx, const char *key, const char *val)
{
	(void)val;
	collect(ctx, key, "");
	return !strcmp(key, "b") ? 42 : 0;
}

static void test_kv_parse(void **state)
{
	struct collected c = {""};

	(void)state;
	assert_int_equal(otlp_kv_parse(" a = 1 ,, =x, b=%20y% ,junk, c=", true, collect, &c), 2);
	assert_string_equal(c.buf, "[a|1][b| y%][c|]");
	c.buf[0] = '\0';
	assert_int_equal(otlp_kv_parse("a=%41,b=2,c=3", false, collect, &c), 0);
	assert_string_equal(c.buf, "[a|%41][b|2][c|3]");
	c.buf[0] = '\0';
	assert_int_equal(otlp_kv_parse("a=1,b=2,c=3", false, stop_at_b, &c), 42);
	assert_string_equal(c.buf, "[a|][b|]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_nothing_set, clear_otel),
	    cmocka_unit_test_setup(test_base_endpoint, clear_otel),
	    cmocka_unit_test_setup(test_signal_endpoint_as_is, clear_otel),
	    cmocka_unit_test_setup(test_empty_is_unset, clear_otel),
	    cmocka_unit_test_setup(test_exporter_selection, clear_otel),
	    cmocka_unit_test_setup(test_protocol, clear_otel),
	    cmocka_unit_test_setup(test_bad_endpoints, clear_otel),
	    cmocka_unit_test_setup(test_headers, clear_otel),
	    cmocka_unit_test_setup(test_numbers_and_compression, clear_otel),
	    cmocka_unit_test_setup(test_resource_attributes, clear_otel),
	    cmocka_unit_test(test_url_join),
	    cmocka_unit_test(test_percent_decode),
	    cmocka_unit_test(test_kv_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
