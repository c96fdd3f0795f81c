// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_encode_metrics.c - a metric registry snapshot as an OTLP
 * ExportMetricsServiceRequest, and the partial_success of its response.
 * See otlp_encode.h for the mapping.
 *
 * One walk of the snapshot builds every data point in an arena (copying
 * what the walk's view holds only during the callback) and chains it to
 * its (resource, family) pair; the chains then become the pointer arrays
 * protobuf-c packs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_build.h"
#include "otlp_encode.h"
#include "semconv.h"
#include "proto/otlp_metrics.pb-c.h"

struct point_node {
	struct point_node *next;
	void *point; /* Otlpb__NumberDataPoint or Otlpb__HistogramDataPoint */
};

struct metric_node {
	struct metric_node *next;
	const struct metric_family *family;
	struct point_node *head, **tail;
	size_t npoints;
};

struct resource_node {
	struct resource_node *next;
	const char *service; /* NULL: redtap itself */
	struct metric_node *head, **tail;
	size_t nmetrics;
};

struct walk {
	struct otlp_arena *a;
	struct resource_node *head, **tail;
	size_t nresources;
	uint64_t start_ns, now_ns;
};

/* The OTel attribute of label i of a point: from the family's semconv entry;
 * SC_NONE for a family declared without one (the label is then the key). */
static enum semconv_attr point_attr(const struct metric_point *p, size_t i)
{
	const struct semconv_metric *sc = metric_family_semconv(p->family);

	if (p->overflow)
		return SC_OTEL_METRIC_OVERFLOW;
	return sc && i < sc->nattrs ? sc->attrs[i] : SC_NONE;
}

/* Whether label i names the service: service.name, or its Prometheus
 * spelling in a family declared without an entry. */
static bool is_service_label(const struct metric_point *p, size_t i)
{
	char label[SEMCONV_NAME_MAX];

	if (p->overflow)
		return false;
	if (metric_family_semconv(p->family))
		return point_attr(p, i) == SC_SERVICE_NAME;
	return !semconv_prom_sanitize(semconv_key(SC_SERVICE_NAME), label, sizeof(label)) &&
	       !strcmp(p->label_names[i], label);
}

/* The service a point belongs to, or NULL for redtap's own resource: the
 * overflow series and families without a service (redtap's own metrics). */
static const char *point_service(const struct metric_point *p)
{
	for (size_t i = 0; i < p->nlabels; i++)
		if (is_service_label(p, i))
			return p->label_values[i][0] ? p->label_values[i] : "unknown_service";
	return NULL;
}

static struct resource_node *resource_get(struct walk *w, const char *service)
{
	struct resource_node *r;

	for (r = w->head; r; r = r->next)
		if (r->service == service ||
		    (r->service && service && !strcmp(r->service, service)))
			return r;
	r = otlp_arena_alloc(w->a, sizeof(*r));
	if (!r)
		return NULL;
	if (service) {
		r->service = otlp_arena_strdup(w->a, service);
		if (!r->service)
			return NULL;
	}
	r->tail = &r->head;
	*w->tail = r;
	w->tail = &r->next;
	w->nresources++;
	return r;
}

static struct metric_node *metric_get(struct walk *w, struct resource_node *r,
				      const struct metric_family *f)
{
	struct metric_node *m;

	for (m = r->head; m; m = m->next)
		if (m->family == f)
			return m;
	m = otlp_arena_alloc(w->a, sizeof(*m));
	if (!m)
		return NULL;
	m->family = f;
	m->tail = &m->head;
	*r->tail = m;
	r->tail = &m->next;
	r->nmetrics++;
	return m;
}

/* The point's attributes: labels under their OTel keys, without the service and empty values. */
static int attrs_build(struct walk *w, const struct metric_point *p, Otlpb__KeyValue ***out,
		       size_t *nout)
{
	Otlpb__KeyValue **kv = otlp_arena_calloc(w->a, p->nlabels ? p->nlabels : 1, sizeof(*kv));
	size_t n = 0;

	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < p->nlabels; i++) {
		enum semconv_attr at = point_attr(p, i);
		const char *key = at == SC_NONE ? p->label_names[i] : semconv_key(at);
		const char *val = p->label_values[i];
		char *end;
		long long iv;

		if (!val[0] || is_service_label(p, i))
			continue;
		if (at == SC_OTEL_METRIC_OVERFLOW) {
			kv[n] = otlp_kv_bool(w->a, key, true);
		} else if (semconv_is_int(at) && (iv = strtoll(val, &end, 10), !*end)) {
			kv[n] = otlp_kv_int(w->a, key, iv);
		} else {
			kv[n] = otlp_kv_str(w->a, key, otlp_arena_strdup(w->a, val));
		}
		if (!kv[n])
			return -ENOMEM;
		n++;
	}
	*out = kv;
	*nout = n;
	return 0;
}

