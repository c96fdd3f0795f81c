/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shim_decode.h - turns the LD_PRELOAD shim's records (include/redtap/shim.h;
 * the data[] of an RT_EV_SHIM event, or one frame of the shared-memory ring)
 * into database operations with OpenTelemetry attributes.
 *
 * API: shim_decode(buf, len, op) validates one record and fills *op; it
 * never trusts the bytes: a short, truncated, oversized or garbage record is
 * rejected with -EINVAL and never read past len. All strings in *op are
 * NUL-terminated, valid UTF-8. For PostgreSQL, operation and query_summary
 * come from the statement text through sqlsum.h (cached per statement);
 * query_text is filled (sanitised, literals replaced) only after
 * shim_decode_set_query_text(true) - raw text is never exported.
 *
 * For RT_EV_SHIM events the caller should prefer the ring-buffer header's
 * pid_tgid and ts over op->pid/tid: the shim reports ids of its own pid
 * namespace, the kernel those of the root namespace.
 *
 * Who may report: records of the ioctl channel carry the sender's uid and
 * cgroup id (struct rt_shim_event). shim_reporters_set() restricts them
 * (shim.uids, shim.cgroups; default: any process the kernel side selected
 * may report); shim_reporter_ok() says whether a sender passes, and counts
 * those that do not in shim_reporters_rejected().
 *
 * Thread-safety: shim_decode and shim_reporter_ok may be called from any
 * thread; the setters are meant for start-up.
 */
#ifndef REDTAP_SHIM_DECODE_H
#define REDTAP_SHIM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db_op {
	uint32_t pid, tid;
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	const char *system;	   /* "postgresql" or "redis" (static string) */
	char operation[32];	   /* db.operation.name: SELECT, INSERT, GET, HSET ... */
	char query_summary[128];   /* db.query.summary, low cardinality, e.g. "SELECT users" */
	char namespace_[64];	   /* db.namespace */
	char server_address[128];
	uint16_t server_port;
	char error_type[64];  /* error.type; "" when ok */
	char status_code[16]; /* db.response.status_code: SQLSTATE or Redis prefix */
	char query_text[512]; /* sanitised statement text (only if opted in) */
	bool is_hello;	      /* a hello/keepalive record, not an operation */

	/* Operations only. */
	uint64_t conn_id; /* opaque per-process connection id (spans) */
	uint8_t kind;	  /* enum rt_shim_kind */
	uint8_t flags;	  /* RT_SHIM_F_* */

	/* Hello records only: the shim's own counters since it started. */
	uint64_t shim_sent;
	uint64_t shim_dropped;	 /* records lost (ring full, agent gone) */
	uint64_t shim_untracked; /* operations not timed (tables full) */
	uint32_t shim_features;	 /* RT_SHIM_FEAT_* */
	uint64_t shim_ack_addr;	 /* where to write struct rt_shim_ack in the process */
	uint64_t shim_ack_nonce; /* what must be there (0: an older shim, never acked) */
	char service_name[64];	 /* $OTEL_SERVICE_NAME of the process, or "" */
	char comm[16];
};

/* 0, or -EINVAL for a bad, truncated or garbage record (never crashes). */
int shim_decode(const void *buf, size_t len, struct db_op *op);

/*
 * Walks a batch: the data[] of an ioctl message that holds several records
 * (include/redtap/event.h, "Batches"). *off starts at 0; each call returns
 * the next record's length (its hdr.len) and points *rec at it, 0 once the
 * message is used up, or -EINVAL when the framing does not add up (a header
 * cut short, a hdr.len below a header, past the message or over
 * RT_SHIM_REC_MAX); stop there. Records are not validated: shim_decode()
 * each one. Never reads past len.
 */
int shim_batch_next(const void *buf, size_t len, size_t *off, const void **rec);

/* Opt in to exporting sanitised statement text in query_text (default off). */
void shim_decode_set_query_text(bool on);

/* The error.type for a shim error code ("" for none, "_OTHER" if unknown). */
const char *shim_error_type_name(unsigned err);

#define SHIM_REPORTERS_MAX 64 /* uids, and cgroups, in each list */

/* Checks the syntax of shim.uids ("0,1000": numbers) or shim.cgroups
 * ("/system.slice/app.service,...": absolute paths under the cgroup v2
 * root); "" and "any" mean no restriction. 0 or -EINVAL. */
int shim_reporters_check(const char *list, bool cgroups);

/* Sets both restrictions ("" or NULL: none). Cgroup paths are resolved to
 * their ids now, under cgroup_root (NULL: /sys/fs/cgroup). 0, -EINVAL,
 * or -errno of a cgroup that does not exist. */
int shim_reporters_set(const char *uids, const char *cgroups, const char *cgroup_root);

/* True when a record from uid in cgroup_id may be used; false counts it. */
bool shim_reporter_ok(uint32_t uid, uint64_t cgroup_id);

/* Records refused by shim_reporter_ok() so far. */
uint64_t shim_reporters_rejected(void);

#endif /* REDTAP_SHIM_DECODE_H */
