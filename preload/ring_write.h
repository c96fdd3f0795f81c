/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ring_write.h - the producer side of the shared-memory ring described in
 * include/redtap/shim.h: reserve a frame with a CAS on head, fill it, mark it
 * READY. Lock-free and wait-free for the caller apart from CAS retries; it
 * never blocks and never touches memory outside the mapping.
 *
 * API: shim_ring_write(h, data_size, rec, len) where data_size is the size
 * the writer validated when it mapped the ring (the header's own field is
 * not trusted afterwards). Returns 0, -ENOSPC when the frame does not fit
 * (the ring's dropped counter is incremented), or -EINVAL when len is 0 or
 * larger than a quarter of the ring or than RT_SHIM_FRAME_LEN_MASK.
 *
 * Thread-safety: any number of threads and processes may write at once.
 * Used by the shim (preload/transport.c) and by the ring's unit test.
 */
#ifndef REDTAP_PRELOAD_RING_WRITE_H
#define REDTAP_PRELOAD_RING_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "redtap/shim.h"

int shim_ring_write(struct rt_shim_ring_hdr *h, uint64_t data_size, const void *rec, size_t len);

#endif /* REDTAP_PRELOAD_RING_WRITE_H */