/* Seconds and fraction apart: a double holds unix nanoseconds only to 256 ns. */
static uint64_t unix_seconds_to_ns(double t)
{
	double secs = floor(t);

	return (uint64_t)secs * 1000000000ULL + (uint64_t)llround((t - secs) * 1e9);
}

static Otlpb__Exemplar *exemplar_build(struct walk *w, const struct metric_exemplar *e)
{
	Otlpb__Exemplar *x = otlp_arena_alloc(w->a, sizeof(*x));
	uint8_t *ids = otlp_arena_alloc(w->a, sizeof(e->trace_id) + sizeof(e->span_id));

	if (!x || !ids)
		return NULL;
	otlpb__exemplar__init(x);
	memcpy(ids, e->trace_id, sizeof(e->trace_id));
	memcpy(ids + sizeof(e->trace_id), e->span_id, sizeof(e->span_id));
	x->has_time_unix_nano = true;
	x->time_unix_nano = e->timestamp > 0 ? unix_seconds_to_ns(e->timestamp) : w->now_ns;
	x->value_case = OTLPB__EXEMPLAR__VALUE_AS_DOUBLE;
	x->as_double = e->value;
	x->has_trace_id = x->has_span_id = true;
	x->trace_id.data = ids;
	x->trace_id.len = sizeof(e->trace_id);
	x->span_id.data = ids + sizeof(e->trace_id);
	x->span_id.len = sizeof(e->span_id);
	return x;
}

/* The point's kept exemplars (histogram buckets', or a counter's one) as OTLP exemplars. */
static int exemplars_build(struct walk *w, const struct metric_point *p, Otlpb__Exemplar ***out,
			   size_t *nout)
{
	size_t nex = 0;

	for (size_t i = 0; i < p->nexemplars; i++)
		nex += metric_exemplar_present(&p->exemplars[i]);
	*nout = 0;
	if (!nex)
		return 0;
	*out = otlp_arena_calloc(w->a, nex, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < p->nexemplars; i++) {
		if (!metric_exemplar_present(&p->exemplars[i]))
			continue;
		(*out)[*nout] = exemplar_build(w, &p->exemplars[i]);
		if (!(*out)[(*nout)++])
			return -ENOMEM;
	}
	return 0;
}

/* A cumulative point starts with the agent, or later when its series was (re)created. */
static uint64_t point_start(const struct walk *w, const struct metric_point *p)
{
	return p->start_unix_ns > w->start_ns ? p->start_unix_ns : w->start_ns;
}

