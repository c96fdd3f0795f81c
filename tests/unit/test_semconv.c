// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_semconv.c - unit tests for user/signals/semconv.c: every Prometheus
 * name derived from the table equals the spelling /metrics has always
 * exposed (dashboards, rules and e2e tests depend on them), label by label;
 * the OpenTelemetry-to-Prometheus rules on their own (units, _ratio,
 * annotations, _total, characters); and attribute keys and types.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "semconv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What /metrics exposed before the table existed: family, unit, label names. */
static const struct {
	const struct semconv_metric *m;
	const char *prom, *unit;
	const char *labels[10];
} exposed[] = {
    {&semconv_http_server_request_duration,
     "http_server_request_duration_seconds",
     "seconds",
     {"service_name", "http_request_method", "http_response_status_code", "http_route",
      "error_type", "network_protocol_version", "url_scheme"}},
    {&semconv_http_client_request_duration,
     "http_client_request_duration_seconds",
     "seconds",
     {"service_name", "http_request_method", "http_response_status_code", "http_route",
      "error_type", "server_address", "server_port", "network_protocol_version", "url_scheme"}},
    {&semconv_rpc_server_duration,
     "rpc_server_duration_seconds",
     "seconds",
     {"service_name", "rpc_system", "rpc_service", "rpc_method", "rpc_grpc_status_code",
      "error_type", "network_protocol_version"}},
    {&semconv_rpc_client_duration,
     "rpc_client_duration_seconds",
     "seconds",
     {"service_name", "rpc_system", "rpc_service", "rpc_method", "rpc_grpc_status_code",
      "error_type", "server_address", "server_port", "network_protocol_version"}},
    {&semconv_grpc_server_handling,
     "grpc_server_handling_seconds",
     "seconds",
     {"service_name", "grpc_type", "grpc_service", "grpc_method", "grpc_code"}},
    {&semconv_http_server_active_requests,
     "http_server_active_requests",
     NULL,
     {"service_name", "http_request_method", "url_scheme"}},
    {&semconv_db_client_operation_duration,
     "db_client_operation_duration_seconds",
     "seconds",
     {"service_name", "db_system_name", "db_operation_name", "db_namespace", "server_address",
      "server_port", "error_type", "db_response_status_code", "db_query_summary"}},
    {&semconv_redtap_build_info, "redtap_build_info", NULL, {"version", "revision"}},
    {&semconv_redtap_events_received, "redtap_events_received", NULL, {"type"}},
    {&semconv_redtap_kernel_events_dropped, "redtap_kernel_events_dropped", NULL, {"reason"}},
    {&semconv_redtap_parse_errors, "redtap_parse_errors", NULL, {"protocol", "reason"}},
    {&semconv_redtap_connections_untracked, "redtap_connections_untracked", NULL, {NULL}},
    {&semconv_redtap_shim_events_dropped, "redtap_shim_events_dropped", NULL, {NULL}},
    {&semconv_redtap_instrumented_processes, "redtap_instrumented_processes", NULL, {NULL}},
    {&semconv_redtap_otlp_export_errors, "redtap_otlp_export_errors", NULL, {"signal"}},
    {&semconv_redtap_otlp_dropped, "redtap_otlp_dropped", NULL, {"signal"}},
    {&semconv_redtap_otlp_exported, "redtap_otlp_exported", NULL, {"signal"}},
    {&semconv_redtap_metric_series, "redtap_metric_series", NULL, {"metric"}},
    {&semconv_redtap_metric_series_overflow, "redtap_metric_series_overflow", NULL, {"metric"}},
    {&semconv_redtap_metric_series_evicted, "redtap_metric_series_evicted", NULL, {"metric"}},
    {&semconv_redtap_shim_rejected, "redtap_shim_rejected", NULL, {"reason"}},
    {&semconv_redtap_sql_summaries_skipped, "redtap_sql_summaries_skipped", NULL, {NULL}},
    {&semconv_redtap_traces_budget_dropped, "redtap_traces_budget_dropped", NULL, {NULL}},
    {&semconv_redtap_http_requests_unseen, "redtap_http_requests_unseen", NULL, {NULL}},
    {&semconv_redtap_connections_own, "redtap_connections_own", NULL, {NULL}},
    {&semconv_redtap_process_cpu_time, "redtap_process_cpu_time_seconds", "seconds", {"cpu_mode"}},
    {&semconv_redtap_process_memory_usage, "redtap_process_memory_usage_bytes", "bytes", {NULL}},
    {&semconv_redtap_bpf_program_run_time,
     "redtap_bpf_program_run_time_seconds",
     "seconds",
     {"program"}},
    {&semconv_redtap_bpf_program_runs, "redtap_bpf_program_runs", NULL, {"program"}},
    {&semconv_log_records, "log_records", NULL, {"service_name", "severity"}},
    {&semconv_redtap_log_lines, "redtap_log_lines", NULL, {"outcome"}},
    {&semconv_process_thread_count, "process_threads", NULL, {"service_name"}},
    {&semconv_process_unix_file_descriptor_count,
     "process_unix_file_descriptors",
     NULL,
     {"service_name"}},
    {&semconv_go_goroutine_count, "go_goroutines", NULL, {"service_name"}},
};

