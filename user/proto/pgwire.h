/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pgwire.h - incremental parser of the PostgreSQL frontend/backend protocol
 * (v3) for one TCP connection, fed the two directions separately, that
 * reports one database operation per executed statement.
 *
 * What it understands (docs/protocols.md has the rules in full):
 * - start-up: StartupMessage (database, else user -> db.namespace),
 *   SSLRequest and GSSENCRequest answered 'N' (plaintext goes on) or 'S'/'G'
 *   (encrypted: on_opaque, all further input ignored), CancelRequest;
 * - simple query 'Q': one operation per statement of the string, matched in
 *   order to CommandComplete; an ErrorResponse fails the running statement
 *   and the server skips the rest of the string (reported PGWIRE_ABORTED);
 * - extended query: Parse/Bind/Describe/Execute/Close/Sync/Flush, pipelined
 *   in any depth, matched in order; one operation per Execute; an
 *   ErrorResponse fails the Execute it belongs to (or the first Execute of
 *   its Sync group) and every later Execute up to Sync is PGWIRE_ABORTED;
 * - COPY in both directions, FunctionCall (operation "FUNCTION CALL");
 *   NoticeResponse, NotificationResponse and ParameterStatus are not answers.
 *
 * Prepared statements: a bounded LRU map per connection, statement name ->
 * operation and summary (never the raw text). An Execute of a statement
 * prepared before the parser saw the connection has operation "" (unknown),
 * never a guessed one. Query text goes through sqlsum_describe(): operation
 * and summary only, literals never leave this module.
 *
 * Capture gaps: each chunk is data[0..cap_len) seen, then total_len - cap_len
 * bytes unseen. Gaps inside a message body are skipped by its length field.
 * A gap that hides a message header loses framing: the side resynchronises
 * on the first later chunk that starts with a plausible message; completions
 * hidden by a backend gap are reported PGWIRE_UNKNOWN at the ReadyForQuery
 * that ends their group; a frontend gap drops what was queued (counted) and
 * matching resumes after a ReadyForQuery that ends a backend chunk. What
 * cannot be framed is counted through on_error, and no operation is invented.
 *
 * API: pgwire_new() allocates a connection parser (about 3 KiB; its request
 * queue and statement map grow on demand up to fixed caps), pgwire_feed()
 * feeds one chunk of one side and calls the callbacks synchronously,
 * pgwire_close() reports what was still pending, pgwire_free() frees it.
 * The callbacks table and ctx are borrowed. Callbacks must not feed, close or
 * free the connection that called them. Not thread-safe: one thread per
 * connection at a time. pgwire_detect() classifies the first bytes of either
 * direction.
 */
#ifndef REDTAP_PGWIRE_H
#define REDTAP_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Query text kept per Query or Parse message; longer text is summarised as truncated. */
#define PGWIRE_SQL_MAX 2048
/* Prepared statements remembered per connection (LRU beyond). */
#define PGWIRE_STMTS_MAX 64
/* Statement names longer than this are never remembered (their Executes stay unknown). */
#define PGWIRE_NAME_MAX 128
/* Requests in flight per connection (pipelines deeper than this lose sync). */
#define PGWIRE_QUEUE_MAX 1024
/* Statements of one simple Query string that get their own summary. */
#define PGWIRE_Q_STMTS 16

/* Which end sent the bytes. */
enum pgwire_side {
	PGWIRE_FRONTEND = 0, /* client to server */
	PGWIRE_BACKEND = 1,  /* server to client */
};

enum pgwire_status {
	PGWIRE_OK = 0,	   /* CommandComplete (or PortalSuspended, FunctionCallResponse) */
	PGWIRE_FAILED,	   /* ErrorResponse; sqlstate holds its C field */
	PGWIRE_ABORTED,	   /* not executed: skipped by the server after an earlier error */
	PGWIRE_UNKNOWN,	   /* it finished (ReadyForQuery) but its outcome was in a capture gap */
	PGWIRE_CLOSED,	   /* the connection closed before its answer */
	PGWIRE_STATUS_MAX, /* keep last */
};

/* "ok", "failed", "aborted", "unknown", "closed". */
const char *pgwire_status_name(enum pgwire_status s);

