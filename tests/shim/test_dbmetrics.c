// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dbmetrics.c - CMocka tests of user/signals/dbmetrics.c: the family's name,
 * unit, labels and semantic-convention buckets, one series per label set,
 * durations in seconds landing in the right bucket, hello records ignored,
 * the series cap folding into the overflow series, and exemplars kept with
 * the binary ids they were given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dbmetrics.h"
#include "semconv.h"

struct seen {
	int series;
	int overflow;
	uint64_t count_select_ok;
	uint64_t count_error;
	uint64_t bucket_0_01; /* non-cumulative count in (0.005, 0.01] for SELECT ok */
	char error_labels[256];
};

static const char *label(const struct metric_point *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nlabels; i++)
		if (!strcmp(p->label_names[i], name))
			return p->label_values[i];
	return NULL;
}

static void visit(void *ctx, const struct metric_point *p)
{
	struct seen *s = ctx;
	const char *err;

	if (metric_family_semconv(p->family) != &semconv_db_client_operation_duration)
		return;
	if (p->overflow) {
		s->overflow += (int)p->count;
		return;
	}
	s->series++;
	err = label(p, "error_type");
	if (!strcmp(label(p, "db_operation_name"), "SELECT") && !strcmp(err, "")) {
		s->count_select_ok += p->count;
		s->bucket_0_01 += p->bucket_counts[2];
	}
	if (strcmp(err, "")) {
		s->count_error += p->count;
		snprintf(s->error_labels, sizeof(s->error_labels), "%s/%s/%s/%s/%s/%s",
			 label(p, "service_name"), label(p, "db_system_name"),
			 label(p, "db_namespace"), label(p, "server_address"),
			 label(p, "server_port"), label(p, "db_response_status_code"));
	}
}

static struct db_op mkop(const char *op, uint64_t dur_ns, const char *err, const char *code)
{
	struct db_op o;

	memset(&o, 0, sizeof(o));
	o.system = "postgresql";
	snprintf(o.operation, sizeof(o.operation), "%s", op);
	snprintf(o.namespace_, sizeof(o.namespace_), "shop");
	snprintf(o.server_address, sizeof(o.server_address), "db.local");
	o.server_port = 5432;
	snprintf(o.error_type, sizeof(o.error_type), "%s", err);
	snprintf(o.status_code, sizeof(o.status_code), "%s", code);
	o.start_ns = 1000000000ull;
	o.end_ns = o.start_ns + dur_ns;
	return o;
}

static void test_family(void **state)
{
	struct metric_registry *reg = metric_registry_new();
	struct dbmetrics *m = dbmetrics_new(reg, 100);
	const double want[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
	const double *b;
	const char *const *names;
	size_t n, nl;

	(void)state;
	assert_non_null(m);
	assert_string_equal(metric_family_name(dbmetrics_family(m)),
			    "db_client_operation_duration_seconds");
	assert_string_equal(metric_family_unit(dbmetrics_family(m)), "seconds");
	assert_ptr_equal(metric_family_semconv(dbmetrics_family(m)),
			 &semconv_db_client_operation_duration);
	b = metric_family_bounds(dbmetrics_family(m), &n);
	assert_int_equal(n, 9);
	assert_memory_equal(b, want, sizeof(want));
	names = metric_family_label_names(dbmetrics_family(m), &nl);
	assert_int_equal(nl, 13);
	assert_string_equal(names[0], "service_name");
	assert_string_equal(names[7], "db_response_status_code");
	assert_string_equal(names[8], "db_query_summary");
	/* then the Kubernetes labels (k8slabels.h), left out on /metrics when empty */
	assert_string_equal(names[9], "k8s_namespace_name");
	assert_string_equal(names[12], "k8s_pod_name");
	/* the name is taken now */
	assert_null(dbmetrics_new(reg, 100));
	dbmetrics_free(m);
	metric_registry_free(reg);
}

static void test_record(void **state)
{
	struct metric_registry *reg = metric_registry_new();
	struct dbmetrics *m = dbmetrics_new(reg, 100);
	struct db_op a = mkop("SELECT", 7000000, "", ""); /* 7 ms */
	struct db_op b = mkop("SELECT", 8000000, "", ""); /* same series */
	struct db_op e = mkop("INSERT", 300000, "23505", "23505");
	struct db_op h = mkop("SELECT", 1, "", "");
	struct seen s = {0};

	(void)state;
	h.is_hello = true;
	dbmetrics_record(m, &a, "checkout");
	dbmetrics_record(m, &b, "checkout");
	dbmetrics_record(m, &e, "checkout");
	dbmetrics_record(m, &h, "checkout");
	dbmetrics_record(m, NULL, "checkout");
	metric_registry_visit(reg, visit, &s);
	assert_int_equal(s.series, 2);
	assert_int_equal(s.count_select_ok, 2);
	assert_int_equal(s.bucket_0_01, 2);
	assert_int_equal(s.count_error, 1);
	assert_string_equal(s.error_labels, "checkout/postgresql/shop/db.local/5432/23505");
	dbmetrics_free(m);
	metric_registry_free(reg);
}

static void test_series_cap(void **state)
{
	struct metric_registry *reg = metric_registry_new();
	struct dbmetrics *m = dbmetrics_new(reg, 3);
	struct seen s = {0};
	char name[16];
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		struct db_op o;

		snprintf(name, sizeof(name), "OP%d", i);
		o = mkop(name, 1000, "", "");
		dbmetrics_record(m, &o, "svc");
	}
	metric_registry_visit(reg, visit, &s);
	assert_int_equal(s.series, 3);
	assert_int_equal(s.overflow, 7);
	dbmetrics_free(m);
	metric_registry_free(reg);
}

/* The exported span's ids arrive binary and are kept as they are. */
static void exemplar_of(void *ctx, const struct metric_point *p)
{
	struct metric_exemplar *ex = ctx; /* the view is valid only here: copy */

	for (size_t i = 0; p->exemplars && i <= p->nbounds; i++)
		if (metric_exemplar_present(&p->exemplars[i]))
			*ex = p->exemplars[i];
}

static void test_record_exemplar(void **state)
{
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
	static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
	struct metric_registry *reg = metric_registry_new();
	struct dbmetrics *m = dbmetrics_new(reg, 10);
	struct db_op a = mkop("SELECT", 7000000, "", "");
	struct metric_exemplar ex = {0};

	(void)state;
	dbmetrics_record_ex(m, &a, "svc", NULL, NULL);
	metric_registry_visit(reg, exemplar_of, &ex);
	assert_false(metric_exemplar_present(&ex));
	dbmetrics_record_ex(m, &a, "svc", tid, sid);
	metric_registry_visit(reg, exemplar_of, &ex);
	assert_true(metric_exemplar_present(&ex));
	assert_memory_equal(ex.trace_id, tid, sizeof(tid));
	assert_memory_equal(ex.span_id, sid, sizeof(sid));
	assert_true(ex.value == 0.007);
	dbmetrics_free(m);
	metric_registry_free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_series_cap),
	    cmocka_unit_test(test_record_exemplar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