static void *histogram_point(struct walk *w, const struct metric_point *p)
{
	Otlpb__HistogramDataPoint *d = otlp_arena_alloc(w->a, sizeof(*d));
	size_t nb = p->nbounds + 1;

	if (!d)
		return NULL;
	otlpb__histogram_data_point__init(d);
	if (attrs_build(w, p, &d->attributes, &d->n_attributes))
		return NULL;
	d->has_start_time_unix_nano = d->has_time_unix_nano = true;
	d->start_time_unix_nano = point_start(w, p);
	d->time_unix_nano = w->now_ns;
	d->has_count = d->has_sum = true;
	d->count = p->count;
	d->sum = p->sum;
	d->bucket_counts = otlp_arena_calloc(w->a, nb, sizeof(*d->bucket_counts));
	d->explicit_bounds = otlp_arena_calloc(w->a, nb, sizeof(*d->explicit_bounds));
	if (!d->bucket_counts || !d->explicit_bounds)
		return NULL;
	memcpy(d->bucket_counts, p->bucket_counts, nb * sizeof(*d->bucket_counts));
	memcpy(d->explicit_bounds, p->bounds, p->nbounds * sizeof(*d->explicit_bounds));
	d->n_bucket_counts = nb;
	d->n_explicit_bounds = p->nbounds;
	if (exemplars_build(w, p, &d->exemplars, &d->n_exemplars))
		return NULL;
	return d;
}

static void *number_point(struct walk *w, const struct metric_point *p)
{
	Otlpb__NumberDataPoint *d = otlp_arena_alloc(w->a, sizeof(*d));

	if (!d)
		return NULL;
	otlpb__number_data_point__init(d);
	if (attrs_build(w, p, &d->attributes, &d->n_attributes))
		return NULL;
	/* a gauge has no start time; a cumulative sum starts with the agent */
	if (metric_family_type(p->family) == METRIC_COUNTER) {
		d->has_start_time_unix_nano = true;
		d->start_time_unix_nano = point_start(w, p);
	}
	d->has_time_unix_nano = true;
	d->time_unix_nano = w->now_ns;
	d->value_case = OTLPB__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	d->as_double = p->value;
	if (exemplars_build(w, p, &d->exemplars, &d->n_exemplars))
		return NULL;
	return d;
}

static int on_series(void *ctx, const struct metric_point *p)
{
	struct walk *w = ctx;
	struct resource_node *r = resource_get(w, point_service(p));
	struct metric_node *m = r ? metric_get(w, r, p->family) : NULL;
	struct point_node *pn = otlp_arena_alloc(w->a, sizeof(*pn));

	if (!m || !pn)
		return -ENOMEM;
	pn->point = metric_family_type(p->family) == METRIC_HISTOGRAM ? histogram_point(w, p)
								      : number_point(w, p);
	if (!pn->point)
		return -ENOMEM;
	*m->tail = pn;
	m->tail = &pn->next;
	m->npoints++;
	return 0;
}

static void **points_array(struct walk *w, const struct metric_node *m)
{
	void **v = otlp_arena_calloc(w->a, m->npoints, sizeof(*v));
	size_t i = 0;

	if (!v)
		return NULL;
	for (const struct point_node *pn = m->head; pn; pn = pn->next)
		v[i++] = pn->point;
	return v;
}

static Otlpb__Metric *metric_build(struct walk *w, const struct metric_node *m)
{
	const struct metric_family *f = m->family;
	const struct semconv_metric *sc = metric_family_semconv(f);
	Otlpb__Metric *o = otlp_arena_alloc(w->a, sizeof(*o));
	void **points = points_array(w, m);

	if (!o || !points)
		return NULL;
	otlpb__metric__init(o);
	o->name = (char *)otlp_utf8(w->a, sc ? sc->name : metric_family_name(f));
	o->unit = (char *)(sc ? sc->unit : semconv_ucum_unit(metric_family_unit(f)));
	if (metric_family_help(f)[0])
		o->description = (char *)otlp_utf8(w->a, metric_family_help(f));
	if (!o->name || (metric_family_help(f)[0] && !o->description))
		return NULL;
	switch (metric_family_type(f)) {
	case METRIC_HISTOGRAM:
		o->data_case = OTLPB__METRIC__DATA_HISTOGRAM;
		o->histogram = otlp_arena_alloc(w->a, sizeof(*o->histogram));
		if (!o->histogram)
			return NULL;
		otlpb__histogram__init(o->histogram);
		o->histogram->has_aggregation_temporality = true;
		o->histogram->aggregation_temporality =
		    OTLPB__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		o->histogram->data_points = (Otlpb__HistogramDataPoint **)points;
		o->histogram->n_data_points = m->npoints;
		break;
	case METRIC_COUNTER:
		o->data_case = OTLPB__METRIC__DATA_SUM;
		o->sum = otlp_arena_alloc(w->a, sizeof(*o->sum));
		if (!o->sum)
			return NULL;
		otlpb__sum__init(o->sum);
		o->sum->has_aggregation_temporality = o->sum->has_is_monotonic = true;
		o->sum->aggregation_temporality =
		    OTLPB__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
		o->sum->is_monotonic = true;
		o->sum->data_points = (Otlpb__NumberDataPoint **)points;
		o->sum->n_data_points = m->npoints;
		break;
	case METRIC_GAUGE:
		o->data_case = OTLPB__METRIC__DATA_GAUGE;
		o->gauge = otlp_arena_alloc(w->a, sizeof(*o->gauge));
		if (!o->gauge)
			return NULL;
		otlpb__gauge__init(o->gauge);
		o->gauge->data_points = (Otlpb__NumberDataPoint **)points;
		o->gauge->n_data_points = m->npoints;
		break;
	}
	return o;
}

