/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * core.h - what every part of the LD_PRELOAD shim shares: the per-thread
 * depth guard, the kill switch, the clock, and building and sending records.
 *
 * API: every exported wrapper calls shim_enter() first and shim_leave() on
 * every way out. shim_enter() returns true only for the outermost wrapper on
 * this thread while the shim is on, so that libpq calling its own exported
 * functions (PQexec -> PQsendQuery -> PQgetResult) or hiredis doing the same
 * (redisCommand -> redisvCommand -> redisGetReply) counts one operation.
 * Wrappers that only watch a connection's life (connect, free) do not need
 * the guard.
 *
 * Records are built in a struct shim_wire on the caller's stack and handed
 * to shim_emit(), which never blocks, allocates or prints, and leaves errno
 * as it found it. shim_listening() says whether anything would receive a
 * record now (and, rarely, probes for a listener); callers use it to skip
 * building records nobody reads.
 *
 * Thread-safety: all functions may be called from any thread at any time,
 * including between fork() and exec() in the child.
 */
#ifndef REDTAP_PRELOAD_CORE_H
#define REDTAP_PRELOAD_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redtap/event.h"
#include "redtap/shim.h"

#define SHIM_EXPORT	 __attribute__((visibility("default")))
#define shim_likely(x)	 __builtin_expect(!!(x), 1)
#define shim_unlikely(x) __builtin_expect(!!(x), 0)

_Static_assert(RT_SHIM_REC_MAX <= RT_SHIM_MSG_MAX, "a shim record must fit one ioctl message");

enum shim_state {
	SHIM_UNINIT = 0, /* nobody ran shim_init() yet */
	SHIM_BUSY = 1,	 /* shim_init() is running on some thread */
	SHIM_ON = 2,
	SHIM_OFF = 3, /* REDTAP_DISABLE=1: every wrapper only forwards */
};

extern int shim_state;
extern __thread int shim_depth __attribute__((tls_model("initial-exec")));

/* Reads the environment and says hello to a listener; idempotent. */
void shim_init(void);

/* True when this is the outermost wrapper call on this thread and the shim is on. */
static inline bool shim_enter(void)
{
	if (shim_depth++ != 0)
		return false;
	if (shim_unlikely(__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_ON)) {
		if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_OFF)
			return false;
		shim_init();
		return __atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_ON;
	}
	return true;
}

static inline void shim_leave(void)
{
	shim_depth--;
}

/* CLOCK_MONOTONIC in nanoseconds (the clock of bpf_ktime_get_ns). */
uint64_t shim_now(void);

/* Counts an operation that was not timed because a fixed table was full. */
void shim_count_untracked(void);

/* Records that a library was seen (RT_SHIM_FEAT_* bits), for the hello record. */
void shim_feature(uint32_t bits);

/* A record with room in front for the ioctl message header. */
struct shim_wire {
	uint32_t magic; /* these four mirror struct rt_shim_msg */
	uint32_t len;
	uint32_t ack;
	uint32_t pad0;
	union {
		struct rt_shim_hdr hdr;
		struct rt_shim_op op;
		struct rt_shim_hello hello;
		uint8_t bytes[RT_SHIM_REC_MAX];
	} u;
};

/* Zeroes the fixed part of an op record and sets what every op has. */
void shim_op_init(struct shim_wire *w, uint8_t system, uint8_t kind, const void *conn);

/* Copies a C string into a fixed field, cut at size - 1 and NUL-padded. NULL is "". */
void shim_strlcpy(uint8_t *dst, size_t size, const char *src);

/* Appends the statement text (at most RT_SHIM_TEXT_MAX bytes of it; sets
 * RT_SHIM_F_TRUNCATED if it was longer or truncated is set). len may be
 * SIZE_MAX for a NUL-terminated string of unknown length. */
void shim_op_text(struct shim_wire *w, const char *text, size_t len, bool truncated);

/* True when a listener would receive a record now. */
bool shim_listening(void);

/* Fills the header (pid, tid, len) and sends the record; errno is kept. */
void shim_emit(struct shim_wire *w);

/* The hello record (also used by the transport when it finds a listener). */
void shim_hello_fill(struct rt_shim_hello *h, uint32_t channel_feature);

/* Appends v in decimal to the NUL-terminated dst (no stdio). */
void shim_append_uint(char *dst, size_t size, unsigned v);

/* Bounded strlen that never reads past max bytes. */
size_t shim_strnlen(const char *s, size_t max);

#endif /* REDTAP_PRELOAD_CORE_H */