static void test_exposed_names_unchanged(void **state)
{
	struct metric_registry *r = metric_registry_new();

	(void)state;
	assert_non_null(r);
	for (size_t i = 0; i < NELEM(exposed); i++) {
		struct metric_family *f = semconv_family_new(r, exposed[i].m, 0);
		const char *const *names;
		size_t n, want = 0;

		if (!f)
			fail_msg("%s: not declared (errno %d)", exposed[i].m->name, errno);
		assert_string_equal(metric_family_name(f), exposed[i].prom);
		assert_int_equal(metric_family_type(f), exposed[i].m->type);
		if (exposed[i].unit)
			assert_string_equal(metric_family_unit(f), exposed[i].unit);
		else
			assert_null(metric_family_unit(f));
		assert_string_equal(metric_family_help(f), exposed[i].m->brief);
		assert_ptr_equal(metric_family_semconv(f), exposed[i].m);
		names = metric_family_label_names(f, &n);
		/* labels left out while empty (the Kubernetes ones) expose nothing new */
		while (n && semconv_omit_empty(exposed[i].m->attrs[n - 1]))
			n--;
		while (want < NELEM(exposed[i].labels) && exposed[i].labels[want])
			want++;
		assert_int_equal(n, want);
		for (size_t j = 0; j < n; j++)
			assert_string_equal(names[j], exposed[i].labels[j]);
	}
	metric_registry_free(r);
}

/* The HTTP and database families end with the Kubernetes labels, in
 * podmeta_label_values() order, and only those are left out when empty. */
static void test_k8s_labels(void **state)
{
	static const struct semconv_metric *const with[] = {
	    &semconv_http_server_request_duration, &semconv_http_client_request_duration,
	    &semconv_http_server_active_requests, &semconv_db_client_operation_duration};
	static const char *const want[] = {"k8s_namespace_name", "k8s_deployment_name",
					   "k8s_statefulset_name", "k8s_pod_name"};
	struct metric_registry *r = metric_registry_new();

	(void)state;
	for (size_t i = 0; i < NELEM(with); i++) {
		struct metric_family *f = semconv_family_new(r, with[i], 0);
		const char *const *names;
		size_t n;

		assert_non_null(f);
		names = metric_family_label_names(f, &n);
		assert_true(n > NELEM(want));
		for (size_t j = 0; j < NELEM(want); j++)
			assert_string_equal(names[n - NELEM(want) + j], want[j]);
		for (size_t j = 0; j < n - NELEM(want); j++) {
			enum semconv_attr a = with[i]->attrs[j];

			/* besides them only the request labels (reqlabels.h) */
			assert_int_equal(semconv_omit_empty(a),
					 a >= SC_REQUEST_LABEL0 && a <= SC_REQUEST_LABEL_LAST);
		}
	}
	assert_false(semconv_omit_empty(SC_SERVICE_NAME));
	assert_false(semconv_omit_empty(SC_HTTP_ROUTE));
	assert_string_equal(semconv_key(SC_CONTAINER_ID), "container.id");
	assert_string_equal(semconv_key(SC_HOST_ARCH), "host.arch");
	metric_registry_free(r);
}

