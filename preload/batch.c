// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * batch.c - batches of shim records on the ioctl channel (see batch.h).
 *
 * BATCH_SLOTS static slots (no TLS, so that exit and fork can reach every
 * batch); a thread uses slot tid % BATCH_SLOTS, taken with a try-lock for
 * the copy only. A slot holds the records of one thread at a time, so its
 * batch is normally sent by that thread and the kernel's thread id of the
 * ioctl is the records' own; a batch sent by any other thread is flagged
 * RT_SHIM_MSG_F_FOREIGN. Records start 8-byte aligned, zero padding between.
 *
 * Modes ($REDTAP_SHIM_BATCH): auto (the default) batches the records of a
 * slot only while its threads send at least BATCH_BUSY_MIN records per
 * BATCH_WAIT_NS window, so that a process calling now and then sends each
 * record at once; a slot that falls quiet sends what it holds with the next
 * record. "1" batches always, "0" never.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>

#include "batch.h"
#include "core.h"

struct batch_msg {
	uint32_t magic; /* these four mirror struct rt_shim_msg */
	uint32_t len;
	uint32_t count;
	uint32_t pad0;
	uint8_t data[RT_SHIM_BATCH_MAX];
};

struct batch_slot {
	int lock;
	uint32_t tid;	/* whose records the batch holds */
	uint32_t count; /* records in msg.data */
	uint32_t used;	/* bytes of msg.data, up to the end of the last record */
	uint64_t first_ns;
	uint64_t win_start; /* auto mode: the window records are counted in */
	uint32_t win_count;
	bool busy; /* the previous window had BATCH_BUSY_MIN records or more */
	struct batch_msg msg;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct rt_shim_msg) == 16, "batch_msg mirrors rt_shim_msg");
_Static_assert(__builtin_offsetof(struct batch_msg, data) == 16, "batch_msg layout");

static struct batch_slot slots[BATCH_SLOTS];
static unsigned sweep_next;
static int mode = BATCH_AUTO;

#define ALIGN8(x) (((x) + 7u) & ~7u)

static bool is_word(const char *env, const char *a, const char *b, const char *c)
{
	return !strcmp(env, a) || !strcasecmp(env, b) || !strcasecmp(env, c);
}

void batch_init(const char *env)
{
	mode = BATCH_AUTO;
	if (env && is_word(env, "1", "true", "yes"))
		mode = BATCH_ALWAYS;
	else if (env && (is_word(env, "0", "false", "no") || !strcasecmp(env, "off")))
		mode = BATCH_OFF;
}

bool batch_on(void)
{
	return mode != BATCH_OFF;
}

/* Auto mode: counts this record in s's window (s held locked); true when the
 * slot is busy enough to batch it. */
static bool slot_busy(struct batch_slot *s, uint64_t now)
{
	if (mode == BATCH_ALWAYS)
		return true;
	if (now - s->win_start >= BATCH_WAIT_NS) {
		/* a window followed by a gap says nothing about the rate now */
		s->busy = s->win_count >= BATCH_BUSY_MIN && now - s->win_start < 2 * BATCH_WAIT_NS;
		s->win_start = now;
		s->win_count = 0;
	}
	s->win_count++;
	return s->busy;
}

static bool slot_trylock(struct batch_slot *s)
{
	return __atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE) == 0;
}

static void slot_unlock(struct batch_slot *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* Sends the slot's batch (held locked) from thread tid and empties it. */
static void slot_flush(struct batch_slot *s, uint32_t tid)
{
	int saved = errno;

	if (!s->count)
		return;
	s->msg.magic = RT_SHIM_MAGIC;
	s->msg.len = s->used;
	s->msg.count = s->count | (s->tid != tid ? RT_SHIM_MSG_F_FOREIGN : 0);
	s->msg.pad0 = 0;
	/* fails with EBADF; the agent's eBPF program has read it by then */
	ioctl(RT_SHIM_IOCTL_FD, RT_SHIM_IOCTL_CMD, &s->msg);
	__atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
	s->used = 0;
	errno = saved;
}

static bool stale(const struct batch_slot *s, uint64_t now)
{
	return __atomic_load_n(&s->count, __ATOMIC_RELAXED) &&
	       now - __atomic_load_n(&s->first_ns, __ATOMIC_RELAXED) >= BATCH_WAIT_NS;
}

/* One other slot per call: a batch whose thread stopped calling is sent by
 * the others within BATCH_SLOTS calls of its deadline. */
static void sweep_one(uint32_t tid, uint64_t now)
{
	unsigned i = __atomic_fetch_add(&sweep_next, 1, __ATOMIC_RELAXED) % BATCH_SLOTS;
	struct batch_slot *s = &slots[i];

	if (!stale(s, now) || !slot_trylock(s))
		return;
	if (stale(s, now))
		slot_flush(s, tid);
	slot_unlock(s);
}

bool batch_add(const void *rec, uint32_t len, uint32_t tid, uint64_t now)
{
	struct batch_slot *s = &slots[tid % BATCH_SLOTS];
	uint32_t at;

	if (len > RT_SHIM_BATCH_MAX || !slot_trylock(s))
		return false;
	if (!slot_busy(s, now)) {
		/* quiet: what waits goes first, then the caller sends this one */
		slot_flush(s, tid);
		slot_unlock(s);
		return false;
	}
	if (s->count && (s->tid != tid || now - s->first_ns >= BATCH_WAIT_NS ||
			 ALIGN8(s->used) + len > RT_SHIM_BATCH_MAX))
		slot_flush(s, tid);
	at = ALIGN8(s->used);
	if (at > s->used)
		memset(s->msg.data + s->used, 0, at - s->used);
	memcpy(s->msg.data + at, rec, len);
	s->used = at + len;
	if (!s->count) {
		s->tid = tid;
		__atomic_store_n(&s->first_ns, now, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
	/* full: no room for another operation record, or the count the kernel honours */
	if (s->count == RT_SHIM_BATCH_RECS_MAX ||
	    ALIGN8(s->used) + sizeof(struct rt_shim_op) > RT_SHIM_BATCH_MAX)
		slot_flush(s, tid);
	slot_unlock(s);
	sweep_one(tid, now);
	return true;
}

void batch_flush_all(uint32_t tid)
{
	for (unsigned i = 0; i < BATCH_SLOTS; i++) {
		struct batch_slot *s = &slots[i];

		if (!__atomic_load_n(&s->count, __ATOMIC_RELAXED) || !slot_trylock(s))
			continue; /* empty, or a thread is adding to it right now */
		slot_flush(s, tid);
		slot_unlock(s);
	}
}

void batch_after_fork(void)
{
	/* the parent sends these; the threads that held locks are gone */
	for (unsigned i = 0; i < BATCH_SLOTS; i++) {
		slots[i].count = 0;
		slots[i].used = 0;
		slots[i].lock = 0;
		slots[i].win_start = 0;
		slots[i].win_count = 0;
		slots[i].busy = false;
	}
}

/* exit(): what waits in a batch still goes out (after _exit it is lost) */
__attribute__((destructor)) static void batch_dtor(void)
{
	batch_flush_all(0);
}
