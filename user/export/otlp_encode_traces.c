// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_encode_traces.c - a batch of spans as an OTLP
 * ExportTraceServiceRequest, and the partial_success of its response.
 * See otlp_encode.h.
 *
 * Every message lives in one arena freed after packing; strings point
 * into the spans (repaired into the arena when not valid UTF-8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_build.h"
#include "otlp_encode.h"
#include "proto/otlp_trace.pb-c.h"

static bool id_zero(const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (id[i])
			return false;
	return true;
}

static Otlpb__Span *span_build(struct otlp_arena *a, const struct span *s)
{
	Otlpb__Span *o = otlp_arena_alloc(a, sizeof(*o));
	size_t nattrs = s->nattrs < SPAN_ATTRS_MAX ? s->nattrs : SPAN_ATTRS_MAX;
	const char *tracestate = span_get(s, SPAN_TRACESTATE);

	if (!o)
		return NULL;
	otlpb__span__init(o);
	o->has_trace_id = o->has_span_id = true;
	o->trace_id.data = (uint8_t *)s->trace_id;
	o->trace_id.len = sizeof(s->trace_id);
	o->span_id.data = (uint8_t *)s->span_id;
	o->span_id.len = sizeof(s->span_id);
	if (!id_zero(s->parent_span_id, sizeof(s->parent_span_id))) {
		o->has_parent_span_id = true;
		o->parent_span_id.data = (uint8_t *)s->parent_span_id;
		o->parent_span_id.len = sizeof(s->parent_span_id);
	}
	if (tracestate[0])
		o->trace_state = (char *)otlp_utf8(a, tracestate);
	o->name = (char *)otlp_utf8(a, span_get(s, SPAN_NAME));
	o->has_kind = true;
	o->kind = (Otlpb__Span__SpanKind)s->kind;
	o->has_start_time_unix_nano = o->has_end_time_unix_nano = true;
	o->start_time_unix_nano = s->start_unix_ns;
	o->end_time_unix_nano = s->end_unix_ns;
	/* W3C trace flags: the sampled bit */
	o->has_flags = true;
	o->flags = s->sampled ? 1 : 0;
	if (!o->name || (tracestate[0] && !o->trace_state))
		return NULL;

	if (nattrs) {
		o->attributes = otlp_arena_calloc(a, nattrs, sizeof(*o->attributes));
		if (!o->attributes)
			return NULL;
		for (size_t i = 0; i < nattrs; i++) {
			const struct span_attr *at = &s->attrs[i];
			const char *key = span_attr_key(at);
			Otlpb__KeyValue *kv;

			if (!key[0]) /* not an attribute id */
				continue;
			kv = at->is_int ? otlp_kv_int(a, key, at->i)
					: otlp_kv_str(a, key, span_attr_val(s, at));
			if (!kv)
				return NULL;
			o->attributes[o->n_attributes++] = kv;
		}
	}

	if (s->status != SPAN_STATUS_UNSET) {
		o->status = otlp_arena_alloc(a, sizeof(*o->status));
		if (!o->status)
			return NULL;
		otlpb__status__init(o->status);
		o->status->has_code = true;
		o->status->code = (Otlpb__Status__StatusCode)s->status;
		/* the description is only meaningful for errors */
		if (s->status == SPAN_STATUS_ERROR && span_get(s, SPAN_STATUS_MESSAGE)[0]) {
			o->status->message = (char *)otlp_utf8(a, span_get(s, SPAN_STATUS_MESSAGE));
			if (!o->status->message)
				return NULL;
		}
	}
	return o;
}

static Otlpb__ResourceSpans *group_build(struct otlp_arena *a, struct otlp_resource_ctx *r,
					 const struct span *first, void **spans, size_t n)
{
	Otlpb__ResourceSpans *rs = otlp_arena_alloc(a, sizeof(*rs));
	Otlpb__ScopeSpans *ss = otlp_arena_alloc(a, sizeof(*ss));
	Otlpb__ScopeSpans **ssv = otlp_arena_alloc(a, sizeof(*ssv));

	if (!rs || !ss || !ssv)
		return NULL;
	otlpb__resource_spans__init(rs);
	otlpb__scope_spans__init(ss);
	rs->resource = otlp_resource_process(a, r, first->pid, span_get(first, SPAN_SERVICE_NAME),
					     span_get(first, SPAN_EXE_NAME));
	ss->scope = otlp_scope(a);
	if (!rs->resource || !ss->scope)
		return NULL;
	ss->spans = (Otlpb__Span **)spans;
	ss->n_spans = n;
	ssv[0] = ss;
	rs->scope_spans = ssv;
	rs->n_scope_spans = 1;
	return rs;
}

static bool same_group(const void *ctx, size_t i, size_t j)
{
	const struct span *const *s = ctx;

	return s[i]->pid == s[j]->pid &&
	       !strcmp(span_get(s[i], SPAN_SERVICE_NAME), span_get(s[j], SPAN_SERVICE_NAME));
}

static void *span_msg(struct otlp_arena *a, const void *ctx, size_t i)
{
	const struct span *const *s = ctx;

	return span_build(a, s[i]);
}

int otlp_encode_traces(struct otlp_resource_ctx *r, const struct span *const *spans, size_t n,
		       uint8_t **out, size_t *outlen)
{
	Otlpb__ExportTraceServiceRequest req = OTLPB__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	struct otlp_arena a;
	struct otlp_groups gr;
	int err = -ENOMEM;

	otlp_arena_init(&a);
	if (otlp_group(&a, n, same_group, span_msg, spans, &gr))
		goto out_release;
	req.resource_spans = otlp_arena_calloc(&a, gr.ng ? gr.ng : 1, sizeof(*req.resource_spans));
	if (!req.resource_spans)
		goto out_release;
	for (size_t g = 0; g < gr.ng; g++) {
		req.resource_spans[g] = group_build(&a, r, spans[gr.first[g]], gr.msgs[g], gr.n[g]);
		if (!req.resource_spans[g])
			goto out_release;
	}
	req.n_resource_spans = gr.ng;
	err = otlp_pb_pack(&req.base, out, outlen);
out_release:
	otlp_arena_release(&a);
	return err;
}

int otlp_traces_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
			size_t msglen)
{
	return otlp_pb_partial(&otlpb__export_trace_service_response__descriptor, body, len,
			       rejected, msg, msglen);
}