static void test_buckets(void **state)
{
	static const double http[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				      0.5,   0.75, 1,	  2.5,	5,     7.5, 10};
	static const double db[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

	(void)state;
	assert_int_equal(semconv_http_server_request_duration.nbuckets, NELEM(http));
	assert_memory_equal(semconv_http_server_request_duration.buckets, http, sizeof(http));
	assert_int_equal(semconv_http_client_request_duration.nbuckets, NELEM(http));
	assert_memory_equal(semconv_http_client_request_duration.buckets, http, sizeof(http));
	assert_int_equal(semconv_db_client_operation_duration.nbuckets, NELEM(db));
	assert_memory_equal(semconv_db_client_operation_duration.buckets, db, sizeof(db));
}

static void check_name(const char *otel, const char *unit, enum metric_type type, const char *want)
{
	struct semconv_metric m = {.name = otel, .unit = unit, .type = type};
	char out[SEMCONV_NAME_MAX];

	assert_int_equal(semconv_prom_name(&m, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

/* The compatibility spec's rules, on names redtap does not declare. */
static void test_rules(void **state)
{
	char out[8];

	(void)state;
	check_name("system.filesystem.usage", "By", METRIC_GAUGE, "system_filesystem_usage_bytes");
	check_name("system.network.dropped", "{packets}", METRIC_COUNTER, "system_network_dropped");
	check_name("system.memory.utilization", "1", METRIC_GAUGE,
		   "system_memory_utilization_ratio");
	check_name("x.hits", "1", METRIC_COUNTER, "x_hits"); /* _ratio for gauges only */
	check_name("rpc.duration", "ms", METRIC_HISTOGRAM, "rpc_duration_milliseconds");
	check_name("io.bytes", "By", METRIC_COUNTER, "io_bytes"); /* the unit is there already */
	check_name("jobs.total", "", METRIC_COUNTER, "jobs");	  /* the registry adds _total */
	check_name("(lambda).function.executions(#)", "", METRIC_GAUGE,
		   "lambda_function_executions");
	check_name("a..b", "", METRIC_GAUGE, "a_b");
	/* a gauge's .count of {thing} is _things (_count is a histogram's) */
	check_name("process.thread.count", "{thread}", METRIC_GAUGE, "process_threads");
	check_name("process.unix.file_descriptor.count", "{file_descriptor}", METRIC_GAUGE,
		   "process_unix_file_descriptors");
	check_name("go.goroutine.count", "{goroutine}", METRIC_GAUGE, "go_goroutines");
	check_name("x.count", "{thread}", METRIC_GAUGE, "x_count"); /* not its unit */
	check_name("x.mythread.count", "{thread}", METRIC_GAUGE, "x_mythread_count"); /* a word */
	check_name("x.thread.count", "{thread}", METRIC_COUNTER, "x_thread_count");
	assert_int_equal(semconv_prom_sanitize("...", out, sizeof(out)), -EINVAL);
	assert_int_equal(semconv_prom_sanitize("9lives", out, sizeof(out)), -EINVAL);
	assert_int_equal(semconv_prom_sanitize("abcdefgh", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(semconv_prom_sanitize("abcdefg", out, sizeof(out)), 0);

	/* units both ways */
	assert_string_equal(semconv_prom_unit("s", METRIC_HISTOGRAM), "seconds");
	assert_null(semconv_prom_unit("{request}", METRIC_GAUGE));
	assert_null(semconv_prom_unit("", METRIC_GAUGE));
	assert_string_equal(semconv_ucum_unit("seconds"), "s");
	assert_string_equal(semconv_ucum_unit("bytes"), "By");
	assert_string_equal(semconv_ucum_unit("ratio"), "1");
	assert_string_equal(semconv_ucum_unit("widgets"), "widgets");
	assert_string_equal(semconv_ucum_unit(NULL), "");
}

static void test_attrs(void **state)
{
	char out[SEMCONV_NAME_MAX];
	const char *keys[] = {"tenant", "biz.id"};
	char long_key[SEMCONV_REQUEST_KEY_MAX + 2];

	(void)state;
	for (int a = SC_NONE + 1; a < SC_ATTR_COUNT; a++)
		if (!semconv_key(a)[0] && (a < SC_REQUEST_ATTR0 || a > SC_REQUEST_ATTR_LAST))
			fail_msg("attribute %d has no key", a);
	/* the request attributes read "" until their keys are set */
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0), "");
	assert_int_equal(semconv_set_request_keys(keys, 2), 0);
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0), "tenant");
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0 + 1), "biz.id");
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0 + 2), "");
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	keys[0] = long_key;
	assert_int_equal(semconv_set_request_keys(keys, 1), -EINVAL);
	assert_int_equal(semconv_set_request_keys(keys, SEMCONV_REQUEST_KEYS + 1), -EINVAL);
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0), "tenant");
	assert_int_equal(semconv_set_request_keys(NULL, 0), 0);
	assert_string_equal(semconv_key(SC_REQUEST_ATTR0), "");
	assert_string_equal(semconv_key(SC_NONE), "");
	assert_string_equal(semconv_key(SC_ATTR_COUNT), "");
	assert_string_equal(semconv_key(SC_DB_QUERY_SUMMARY), "db.query.summary");
	assert_true(semconv_is_int(SC_SERVER_PORT));
	assert_true(semconv_is_int(SC_HTTP_RESPONSE_STATUS_CODE));
	assert_false(semconv_is_int(SC_DB_RESPONSE_STATUS_CODE)); /* a string in semconv */
	assert_false(semconv_is_int(SC_ATTR_COUNT));
	/* the registry's overflow label is the Prometheus spelling of the OTel one */
	assert_int_equal(
	    semconv_prom_sanitize(semconv_key(SC_OTEL_METRIC_OVERFLOW), out, sizeof(out)), 0);
	assert_string_equal(out, METRIC_OVERFLOW_LABEL);
}

