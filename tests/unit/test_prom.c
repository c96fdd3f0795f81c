// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_prom.c - unit tests for the exposition (user/export/prom.c): exact text 0.0.4
 * and OpenMetrics output, escaping, numbers, content negotiation, and
 * validation by independent parsers when installed: `promtool check metrics`
 * for the text format and the prometheus_client OpenMetrics parser (Debian
 * python3-prometheus-client) for OpenMetrics. Each checker is first shown a
 * broken exposition, so a checker that accepts anything fails the test.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "prom.h"
#include "promtext.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An exemplar's ids: binary in the registry, hex only in the exposition. */
#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN_ID	 "00f067aa0ba902b7"
static const uint8_t trace_id[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				     0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const uint8_t span_id[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};

/* ---- numbers ---- */

static void check_value(double v, const char *want)
{
	char buf[PROM_NUM_MAX];
	size_t n = prom_format_value(buf, v);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void check_le(double v, const char *text, const char *om)
{
	char buf[PROM_NUM_MAX];

	assert_int_equal(prom_format_le(buf, v, PROM_FMT_TEXT), strlen(text));
	assert_string_equal(buf, text);
	assert_int_equal(prom_format_le(buf, v, PROM_FMT_OPENMETRICS), strlen(om));
	assert_string_equal(buf, om);
}

static void test_format_value(void **state)
{
	(void)state;
	check_value(0, "0");
	check_value(-0.0, "-0");
	check_value(1, "1");
	check_value(-1, "-1");
	check_value(42, "42");
	check_value(1e6, "1000000");
	check_value(123456789012345.0, "123456789012345");
	check_value(9007199254740991.0, "9007199254740991");
	check_value(9007199254740992.0, "9.007199254740992e+15");
	check_value(1e20, "1e+20");
	check_value(0.005, "0.005");
	check_value(0.1, "0.1");
	check_value(0.1 + 0.2, "0.30000000000000004");
	check_value(1.5, "1.5");
	check_value(-2.5, "-2.5");
	check_value(123.456, "123.456");
	check_value(1234567.5, "1234567.5");
	check_value(0.00001, "0.00001");
	check_value(1.5e-7, "1.5e-07");
	check_value(1700000000.123, "1700000000.123");
	check_value(1e308 * 10, "+Inf");
	check_value(-INFINITY, "-Inf");
	check_value(NAN, "NaN");
	check_value(4.9e-324, "5e-324");
	check_value(1.7976931348623157e308, "1.7976931348623157e+308");
}

static void test_format_le(void **state)
{
	/* the OpenMetrics canonical examples, and what client_golang writes in text */
	static const struct {
		double v;
		const char *text, *om;
	} cases[] = {
	    {0.0, "0", "0.0"},
	    {0.001, "0.001", "0.001"},
	    {0.002, "0.002", "0.002"},
	    {0.005, "0.005", "0.005"},
	    {0.01, "0.01", "0.01"},
	    {0.1, "0.1", "0.1"},
	    {0.9, "0.9", "0.9"},
	    {0.95, "0.95", "0.95"},
	    {0.99, "0.99", "0.99"},
	    {0.999, "0.999", "0.999"},
	    {1.0, "1", "1.0"},
	    {1.7, "1.7", "1.7"},
	    {10.0, "10", "10.0"},
	    {1e-10, "1e-10", "1e-10"},
	    {1e-09, "1e-09", "1e-09"},
	    {1e-05, "1e-05", "1e-05"},
	    {0.0001, "0.0001", "0.0001"},
	    {100000, "100000", "100000.0"},
	    {1e+06, "1e+06", "1e+06"},
	    {1e+10, "1e+10", "1e+10"},
	    {2.5, "2.5", "2.5"},
	    {7.5, "7.5", "7.5"},
	    {0.075, "0.075", "0.075"},
	    {-1, "-1", "-1.0"},
	    {1234567, "1.234567e+06", "1.234567e+06"},
	    {INFINITY, "+Inf", "+Inf"},
	    {-INFINITY, "-Inf", "-Inf"},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		check_le(cases[i].v, cases[i].text, cases[i].om);
}

/* Random doubles of every magnitude read back exactly and fit the buffer. */
static void test_format_roundtrip(void **state)
{
	char buf[PROM_NUM_MAX];

	(void)state;
	srand(7);
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
		double v;

		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		assert_true(prom_format_value(buf, v) < PROM_NUM_MAX);
		assert_true(strtod(buf, NULL) == v);
		assert_true(prom_format_le(buf, v, PROM_FMT_OPENMETRICS) < PROM_NUM_MAX);
		assert_true(strtod(buf, NULL) == v);
		/* short decimals stay short */
		v = (double)(rand() % 100000) / 1000;
		prom_format_value(buf, v);
		assert_true(strlen(buf) <= 6);
		assert_true(strtod(buf, NULL) == v);
	}
}

/* ---- negotiation ---- */

static void test_negotiate(void **state)
{
	static const struct {
		const char *accept;
		enum prom_format want;
	} cases[] = {
	    {NULL, PROM_FMT_TEXT},
	    {"", PROM_FMT_TEXT},
	    {"*/*", PROM_FMT_TEXT},
	    {"text/plain", PROM_FMT_TEXT},
	    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", PROM_FMT_TEXT},
	    /* what Prometheus 2.x sends */
	    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
	     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	     PROM_FMT_OPENMETRICS},
	    {"text/plain;version=0.0.4;q=1,*/*;q=0.1", PROM_FMT_TEXT},
	    {"application/openmetrics-text", PROM_FMT_OPENMETRICS},
	    {"APPLICATION/OpenMetrics-Text", PROM_FMT_OPENMETRICS},
	    {"application/openmetrics-text; version=0.0.1", PROM_FMT_OPENMETRICS},
	    {"application/openmetrics-text; version=\"1.0.0\"", PROM_FMT_OPENMETRICS},
	    {"application/openmetrics-text; version=2.0.0", PROM_FMT_TEXT},
	    {"application/openmetrics-text;q=0", PROM_FMT_TEXT},
	    {"application/openmetrics-text;q=abc", PROM_FMT_TEXT},
	    {"application/openmetrics-text;q=0.3, text/plain;q=0.7", PROM_FMT_TEXT},
	    {"text/plain;q=0.2, application/openmetrics-text;q=0.3", PROM_FMT_OPENMETRICS},
	    {"text/plain;q=0.5, application/openmetrics-text;q=0.5", PROM_FMT_OPENMETRICS},
	    {"application/openmetrics-text ; q=0.5 , */*;q=0.9", PROM_FMT_TEXT},
	    {"application/openmetrics-text;q=0.5,text/*;q=0.9", PROM_FMT_TEXT},
	    /* the explicit text/plain q wins over a wildcard */
	    {"text/plain;q=0, */*;q=1, application/openmetrics-text;q=0.1", PROM_FMT_OPENMETRICS},
	    {"application/openmetrics-text;version=1.0.0;q=0.5,text/*;q=0.4", PROM_FMT_OPENMETRICS},
	    {"application/json", PROM_FMT_TEXT},
	    {",,;;=,application/openmetrics-text;;q", PROM_FMT_OPENMETRICS},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		if (prom_negotiate(cases[i].accept) != cases[i].want)
			print_error("Accept: %s\n", cases[i].accept);
		assert_int_equal(prom_negotiate(cases[i].accept), cases[i].want);
	}
	assert_string_equal(prom_content_type(PROM_FMT_TEXT),
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(prom_content_type(PROM_FMT_OPENMETRICS),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* ---- rendering ---- */

/* A registry with one family of each kind, an overflow series and an exemplar. */
static struct metric_registry *sample_registry(void)
{
	static const char *const req_labels[] = {"method", "code"};
	static const char *const db_labels[] = {"system"};
	static const double bounds[] = {0.005, 0.1, 1, 2.5};
	const char *const get200[] = {"GET", "200"}, *const post500[] = {"POST", "500"};
	const char *const pg[] = {"postgresql"}, *const redis[] = {"redis"};
	struct metric_registry *r = metric_registry_new();
	struct metric_family *req, *q, *db, *empty;
	struct metric_series *s;

	assert_non_null(r);
	req = metric_family_new(r, METRIC_COUNTER, "http_requests", "Requests served.", NULL,
				req_labels, 2, NULL, 0, 0);
	q = metric_family_new(r, METRIC_GAUGE, "queue_bytes", "Queue size.", "bytes", NULL, 0, NULL,
			      0, 0);
	db = metric_family_new(r, METRIC_HISTOGRAM, "db_latency_seconds", "Latency.", "seconds",
			       db_labels, 1, bounds, NELEM(bounds), 1);
	empty = metric_family_new(r, METRIC_GAUGE, "empty_gauge", NULL, NULL, NULL, 0, NULL, 0, 0);
	assert_non_null(req);
	assert_non_null(q);
	assert_non_null(db);
	assert_non_null(empty);

	metric_counter_add(metric_series_get(req, get200), 3);
	metric_counter_add(metric_series_get(req, post500), 0.5);
	metric_counter_add_exemplar(metric_series_get(req, post500), 1, trace_id, span_id,
				    1700000001.25);
	metric_gauge_set(metric_series_get(q, NULL), 1e6);
	s = metric_series_get(db, pg);
	metric_histogram_observe(s, 0.00390625);
	metric_histogram_observe_exemplar(s, 0.0625, trace_id, span_id, 1700000000.5);
	metric_histogram_observe(s, 0.0625);
	metric_histogram_observe(s, 3);
	metric_histogram_observe(metric_series_get(db, redis), 0.25); /* past the cap of 1 */
	return r;
}

static const char sample_text[] =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
    "http_requests_total{method=\"POST\",code=\"500\"} 1.5\n"
    "# HELP queue_bytes Queue size.\n"
    "# TYPE queue_bytes gauge\n"
    "queue_bytes 1000000\n"
    "# HELP db_latency_seconds Latency.\n"
    "# TYPE db_latency_seconds histogram\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"0.005\"} 1\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"0.1\"} 3\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"1\"} 3\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"2.5\"} 3\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"+Inf\"} 4\n"
    "db_latency_seconds_sum{system=\"postgresql\"} 3.12890625\n"
    "db_latency_seconds_count{system=\"postgresql\"} 4\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.005\"} 0\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.1\"} 0\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"1\"} 1\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"2.5\"} 1\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"+Inf\"} 1\n"
    "db_latency_seconds_sum{otel_metric_overflow=\"true\"} 0.25\n"
    "db_latency_seconds_count{otel_metric_overflow=\"true\"} 1\n"
    "# TYPE empty_gauge gauge\n";

static const char sample_om[] =
    "# TYPE http_requests counter\n"
    "# HELP http_requests Requests served.\n"
    "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
    "http_requests_total{method=\"POST\",code=\"500\"} 1.5"
    " # {trace_id=\"" TRACE_ID "\",span_id=\"" SPAN_ID "\"} 1 1700000001.25\n"
    "# TYPE queue_bytes gauge\n"
    "# UNIT queue_bytes bytes\n"
    "# HELP queue_bytes Queue size.\n"
    "queue_bytes 1000000\n"
    "# TYPE db_latency_seconds histogram\n"
    "# UNIT db_latency_seconds seconds\n"
    "# HELP db_latency_seconds Latency.\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"0.005\"} 1\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"0.1\"} 3"
    " # {trace_id=\"" TRACE_ID "\",span_id=\"" SPAN_ID "\"} 0.0625 1700000000.5\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"1.0\"} 3\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"2.5\"} 3\n"
    "db_latency_seconds_bucket{system=\"postgresql\",le=\"+Inf\"} 4\n"
    "db_latency_seconds_sum{system=\"postgresql\"} 3.12890625\n"
    "db_latency_seconds_count{system=\"postgresql\"} 4\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.005\"} 0\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.1\"} 0\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"1.0\"} 1\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"2.5\"} 1\n"
    "db_latency_seconds_bucket{otel_metric_overflow=\"true\",le=\"+Inf\"} 1\n"
    "db_latency_seconds_sum{otel_metric_overflow=\"true\"} 0.25\n"
    "db_latency_seconds_count{otel_metric_overflow=\"true\"} 1\n"
    "# TYPE empty_gauge gauge\n"
    "# EOF\n";

static void test_render_text(void **state)
{
	struct metric_registry *r = sample_registry();
	char *out = promtext(r, PROM_FMT_TEXT);

	(void)state;
	assert_string_equal(out, sample_text);
	assert_null(strstr(out, "trace_id")); /* exemplars are OpenMetrics only */
	free(out);
	metric_registry_free(r);
}

static void test_render_openmetrics(void **state)
{
	struct metric_registry *r = sample_registry();
	char *out = promtext(r, PROM_FMT_OPENMETRICS);

	(void)state;
	assert_string_equal(out, sample_om);
	free(out);
	metric_registry_free(r);
}

static void test_render_empty(void **state)
{
	struct metric_registry *r = metric_registry_new();
	char *out;

	(void)state;
	assert_non_null(r);
	out = promtext(r, PROM_FMT_TEXT);
	assert_string_equal(out, "");
	free(out);
	out = promtext(r, PROM_FMT_OPENMETRICS);
	assert_string_equal(out, "# EOF\n");
	free(out);

	assert_int_equal(prom_render(NULL, PROM_FMT_TEXT, &out, NULL), -EINVAL);
	assert_int_equal(prom_render(r, PROM_FMT_TEXT, NULL, NULL), -EINVAL);
	assert_int_equal(prom_render(r, (enum prom_format)9, &out, NULL), -EINVAL);
	metric_registry_free(r);
}

static void test_escaping(void **state)
{
	static const char *const names[] = {"v"};
	const char *const weird[] = {"a\\b\"c\nd"};
	const char *const bad_utf8[] = {"x\xff\xc3(\xe2\x82\xac\xed\xa0\x80y\tz"};
	struct metric_registry *r = metric_registry_new();
	struct metric_family *g;
	char *out;

	(void)state;
	assert_non_null(r);
	g = metric_family_new(r, METRIC_GAUGE, "g", "Say \"hi\" \\ bye\nnext \xc3\xa9\xff", NULL,
			      names, 1, NULL, 0, 0);
	assert_non_null(g);
	metric_gauge_set(metric_series_get(g, weird), 1);
	metric_gauge_set(metric_series_get(g, bad_utf8), 2);

	/* text: HELP escapes only backslash and newline */
	out = promtext(r, PROM_FMT_TEXT);
	assert_string_equal(out,
			    "# HELP g Say \"hi\" \\\\ bye\\nnext \xc3\xa9\xef\xbf\xbd\n"
			    "# TYPE g gauge\n"
			    "g{v=\"a\\\\b\\\"c\\nd\"} 1\n"
			    "g{v=\"x\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbdy\tz\"} 2\n");
	free(out);

	/* OpenMetrics: HELP escapes double quotes too */
	out = promtext(r, PROM_FMT_OPENMETRICS);
	assert_string_equal(out,
			    "# TYPE g gauge\n"
			    "# HELP g Say \\\"hi\\\" \\\\ bye\\nnext \xc3\xa9\xef\xbf\xbd\n"
			    "g{v=\"a\\\\b\\\"c\\nd\"} 1\n"
			    "g{v=\"x\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbdy\tz\"} 2\n"
			    "# EOF\n");
	free(out);
	metric_registry_free(r);
}

static void test_special_values(void **state)
{
	static const char *const names[] = {"k"};
	const char *const a[] = {"nan"}, *const b[] = {"inf"}, *const c[] = {"ninf"};
	const char *const d[] = {"big"};
	struct metric_registry *r = metric_registry_new();
	struct metric_family *g, *ctr;
	char *out;

	(void)state;
	assert_non_null(r);
	g = metric_family_new(r, METRIC_GAUGE, "g", "G.", NULL, names, 1, NULL, 0, 0);
	ctr = metric_family_new(r, METRIC_COUNTER, "c", "C.", NULL, NULL, 0, NULL, 0, 0);
	assert_non_null(g);
	assert_non_null(ctr);
	metric_gauge_set(metric_series_get(g, a), NAN);
	metric_gauge_set(metric_series_get(g, b), INFINITY);
	metric_gauge_set(metric_series_get(g, c), -INFINITY);
	metric_gauge_set(metric_series_get(g, d), 1e22);
	metric_counter_add(metric_series_get(ctr, NULL), 9007199254740993.0);
	out = promtext(r, PROM_FMT_TEXT);
	assert_string_equal(out, "# HELP g G.\n# TYPE g gauge\n"
				 "g{k=\"nan\"} NaN\ng{k=\"inf\"} +Inf\ng{k=\"ninf\"} -Inf\n"
				 "g{k=\"big\"} 1e+22\n"
				 "# HELP c_total C.\n# TYPE c_total counter\n"
				 "c_total 9.007199254740992e+15\n");
	free(out);
	metric_registry_free(r);
}

/* OpenMetrics forbids _sum when it would not be a counter. */
static void test_negative_histograms(void **state)
{
	const double neg[] = {-1, 0, 1}, pos[] = {1};
	struct metric_registry *r = metric_registry_new();
	struct metric_family *h1, *h2;
	char *out;

	(void)state;
	assert_non_null(r);
	h1 = metric_family_new(r, METRIC_HISTOGRAM, "delta", "D.", NULL, NULL, 0, neg, 3, 0);
	h2 = metric_family_new(r, METRIC_HISTOGRAM, "skew", "S.", NULL, NULL, 0, pos, 1, 0);
	assert_non_null(h1);
	assert_non_null(h2);
	metric_histogram_observe(metric_series_get(h1, NULL), 0.5);
	metric_histogram_observe(metric_series_get(h2, NULL), -5);
	out = promtext(r, PROM_FMT_OPENMETRICS);
	assert_string_equal(out, "# TYPE delta histogram\n# HELP delta D.\n"
				 "delta_bucket{le=\"-1.0\"} 0\n"
				 "delta_bucket{le=\"0.0\"} 0\n"
				 "delta_bucket{le=\"1.0\"} 1\n"
				 "delta_bucket{le=\"+Inf\"} 1\n"
				 "delta_count 1\n"
				 "# TYPE skew histogram\n# HELP skew S.\n"
				 "skew_bucket{le=\"1.0\"} 1\n"
				 "skew_bucket{le=\"+Inf\"} 1\n"
				 "skew_count 1\n"
				 "# EOF\n");
	free(out);
	out = promtext(r, PROM_FMT_TEXT);
	assert_non_null(strstr(out, "\ndelta_sum 0.5\n"));
	assert_non_null(strstr(out, "\nskew_sum -5\n"));
	free(out);
	metric_registry_free(r);
}

/* ---- independent parsers ---- */

/* Writes s to a temporary file and runs cmd with it on stdin; the exit status. */
static int run_with_input(const char *cmd, const char *s)
{
	char path[] = "/tmp/test_prom.XXXXXX", line[1024];
	int fd = mkstemp(path), status;
	size_t len = strlen(s);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
	snprintf(line, sizeof(line), "%s < %s >/dev/null 2>&1", cmd, path);
	status = system(line);
	unlink(path);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static bool have(const char *check)
{
	return system(check) == 0;
}

/* A big registry: every kind, labels needing escapes, an overflow series. */
static struct metric_registry *big_registry(void)
{
	static const char *const names[] = {"http_request_method", "http_route",
					    "http_response_status_code"};
	static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					0.5,   0.75, 1,	    2.5,  5,	 7.5, 10};
	struct metric_registry *r = sample_registry();
	struct metric_family *h;

	h = metric_family_new(r, METRIC_HISTOGRAM, "http_server_request_duration_seconds",
			      "Duration of HTTP server requests.", "seconds", names, 3, bounds,
			      NELEM(bounds), 200);
	assert_non_null(h);
	for (int i = 0; i < 500; i++) {
		char route[64], code[8];
		const char *const v[] = {i % 3 ? "GET" : "PO\"ST", route, code};
		struct metric_series *s;

		snprintf(route, sizeof(route), "/r%d/\\x\n%c", i % 250, "ab\xff"[i % 3]);
		snprintf(code, sizeof(code), "%d", 200 + i % 2);
		s = metric_series_get(h, v);
		metric_histogram_observe_exemplar(s, i / 100.0, trace_id, span_id, 1700000000 + i);
		metric_histogram_observe(s, i / 7.0);
	}
	return r;
}

static void test_promtool(void **state)
{
	struct metric_registry *r;
	char *out;

	(void)state;
	if (!have("command -v promtool >/dev/null 2>&1")) {
		print_message("promtool not installed: skipped\n");
		skip();
		return;
	}
	/* the checker can fail */
	assert_int_not_equal(
	    run_with_input("promtool check metrics", "# TYPE x_total counter\nx_total{a=\"b} 1\n"),
	    0);
	assert_int_not_equal(run_with_input("promtool check metrics", sample_om), 0);

	assert_int_equal(run_with_input("promtool check metrics", sample_text), 0);
	r = big_registry();
	out = promtext(r, PROM_FMT_TEXT);
	assert_int_equal(run_with_input("promtool check metrics", out), 0);
	free(out);
	metric_registry_free(r);
}

#define OM_PARSE                                                                                   \
	"/usr/bin/python3 -c 'import sys\n"                                                        \
	"from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"   \
	"n = sum(len(f.samples) for f in p(sys.stdin.read()))\n"                                   \
	"sys.exit(0 if n else 1)'"

/* Exits 0 iff the POST counter sample carries an exemplar of trace id tid, value 1. */
#define OM_EXEMPLAR(tid)                                                                           \
	"/usr/bin/python3 -c 'import sys\n"                                                        \
	"from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"   \
	"e = [s.exemplar for f in p(sys.stdin.read()) for s in f.samples\n"                        \
	"     if s.name == \"http_requests_total\" and s.labels.get(\"method\") == \"POST\"]\n"    \
	"ok = len(e) == 1 and e[0] and e[0].labels[\"trace_id\"] == \"" tid "\"\n"                 \
	"sys.exit(0 if ok and e[0].value == 1 and e[0].labels[\"span_id\"] == \"" SPAN_ID          \
	"\" else 1)'"

static void test_openmetrics_parser(void **state)
{
	struct metric_registry *r;
	char *out;

	(void)state;
	if (!have("/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' "
		  ">/dev/null 2>&1")) {
		print_message("python3-prometheus-client not installed: skipped\n");
		skip();
		return;
	}
	/* the checker can fail: text format is not OpenMetrics, nor is a missing EOF */
	assert_int_not_equal(run_with_input(OM_PARSE, sample_text), 0);
	assert_int_not_equal(run_with_input(OM_PARSE, "# TYPE a counter\na_total 1\n"), 0);
	assert_int_not_equal(run_with_input(OM_PARSE, "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\n"
						      "h_count 1\n# EOF\n"),
			     0);

	assert_int_equal(run_with_input(OM_PARSE, sample_om), 0);
	/* and it reads the counter's exemplar as ours */
	assert_int_not_equal(run_with_input(OM_EXEMPLAR("0" TRACE_ID), sample_om), 0);
	assert_int_equal(run_with_input(OM_EXEMPLAR(TRACE_ID), sample_om), 0);
	r = big_registry();
	out = promtext(r, PROM_FMT_OPENMETRICS);
	assert_int_equal(run_with_input(OM_PARSE, out), 0);
	free(out);
	metric_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_value),     cmocka_unit_test(test_format_le),
	    cmocka_unit_test(test_format_roundtrip), cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_render_text),	     cmocka_unit_test(test_render_openmetrics),
	    cmocka_unit_test(test_render_empty),     cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_special_values),   cmocka_unit_test(test_negative_histograms),
	    cmocka_unit_test(test_promtool),	     cmocka_unit_test(test_openmetrics_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
