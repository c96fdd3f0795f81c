/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shm_ring.h - the daemon's end of the shared-memory ring through which the
 * LD_PRELOAD shim sends its records when the daemon runs without eBPF
 * (layout and protocol: include/redtap/shim.h; writer: preload/ring_write.c).
 *
 * API: shm_ring_create() makes the ring file (mode 0600, every byte
 * allocated up front, so a full tmpfs fails here with ENOSPC instead of
 * SIGBUS later) and maps it. At the default path it first creates the
 * directory and refuses one that another user could write (EPERM). It never
 * blocks on what it finds there: an existing file of ours whose heartbeat is
 * stale is replaced, a live one (another daemon) makes it fail with EBUSY,
 * anything else (a FIFO, another user's file, a symlink) with EEXIST. The owner then calls
 * shm_ring_heartbeat() at least every second (shims stop writing into a ring whose heartbeat is
 * older than 5 s) and shm_ring_drain() to consume records: each one is
 * copied out of shared memory before cb sees it, so cb gets stable bytes it
 * does not own (valid during the call only); feed them to shim_decode().
 * shm_ring_dropped() is the producers' drop count plus frames the reader had
 * to discard (a writer that died between reserving and finishing a frame
 * blocks the ring for at most 2 s, then its frame is skipped).
 * shm_ring_destroy() unlinks the file if it is still ours, and unmaps.
 *
 * Thread-safety: one thread drains and heartbeats a given ring; producers in
 * any process write concurrently without locks.
 */
#ifndef REDTAP_SHM_RING_H
#define REDTAP_SHM_RING_H

#include <stddef.h>
#include <stdint.h>

struct shm_ring;

/* path NULL means shm_ring_default_path(). bytes is the data area, rounded
 * up to a power of two in [64 KiB, 1 GiB]. NULL and errno on failure. */
struct shm_ring *shm_ring_create(const char *path, size_t bytes);

/* Calls cb for every complete record, in order; returns how many (>= 0). */
int shm_ring_drain(struct shm_ring *r, void (*cb)(void *ctx, const void *rec, size_t len),
		   void *ctx);

void shm_ring_heartbeat(struct shm_ring *r);
uint64_t shm_ring_dropped(const struct shm_ring *r);

/* The file behind the ring. */
const char *shm_ring_path(const struct shm_ring *r);

/* NULL is ok. */
void shm_ring_destroy(struct shm_ring *r);

/* $REDTAP_SHIM_RING, else shim-ring in /run/redtap (root), /run/user/<uid> or
 * /dev/shm/redtap-<uid>/ (preload/ring_path.h): what the shim looks for.
 * NULL if the path does not fit. */
const char *shm_ring_default_path(void);

#endif /* REDTAP_SHM_RING_H */
