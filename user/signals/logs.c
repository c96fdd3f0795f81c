// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logs.c - RT_EV_LOG records to correlated, redacted, parsed log records.
 * See logs.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logasm.h"
#include "logfiles.h"
#include "logredact.h"
#include "logs.h"
#include "metrics.h"
#include "procs.h"
#include "semconv.h"
#include "tracer.h"

struct logs {
	struct procs *procs;
	struct tracer *tracer;
	logs_emit_fn emit;
	void *ctx;
	struct logasm *asm_;
	struct logredact *redact;
	const struct logfiles *files;
	struct metric_family *fam;  /* log_records{service_name, severity}, or NULL */
	struct metric_family *self; /* redtap_log_lines{outcome}, or NULL */
	uint64_t self_seen[8];	    /* totals already added, by outcome */
	size_t line_max;
	int64_t mono_to_unix;
	struct logs_stats st;
	struct log_record *rec; /* scratch: the record being built, line_max body bytes */
};

static void refresh_clock(struct logs *l)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	l->mono_to_unix = ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000ll +
			  ((int64_t)real.tv_nsec - mono.tv_nsec);
}

static void copy_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s ? s : "");
}

/*
 * Counts r in log_records{service_name, severity}. A correlated record of
 * severity WARN or worse also becomes the series' exemplar (the latest one
 * wins), so that a Prometheus user goes from an error-log rate to a trace.
 */
static void count(struct logs *l, const struct log_record *r)
{
	struct metric_series *s;
	const char *labels[2];

	if (!l->fam)
		return;
	labels[0] = r->service;
	labels[1] = r->severity_text[0] ? r->severity_text : "UNSPECIFIED";
	s = metric_series_get(l->fam, labels);
	if (r->has_trace && r->severity >= LOG_SEV_WARN)
		metric_counter_add_exemplar(s, 1, r->trace_id, r->span_id,
					    (double)r->time_unix_ns / 1e9);
	else
		metric_counter_add(s, 1);
}

/* A complete line from the reassembler: redact, parse, correlate, emit. */
static void on_line(void *ctx, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
		    const char *line, size_t len, unsigned flags)
{
	struct logs *l = ctx;
	struct log_record *r = l->rec;
	uint64_t before = logredact_count(l->redact);
	struct logline pl;

	memset(r, 0, sizeof(*r));
	r->body_len = (uint32_t)logredact_apply(l->redact, line, len, r->body, l->line_max + 1);
	l->st.redacted += logredact_count(l->redact) != before;
	logline_parse(r->body, r->body_len, &pl);

	r->time_unix_ns = (uint64_t)((int64_t)tag->ts + l->mono_to_unix);
	r->pid = tgid;
	r->tid = tag->tid;
	r->fd = fd > 255 ? 255 : (uint8_t)fd;
	r->flags = (flags & LOGASM_CUT ? LOG_RECORD_CUT : 0) |
		   (flags & LOGASM_PARTIAL ? LOG_RECORD_PARTIAL : 0);
	r->severity = pl.severity;
	memcpy(r->severity_text, pl.severity_text, sizeof(r->severity_text));
	if (pl.has_trace_id) { /* the line names its own trace: it wins */
		r->has_trace = true;
		memcpy(r->trace_id, pl.trace_id, 16);
		if (pl.has_span_id)
			memcpy(r->span_id, pl.span_id, 8);
		r->sampled =
		    tag->has_trace && memcmp(tag->trace_id, pl.trace_id, 16) == 0 && tag->sampled;
	} else if (tag->has_trace) {
		r->has_trace = true;
		r->sampled = tag->sampled;
		memcpy(r->trace_id, tag->trace_id, 16);
		memcpy(r->span_id, tag->span_id, 8);
	}
	r->nattrs = (uint32_t)pl.nattrs;
	memcpy(r->attrs, pl.attrs, pl.nattrs * sizeof(pl.attrs[0]));
	copy_str(r->service, sizeof(r->service), procs_service_name(l->procs, tgid));
	copy_str(r->exe, sizeof(r->exe), procs_exe_name(l->procs, tgid));
	if (tag->file_id) {
		r->flags |= LOG_RECORD_FILE;
		copy_str(r->file_path, sizeof(r->file_path), logfiles_path(l->files, tag->file_id));
	}

	l->st.lines++;
	l->st.cut += !!(r->flags & LOG_RECORD_CUT);
	l->st.partial += !!(r->flags & LOG_RECORD_PARTIAL);
	l->st.correlated += r->has_trace;
	count(l, r);
	if (l->emit)
		l->emit(l->ctx, r);
}

