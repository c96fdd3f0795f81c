// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_otlp_encode.c - unit tests for the OTLP encoders
 * (user/export/otlp_encode_traces.c, otlp_encode_metrics.c, otlp_resource.c,
 * otlp_build.c) with the names of user/signals/semconv.c: encode, decode with protobuf-c's own
 * unpack, compare every field; the exact bytes of packed repeated fields (proto3 packs them by
 * default, so ours must too); resources; UTF-8 repair; partial_success parsing. The e2e tests
 * decode the same bodies again with an independent decoder built from the official .proto files.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "metrics.h"
#include "otlp_build.h"
#include "otlp_encode.h"
#include "semconv.h"
#include "otlp_resource.h"
#include "proto/otlp_metrics.pb-c.h"
#include "proto/otlp_trace.pb-c.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers over decoded messages ---- */

static const Otlpb__AnyValue *attr(Otlpb__KeyValue **kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i]->value;
	return NULL;
}

static const char *attr_str(Otlpb__KeyValue **kv, size_t n, const char *key)
{
	const Otlpb__AnyValue *v = attr(kv, n, key);

	assert_non_null(v);
	assert_int_equal(v->value_case, OTLPB__ANY_VALUE__VALUE_STRING_VALUE);
	return v->string_value;
}

static int64_t attr_int(Otlpb__KeyValue **kv, size_t n, const char *key)
{
	const Otlpb__AnyValue *v = attr(kv, n, key);

	assert_non_null(v);
	assert_int_equal(v->value_case, OTLPB__ANY_VALUE__VALUE_INT_VALUE);
	return v->int_value;
}

/* ---- traces ---- */

static void fill_span(struct span *s, uint8_t id, uint32_t pid, const char *svc)
{
	char exe[32];

	span_init(s);
	memset(s->trace_id, 0xa0, sizeof(s->trace_id));
	s->trace_id[15] = id;
	s->span_id[7] = id;
	s->start_unix_ns = 1700000000000000000ULL + id;
	s->end_unix_ns = s->start_unix_ns + 5000;
	s->pid = pid;
	s->kind = SPAN_KIND_SERVER;
	s->sampled = 1;
	span_set(s, SPAN_NAME, "GET /users/{id}");
	span_set(s, SPAN_SERVICE_NAME, svc);
	snprintf(exe, sizeof(exe), "exe-%u", pid);
	span_set(s, SPAN_EXE_NAME, exe);
	span_attr_str(s, SC_HTTP_REQUEST_METHOD, "GET");
	span_attr_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 200);
}

