// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * selfmetrics.c - registers and refreshes the redtap_* self-metrics: build
 * info, records received, kernel drops by reason, parse errors, series and
 * overflow per metric, instrumented processes, and what the agent itself
 * costs (its CPU time and resident memory, its BPF programs' run time).
 * Their names, units, help and labels are entries of semconv.c (redtap.*
 * in OTLP). See selfmetrics.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "selfmetrics.h"
#include "semconv.h"
#include "tlsscan.h"
#include "version.h"

_Static_assert(TLSSCAN_MAX <= SELF_TLS_STACKS_MAX, "a snapshot slot per TLS stack");

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const event_type_names[RT_EV_TYPE_MAX] = {
    [0] = "invalid",
    [RT_EV_DATA] = "data",
    [RT_EV_CONN_OPEN] = "conn_open",
    [RT_EV_CONN_CLOSE] = "conn_close",
    [RT_EV_PROC_EXEC] = "proc_exec",
    [RT_EV_PROC_EXIT] = "proc_exit",
    [RT_EV_SHIM] = "shim",
    [RT_EV_PROC_FORK] = "proc_fork",
    [RT_EV_LISTEN] = "listen",
};

/* Counters are exported as running totals; keep what was already added. */
struct counter {
	struct metric_series *s;
	uint64_t last;
};

struct selfmetrics {
	struct metric_family *series, *overflow;
	struct metric_series *instrumented;
	struct counter events[RT_EV_TYPE_MAX];
	struct counter drops[RT_DROP_MAX];
	struct metric_family *parse_errors;
	struct {
		struct counter c;
		const char *protocol, *reason;
	} perr[SELF_PARSE_ERRORS_MAX];
	size_t nperr;
	struct counter conn_full, shim_dropped, conn_recreated, procs_untracked;
	struct counter otlp_errors[2], otlp_dropped, otlp_exported;
	struct counter shim_rejected[SELF_SHIM_REJECT_MAX], sql_skipped;
	struct counter budget_spans;
	struct counter go_unknown[SELF_GO_UNKNOWN_MAX];
	struct metric_series *tls_unsupported[SELF_TLS_STACKS_MAX];
	struct counter http_unseen, conn_own;
	struct metric_family *evicted;
	struct counter cpu[2]; /* user, system: ns */
	struct metric_series *rss;
	struct metric_family *prog_time, *prog_runs;
	struct {
		char name[SELF_PROG_NAME_MAX];
		struct counter ns, runs;
	} prog[SELF_PROGS_MAX];
	size_t nprog;
	struct {
		struct counter c, ev;
		const struct metric_family *f;
	} ovf[8];
};

static const char *const shim_reject_names[SELF_SHIM_REJECT_MAX] = {
    [SELF_SHIM_UNVERIFIED] = "hello_unverified",
    [SELF_SHIM_TABLE_FULL] = "ack_table_full",
    [SELF_SHIM_DROPS_CAPPED] = "drop_report_capped",
};

/* Adds the growth of a running total, times scale (1e-9: ns to seconds). */
static void counter_scaled_to(struct counter *c, uint64_t now, double scale)
{
	if (c->s && now > c->last) {
		metric_counter_add(c->s, (double)(now - c->last) * scale);
		c->last = now;
	}
}

static void counter_to(struct counter *c, uint64_t now)
{
	counter_scaled_to(c, now, 1.0);
}

static struct metric_series *one(struct metric_family *f, const char *v)
{
	const char *vals[] = {v};

	return f ? metric_series_get(f, vals) : NULL;
}

/* The series of (protocol, reason) is made on first sight, at 0 or more. */
static void parse_error_to(struct selfmetrics *s, const struct parse_error_count *e)
{
	size_t i;

	for (i = 0; i < s->nperr; i++)
		if (!strcmp(s->perr[i].protocol, e->protocol) &&
		    !strcmp(s->perr[i].reason, e->reason))
			break;
	if (i == s->nperr) {
		const char *vals[] = {e->protocol, e->reason};

		if (i == SELF_PARSE_ERRORS_MAX || !s->parse_errors)
			return;
		s->perr[i].protocol = e->protocol;
		s->perr[i].reason = e->reason;
		s->perr[i].c.s = metric_series_get(s->parse_errors, vals);
		s->nperr++;
		if (s->perr[i].c.s)
			metric_counter_add(s->perr[i].c.s, 0);
	}
	counter_to(&s->perr[i].c, e->total);
}

/* The series of a BPF program are made when it is first seen having run. */
static void prog_to(struct selfmetrics *s, const struct self_prog *p)
{
	size_t i;

	for (i = 0; i < s->nprog; i++)
		if (!strcmp(s->prog[i].name, p->name))
			break;
	if (i == s->nprog) {
		if (i == SELF_PROGS_MAX || !p->name[0])
			return;
		snprintf(s->prog[i].name, sizeof(s->prog[i].name), "%s", p->name);
		s->prog[i].ns.s = one(s->prog_time, s->prog[i].name);
		s->prog[i].runs.s = one(s->prog_runs, s->prog[i].name);
		s->nprog++;
	}
	counter_scaled_to(&s->prog[i].ns, p->run_ns, 1e-9);
	counter_to(&s->prog[i].runs, p->runs);
}

struct selfmetrics *selfmetrics_new(struct metric_registry *r)
{
	const char *build[] = {redtap_version, redtap_git_rev};
	struct selfmetrics *s = calloc(1, sizeof(*s));
	struct metric_family *f;

	if (!s)
		return NULL;
	f = semconv_family_new(r, &semconv_redtap_build_info, 0);
	if (f)
		metric_gauge_set(metric_series_get(f, build), 1);
	f = semconv_family_new(r, &semconv_redtap_events_received, 0);
	for (unsigned t = RT_EV_DATA; t < RT_EV_TYPE_MAX && f; t++)
		s->events[t].s = one(f, event_type_names[t]);
	f = semconv_family_new(r, &semconv_redtap_kernel_events_dropped, 0);
	for (unsigned d = 0; d < RT_DROP_MAX && f; d++)
		s->drops[d].s = one(f, capture_drop_reason_name(d));
	s->parse_errors = semconv_family_new(r, &semconv_redtap_parse_errors, 0);
	f = semconv_family_new(r, &semconv_redtap_connections_untracked, 0);
	s->conn_full.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_connections_recreated, 0);
	s->conn_recreated.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_processes_untracked, 0);
	s->procs_untracked.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_shim_events_dropped, 0);
	s->shim_dropped.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_instrumented_processes, 0);
	s->instrumented = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_otlp_export_errors, 0);
	s->otlp_errors[0].s = one(f, "traces");
	s->otlp_errors[1].s = one(f, "metrics");
	f = semconv_family_new(r, &semconv_redtap_otlp_dropped, 0);
	s->otlp_dropped.s = one(f, "traces");
	f = semconv_family_new(r, &semconv_redtap_otlp_exported, 0);
	s->otlp_exported.s = one(f, "traces");
	s->series = semconv_family_new(r, &semconv_redtap_metric_series, 0);
	s->overflow = semconv_family_new(r, &semconv_redtap_metric_series_overflow, 0);
	s->evicted = semconv_family_new(r, &semconv_redtap_metric_series_evicted, 0);
	f = semconv_family_new(r, &semconv_redtap_shim_rejected, 0);
	for (unsigned i = 0; i < SELF_SHIM_REJECT_MAX && f; i++)
		s->shim_rejected[i].s = one(f, shim_reject_names[i]);
	f = semconv_family_new(r, &semconv_redtap_sql_summaries_skipped, 0);
	s->sql_skipped.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_go_goroutine_unknown, 0);
	for (unsigned i = 0; i < capture_go_reasons() && i < SELF_GO_UNKNOWN_MAX && f; i++)
		s->go_unknown[i].s = one(f, capture_go_reason_name(i));
	f = semconv_family_new(r, &semconv_redtap_tls_unsupported_processes, 0);
	for (unsigned i = TLSSCAN_NONE + 1; i < TLSSCAN_MAX && f; i++) /* a series per stack */
		s->tls_unsupported[i] = one(f, tlsscan_name(i));
	f = semconv_family_new(r, &semconv_redtap_traces_budget_dropped, 0);
	s->budget_spans.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_http_requests_unseen, 0);
	s->http_unseen.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_connections_own, 0);
	s->conn_own.s = f ? metric_series_get(f, NULL) : NULL;
	f = semconv_family_new(r, &semconv_redtap_process_cpu_time, 0);
	s->cpu[0].s = one(f, "user");
	s->cpu[1].s = one(f, "system");
	f = semconv_family_new(r, &semconv_redtap_process_memory_usage, 0);
	s->rss = f ? metric_series_get(f, NULL) : NULL;
	s->prog_time = semconv_family_new(r, &semconv_redtap_bpf_program_run_time, 0);
	s->prog_runs = semconv_family_new(r, &semconv_redtap_bpf_program_runs, 0);
	return s;
}

