// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dbmetrics.c - unit tests for db.client.operation.duration
 * (user/signals/dbmetrics.c) recorded into a real registry and read back
 * from the Prometheus text that user/export/prom.c renders: every label in
 * its place (the port formatted without printf), durations in seconds,
 * one series per label set, hello records and reversed clocks, exemplars,
 * and the memos (series found again without a hash of every label) keeping
 * label sets apart and never outliving an expired series.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dbmetrics.h"
#include "metrics.h"
#include "prom.h"
#include "promtext.h"

#define FAMILY "db_client_operation_duration_seconds"
#define MS     1000000ull

struct fx {
	struct metric_registry *r;
	struct dbmetrics *m;
	char *text; /* last render */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->r = metric_registry_new();
	assert_non_null(f->r);
	f->m = dbmetrics_new(f->r, 100);
	assert_non_null(f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dbmetrics_free(f->m);
	metric_registry_free(f->r);
	free(f->text);
	free(f);
	return 0;
}

static const char *render(struct fx *f)
{
	return promtext_into(&f->text, f->r, PROM_FMT_TEXT);
}

/* The value of the first sample line that starts with prefix (the name and
 * the first labels); -1 when there is none. */
static double sample(struct fx *f, const char *prefix)
{
	const char *p = strstr(render(f), prefix);

	if (!p || !(p = strchr(p, '}')))
		return -1;
	return strtod(p + 1, NULL);
}

static struct db_op op_of(const char *system, const char *operation, const char *summary,
			  uint16_t port, uint64_t dur_ns)
{
	struct db_op op = {.pid = 4242, .tid = 4242, .system = system};

	op.start_ns = 10 * MS;
	op.end_ns = op.start_ns + dur_ns;
	snprintf(op.operation, sizeof(op.operation), "%s", operation);
	snprintf(op.query_summary, sizeof(op.query_summary), "%s", summary);
	snprintf(op.namespace_, sizeof(op.namespace_), "%s", "shop");
	snprintf(op.server_address, sizeof(op.server_address), "%s", "127.0.0.1");
	op.server_port = port;
	return op;
}

/* Every label in its place, the port written as digits, seconds observed. */
static void test_labels(void **state)
{
	struct fx *f = *state;
	struct db_op op = op_of("postgresql", "SELECT", "SELECT users", 5432, 3 * MS);
	const char *want =
	    FAMILY "_count{service_name=\"svc\",db_system_name=\"postgresql\","
		   "db_operation_name=\"SELECT\",db_namespace=\"shop\","
		   "server_address=\"127.0.0.1\",server_port=\"5432\",error_type=\"\","
		   "db_response_status_code=\"\",db_query_summary=\"SELECT users\"";

	dbmetrics_record(f->m, &op, "svc");
	dbmetrics_record(f->m, &op, "svc");
	if (!strstr(render(f), want))
		fail_msg("no sample %s in:\n%s", want, f->text);
	assert_true(sample(f, want) == 2);
	assert_non_null(strstr(f->text, "db_query_summary=\"SELECT users\"} 0.006"));
}

/* Ports of every width, and none (0: an empty label, not "0"). */
static void test_ports(void **state)
{
	static const struct {
		uint16_t port;
		const char *label;
	} ports[] = {{0, "server_port=\"\""},	     {7, "server_port=\"7\""},
		     {80, "server_port=\"80\""},     {443, "server_port=\"443\""},
		     {6379, "server_port=\"6379\""}, {65535, "server_port=\"65535\""}};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct db_op op = op_of("redis", "GET", "", ports[i].port, MS);

		dbmetrics_record(f->m, &op, "svc");
	}
	render(f);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (!strstr(f->text, ports[i].label))
			fail_msg("no %s in:\n%s", ports[i].label, f->text);
}

/* Errors and another operation are other series; a hello record and a
 * missing system are handled; a reversed clock observes 0 s. */