static void test_traces_round_trip(void **state)
{
	struct otlp_resource_ctx r;
	struct span s[4];
	const struct span *v[4] = {&s[0], &s[1], &s[2], &s[3]};
	Otlpb__ExportTraceServiceRequest *req;
	Otlpb__ResourceSpans *rs;
	Otlpb__Span *o;
	uint8_t *buf;
	size_t len;
	uint32_t me = (uint32_t)getpid();
	char want_instance[400];

	(void)state;
	assert_int_equal(otlp_resource_ctx_init(&r, "deployment.environment=prod%20eu,"
						    "service.name=agent-wide,host.name=other"),
			 0);
	fill_span(&s[0], 1, me, "checkout");
	fill_span(&s[1], 2, 4242, "");
	fill_span(&s[2], 3, me, "checkout");
	fill_span(&s[3], 4, me, "other-svc"); /* same pid, other service: its own resource */
	/* span 2: a child, CLIENT, error, tracestate, a bad UTF-8 name */
	s[2].kind = SPAN_KIND_CLIENT;
	s[2].parent_span_id[7] = 1;
	s[2].status = SPAN_STATUS_ERROR;
	span_set(&s[2], SPAN_STATUS_MESSAGE, "HTTP 503");
	span_set(&s[2], SPAN_TRACESTATE, "rojo=00f067aa0ba902b7");
	span_set(&s[2], SPAN_NAME, "caf\xc3\xa9 \xff\xc3");
	s[2].sampled = 0;
	s[3].status = SPAN_STATUS_OK;
	span_set(&s[3], SPAN_STATUS_MESSAGE, "ignored for OK");

	assert_int_equal(otlp_encode_traces(&r, v, 4, &buf, &len), 0);
	req = otlpb__export_trace_service_request__unpack(NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 3);

	/* resource 0: this process, "checkout", spans 0 and 2 in batch order */
	rs = req->resource_spans[0];
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "service.name"),
	    "checkout");
	assert_int_equal(
	    attr_int(rs->resource->attributes, rs->resource->n_attributes, "process.pid"), me);
	assert_string_equal(attr_str(rs->resource->attributes, rs->resource->n_attributes,
				     "process.executable.name"),
			    span_get(&s[0], SPAN_EXE_NAME));
	snprintf(want_instance, sizeof(want_instance), "%s-%u-%llu", r.host, me,
		 (unsigned long long)otlp_process_start(&r, me));
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "service.instance.id"),
	    want_instance);
	/* redtap's own values win over the agent-wide ones; others are added */
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "host.name"), r.host);
	assert_string_equal(attr_str(rs->resource->attributes, rs->resource->n_attributes,
				     "deployment.environment"),
			    "prod eu");
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "telemetry.sdk.name"),
	    "redtap");
	assert_string_equal(attr_str(rs->resource->attributes, rs->resource->n_attributes,
				     "telemetry.sdk.language"),
			    "cpp");
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "os.type"), "linux");
#if defined(__x86_64__)
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "host.arch"), "amd64");
#endif
	/* this test does not run in a pod: no Kubernetes attribute */
	assert_null(attr(rs->resource->attributes, rs->resource->n_attributes, "k8s.pod.uid"));
	assert_int_equal(rs->n_scope_spans, 1);
	assert_string_equal(rs->scope_spans[0]->scope->name, "redtap");
	assert_int_equal(rs->scope_spans[0]->n_spans, 2);

	o = rs->scope_spans[0]->spans[0];
	assert_int_equal(o->trace_id.len, 16);
	assert_memory_equal(o->trace_id.data, s[0].trace_id, 16);
	assert_int_equal(o->span_id.len, 8);
	assert_memory_equal(o->span_id.data, s[0].span_id, 8);
	assert_false(o->has_parent_span_id); /* a root span has none */
	assert_null(o->trace_state);
	assert_string_equal(o->name, "GET /users/{id}");
	assert_int_equal(o->kind, OTLPB__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	assert_int_equal(o->start_time_unix_nano, s[0].start_unix_ns);
	assert_int_equal(o->end_time_unix_nano, s[0].end_unix_ns);
	assert_int_equal(o->n_attributes, 2);
	assert_string_equal(attr_str(o->attributes, o->n_attributes, "http.request.method"), "GET");
	assert_int_equal(attr_int(o->attributes, o->n_attributes, "http.response.status_code"),
			 200);
	assert_null(o->status); /* UNSET is left out */
	assert_true(o->has_flags);
	assert_int_equal(o->flags, 1);

	o = rs->scope_spans[0]->spans[1];
	assert_memory_equal(o->span_id.data, s[2].span_id, 8);
	assert_true(o->has_parent_span_id);
	assert_memory_equal(o->parent_span_id.data, s[2].parent_span_id, 8);
	assert_string_equal(o->trace_state, "rojo=00f067aa0ba902b7");
	assert_int_equal(o->kind, OTLPB__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
	assert_string_equal(o->name, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	assert_non_null(o->status);
	assert_int_equal(o->status->code, OTLPB__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_string_equal(o->status->message, "HTTP 503");
	assert_int_equal(o->flags, 0);

	/* resource 1: pid 4242 with no service name */
	rs = req->resource_spans[1];
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "service.name"),
	    "unknown_service:exe-4242");
	assert_int_equal(
	    attr_int(rs->resource->attributes, rs->resource->n_attributes, "process.pid"), 4242);
	assert_int_equal(rs->scope_spans[0]->n_spans, 1);

	/* resource 2: same pid as resource 0, other service */
	rs = req->resource_spans[2];
	assert_string_equal(
	    attr_str(rs->resource->attributes, rs->resource->n_attributes, "service.name"),
	    "other-svc");
	o = rs->scope_spans[0]->spans[0];
	assert_int_equal(o->status->code, OTLPB__STATUS__STATUS_CODE__STATUS_CODE_OK);
	assert_null(o->status->message); /* a message only goes with an error */

	otlpb__export_trace_service_request__free_unpacked(req, NULL);
	free(buf);
	otlp_resource_ctx_release(&r);
}

static void test_traces_empty_and_full_span(void **state)
{
	struct otlp_resource_ctx r;
	struct span *s = calloc(1, sizeof(*s));
	const struct span *v[1] = {s};
	Otlpb__ExportTraceServiceRequest *req;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_non_null(s);
	assert_int_equal(otlp_resource_ctx_init(&r, NULL), 0);
	assert_int_equal(otlp_encode_traces(&r, v, 0, &buf, &len), 0);
	assert_int_equal(len, 0); /* an empty request */
	free(buf);

	fill_span(s, 9, 1, "svc");
	s->nattrs = 0;
	for (int i = 0; i < SPAN_ATTRS_MAX + 3; i++) /* the extra ones are dropped */
		span_attr_int(s, SC_SERVER_PORT, i);
	assert_int_equal(s->nattrs, SPAN_ATTRS_MAX);
	s->attrs[1].key = 250; /* not an attribute id: left out */
	s->attrs[2].key = SC_NONE;
	assert_int_equal(otlp_encode_traces(&r, v, 1, &buf, &len), 0);
	req = otlpb__export_trace_service_request__unpack(NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->spans[0]->n_attributes,
			 SPAN_ATTRS_MAX - 2);
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->spans[0]->attributes[1]->key,
			    "server.port");
	otlpb__export_trace_service_request__free_unpacked(req, NULL);
	free(buf);
	free(s);
	otlp_resource_ctx_release(&r);
}

