/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * selfmetrics.h - redtap's own health metrics (redtap_* families).
 *
 * API: selfmetrics_new() registers the families; selfmetrics_update()
 * takes a snapshot of the agent's running totals and turns them into
 * counter increments and gauges. One writer: the event loop's sweep calls
 * selfmetrics_update() (it keeps what it already added, unlocked); scrapes
 * and exports read the registry under its lock. The snapshot is the
 * caller's.
 */
#ifndef REDTAP_SELFMETRICS_H
#define REDTAP_SELFMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "redtap/event.h"

/* A running total of redtap_parse_errors_total{protocol,reason}. */
struct parse_error_count {
	const char *protocol; /* static strings, e.g. "http", "bad_request_line" */
	const char *reason;
	uint64_t total;
};

#define SELF_PARSE_ERRORS_MAX 64
#define SELF_GO_UNKNOWN_MAX   8 /* >= capture_go_reasons() */
#define SELF_TLS_STACKS_MAX   8 /* >= TLSSCAN_MAX */
#define SELF_PROGS_MAX	      64
#define SELF_PROG_NAME_MAX    48

/* One of the agent's BPF programs, as the kernel counts it while
 * kernel.bpf_stats_enabled is 1: the time its runs took and how many. */
struct self_prog {
	char name[SELF_PROG_NAME_MAX]; /* the program's function name */
	uint64_t run_ns, runs;
};

/* The reason label of redtap_shim_rejected_total. */
enum self_shim_reject {
	SELF_SHIM_UNVERIFIED,	/* "hello_unverified": address, mapping or nonce wrong */
	SELF_SHIM_TABLE_FULL,	/* "ack_table_full": the table or the uid's share was full */
	SELF_SHIM_DROPS_CAPPED, /* "drop_report_capped": implausible loss reports cut */
	SELF_SHIM_REJECT_MAX,
};

struct self_snapshot {
	uint64_t events[RT_EV_TYPE_MAX]; /* records received, by type */
	uint64_t kernel_drops[RT_DROP_MAX];
	struct parse_error_count parse_errors[SELF_PARSE_ERRORS_MAX];
	size_t nparse_errors;
	uint64_t conn_table_full;
	uint64_t conn_recreated;  /* kernel entries re-created for a live socket */
	uint64_t procs_untracked; /* processes the process table had no room for */
	uint64_t shim_dropped;
	uint64_t shim_rejected[SELF_SHIM_REJECT_MAX]; /* by enum self_shim_reject */
	uint64_t sql_skipped;			      /* summaries left to the tokenizer */
	uint64_t budget_spans;			      /* spans over the tracer's span budget */
	uint64_t http_unseen; /* HTTP/1 answers to requests a capture gap hid */
	uint64_t conn_own;    /* connections of the agent's own left out */
	uint64_t instrumented;
	/* Go work left on threads, by capture_go_reason_name() */
	uint64_t go_unknown[SELF_GO_UNKNOWN_MAX];
	/* processes with a TLS stack the probes cannot see, by tlsscan_name() */
	uint64_t tls_unsupported[SELF_TLS_STACKS_MAX];
	bool otlp_enabled;
	uint64_t otlp_errors[2]; /* traces, metrics */
	uint64_t otlp_dropped_spans;
	uint64_t otlp_exported_spans;
	const struct metric_family *families[8]; /* data families, for series counts */
	size_t nfamilies;
	/* the agent's own cost: its process (own_read: cpu_ns and rss_bytes
	 * were read) and its BPF programs that have run (none with the
	 * kernel's statistics off) */
	bool own_read;
	uint64_t cpu_ns[2]; /* user, system */
	uint64_t rss_bytes;
	struct self_prog progs[SELF_PROGS_MAX];
	size_t nprogs;
};

struct selfmetrics;

struct selfmetrics *selfmetrics_new(struct metric_registry *r);
void selfmetrics_update(struct selfmetrics *s, const struct self_snapshot *snap);
void selfmetrics_free(struct selfmetrics *s); /* NULL ok */

#endif /* REDTAP_SELFMETRICS_H */
