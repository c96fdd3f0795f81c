/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * redis_track.h - what the hiredis wrappers (redis.c, redis_async.c) share:
 * one Redis operation from its start to its reply, and how it becomes a
 * shim record (command name, endpoint, database index, error).
 *
 * API: redis_op_begin() stamps the start; redis_op_end() takes the reply
 * hiredis returned (NULL: the context's error, or fallback_err when the
 * context shows none), tracks SELECT, and emits the record. Pending
 * operations of the pipelined API live in the connection's FIFO
 * (conns.h) as struct pend: redis_op_from_pend() turns one back.
 * Thread-safety: as conns.h: a context is used by one thread at a time.
 */
#ifndef REDTAP_PRELOAD_REDIS_TRACK_H
#define REDTAP_PRELOAD_REDIS_TRACK_H

#include <stdint.h>

#include "conns.h"
#include "redis_parse.h"

struct redis_op {
	const void *ctx;
	uint64_t start_ns;
	int select; /* REDIS_NOT_SELECT, REDIS_SELECT_UNKNOWN or the index */
	uint8_t flags;
	char name[REDIS_NAME_MAX];
};

void redis_op_begin(struct redis_op *op, const void *ctx, uint8_t flags);

/* A context (sync or async) a connect function just returned: learn the
 * hiredis layout from it and forget whatever an earlier context at the
 * same address left (one we never saw freed). Returns ctx. */
void *redis_fresh(void *ctx, const void *real);

/* The body of a connect wrapper of either API. */
#define REDIS_CONNECT_WRAPPER(fn, args)                                                            \
	do {                                                                                       \
		__typeof__(&fn) real = SHIM_REAL(SHIM_LIB_HIREDIS, fn);                            \
		return real ? redis_fresh(real args, (const void *)real) : NULL;                   \
	} while (0)
void redis_op_end(const struct redis_op *op, const void *reply, int errno_after,
		  uint8_t fallback_err);
void redis_op_to_pend(const struct redis_op *op, struct pend *p);
void redis_op_from_pend(struct redis_op *op, const void *ctx, const struct pend *p);
/* Ends every pending operation of a context with fallback_err (free, reconnect). */
void redis_abandon(const void *ctx, uint8_t err);

#endif /* REDTAP_PRELOAD_REDIS_TRACK_H */
