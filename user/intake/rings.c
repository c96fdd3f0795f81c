// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rings.c - one BPF ring buffer per CPU for the capture object; see
 * rings.h. A single ring shared by every CPU made each record's
 * reservation take the ring's lock and producer position from the other
 * CPU's cache (BENCHMARKS.md, "Per-CPU rings").
 */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "redtap/event.h"
#include "rings.h"

unsigned rings_count(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int n = libbpf_num_possible_cpus();

	/* the online CPUs, not the possible ones: a guest may list dozens
	 * of possible CPUs it never brings up, each ring a window of RSS. A
	 * CPU brought up later shares a ring (c % n), which costs speed,
	 * never order. */
	if (online > 0 && (n <= 0 || online < n))
		n = (int)online;
	if (n <= 0)
		return 1;
	return n > RT_RINGS_MAX ? RT_RINGS_MAX : (unsigned)n;
}

/* The largest power of two at or below each, at least min. */
static uint32_t pow2_floor(uint32_t each, uint32_t min)
{
	uint32_t size = min;

	while (size <= each / 2)
		size *= 2;
	return size;
}

uint32_t rings_size(uint32_t total, unsigned n)
{
	uint32_t size;

	if (!n)
		n = 1;
	if (total)
		return pow2_floor(total / n, RINGS_MIN_BYTES);
	size = pow2_floor(RINGS_AUTO_BYTES / n, RINGS_AUTO_MIN);
	return size > RINGS_AUTO_MAX ? RINGS_AUTO_MAX : size;
}

int rings_prepare(struct bpf_map *outer, unsigned n)
{
	/* the inner map's own size is the template's (any ring fits: the
	 * kernel compares type, key, value and flags); libbpf 1.1 cannot
	 * resize an inner map anyway */
	if (!n || n > RT_RINGS_MAX)
		return -EINVAL;
	return bpf_map__set_max_entries(outer, n);
}

int rings_create(struct bpf_map *outer, unsigned n, uint32_t size, int *fds)
{
	unsigned i;
	int e;

	for (i = 0; i < n; i++) {
		fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rt_ring", 0, 0, size, NULL);
		if (fds[i] < 0) {
			e = -errno;
			goto err;
		}
		if (bpf_map_update_elem(bpf_map__fd(outer), &i, &fds[i], BPF_ANY)) {
			e = -errno;
			i++;
			goto err;
		}
	}
	return 0;
err:
	rings_close(fds, i);
	return e;
}

void rings_close(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}