/* ---- metrics ---- */

struct reg_fixture {
	struct metric_registry *reg;
	struct metric_family *hist, *gauge, *self, *other, *app;
};

/* Families as the daemon declares them (semconv.c), plus two declared without
 * an entry: one with a service label, one without. */
static void make_registry(struct reg_fixture *f)
{
	static const char *const al[] = {"service_name", "route"};
	/* every label of the entries; the ones after error.type empty; a3 has
	 * no service and a non-numeric status; a4 is past the cap and shop's share */
	const char *a1[] = {"shop", "GET", "200", "/a", "", "", "", "", "", "", "", "", "", "", ""};
	const char *a2[] = {"shop", "POST", "500", "/b", "500", "", "", "",
			    "",	    "",	    "",	   "",	 "",	"", ""};
	const char *a3[] = {"", "GET", "abc", "/c", "", "", "", "", "", "", "", "", "", "", ""};
	const char *a4[] = {"shop", "GET", "200", "/d", "", "", "", "", "", "", "", "", "", "", ""};
	const char *d1[] = {"shop", "postgresql", "", "", "", "5432", "", "", "", "", "", "", ""};
	static const uint8_t tid[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
	static const uint8_t sid[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
	struct metric_family *db;

	f->reg = metric_registry_new();
	assert_non_null(f->reg);
	f->hist = semconv_family_new(f->reg, &semconv_http_server_request_duration, 3);
	f->gauge = semconv_family_new(f->reg, &semconv_http_server_active_requests, 0);
	f->self = semconv_family_new(f->reg, &semconv_redtap_kernel_events_dropped, 0);
	f->other = metric_family_new(f->reg, METRIC_COUNTER, "app_bytes", "Bytes.", "bytes", NULL,
				     0, NULL, 0, 0);
	f->app = metric_family_new(f->reg, METRIC_COUNTER, "app_requests", NULL, NULL, al,
				   NELEM(al), NULL, 0, 0);
	db = semconv_family_new(f->reg, &semconv_db_client_operation_duration, 0);
	assert_non_null(f->hist);
	assert_non_null(f->gauge);
	assert_non_null(f->self);
	assert_non_null(f->other);
	assert_non_null(f->app);
	assert_non_null(db);
	metric_histogram_observe(metric_series_get(f->hist, a1), 0.05);
	metric_histogram_observe_exemplar(metric_series_get(f->hist, a1), 0.5, tid, sid,
					  1700000000.25);
	metric_histogram_observe(metric_series_get(f->hist, a2), 3);
	metric_histogram_observe(metric_series_get(f->hist, a3), 0.1);
	metric_histogram_observe(metric_series_get(f->hist, a4), 7);
	metric_gauge_set(
	    metric_series_get(f->gauge, (const char *[]){"shop", "GET", "", "", "", "", ""}), 2);
	metric_counter_add(metric_series_get(f->self, (const char *[]){"full"}), 5);
	metric_counter_add(metric_series_get(f->other, NULL), 1024);
	metric_counter_add_exemplar(metric_series_get(f->app, (const char *[]){"shop", "/x"}), 7,
				    tid, sid, 1700000003.5);
	metric_histogram_observe(metric_series_get(db, d1), 0.002);
}

static const Otlpb__ResourceMetrics *find_resource(const Otlpb__ExportMetricsServiceRequest *req,
						   const char *service)
{
	for (size_t i = 0; i < req->n_resource_metrics; i++) {
		const Otlpb__Resource *res = req->resource_metrics[i]->resource;

		if (!strcmp(attr_str(res->attributes, res->n_attributes, "service.name"), service))
			return req->resource_metrics[i];
	}
	return NULL;
}

static const Otlpb__Metric *find_metric(const Otlpb__ResourceMetrics *rm, const char *name)
{
	const Otlpb__ScopeMetrics *sm;

	assert_non_null(rm);
	assert_int_equal(rm->n_scope_metrics, 1);
	sm = rm->scope_metrics[0];
	assert_string_equal(sm->scope->name, "redtap");
	for (size_t i = 0; i < sm->n_metrics; i++)
		if (!strcmp(sm->metrics[i]->name, name))
			return sm->metrics[i];
	return NULL;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_metrics_round_trip(void **state)
{
	struct otlp_resource_ctx r;
	struct reg_fixture f;
	struct metric_snapshot *snap;
	Otlpb__ExportMetricsServiceRequest *req;
	const Otlpb__ResourceMetrics *shop, *self, *unknown;
	const Otlpb__Metric *m;
	const Otlpb__HistogramDataPoint *hp;
	const Otlpb__NumberDataPoint *np;
	const uint64_t start = 1700000000000000000ULL, now = start + 60000000000ULL;
	uint8_t *buf;
	size_t len;
	uint64_t made_from, made_to; /* when the fixture's series started */

	(void)state;
	made_from = realtime_ns();
	make_registry(&f);
	made_to = realtime_ns();
	assert_int_equal(otlp_resource_ctx_init(&r, "k8s.cluster.name=c1"), 0);
	snap = metric_registry_snapshot(f.reg);
	assert_non_null(snap);
	assert_int_equal(otlp_encode_metrics(&r, snap, start, now, &buf, &len), 0);
	metric_snapshot_free(snap);
	req = otlpb__export_metrics_service_request__unpack(NULL, len, buf);
	assert_non_null(req);
	/* shop, unknown_service (empty label), redtap (overflow and self-metrics) */
	assert_int_equal(req->n_resource_metrics, 3);
	shop = find_resource(req, "shop");
	unknown = find_resource(req, "unknown_service");
	self = find_resource(req, OTLP_SELF_SERVICE);
	assert_non_null(shop);
	assert_non_null(unknown);
	assert_non_null(self);
	assert_string_equal(attr_str(shop->resource->attributes, shop->resource->n_attributes,
				     "service.instance.id"),
			    r.agent_instance);
	assert_string_equal(
	    attr_str(shop->resource->attributes, shop->resource->n_attributes, "k8s.cluster.name"),
	    "c1");
	assert_null(attr(shop->resource->attributes, shop->resource->n_attributes, "process.pid"));

	/* shop: the histogram with its two series, the gauge, app_requests, the db histogram */
	assert_int_equal(shop->scope_metrics[0]->n_metrics, 4);
	m = find_metric(shop, "http.server.request.duration");
	assert_non_null(m);
	assert_string_equal(m->unit, "s");
	assert_string_equal(m->description, "Duration of HTTP server requests.");
	assert_int_equal(m->data_case, OTLPB__METRIC__DATA_HISTOGRAM);
	assert_int_equal(m->histogram->aggregation_temporality,
			 OTLPB__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	assert_int_equal(m->histogram->n_data_points, 2);
	hp = m->histogram->data_points[0];
	/* cumulative points start with their series, which started after the agent */
	assert_in_range(hp->start_time_unix_nano, made_from, made_to);
	assert_int_equal(hp->time_unix_nano, now);
	assert_int_equal(hp->count, 2);
	assert_true(hp->has_sum);
	assert_true(fabs(hp->sum - 0.55) < 1e-12);
	/* the advised bounds of the conventions: 0.005 ... 10 s */
	assert_int_equal(hp->n_explicit_bounds, 14);
	assert_true(hp->explicit_bounds[0] == 0.005 && hp->explicit_bounds[13] == 10);
	assert_int_equal(hp->n_bucket_counts, 15);
	for (size_t i = 0; i < hp->n_bucket_counts; i++) /* 0.05 and 0.5, upper bounds inclusive */
		assert_int_equal(hp->bucket_counts[i], i == 3 || i == 7);
	/* labels -> semconv attributes; service_name and empty values left out */
	assert_int_equal(hp->n_attributes, 3);
	assert_string_equal(attr_str(hp->attributes, hp->n_attributes, "http.request.method"),
			    "GET");
	assert_int_equal(attr_int(hp->attributes, hp->n_attributes, "http.response.status_code"),
			 200);
	assert_string_equal(attr_str(hp->attributes, hp->n_attributes, "http.route"), "/a");
	assert_null(attr(hp->attributes, hp->n_attributes, "service.name"));
	assert_null(attr(hp->attributes, hp->n_attributes, "error.type"));
	assert_int_equal(hp->n_exemplars, 1);
	assert_int_equal(hp->exemplars[0]->trace_id.len, 16);
	assert_memory_equal(hp->exemplars[0]->trace_id.data,
			    "\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16);
	assert_memory_equal(hp->exemplars[0]->span_id.data, "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8);
	assert_int_equal(hp->exemplars[0]->value_case, OTLPB__EXEMPLAR__VALUE_AS_DOUBLE);
	assert_true(hp->exemplars[0]->as_double == 0.5);
	assert_int_equal(hp->exemplars[0]->time_unix_nano, 1700000000250000000ULL);
	hp = m->histogram->data_points[1];
	assert_string_equal(attr_str(hp->attributes, hp->n_attributes, "error.type"), "500");
	assert_int_equal(hp->n_exemplars, 0);

	m = find_metric(shop, "http.server.active_requests");
	assert_non_null(m);
	assert_string_equal(m->unit, "{request}");
	assert_string_equal(m->description, "Number of active HTTP server requests.");
	assert_int_equal(m->data_case, OTLPB__METRIC__DATA_GAUGE);
	np = m->gauge->data_points[0];
	assert_false(np->has_start_time_unix_nano);
	assert_int_equal(np->time_unix_nano, now);
	assert_int_equal(np->value_case, OTLPB__NUMBER_DATA_POINT__VALUE_AS_DOUBLE);
	assert_true(np->as_double == 2);

	m = find_metric(shop, "db.client.operation.duration");
	assert_non_null(m);
	assert_string_equal(m->unit, "s");
	hp = m->histogram->data_points[0];
	assert_string_equal(attr_str(hp->attributes, hp->n_attributes, "db.system.name"),
			    "postgresql");
	assert_int_equal(attr_int(hp->attributes, hp->n_attributes, "server.port"), 5432);

	/* the series without a service: a non-numeric status code stays a string */
	m = find_metric(unknown, "http.server.request.duration");
	assert_non_null(m);
	hp = m->histogram->data_points[0];
	assert_string_equal(attr_str(hp->attributes, hp->n_attributes, "http.response.status_code"),
			    "abc");

	/* redtap's resource: the overflow series, self-metrics, families without service */
	m = find_metric(self, "http.server.request.duration");
	assert_non_null(m);
	assert_int_equal(m->histogram->n_data_points, 1);
	hp = m->histogram->data_points[0];
	assert_int_equal(hp->count, 1);
	assert_int_equal(hp->n_attributes, 1);
	assert_int_equal(attr(hp->attributes, 1, "otel.metric.overflow")->value_case,
			 OTLPB__ANY_VALUE__VALUE_BOOL_VALUE);
	assert_true(attr(hp->attributes, 1, "otel.metric.overflow")->bool_value);

	m = find_metric(self, "redtap.kernel.events.dropped");
	assert_non_null(m);
	assert_string_equal(m->unit, "{event}");
	assert_int_equal(m->data_case, OTLPB__METRIC__DATA_SUM);
	assert_true(m->sum->is_monotonic);
	assert_int_equal(m->sum->aggregation_temporality,
			 OTLPB__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE);
	np = m->sum->data_points[0];
	assert_in_range(np->start_time_unix_nano, made_from, made_to);
	assert_true(np->as_double == 5);
	assert_string_equal(attr_str(np->attributes, np->n_attributes, "reason"), "full");
	assert_int_equal(np->n_exemplars, 0);

	/* declared without an entry: Prometheus names, the unit back in UCUM */
	m = find_metric(self, "app_bytes");
	assert_non_null(m);
	assert_string_equal(m->unit, "By");
	assert_int_equal(m->sum->data_points[0]->n_attributes, 0);
	m = find_metric(shop, "app_requests");
	assert_non_null(m);
	assert_string_equal(m->unit, "");
	np = m->sum->data_points[0];
	assert_int_equal(np->n_attributes, 1);
	assert_string_equal(attr_str(np->attributes, np->n_attributes, "route"), "/x");
	/* a counter's exemplar goes on its Sum point */
	assert_true(np->as_double == 7);
	assert_int_equal(np->n_exemplars, 1);
	assert_int_equal(np->exemplars[0]->trace_id.len, 16);
	assert_memory_equal(np->exemplars[0]->trace_id.data,
			    "\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16);
	assert_int_equal(np->exemplars[0]->span_id.len, 8);
	assert_memory_equal(np->exemplars[0]->span_id.data, "\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8);
	assert_int_equal(np->exemplars[0]->value_case, OTLPB__EXEMPLAR__VALUE_AS_DOUBLE);
	assert_true(np->exemplars[0]->as_double == 7);
	assert_int_equal(np->exemplars[0]->time_unix_nano, 1700000003500000000ULL);

	otlpb__export_metrics_service_request__free_unpacked(req, NULL);
	free(buf);
	metric_registry_free(f.reg);
	otlp_resource_ctx_release(&r);
}

static void test_metrics_empty(void **state)
{
	struct otlp_resource_ctx r;
	struct metric_registry *reg = metric_registry_new();
	struct metric_snapshot *snap;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(otlp_resource_ctx_init(&r, NULL), 0);
	assert_non_null(
	    metric_family_new(reg, METRIC_COUNTER, "no_series", NULL, NULL, NULL, 0, NULL, 0, 0));
	snap = metric_registry_snapshot(reg);
	assert_int_equal(otlp_encode_metrics(&r, snap, 1, 2, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	metric_snapshot_free(snap);
	metric_registry_free(reg);
	otlp_resource_ctx_release(&r);
}

/* The bytes of packed repeated fields, written out by hand from the protobuf encoding rules. */
static void test_packed_wire_format(void **state)
{
	Otlpb__HistogramDataPoint p = OTLPB__HISTOGRAM_DATA_POINT__INIT;
	uint64_t counts[2] = {1, 2};
	double bounds[1] = {0.5};
	static const uint8_t want[] = {
	    0x32, 16, /* field 6, length-delimited, 16 bytes */
	    1,	  0,  0, 0, 0, 0, 0,	0,    2, 0, 0, 0, 0, 0, 0, 0, /* fixed64 1, 2 */
	    0x3a, 8,			      /* field 7, length-delimited, 8 bytes */
	    0,	  0,  0, 0, 0, 0, 0xe0, 0x3f, /* double 0.5 */
	};
	uint8_t buf[64];
	size_t n;

	(void)state;
	p.bucket_counts = counts;
	p.n_bucket_counts = 2;
	p.explicit_bounds = bounds;
	p.n_explicit_bounds = 1;
	n = otlpb__histogram_data_point__pack(&p, buf);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Times are fixed64 and ids are bytes: the tags and sizes on the wire. */
static void test_span_wire_format(void **state)
{
	Otlpb__Span s = OTLPB__SPAN__INIT;
	uint8_t id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t want[] = {
	    0x12, 8,	1, 2, 3, 4, 5, 6, 7, 8, /* span_id: field 2, bytes */
	    0x39, 0x2a, 0, 0, 0, 0, 0, 0, 0,	/* start_time_unix_nano: field 7, fixed64 42 */
	};
	uint8_t buf[64];

	(void)state;
	s.has_span_id = true;
	s.span_id.data = id;
	s.span_id.len = 8;
	s.has_start_time_unix_nano = true;
	s.start_time_unix_nano = 42;
	assert_int_equal(otlpb__span__pack(&s, buf), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* ---- responses ---- */

static void test_partial_success(void **state)
{
	Otlpb__ExportTraceServiceResponse tr = OTLPB__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Otlpb__ExportTracePartialSuccess tp = OTLPB__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	Otlpb__ExportMetricsServiceResponse mr = OTLPB__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	Otlpb__ExportMetricsPartialSuccess mp = OTLPB__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	uint8_t buf[256];
	size_t n;
	int64_t rejected = -1;
	char msg[8];

	(void)state;
	tp.has_rejected_spans = true;
	tp.rejected_spans = 3;
	tp.error_message = "spans too old";
	tr.partial_success = &tp;
	n = otlpb__export_trace_service_response__pack(&tr, buf);
	assert_int_equal(otlp_traces_partial(buf, n, &rejected, msg, sizeof(msg)), 0);
	assert_int_equal(rejected, 3);
	assert_string_equal(msg, "spans t"); /* truncated to fit */

	mp.has_rejected_data_points = true;
	mp.rejected_data_points = 7;
	mr.partial_success = &mp;
	n = otlpb__export_metrics_service_response__pack(&mr, buf);
	assert_int_equal(otlp_metrics_partial(buf, n, &rejected, msg, sizeof(msg)), 0);
	assert_int_equal(rejected, 7);
	assert_string_equal(msg, "");

	/* an empty body is a full success; garbage is not a response */
	assert_int_equal(otlp_traces_partial(buf, 0, &rejected, msg, sizeof(msg)), 0);
	assert_int_equal(rejected, 0);
	assert_int_equal(
	    otlp_metrics_partial((const uint8_t *)"\xff\xff\xff", 3, &rejected, msg, sizeof(msg)),
	    -EINVAL);
}

/* ---- building blocks ---- */

static void test_utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
	    {"a\xffz", "a\xef\xbf\xbdz"},
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},		      /* overlong */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	    {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd"}, /* truncated sequence */
	};
	struct otlp_arena a;

	(void)state;
	otlp_arena_init(&a);
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *got = otlp_utf8(&a, cases[i].in);

		assert_string_equal(got, cases[i].out);
		assert_true(otlp_utf8_valid(got));
		assert_int_equal(got == cases[i].in, !strcmp(cases[i].in, cases[i].out));
	}
	otlp_arena_release(&a);
}

/* Each sequence at every offset of an ASCII text, so that it falls at each
 * place of the 8-byte words the validity check reads ASCII in, and past
 * them: the verdict and the repair are the sequence's own. */
static void test_utf8_offsets(void **state)
{
	static const struct {
		const char *seq, *out;
	} seqs[] = {
	    {"\xc3\xa9", "\xc3\xa9"},
	    {"\xe2\x82\xac", "\xe2\x82\xac"},
	    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
	    {"\xff", "\xef\xbf\xbd"},
	    {"\x80", "\xef\xbf\xbd"},
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	};
	struct otlp_arena a;

	(void)state;
	otlp_arena_init(&a);
	for (size_t i = 0; i < NELEM(seqs); i++) {
		bool valid = !strcmp(seqs[i].seq, seqs[i].out);

		for (size_t k = 0; k <= 20; k++) {
			for (size_t tail = 0; tail <= 9; tail += 9) {
				char in[64], want[64];

				snprintf(in, sizeof(in), "%.*s%s%.*s", (int)k,
					 "abcdefghijklmnopqrstu", seqs[i].seq, (int)tail,
					 "vwxyz0123");
				snprintf(want, sizeof(want), "%.*s%s%.*s", (int)k,
					 "abcdefghijklmnopqrstu", seqs[i].out, (int)tail,
					 "vwxyz0123");
				assert_int_equal(otlp_utf8_valid(in), valid);
				assert_string_equal(otlp_utf8(&a, in), want);
			}
		}
	}
	/* a sequence cut by the end of the text, after a word of ASCII */
	assert_false(otlp_utf8_valid("abcdefgh\xe2\x82"));
	assert_true(otlp_utf8_valid("abcdefghijklmnop"));
	assert_true(otlp_utf8_valid(""));
	otlp_arena_release(&a);
}

static void test_arena(void **state)
{
	struct otlp_arena a;
	char *big, *small;

	(void)state;
	otlp_arena_init(&a);
	small = otlp_arena_alloc(&a, 3);
	big = otlp_arena_alloc(&a, 200000); /* larger than a chunk */
	assert_non_null(small);
	assert_non_null(big);
	assert_int_equal((uintptr_t)big % _Alignof(max_align_t), 0);
	assert_int_equal(big[199999], 0);
	memset(big, 1, 200000);
	assert_null(otlp_arena_calloc(&a, SIZE_MAX / 2, 4));
	assert_string_equal(otlp_arena_strdup(&a, "x"), "x");
	otlp_arena_release(&a);
	assert_null(a.head);
}

static void test_process_start(void **state)
{
	struct otlp_resource_ctx r;
	uint64_t mine;

	(void)state;
	assert_int_equal(otlp_resource_ctx_init(&r, "a=1,broken,b=%zz"), 0);
	assert_int_equal(r.nextra, 2);
	assert_string_equal(r.extra[1].val, "%zz");
	mine = otlp_process_start(&r, (uint32_t)getpid());
	assert_true(mine > 0);
	assert_int_equal(otlp_process_start(&r, (uint32_t)getpid()), mine);
	/* a pid that does not exist, never seen: unknown */
	assert_int_equal(otlp_process_start(&r, 0x7ffffff0), 0);
	/* gone now but seen before: the cached value */
	r.starts[0x7ffffff1 % OTLP_PID_CACHE].pid = 0x7ffffff1;
	r.starts[0x7ffffff1 % OTLP_PID_CACHE].start = 99;
	assert_int_equal(otlp_process_start(&r, 0x7ffffff1), 99);
	otlp_resource_ctx_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traces_round_trip),
	    cmocka_unit_test(test_traces_empty_and_full_span),
	    cmocka_unit_test(test_metrics_round_trip),
	    cmocka_unit_test(test_metrics_empty),
	    cmocka_unit_test(test_packed_wire_format),
	    cmocka_unit_test(test_span_wire_format),
	    cmocka_unit_test(test_partial_success),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_utf8_offsets),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_process_start),
	};

	log_init(LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
