/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * protocol.h - the interface every application protocol parser implements
 * (HTTP/1 in httptrack.c is the first), and the set of protocols the
 * pipeline runs on each connection (protocol.c).
 *
 * The contract
 *
 * Who calls what, when. One thread (the pipeline's) makes every call. For
 * each connection of the connection table (conntab.h):
 *   1. While c->proto is CONN_PROTO_UNKNOWN, every chunk, in either
 *      direction, goes to each protocol's detect() in set order, joined
 *      to the bytes of its direction held back so far. The first that
 *      answers PROTO_DETECT_YES wins: its open() creates the connection's
 *      state (c->proto_state) from those joined bytes, and then the held
 *      bytes (one chunk with the time and thread of the first of them)
 *      and the chunk itself are fed. When none says YES but one says
 *      MORE, the bytes are held back, up to PROTO_SNIFF_BYTES per
 *      direction and never across a capture gap: a peer that writes a
 *      byte at a time is classified on its whole first message. When all
 *      say NO (or the held bytes cannot grow) that is one refusal, the
 *      held bytes are dropped and the chunk is looked at alone (a message
 *      may start there); after PROTO_SNIFF_MAX refusals the connection is
 *      opaque (below).
 *   2. feed() gets every later chunk, both directions, in record order,
 *      each with its timestamp, thread and direction. It returns
 *      PROTO_OPAQUE when it wants no more bytes on this connection (not its
 *      protocol after all, encrypted from here on, a tunnel, an upgrade to
 *      a protocol nobody parses); the set then closes the state as in 4
 *      and the connection is opaque.
 *   3. sweep() is called for every connection about once a second with
 *      the monotonic time: for timeouts (a response of unknown length that
 *      went quiet, an operation that will never be answered).
 *   4. close() is called exactly once when the connection goes (close
 *      record, fd reuse, process exit, table tear-down) or turns opaque: it
 *      reports what was still open and frees c->proto_state.
 * An opaque connection (c->proto == CONN_PROTO_OPAQUE) gets no more calls;
 * proto_set_feed() returns true once, so that the pipeline tells the
 * kernel to stop copying its bytes. A protocol with wide_capture (HTTP/2,
 * whose writes carry many frames) makes the pipeline tell the kernel,
 * once, when a connection becomes that protocol's, to copy up to the
 * wider per-connection size (capture.http2_bytes) of its records; the
 * kernel does so by itself for connections it saw start with the HTTP/2
 * preface.
 *
 * Bytes. A chunk is what one syscall (or one TLS read/write, see
 * source) moved: data[0..cap_len) was captured, then len - cap_len bytes
 * were not (the capture limit): a parser skips them by its own framing or
 * resynchronises, and never invents operations across a gap. Chunks of
 * one direction arrive in order; the two directions interleave in the
 * order the kernel recorded them. data is valid during the call only.
 * Plaintext handed in by TLS probes comes as ordinary chunks with source
 * PROTO_SRC_TLS on the connection of the socket underneath.
 *
 * What comes out. A protocol reports through the sink of its environment:
 * HTTP exchanges (HTTP/1, later HTTP/2 streams and gRPC calls) through
 * http_start/http_done, database operations (PostgreSQL, RESP) through
 * db_op, and what it could not parse through parse_error with a reason
 * from its own enum (name: error_name()). Every http_start is matched by
 * exactly one http_done, on any path (end, close, timeout, overflow).
 * Several operations may be open at once on one connection: pipelined
 * requests (answered in order) or multiplexed streams (answered in any
 * order); the protocol pairs them, the sink never sees half a pair. The
 * structures passed to the sink are the protocol's, valid during the call
 * only; a connection's endpoints are in x->conn / the conn.
 *
 * Ownership and lifetimes. struct protocol is a constant table (one per
 * implementation, e.g. http1_protocol). new() makes one instance per
 * pipeline from an environment that outlives it; free() ends it after
 * every connection was closed. c->proto_state belongs to the protocol
 * from open() to close(). Sink callbacks must not feed, close or free
 * connections.
 */
#ifndef REDTAP_PROTOCOL_H
#define REDTAP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conntab.h"

#define PROTO_SNIFF_MAX	  8   /* refusals before a connection is opaque */
#define PROTO_SNIFF_BYTES 128 /* bytes held back per direction while classifying */
#define PROTO_SET_MAX	  8   /* protocols in one set */

enum proto_detect {
	PROTO_DETECT_NO,   /* these bytes are not the start of this protocol */
	PROTO_DETECT_MORE, /* too few bytes to tell */
	PROTO_DETECT_YES,
};

enum proto_verdict {
	PROTO_KEEP,   /* go on feeding this connection */
	PROTO_OPAQUE, /* no more bytes wanted: close the state, stop capturing */
};

enum proto_source {
	PROTO_SRC_SYSCALL, /* read/write family on the socket */
	PROTO_SRC_TLS,	   /* plaintext from a TLS library probe */
};

/* One chunk of one direction of a connection. */
struct proto_chunk {
	const uint8_t *data; /* cap_len bytes, valid during the call */
	size_t cap_len;
	uint64_t len;	/* bytes moved; len - cap_len were not captured */
	uint64_t ts;	/* CLOCK_MONOTONIC ns */
	uint32_t tid;	/* thread that moved them */
	uint8_t dir;	/* RT_DIR_INGRESS or RT_DIR_EGRESS, as seen by c->tgid */
	uint8_t source; /* enum proto_source */
};

struct http_exchange;
struct db_op;
struct route_table;
struct protocol;

/* Where protocols report; any callback may be NULL. */
struct proto_sink {
	void (*http_start)(void *ctx, struct http_exchange *x); /* may fill x->trace */
	void (*http_done)(void *ctx, const struct http_exchange *x);
	void (*db_op)(void *ctx, const struct db_op *op);
	/* reason: a value of the protocol's error enum, < p->nerrors */
	void (*parse_error)(void *ctx, const struct protocol *p, unsigned reason);
	/* True when the LD_PRELOAD shim reports process tgid's database
	 * operations: the wire protocols (dbwire.h) then stand down on its
	 * connections, so nothing is counted twice. */
	bool (*db_covered)(void *ctx, uint32_t tgid);
	void *ctx;
};

/* What an instance borrows for its lifetime. */
struct proto_env {
	const struct proto_sink *sink;
	const struct route_table *routes; /* may be NULL */
};

struct protocol {
	const char *name; /* the protocol label of redtap_parse_errors_total */
	unsigned nerrors; /* reasons are 0 .. nerrors - 1 */
	const char *(*error_name)(unsigned reason); /* static snake_case, never NULL */

	/* NULL and errno on failure. */
	void *(*new)(const struct proto_env *env);
	void (*free)(void *inst); /* NULL ok */

	/* Pure: looks at the first bytes of either direction. */
	enum proto_detect (*detect)(const struct proto_chunk *ch);
	/* Sets c->proto_state from the chunk that detected; 0 or -ENOMEM. */
	int (*open)(void *inst, struct conn *c, const struct proto_chunk *first);
	enum proto_verdict (*feed)(void *inst, struct conn *c, const struct proto_chunk *ch);
	void (*sweep)(void *inst, struct conn *c, uint64_t now_ns); /* NULL: nothing to time */
	/* ts: when it closed; reports what was open, frees c->proto_state. */
	void (*close)(void *inst, struct conn *c, uint64_t ts);
	/* Frame headers must not be lost past the copy: ask the kernel for the
	 * wide capture on this protocol's connections (see above). */
	bool wide_capture;
};

/* The protocols a pipeline runs, in detection order. */
struct proto_set {
	const struct protocol *p[PROTO_SET_MAX];
	void *inst[PROTO_SET_MAX];
	size_t n;
};

/* Adds p with an instance made from env (borrowed). 0, -ENOSPC, -ENOMEM. */
int proto_set_add(struct proto_set *s, const struct protocol *p, const struct proto_env *env);
/* Frees the instances; close every connection first. */
void proto_set_release(struct proto_set *s);

/* The connection's protocol, NULL while unknown or opaque. */
const struct protocol *proto_set_of(const struct proto_set *s, const struct conn *c);

/* Feeds one chunk, classifying the connection first while it is unknown.
 * Returns true when the connection has just become opaque. */
bool proto_set_feed(struct proto_set *s, struct conn *c, const struct proto_chunk *ch);
void proto_set_sweep(struct proto_set *s, struct conn *c, uint64_t now_ns);
/* The connection goes: its protocol reports and frees its state. */
void proto_set_close(struct proto_set *s, struct conn *c, uint64_t ts);

#endif /* REDTAP_PROTOCOL_H */