static void test_series_and_edges(void **state)
{
	struct fx *f = *state;
	struct db_op ok = op_of("redis", "SET", "", 6379, 2 * MS);
	struct db_op err = ok, hello = ok, nosys = ok, back = ok;

	snprintf(err.error_type, sizeof(err.error_type), "%s", "WRONGTYPE");
	snprintf(err.status_code, sizeof(err.status_code), "%s", "WRONGTYPE");
	hello.is_hello = true;
	nosys.system = NULL;
	snprintf(back.operation, sizeof(back.operation), "%s", "DEL");
	back.end_ns = back.start_ns - MS;

	dbmetrics_record(f->m, &ok, NULL);
	dbmetrics_record(f->m, &err, NULL);
	dbmetrics_record(f->m, &hello, NULL);
	dbmetrics_record(f->m, &nosys, NULL);
	dbmetrics_record(f->m, &back, NULL);
	dbmetrics_record(NULL, &ok, NULL);
	dbmetrics_record(f->m, NULL, NULL);
	render(f);
	/* the hello record is not an operation; the error is a series of its own */
	assert_true(sample(f, FAMILY
			   "_count{service_name=\"\",db_system_name=\"redis\","
			   "db_operation_name=\"SET\",db_namespace=\"shop\","
			   "server_address=\"127.0.0.1\",server_port=\"6379\",error_type=\"\"") ==
		    1);
	assert_non_null(strstr(f->text, "error_type=\"WRONGTYPE\",db_response_status_code="
					"\"WRONGTYPE\""));
	assert_true(sample(f, FAMILY "_count{service_name=\"\",db_system_name=\"\",") == 1);
	assert_true(sample(f, FAMILY "_sum{service_name=\"\",db_system_name=\"redis\","
				     "db_operation_name=\"DEL\"") == 0);
}

/* With a trace, the observation carries an exemplar (OpenMetrics). */
static void test_exemplar(void **state)
{
	struct fx *f = *state;
	struct db_op op = op_of("postgresql", "INSERT", "INSERT orders", 5432, 4 * MS);
	const uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	const uint8_t span[8] = {0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
	size_t len = 0;

	dbmetrics_record_ex(f->m, &op, "svc", trace, span);
	free(f->text);
	f->text = NULL;
	assert_int_equal(prom_render(f->r, PROM_FMT_OPENMETRICS, &f->text, &len), 0);
	if (!strstr(f->text, "trace_id=\"4bf92f35010203040506070809"))
		fail_msg("no exemplar in:\n%s", f->text);
	assert_non_null(strstr(f->text, "span_id=\"00f067aa0ba902b7\""));
}

/* The samples of FAMILY_count: how many lines, and whether each is want. */
static size_t count_lines(struct fx *f, double want)
{
	size_t n = 0;

	for (const char *p = render(f); (p = strstr(p, FAMILY "_count{")); p++, n++) {
		const char *v = strchr(p, '}');

		assert_non_null(v);
		if (strtod(v + 1, NULL) != want)
			fail_msg("a series counted %g, not %g:\n%s", strtod(v + 1, NULL), want,
				 f->text);
	}
	return n;
}

/* Operations that differ in one label each, with the same query summary,
 * port and process (so the same set of memos, more of them than its ways),
 * recorded in turn: each label set stays a series of its own. */
static void test_memo_labels(void **state)
{
	struct fx *f = *state;
	struct db_op base = op_of("postgresql", "SELECT", "SELECT users", 5432, MS);
	struct db_op v[10];
	const char *svc[10] = {"svc", "other"};

	for (size_t i = 0; i < 10; i++)
		v[i] = base;
	v[2].system = "redis";
	snprintf(v[3].operation, sizeof(v[3].operation), "%s", "select");
	snprintf(v[4].namespace_, sizeof(v[4].namespace_), "%s", "shop2");
	snprintf(v[5].server_address, sizeof(v[5].server_address), "%s", "127.0.0.2");
	v[6].server_port = 6432;
	snprintf(v[7].error_type, sizeof(v[7].error_type), "%s", "42P01");
	snprintf(v[8].status_code, sizeof(v[8].status_code), "%s", "42P01");
	snprintf(v[9].query_summary, sizeof(v[9].query_summary), "%s", "SELECT orders");
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 10; i++)
			dbmetrics_record(f->m, &v[i], svc[i] ? svc[i] : "svc");
	assert_int_equal(count_lines(f, 3), 10);
}

/* A series the registry expired is not recalled through its memo. */
static void test_memo_after_expiry(void **state)
{
	struct fx *f = *state;
	struct db_op op = op_of("redis", "GET", "GET", 6379, MS);

	metric_registry_set_ttl(f->r, 1000);
	assert_int_equal(metric_registry_expire(f->r, 5000), 0); /* the registry's clock */
	dbmetrics_record(f->m, &op, "svc");
	dbmetrics_record(f->m, &op, "svc");
	assert_int_equal(count_lines(f, 2), 1);
	assert_int_equal(metric_registry_expire(f->r, 6000), 1);
	assert_int_equal(count_lines(f, 0), 0);
	dbmetrics_record(f->m, &op, "svc");
	assert_int_equal(count_lines(f, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_series_and_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exemplar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memo_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memo_after_expiry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
