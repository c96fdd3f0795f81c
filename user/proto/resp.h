/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * resp.h - incremental parser of the Redis protocol (RESP2 and RESP3) for
 * one TCP connection, fed the two directions separately, that reports one
 * operation per command.
 *
 * What it understands (docs/protocols.md has the rules in full):
 * - commands as arrays of bulk strings and as inline lines; pipelines (one
 *   operation per command, replies matched by position);
 * - every RESP3 type (the grammar is a superset of RESP2, so HELLO 3 needs no
 *   switch to parse, only to tell pushes apart); RESP3 attributes and push
 *   messages ('>') are not replies, nor are pub/sub messages ("message",
 *   "pmessage", "smessage" arrays of a subscribed RESP2 connection);
 *   (UN)SUBSCRIBE is answered by its first confirmation, the others are not
 *   replies;
 * - MULTI/EXEC: +QUEUED is not a completion; EXEC's array answers the queued
 *   commands in order, each element its own outcome; a nil EXEC (WATCH),
 *   -EXECABORT or DISCARD ends them RESP_ABORTED;
 * - SELECT n -> db.namespace "n"; errors ('-' and RESP3 '!' blob errors) ->
 *   the error prefix (first word: ERR, WRONGTYPE, MOVED, ...);
 * - blocking commands (BLPOP, ...) are timed from send to reply, like all.
 * db.operation.name is the command uppercased, "_OTHER" beyond a table of
 * known commands; keys and values never leave this module.
 *
 * Capture gaps: bulk bodies are skipped by their length; a gap anywhere else
 * loses framing: the side resynchronises on the first later chunk that starts
 * with a plausible value. A client-side gap (the tail of a pipelined write
 * beyond the capture) keeps the commands before it; each reply beyond them,
 * until the client sends again, answers one hidden command and is reported
 * with an empty operation name (the replies are the ground truth). Other
 * client-side losses drop the queued commands (counted) and ignore replies
 * read before the next command is sent; a server-side loss ends the commands
 * sent before that read as RESP_UNKNOWN once the client sends again, and
 * counts RESP_E_OPS_LOST when hidden commands were being answered. Nothing
 * is invented.
 *
 * API: resp_new() allocates a connection parser (about 1 KiB; its command
 * queue grows on demand up to RESP_QUEUE_MAX), resp_feed() feeds one chunk
 * of one side and calls the callbacks synchronously, resp_close() reports
 * what was still pending, resp_free() frees it. cb and ctx are borrowed;
 * callbacks must not feed, close or free the connection that called them.
 * Not thread-safe: one thread per connection at a time. resp_detect()
 * classifies the first bytes of either direction.
 */
#ifndef REDTAP_RESP_H
#define REDTAP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Commands in flight per connection (deeper pipelines lose sync). */
#define RESP_QUEUE_MAX 4096
/* Nesting of aggregates accepted (deeper is a parse error). */
#define RESP_DEPTH_MAX 32

enum resp_side {
	RESP_CLIENT = 0, /* commands */
	RESP_SERVER = 1, /* replies */
};

enum resp_status {
	RESP_OK = 0,	 /* a reply that is not an error */
	RESP_FAILED,	 /* an error reply; error holds its prefix */
	RESP_ABORTED,	 /* queued in MULTI, never executed (DISCARD, EXECABORT, WATCH) */
	RESP_UNKNOWN,	 /* answered, but the reply was in a capture gap */
	RESP_CLOSED,	 /* the connection closed before the reply */
	RESP_STATUS_MAX, /* keep last */
};

/* "ok", "failed", "aborted", "unknown", "closed". */
const char *resp_status_name(enum resp_status s);

struct resp_op {
	uint64_t start_ns; /* first byte of the command */
	uint64_t end_ns;   /* the reply that answered it */
	enum resp_status status;
	const char *operation;	/* "GET", ...; "_OTHER"; "" hidden by a gap; static */
	char error[32];		/* RESP_FAILED: "ERR", "WRONGTYPE", "MOVED", ... */
	const char *namespace_; /* db.namespace: "0" .. ; "" when unknown */
};

/* Typed parse errors: redtap_parse_errors_total{protocol="redis",reason}. */
enum resp_error {
	RESP_E_BAD_TYPE = 0,  /* a byte that starts no RESP value */
	RESP_E_BAD_LENGTH,    /* a length or count that is not a number in range */
	RESP_E_TOO_DEEP,      /* aggregates nested beyond RESP_DEPTH_MAX */
	RESP_E_LINE_TOO_LONG, /* a line without CRLF beyond 64 KiB */
	RESP_E_GAP,	      /* a capture gap hid framing */
	RESP_E_UNEXPECTED,    /* a reply with no command waiting */
	RESP_E_QUEUE_FULL,    /* more than RESP_QUEUE_MAX commands in flight */
	RESP_E_OPS_LOST,      /* queued commands dropped after the client side lost sync */
	RESP_E_MAX,	      /* keep last */
};

/* "bad_type", ... (snake case); "unknown" out of range. */
const char *resp_error_name(enum resp_error e);

struct resp_callbacks {
	/* One command ended. op lives on the parser's stack: copy what you keep. */
	void (*on_op)(void *ctx, const struct resp_op *op);
	void (*on_error)(void *ctx, enum resp_error e);
};

struct resp_conn;

/*
 * NULL and errno (ENOMEM) on failure. from_start: the connection was seen
 * from its first byte, so the database is "0" until a SELECT (else "" until
 * one is seen).
 */
struct resp_conn *resp_new(const struct resp_callbacks *cb, void *ctx, bool from_start);
void resp_free(struct resp_conn *c); /* NULL ok; reports nothing */

/* data[0..cap_len) seen, then total_len - cap_len unseen bytes; ts_ns: CLOCK_MONOTONIC. */
void resp_feed(struct resp_conn *c, enum resp_side side, const uint8_t *data, size_t cap_len,
	       uint64_t total_len, uint64_t ts_ns);

/* The connection closed: pending commands end as RESP_CLOSED at ts_ns. */
void resp_close(struct resp_conn *c, uint64_t ts_ns);

uint64_t resp_errors(const struct resp_conn *c, enum resp_error e);

/* The command table: the canonical name of a command ("_OTHER" if unknown). */
const char *resp_command_name(const char *cmd, size_t len);

enum resp_detect {
	RESP_DETECT_NONE = 0,
	RESP_DETECT_CLIENT, /* a command (array of bulk strings or inline) */
	RESP_DETECT_SERVER, /* a reply */
	RESP_DETECT_MORE,   /* too few bytes to tell */
};

/*
 * A command: "*N\r\n$L\r\n<known command>" or an inline line starting with a
 * known command (not an HTTP request line). A reply: a complete first line of
 * a RESP2/RESP3 type with a valid payload (simple strings printable, errors
 * starting with an upper-case word, numbers, lengths). Never matches HTTP/1.x,
 * TLS records, PostgreSQL or random binary.
 */
enum resp_detect resp_detect(const uint8_t *data, size_t len);

#endif /* REDTAP_RESP_H */
