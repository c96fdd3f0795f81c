// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_encode_logs.c - a batch of log records (user/signals/logs.h) as an
 * OTLP ExportLogsServiceRequest, and the partial_success of its response.
 * See otlp_encode.h.
 *
 * Records are grouped into one ResourceLogs per (pid, service), like spans,
 * so that each carries the resource of its process. Every message lives in
 * one arena freed after packing; bodies and attribute values are repaired
 * into valid UTF-8 there when needed.
 */
#include <errno.h>
#include <string.h>

#include "otlp_build.h"
#include "otlp_encode.h"
#include "proto/otlp_logs.pb-c.h"

static Otlpb__LogRecord *record_build(struct otlp_arena *a, const struct log_record *r)
{
	Otlpb__LogRecord *o = otlp_arena_alloc(a, sizeof(*o));
	Otlpb__AnyValue *body = otlp_arena_alloc(a, sizeof(*body));
	size_t nattrs = r->nattrs < LOGLINE_ATTRS_MAX ? r->nattrs : LOGLINE_ATTRS_MAX;
	char *text = otlp_arena_alloc(a, (size_t)r->body_len + 1);

	if (!o || !body || !text)
		return NULL;
	otlpb__log_record__init(o);
	otlpb__any_value__init(body);
	memcpy(text, r->body, r->body_len);
	text[r->body_len] = '\0';
	body->value_case = OTLPB__ANY_VALUE__VALUE_STRING_VALUE;
	body->string_value = (char *)otlp_utf8(a, text);
	o->body = body;
	o->has_time_unix_nano = o->has_observed_time_unix_nano = true;
	o->time_unix_nano = o->observed_time_unix_nano = r->time_unix_ns;
	if (r->severity) {
		o->has_severity_number = true;
		o->severity_number = (Otlpb__SeverityNumber)r->severity;
		o->severity_text = (char *)otlp_utf8(a, r->severity_text);
	}
	if (r->has_trace) {
		o->has_trace_id = o->has_span_id = true;
		o->trace_id.data = (uint8_t *)r->trace_id;
		o->trace_id.len = sizeof(r->trace_id);
		o->span_id.data = (uint8_t *)r->span_id;
		o->span_id.len = sizeof(r->span_id);
		o->has_flags = true;
		o->flags = r->sampled ? 1 : 0; /* W3C trace flags: the sampled bit */
	}
	if (!body->string_value || (r->severity && !o->severity_text))
		return NULL;
	/* attributes: the lifted ones, and where the line came from */
	o->attributes = otlp_arena_calloc(a, nattrs + 3, sizeof(*o->attributes));
	if (!o->attributes)
		return NULL;
	if (!(r->flags & LOG_RECORD_FILE)) {
		o->attributes[o->n_attributes++] =
		    otlp_kv_str(a, "log.iostream", r->fd == 2 ? "stderr" : "stdout");
	} else if (r->file_path[0]) { /* OTel semconv log.file.* */
		const char *base = strrchr(r->file_path, '/');

		o->attributes[o->n_attributes++] = otlp_kv_str(a, "log.file.path", r->file_path);
		o->attributes[o->n_attributes++] =
		    otlp_kv_str(a, "log.file.name", base ? base + 1 : r->file_path);
	}
	if (r->flags & LOG_RECORD_CUT)
		o->attributes[o->n_attributes++] = otlp_kv_bool(a, "redtap.log.truncated", true);
	for (size_t i = 0; i < nattrs; i++) {
		const char *val = otlp_utf8(a, r->attrs[i].val);

		o->attributes[o->n_attributes++] =
		    val ? otlp_kv_str(a, otlp_utf8(a, r->attrs[i].key), val) : NULL;
	}
	for (size_t i = 0; i < o->n_attributes; i++)
		if (!o->attributes[i])
			return NULL;
	return o;
}

static Otlpb__ResourceLogs *lgroup_build(struct otlp_arena *a, struct otlp_resource_ctx *r,
					 const struct log_record *first, void **recs, size_t n)
{
	Otlpb__ResourceLogs *rl = otlp_arena_alloc(a, sizeof(*rl));
	Otlpb__ScopeLogs *sl = otlp_arena_alloc(a, sizeof(*sl));
	Otlpb__ScopeLogs **slv = otlp_arena_alloc(a, sizeof(*slv));

	if (!rl || !sl || !slv)
		return NULL;
	otlpb__resource_logs__init(rl);
	otlpb__scope_logs__init(sl);
	rl->resource = otlp_resource_process(a, r, first->pid, first->service, first->exe);
	sl->scope = otlp_scope(a);
	if (!rl->resource || !sl->scope)
		return NULL;
	sl->log_records = (Otlpb__LogRecord **)recs;
	sl->n_log_records = n;
	slv[0] = sl;
	rl->scope_logs = slv;
	rl->n_scope_logs = 1;
	return rl;
}

static bool same_group(const void *ctx, size_t i, size_t j)
{
	const struct log_record *const *l = ctx;

	return l[i]->pid == l[j]->pid && !strcmp(l[i]->service, l[j]->service);
}

static void *record_msg(struct otlp_arena *a, const void *ctx, size_t i)
{
	const struct log_record *const *l = ctx;

	return record_build(a, l[i]);
}

int otlp_encode_logs(struct otlp_resource_ctx *r, const struct log_record *const *recs, size_t n,
		     uint8_t **out, size_t *outlen)
{
	Otlpb__ExportLogsServiceRequest req = OTLPB__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	struct otlp_arena a;
	struct otlp_groups gr;
	int err = -ENOMEM;

	otlp_arena_init(&a);
	if (otlp_group(&a, n, same_group, record_msg, recs, &gr))
		goto out_release;
	req.resource_logs = otlp_arena_calloc(&a, gr.ng ? gr.ng : 1, sizeof(*req.resource_logs));
	if (!req.resource_logs)
		goto out_release;
	for (size_t g = 0; g < gr.ng; g++) {
		req.resource_logs[g] = lgroup_build(&a, r, recs[gr.first[g]], gr.msgs[g], gr.n[g]);
		if (!req.resource_logs[g])
			goto out_release;
	}
	req.n_resource_logs = gr.ng;
	err = otlp_pb_pack(&req.base, out, outlen);
out_release:
	otlp_arena_release(&a);
	return err;
}

int otlp_logs_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg, size_t msglen)
{
	return otlp_pb_partial(&otlpb__export_logs_service_response__descriptor, body, len,
			       rejected, msg, msglen);
}