struct logs *logs_new(const struct logs_opts *o, char *err, size_t errlen)
{
	struct logs *l = calloc(1, sizeof(*l));
	int e = ENOMEM;

	if (!l)
		goto fail;
	l->procs = o->procs;
	l->tracer = o->tracer;
	l->emit = o->emit;
	l->ctx = o->ctx;
	l->files = o->files;
	l->line_max = o->line_max ? o->line_max : LOGS_LINE_MAX_DEFAULT;
	refresh_clock(l);
	l->redact = logredact_new(o->redact, o->redact_no_defaults, err, errlen);
	if (!l->redact) {
		e = errno;
		goto fail;
	}
	/* a redacted line may grow: the body holds line_max bytes (and a NUL) */
	l->rec = malloc(sizeof(*l->rec) + l->line_max + 1);
	l->asm_ = logasm_new(LOGS_STREAMS, l->line_max, on_line, l);
	if (!l->rec || !l->asm_)
		goto fail;
	if (o->reg) {
		l->fam = semconv_family_new(o->reg, &semconv_log_records, o->max_series);
		l->self = semconv_family_new(o->reg, &semconv_redtap_log_lines, 16);
		if (!l->fam || !l->self) {
			e = errno;
			goto fail;
		}
	}
	return l;
fail:
	if (e == ENOMEM)
		snprintf(err, errlen, "out of memory");
	logs_free(l);
	errno = e;
	return NULL;
}

void logs_free(struct logs *l)
{
	if (!l)
		return;
	if (l->rec)
		logasm_free(l->asm_); /* delivers pending lines through on_line */
	logredact_free(l->redact);
	free(l->rec);
	free(l);
}

void logs_record(struct logs *l, const struct rt_data_event *ev, size_t len, uint32_t tid)
{
	struct logasm_tag tag = {0};

	if (len < sizeof(*ev) || ev->hdr.len < sizeof(*ev) || len < sizeof(*ev) + ev->cap_len ||
	    ev->cap_len > ev->len) {
		l->st.bad++;
		return;
	}
	l->st.records++;
	tag.ts = ev->hdr.ts;
	tag.tid = tid ? tid : (uint32_t)ev->hdr.pid_tgid;
	tag.file_id = (uint32_t)ev->conn.gen; /* a log file's id; 0 for stdout and stderr */
	tag.has_trace =
	    tracer_thread_context(l->tracer, tag.tid, tag.trace_id, tag.span_id, &tag.sampled);
	logasm_feed(l->asm_, ev->conn.tgid, ev->conn.fd, &tag, (const char *)ev->data, ev->cap_len,
		    ev->len);
}

void logs_sweep(struct logs *l, uint64_t now)
{
	refresh_clock(l);
	if (now > LOGS_FLUSH_NS)
		logasm_flush(l->asm_, now - LOGS_FLUSH_NS);
}

void logs_forget(struct logs *l, uint32_t tgid)
{
	logasm_forget(l->asm_, tgid);
}

void logs_update_selfmetrics(struct logs *l, uint64_t exported, uint64_t export_dropped)
{
	static const char *const outcomes[] = {"emitted",	 "correlated", "cut",
					       "partial",	 "redacted",   "exported",
					       "export_dropped", "malformed"};
	uint64_t now[8] = {l->st.lines,	   l->st.correlated, l->st.cut,	     l->st.partial,
			   l->st.redacted, exported,	     export_dropped, l->st.bad};

	if (!l->self)
		return;
	for (size_t i = 0; i < 8; i++) {
		if (now[i] > l->self_seen[i])
			metric_counter_add(metric_series_get(l->self, &outcomes[i]),
					   (double)(now[i] - l->self_seen[i]));
		l->self_seen[i] = now[i];
	}
}

void logs_stats(const struct logs *l, struct logs_stats *out)
{
	struct logasm_stats as;

	*out = l->st;
	logasm_stats(l->asm_, &as);
	out->evictions = as.evictions;
}