void selfmetrics_update(struct selfmetrics *s, const struct self_snapshot *snap)
{
	for (unsigned t = 0; t < RT_EV_TYPE_MAX; t++)
		counter_to(&s->events[t], snap->events[t]);
	for (unsigned d = 0; d < RT_DROP_MAX; d++)
		counter_to(&s->drops[d], snap->kernel_drops[d]);
	for (size_t i = 0; i < snap->nparse_errors; i++)
		parse_error_to(s, &snap->parse_errors[i]);
	counter_to(&s->conn_full, snap->conn_table_full);
	counter_to(&s->conn_recreated, snap->conn_recreated);
	counter_to(&s->procs_untracked, snap->procs_untracked);
	counter_to(&s->shim_dropped, snap->shim_dropped);
	counter_to(&s->otlp_errors[0], snap->otlp_errors[0]);
	counter_to(&s->otlp_errors[1], snap->otlp_errors[1]);
	counter_to(&s->otlp_dropped, snap->otlp_dropped_spans);
	counter_to(&s->otlp_exported, snap->otlp_exported_spans);
	for (unsigned i = 0; i < SELF_SHIM_REJECT_MAX; i++)
		counter_to(&s->shim_rejected[i], snap->shim_rejected[i]);
	counter_to(&s->sql_skipped, snap->sql_skipped);
	for (unsigned i = 0; i < SELF_GO_UNKNOWN_MAX; i++)
		counter_to(&s->go_unknown[i], snap->go_unknown[i]);
	counter_to(&s->budget_spans, snap->budget_spans);
	counter_to(&s->http_unseen, snap->http_unseen);
	counter_to(&s->conn_own, snap->conn_own);
	if (snap->own_read) {
		counter_scaled_to(&s->cpu[0], snap->cpu_ns[0], 1e-9);
		counter_scaled_to(&s->cpu[1], snap->cpu_ns[1], 1e-9);
		if (s->rss)
			metric_gauge_set(s->rss, (double)snap->rss_bytes);
	}
	for (size_t i = 0; i < snap->nprogs && i < SELF_PROGS_MAX; i++)
		prog_to(s, &snap->progs[i]);
	if (s->instrumented)
		metric_gauge_set(s->instrumented, (double)snap->instrumented);
	for (unsigned i = 0; i < SELF_TLS_STACKS_MAX; i++)
		if (s->tls_unsupported[i])
			metric_gauge_set(s->tls_unsupported[i], (double)snap->tls_unsupported[i]);
	for (size_t i = 0; i < snap->nfamilies && i < NELEM(s->ovf); i++) {
		const struct metric_family *f = snap->families[i];
		struct metric_series *ser = one(s->series, metric_family_name(f));

		if (ser)
			metric_gauge_set(ser, (double)metric_family_series_count(f));
		if (s->ovf[i].f != f) {
			s->ovf[i].f = f;
			s->ovf[i].c.s = one(s->overflow, metric_family_name(f));
			s->ovf[i].c.last = 0;
			s->ovf[i].ev.s = one(s->evicted, metric_family_name(f));
			s->ovf[i].ev.last = 0;
		}
		counter_to(&s->ovf[i].c, metric_family_overflow_total(f));
		counter_to(&s->ovf[i].ev, metric_family_evicted_total(f));
	}
}

void selfmetrics_free(struct selfmetrics *s)
{
	free(s);
}
