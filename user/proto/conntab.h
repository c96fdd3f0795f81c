/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntab.h - the daemon's table of live connections, keyed by (tgid, fd).
 *
 * API: conntab_get() finds the connection for a record's rt_conn_id; a
 * record with a newer generation than the stored one means the fd was
 * reused, so the old connection is closed first (through the on_close
 * hook) and a fresh one is returned. conntab_open() takes an
 * RT_EV_CONN_OPEN's id and socket inode: a newer generation of the same
 * socket (the kernel re-created its evicted entry) extends the connection
 * instead of replacing it, so one connection spans generations
 * [first_gen, gen]. conntab_close_tgid() closes one process's connections
 * without looking at the others'. Each connection carries an opaque
 * protocol state pointer owned by whoever set it (freed in on_close).
 * The table is bounded: when full, conntab_get() returns NULL and counts
 * the miss. Not thread-safe: the event loop owns it.
 */
#ifndef REDTAP_CONNTAB_H
#define REDTAP_CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redtap/event.h"

/* conn.proto: unknown, opaque, or 1 + the index of the connection's
 * protocol in the pipeline's set (protocol.h). */
enum conn_proto {
	CONN_PROTO_UNKNOWN = 0,	 /* not classified yet */
	CONN_PROTO_FIRST = 1,	 /* the set's first protocol */
	CONN_PROTO_OPAQUE = 255, /* not a protocol we parse: ignore its data */
};

/* The fields every record's look-up and feed touch come first, in the
 * first cache line (connections are allocated aligned to one): the chain
 * walk reads tgid, fd and hnext, the generation check gen and first_gen,
 * the feed proto and proto_state. */
struct conn {
	uint32_t tgid;
	uint32_t fd;
	struct conn *hnext; /* hash chain */
	uint64_t gen;	    /* newest generation of this socket's kernel entry */
	uint64_t first_gen; /* oldest: records of [first_gen, gen] are this conn's */
	void *proto_state;  /* owned by its protocol from open() to close() */
	uint64_t last_ts;   /* ts of the last record seen */
	uint8_t proto;	    /* enum conn_proto */
	uint8_t role_hint;  /* enum rt_role from the kernel */
	uint8_t has_endpoints;
	uint8_t sniff_tries; /* refusals while classifying (protocol.c) */
	uint8_t opaque_told; /* the kernel was told to stop copying its data */
	uint8_t tls;	     /* its bytes came from TLS probes (PROTO_SRC_TLS): url.scheme https */
	uint16_t family;
	void *sniff;	   /* bytes held back while classifying; owned by protocol.c */
	uint64_t sock_ino; /* socket inode number from RT_EV_CONN_OPEN; 0 unknown */
	uint64_t opened_ts;
	struct rt_endpoint local;
	struct rt_endpoint remote;
	char remote_ip[46]; /* remote as text (INET6_ADDRSTRLEN): conn_set_endpoints() */
	struct conn *pnext; /* chain of the connections of one process */
	struct conn **ppprev;
	struct conn *anext; /* list of every connection: the walks */
	struct conn **apprev;
};

struct conntab;

/* Called before a connection is removed (close, reuse, process exit). */
typedef void (*conntab_close_fn)(void *ctx, struct conn *c, uint64_t ts);

/* NULL and errno on failure. max_conns bounds the memory. */
struct conntab *conntab_new(size_t max_conns, conntab_close_fn on_close, void *ctx);
void conntab_free(struct conntab *t); /* closes every connection; NULL ok */

/* Returns the connection for id, creating it (create == true) when absent
 * or when id->gen is newer than the stored generation. Returns NULL when
 * absent and !create, when the record is older than the stored
 * connection, or when the table is full. */
struct conn *conntab_get(struct conntab *t, const struct rt_conn_id *id, bool create);

/* For an RT_EV_CONN_OPEN record: as conntab_get(create), except that a
 * newer generation of the socket already held (same non-zero sock_ino)
 * keeps the connection, extended to that generation (counted by
 * conntab_recreated()). */
struct conn *conntab_open(struct conntab *t, const struct rt_conn_id *id, uint64_t sock_ino);

/* Closes and removes the connection with this id (any older generation
 * too). No-op when absent. */
void conntab_close(struct conntab *t, const struct rt_conn_id *id, uint64_t ts);

/* Closes and removes every connection of process tgid opened at or
 * before opened_before (so not those of a newer process with the same
 * pid); visits only that process's connections. */
void conntab_close_tgid(struct conntab *t, uint32_t tgid, uint64_t opened_before, uint64_t ts);

/* Closes and removes, in one pass, every connection for which pred()
 * returns true. */
void conntab_close_if(struct conntab *t, bool (*pred)(void *ctx, const struct conn *c), void *ctx,
		      uint64_t ts);

/* Sets c's endpoints (has_endpoints) and formats the remote address once,
 * for conn_remote_ip(): the metrics, spans and database operations of a
 * connection all name it, and inet_ntop() per operation was ~8 % of the
 * daemon on a Go service (BENCHMARKS.md). */
void conn_set_endpoints(struct conn *c, const struct rt_endpoint *local,
			const struct rt_endpoint *remote, uint16_t family);

/* c's remote address as text (IPv4-mapped shown as IPv4), formatted by
 * conn_set_endpoints(); "" when c has no endpoints. */
const char *conn_remote_ip(const struct conn *c);

/* Calls fn for each connection (no insertion or removal from fn). The
 * walks visit the connections, not the buckets: the table is sized for
 * its bound (65 536 by default), and a walk of every bucket once a second
 * was most of an idle daemon's work (BENCHMARKS.md). */
void conntab_for_each(struct conntab *t, void (*fn)(void *ctx, struct conn *c), void *ctx);

size_t conntab_count(const struct conntab *t);
uint64_t conntab_full_misses(const struct conntab *t);
/* Kernel entries re-created for a live socket (LRU evictions seen). */
uint64_t conntab_recreated(const struct conntab *t);

#endif /* REDTAP_CONNTAB_H */