struct pgwire_op {
	uint64_t start_ns; /* first byte of the request (for the k-th statement of a
			    * Query string: the end of statement k - 1) */
	uint64_t end_ns;   /* the message that ended it */
	enum pgwire_status status;
	char sqlstate[6];	/* PGWIRE_FAILED: SQLSTATE, "" if not seen */
	char operation[32];	/* db.operation.name; "" when unknown */
	char summary[128];	/* db.query.summary; "" when unknown */
	const char *namespace_; /* db.namespace; "" when the start-up was not seen */
	bool prepared_unknown;	/* Execute of a statement prepared before we saw it */
};

/* Typed parse errors, counted as redtap_parse_errors_total{protocol="postgresql",reason}. */
enum pgwire_error {
	PGWIRE_E_BAD_TYPE = 0, /* a message type byte not in the protocol */
	PGWIRE_E_BAD_LENGTH,   /* a length field out of range for its type */
	PGWIRE_E_BAD_STARTUP,  /* an untyped start-up packet with an unknown code */
	PGWIRE_E_GAP,	       /* a capture gap hid a message header: framing lost */
	PGWIRE_E_UNEXPECTED,   /* a response that does not answer the pending request */
	PGWIRE_E_QUEUE_FULL,   /* more than PGWIRE_QUEUE_MAX requests in flight */
	PGWIRE_E_OPS_LOST,     /* queued operations dropped after the frontend lost sync */
	PGWIRE_E_MAX,	       /* keep last */
};

/* "bad_type", "bad_length", ... (snake case); "unknown" out of range. */
const char *pgwire_error_name(enum pgwire_error e);

struct pgwire_callbacks {
	/* One operation ended. op lives on the parser's stack: copy what you keep. */
	void (*on_op)(void *ctx, const struct pgwire_op *op);
	/* A parse error of the given reason (may be called several times). */
	void (*on_error)(void *ctx, enum pgwire_error e);
	/* SSL or GSS encryption was accepted: the parser ignores all further input. */
	void (*on_opaque)(void *ctx);
};

struct pgwire_conn;

/* NULL and errno (ENOMEM) on failure. cb and ctx are borrowed; cb members may be NULL. */
struct pgwire_conn *pgwire_new(const struct pgwire_callbacks *cb, void *ctx);
/* NULL is ok. Reports nothing: call pgwire_close() first for pending operations. */
void pgwire_free(struct pgwire_conn *c);

/*
 * Feeds one chunk of one side: data[0..cap_len) seen, then total_len - cap_len
 * unseen bytes (total_len < cap_len counts as cap_len). ts_ns is the time of
 * the syscall (CLOCK_MONOTONIC).
 */
void pgwire_feed(struct pgwire_conn *c, enum pgwire_side side, const uint8_t *data, size_t cap_len,
		 uint64_t total_len, uint64_t ts_ns);

/* The connection closed: pending operations end as PGWIRE_CLOSED at ts_ns. */
void pgwire_close(struct pgwire_conn *c, uint64_t ts_ns);

/* True once encryption was accepted (the connection should go opaque). */
bool pgwire_opaque(const struct pgwire_conn *c);

/* Parse errors of each reason so far. */
uint64_t pgwire_errors(const struct pgwire_conn *c, enum pgwire_error e);

enum pgwire_detect {
	PGWIRE_DETECT_NONE = 0,
	PGWIRE_DETECT_FRONTEND, /* start-up packet or a plausible client message */
	PGWIRE_DETECT_BACKEND,	/* a plausible server message */
	PGWIRE_DETECT_MORE,	/* too few bytes to tell */
};

/*
 * Classifies the first bytes of a direction: a start-up, SSL, GSS or cancel
 * packet, or (for connections opened before the agent) a complete-looking
 * Query, Parse, Sync or Terminate message (frontend) or ReadyForQuery,
 * CommandComplete, ErrorResponse, ParseComplete, BindComplete, RowDescription,
 * DataRow or Authentication message (backend). Never matches HTTP/1.x, TLS
 * records, or RESP.
 */
enum pgwire_detect pgwire_detect(const uint8_t *data, size_t len);

#endif /* REDTAP_PGWIRE_H */
