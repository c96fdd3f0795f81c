// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ring_write.c - multi-producer writer of the shim's shared-memory ring
 * (layout and protocol in include/redtap/shim.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ring_write.h"

#define FRAME_ALIGN(n) (((n) + 7) & ~(uint64_t)7)

int shim_ring_write(struct rt_shim_ring_hdr *h, uint64_t data_size, const void *rec, size_t len)
{
	uint8_t *data = (uint8_t *)h + RT_SHIM_RING_HDR_SIZE;
	uint64_t mask = data_size - 1;
	uint64_t total, head, tail, off, first;
	uint32_t *word;

	if (!len || len > RT_SHIM_FRAME_LEN_MASK || len > data_size / 4)
		return -EINVAL;
	total = RT_SHIM_FRAME_HDR + FRAME_ALIGN(len);
	head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
	do {
		tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
		/* head - tail > data_size only if someone scribbled on the header */
		if (head - tail > data_size || head - tail + total > data_size) {
			__atomic_add_fetch(&h->dropped, 1, __ATOMIC_RELAXED);
			return -ENOSPC;
		}
	} while (!__atomic_compare_exchange_n(&h->head, &head, head + total, true, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));

	/* Positions are 8-aligned and data_size is a multiple of 8: the frame
	 * word never wraps, only the payload may. */
	off = head & mask;
	word = (uint32_t *)(data + off);
	__atomic_store_n(word, RT_SHIM_FRAME_BUSY | (uint32_t)len, __ATOMIC_RELAXED);
	off = (head + RT_SHIM_FRAME_HDR) & mask;
	first = data_size - off < len ? data_size - off : len;
	memcpy(data + off, rec, first);
	if (first < len)
		memcpy(data, (const uint8_t *)rec + first, len - first);
	__atomic_store_n(word, RT_SHIM_FRAME_READY | (uint32_t)len, __ATOMIC_RELEASE);
	return 0;
}