static Otlpb__ResourceMetrics *resource_build(struct walk *w, struct otlp_resource_ctx *r,
					      const struct resource_node *rn)
{
	Otlpb__ResourceMetrics *rm = otlp_arena_alloc(w->a, sizeof(*rm));
	Otlpb__ScopeMetrics *sm = otlp_arena_alloc(w->a, sizeof(*sm));
	Otlpb__ScopeMetrics **smv = otlp_arena_alloc(w->a, sizeof(*smv));
	size_t i = 0;

	if (!rm || !sm || !smv)
		return NULL;
	otlpb__resource_metrics__init(rm);
	otlpb__scope_metrics__init(sm);
	rm->resource = otlp_resource_agent(w->a, r, rn->service ? rn->service : OTLP_SELF_SERVICE);
	sm->scope = otlp_scope(w->a);
	sm->metrics = otlp_arena_calloc(w->a, rn->nmetrics, sizeof(*sm->metrics));
	if (!rm->resource || !sm->scope || !sm->metrics)
		return NULL;
	for (const struct metric_node *m = rn->head; m; m = m->next) {
		sm->metrics[i] = metric_build(w, m);
		if (!sm->metrics[i++])
			return NULL;
	}
	sm->n_metrics = rn->nmetrics;
	smv[0] = sm;
	rm->scope_metrics = smv;
	rm->n_scope_metrics = 1;
	return rm;
}

int otlp_encode_metrics(struct otlp_resource_ctx *r, const struct metric_snapshot *snap,
			uint64_t start_ns, uint64_t now_ns, uint8_t **out, size_t *outlen)
{
	Otlpb__ExportMetricsServiceRequest req = OTLPB__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	struct otlp_arena a;
	struct walk w = {.a = &a, .start_ns = start_ns, .now_ns = now_ns};
	size_t i = 0;
	int err = -ENOMEM;

	otlp_arena_init(&a);
	w.tail = &w.head;
	if (snap && metric_snapshot_walk(snap, NULL, on_series, &w))
		goto out_release;
	req.resource_metrics =
	    otlp_arena_calloc(&a, w.nresources ? w.nresources : 1, sizeof(*req.resource_metrics));
	if (!req.resource_metrics)
		goto out_release;
	for (const struct resource_node *rn = w.head; rn; rn = rn->next) {
		req.resource_metrics[i] = resource_build(&w, r, rn);
		if (!req.resource_metrics[i++])
			goto out_release;
	}
	req.n_resource_metrics = w.nresources;

	err = otlp_pb_pack(&req.base, out, outlen);
out_release:
	otlp_arena_release(&a);
	return err;
}

int otlp_metrics_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
			 size_t msglen)
{
	return otlp_pb_partial(&otlpb__export_metrics_service_response__descriptor, body, len,
			       rejected, msg, msglen);
}
