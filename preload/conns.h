/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conns.h - the shim's fixed table of connections it has seen (PGconn,
 * redisContext, redisAsyncContext), keyed by the object's address, with the
 * per-connection state the wrappers need: server endpoint and database,
 * a FIFO of operations sent but not finished (async calls, pipeline mode,
 * Redis append + getReply), and the statement text of prepared statements.
 *
 * API: conn_get() finds or creates the entry for an address (NULL when the
 * table is full: the operation is then counted as untracked); conn_find()
 * only finds; conn_drop() forgets it (on PQfinish, redisFree, ...).
 * FIFO: pend_push() queues an operation and returns the entry to fill, or
 * NULL when the FIFO is full, in which case the operation is folded into a
 * SKIP entry that still keeps results and operations paired; pend_head() /
 * pend_pop() consume in order. Pipeline sync points need no entry: a sync
 * result is not followed by an end-of-query NULL, so it is simply ignored.
 *
 * Invariants: one entry per live address. The key is claimed and released
 * with atomics, so any thread may create or drop entries at any time; the
 * rest of an entry is touched only by the thread using that connection,
 * which both libraries require to be one thread at a time. No allocation:
 * the table is static (CONN_SLOTS entries).
 */
#ifndef REDTAP_PRELOAD_CONNS_H
#define REDTAP_PRELOAD_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#define CONN_SLOTS 256 /* power of two */
#define CONN_FIFO  16  /* operations pending per connection */
#define CONN_STMTS 8   /* prepared statements remembered per connection */
#define PEND_TEXT  256 /* statement bytes kept for a pending operation */

enum pend_type {
	PEND_OP = 1,   /* one tracked operation */
	PEND_SKIP = 2, /* skip_ops operations we could not track */
};

struct pend {
	uint64_t start_ns;
	uint64_t last_ns;  /* when its last result arrived; 0 before any */
	uint32_t skip_ops; /* PEND_SKIP only */
	int32_t select_db; /* Redis SELECT n: n, else -1 */
	uint16_t text_len;
	uint8_t type;  /* enum pend_type */
	uint8_t kind;  /* enum rt_shim_kind */
	uint8_t error; /* enum rt_shim_error, first error wins */
	uint8_t flags; /* RT_SHIM_F_* */
	uint8_t final; /* a final (non-COPY) result arrived */
	uint8_t pad0;
	char status[16];      /* SQLSTATE or Redis error prefix */
	char text[PEND_TEXT]; /* SQL text, or the Redis command name */
};

struct stmt {
	uint64_t name_hash;
	uint16_t len;
	uint8_t used;
	uint8_t truncated;
	char text[PEND_TEXT];
};

/* Where a connection goes, learnt once per connection (and after a reset). */
struct endpoint {
	char host[128]; /* host name or address, or unix socket directory or path */
	char db[64];	/* database name, or Redis database index */
	uint16_t port;
	uint8_t unix_sock;
	uint8_t known;
};

struct conn {
	uintptr_t key;	/* the object's address; 0 empty, 1 deleted */
	uint8_t system; /* enum rt_shim_system */
	uint8_t stmt_next;
	uint16_t fifo_head;
	uint16_t fifo_len;
	int32_t redis_db; /* -1 when a SELECT we could not parse changed it */
	struct endpoint ep;
	struct pend fifo[CONN_FIFO];
	struct stmt stmts[CONN_STMTS];
};

struct conn *conn_find(const void *obj);
struct conn *conn_get(const void *obj, uint8_t system);
void conn_drop(const void *obj);

/* Queues an operation; NULL when it was folded into a SKIP entry. */
struct pend *pend_push(struct conn *c);
/* The oldest pending entry, NULL when none. */
struct pend *pend_head(struct conn *c);
void pend_pop(struct conn *c);

/* Remembers / looks up the SQL of a prepared statement by name. */
void stmt_put(struct conn *c, const char *name, const char *text);
const struct stmt *stmt_get(const struct conn *c, const char *name);

#endif /* REDTAP_PRELOAD_CONNS_H */