/* Label positions named by attribute: bit i for each attribute i of the list
 * that is one of those asked for, whatever order they are asked in. */
static void test_attr_mask(void **state)
{
	const struct semconv_metric *m = &semconv_http_server_request_duration;
	const enum semconv_attr some[] = {SC_URL_SCHEME, SC_HTTP_ROUTE, SC_SERVICE_NAME},
				absent[] = {SC_DB_SYSTEM_NAME, SC_SERVER_PORT};
	uint64_t want = 0;

	(void)state;
	for (size_t i = 0; i < m->nattrs; i++)
		if (m->attrs[i] == SC_URL_SCHEME || m->attrs[i] == SC_HTTP_ROUTE ||
		    m->attrs[i] == SC_SERVICE_NAME)
			want |= 1ull << i;
	assert_int_equal(__builtin_popcountll(want), 3);
	assert_int_equal(semconv_attr_mask(m, some, 3), want);
	assert_int_equal(semconv_attr_mask(m, some, 1) & 1, 0); /* the scheme alone */
	assert_int_equal(__builtin_popcountll(semconv_attr_mask(m, some, 1)), 1);
	assert_int_equal(semconv_attr_mask(m, absent, 2), 0);
	assert_int_equal(semconv_attr_mask(m, some, 0), 0);
	/* service.name leads every HTTP list: bit 0 */
	assert_int_equal(semconv_attr_mask(&semconv_http_server_active_requests, some + 2, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposed_names_unchanged),
	    cmocka_unit_test(test_k8s_labels),
	    cmocka_unit_test(test_buckets),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_attrs),
	    cmocka_unit_test(test_attr_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
