/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pipeline.h - the one path from a record to the signals: kernel
 * ring-buffer records (include/redtap/event.h) and shim records (ioctl
 * channel or shared-memory ring) go through the connection table and the
 * protocol set (protocol.h) to the tracer and the metric families.
 *
 * The agent (agent.c), the replay benchmark (bench/replay.c) and the unit
 * tests all drive this same code; none of them dispatches records itself.
 *
 * API: pipeline_new() registers the HTTP and database families in the
 * registry and owns the connection table, the protocol set (HTTP/1 first;
 * new protocols are added there with proto_set_add()) and the shim
 * acknowledgements; the registry, the route table, the process table and
 * the tracer are borrowed and must outlive the pipeline. The protocols
 * report to the pipeline's sink: exchanges and DB operations become spans
 * and series, parse errors are counted by protocol and reason.
 * pipeline_record() takes one ring-buffer record, pipeline_record_as() one
 * with the thread it stands for beside it (a capture_record_fn),
 * pipeline_ring_record() one shim record from the shared-memory ring.
 * pipeline_sweep() runs the periodic work (quiet responses, the tracer's
 * buffer, shim acks). pipeline_stats() and pipeline_self_snapshot() read
 * the pipeline's counters. Not thread-safe: one thread (the event loop)
 * calls every function; its counters are plain fields for that reason.
 */
#ifndef REDTAP_PIPELINE_H
#define REDTAP_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redtap/event.h"
#include "selfmetrics.h"

struct metric_registry;
struct metric_family;
struct route_table;
struct procs;
struct tracer;
struct pipeline;

/* How the pipeline talks back to the kernel side; either may be NULL. */
struct pipeline_hooks {
	/* select (on) or deselect a process for capture */
	void (*select)(void *ctx, uint32_t tgid, bool on);
	/* stop copying this connection's data: no tracker wants it; 0 or -errno */
	int (*set_opaque)(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen);
	/* copy more of this connection's records: its protocol asks for the
	 * wide capture (protocol.h, wide_capture); 0 or -errno */
	int (*set_wide)(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen);
	void *ctx;
};

struct pipeline_opts {
	struct metric_registry *reg;	  /* required */
	const struct route_table *routes; /* may be NULL: raw paths as routes */
	struct procs *procs;		  /* required: service names, selection */
	struct tracer *tracer;		  /* NULL: no traces */
	struct logs *logs;		  /* NULL: RT_EV_LOG records are only counted */
	size_t max_series;		  /* per metric family */
	size_t max_conns;		  /* connection table bound */
	struct pipeline_hooks hooks;
	/* Parse the other end of the agent's own connections too (its OTLP
	 * export to a selected collector, ownconn.h); default: left out. */
	bool own_traffic;
};

#define PIPELINE_REASONS_MAX 32 /* parse error reasons per protocol */

/* Running totals since pipeline_new(). */
struct pipeline_stats {
	uint64_t events[RT_EV_TYPE_MAX]; /* records accepted, by type */
	uint64_t bad_records;		 /* malformed ring-buffer records */
	uint64_t shim_bad;		 /* malformed shim records */
	uint64_t shim_reported_drops;	 /* losses shims reported in their hellos */
	uint64_t conn_full;		 /* records dropped: connection table full */
	uint64_t conn_recreated;	 /* kernel entries re-created for a live socket */
	uint64_t exchanges;		 /* HTTP exchanges completed */
	uint64_t http_unseen;		 /* of which answers to requests a capture gap hid */
	uint64_t conn_own;		 /* connections left out: the agent is their other end */
	/* Every (protocol, reason) pair of the protocols, zeros included, then
	 * ("shim", "malformed_record") and ("ringbuf", "malformed_record"). */
	struct parse_error_count parse_errors[SELF_PARSE_ERRORS_MAX];
	size_t nparse_errors;
	const struct metric_family *families[8]; /* data families, for series counts */
	size_t nfamilies;
};

/* NULL and errno on failure. */
struct pipeline *pipeline_new(const struct pipeline_opts *o);
/* Closes every connection (their open exchanges are reported unless
 * pipeline_stopping() was called); NULL ok. */
void pipeline_free(struct pipeline *p);

/* From now on exchanges still open are not reported: the agent stopping
 * is no connection failure. */
void pipeline_stopping(struct pipeline *p);

/* One ring-buffer record, of its own thread; always returns 0. */
int pipeline_record(void *p, const void *data, size_t len);
/* The same, of thread tid instead of the record's own (hdr.pid_tgid's low
 * half) when tid is not 0: a goroutine's executor id (gotrack.h). Data and
 * log records are keyed by it (the tracer's serving table, log
 * correlation). Always returns 0 (a capture_record_fn). */
int pipeline_record_as(void *p, const void *data, size_t len, uint32_t tid);
/* One shim record from the shared-memory ring (a shm_ring_drain callback). */
void pipeline_ring_record(void *p, const void *rec, size_t len);

/* Periodic work; now is CLOCK_MONOTONIC ns. */
void pipeline_sweep(struct pipeline *p, uint64_t now);

/* The end of a drain: what the pipeline batches across records (the
 * in-flight gauge, httpmetrics_flush()) reaches the registry. */
void pipeline_flush(struct pipeline *p);

void pipeline_stats(const struct pipeline *p, struct pipeline_stats *out);

/* Resets *snap and fills in what the pipeline knows (records, parse
 * errors, table misses, shim drops, its families); the caller adds the
 * kernel's, the exporter's and the process table's part. */
void pipeline_self_snapshot(const struct pipeline *p, struct self_snapshot *snap);

#endif /* REDTAP_PIPELINE_H */
