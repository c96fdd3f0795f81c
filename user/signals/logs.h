/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logs.h - application logs, zero code: RT_EV_LOG records (what selected
 * processes wrote to stdout/stderr, or to log files: logfiles.h) become log
 * records with the severity of the line, the resource of the process, and
 * the trace and span of the request the writing thread was serving when it
 * began the line. A log file's record names it (log.file.path and .name).
 *
 * The path of a line: logasm.h (per-(tgid, fd) reassembly, bounded lines)
 * -> logredact.h (secrets replaced before anything else sees the line)
 * -> logline.h (severity, the line's own ids, attributes) -> the emit
 * callback (the OTLP exporter) and the redtap_log_records_total counter.
 *
 * Correlation rule: the ids come from tracer_thread_context() at the time
 * of the write that began the line (for Go, the goroutine's request once
 * the tracer keys requests by goroutine). A line that names its own
 * trace_id/span_id keeps them. The ids are kept whether or not the trace
 * was sampled: the record's flags carry the sampled bit, so a backend
 * shows the trace when it was kept (head sampling or tail rules) and the
 * logs of the request alone when it was not.
 *
 * API: logs_new() (NULL and errno; EINVAL with one sentence in err for a
 * bad redaction pattern); logs_record() per RT_EV_LOG record,
 * logs_sweep() periodically, logs_forget() when a process exits,
 * logs_free() delivers what is pending (NULL ok). The record handed to
 * emit is only valid during the call. Borrowed: procs, tracer, reg.
 * Not thread-safe: the event loop owns it.
 */
#ifndef REDTAP_LOGS_H
#define REDTAP_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logline.h"
#include "redtap/event.h"

#define LOGS_LINE_MAX_DEFAULT 8192
#define LOGS_STREAMS	      1024
#define LOGS_FLUSH_NS	      (1000ull * 1000000ull) /* partial lines wait at most 1 s */

#define LOG_RECORD_CUT	   1u /* the line was cut at the capture or line bound */
#define LOG_RECORD_PARTIAL 2u /* flushed without its end of line */
#define LOG_RECORD_FILE	   4u /* written to a log file (logs.files): file_path names it */

/* One log record, as the exporter sees it; body_len bytes of body follow
 * (not NUL-terminated), already redacted. */
struct log_record {
	uint64_t time_unix_ns; /* the write that began the line */
	uint32_t pid, tid;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	bool has_trace; /* trace_id and span_id are set */
	bool sampled;	/* W3C sampled flag of that trace, as far as redtap knows */
	uint8_t severity;
	uint8_t fd;    /* 1 stdout, 2 stderr, else the dup's fd (cut to 255) */
	uint8_t flags; /* LOG_RECORD_* */
	uint8_t pad0[3];
	char severity_text[8];
	char service[128];
	char exe[64];
	uint32_t nattrs;
	uint32_t body_len;
	struct logline_attr attrs[LOGLINE_ATTRS_MAX];
	char file_path[256]; /* with LOG_RECORD_FILE; "" when no longer known */
	char body[];
};

typedef void (*logs_emit_fn)(void *ctx, const struct log_record *r);

struct procs;
struct tracer;
struct logfiles;
struct metric_registry;

struct logs_opts {
	struct procs *procs;	      /* required: service and executable names */
	struct tracer *tracer;	      /* NULL: no correlation */
	struct metric_registry *reg;  /* NULL: no redtap_log_records_total */
	size_t max_series;	      /* of that counter */
	const char *redact;	      /* extra patterns, LOGREDACT_SEP-separated; may be NULL */
	bool redact_no_defaults;      /* only the extra patterns */
	size_t line_max;	      /* 0: LOGS_LINE_MAX_DEFAULT */
	const struct logfiles *files; /* names the log files of logs.files; may be NULL */
	logs_emit_fn emit;	      /* may be NULL (metrics only) */
	void *ctx;
};

struct logs;

struct logs *logs_new(const struct logs_opts *o, char *err, size_t errlen);
void logs_free(struct logs *l);

/* One RT_EV_LOG record of len bytes (checked here), written by thread tid
 * (0: the record's own; a goroutine's executor id, gotrack.h), the thread
 * whose span the line is correlated with. */
void logs_record(struct logs *l, const struct rt_data_event *ev, size_t len, uint32_t tid);
/* now: CLOCK_MONOTONIC ns. */
void logs_sweep(struct logs *l, uint64_t now);
void logs_forget(struct logs *l, uint32_t tgid);

struct logs_stats {
	uint64_t records;    /* RT_EV_LOG records taken */
	uint64_t bad;	     /* malformed records */
	uint64_t lines;	     /* log records emitted */
	uint64_t cut;	     /* ... cut at a bound */
	uint64_t partial;    /* ... flushed without an end of line */
	uint64_t redacted;   /* ... in which a secret was replaced */
	uint64_t correlated; /* ... with a trace id */
	uint64_t evictions;  /* reassembly streams flushed early for room */
};
void logs_stats(const struct logs *l, struct logs_stats *out);

/* Brings the redtap_log_lines{outcome} self-metric up to date, with the
 * exporter's totals of log records exported and dropped. */
void logs_update_selfmetrics(struct logs *l, uint64_t exported, uint64_t export_dropped);

#endif /* REDTAP_LOGS_H */
