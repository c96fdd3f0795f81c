/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rings.h - the capture object's ring buffers, one per CPU: how many and
 * how large, and their creation into the object's "rings" array of maps
 * (bpf/capture.bpf.h) between load and attach. The object's ring_count
 * must be set to rings_count()'s value before load; user/intake/ringbuf.c
 * reads and merges the rings.
 */
#ifndef REDTAP_RINGS_H
#define REDTAP_RINGS_H

#include <stdint.h>

struct bpf_map;

/* Each ring is at least this large, whatever --ringbuf-size divides into. */
#define RINGS_MIN_BYTES (64u << 10)
/* --ringbuf-size auto: RINGS_AUTO_BYTES shared, each ring from
 * RINGS_AUTO_MIN to RINGS_AUTO_MAX. On up to four CPUs each ring is then
 * no larger than its share of the daemon's 2 MiB of ring windows
 * (user/intake/ringbuf.c), so it is mapped whole and never moved: the
 * daemon's CPU on nginx was 0.71 of an 8 MiB ring's, for 1 MiB against
 * 4 MiB a CPU (BENCHMARKS.md, "Rings mapped whole"). The floor keeps a
 * many-CPU machine's rings at 512 KiB each, as 8 MiB over 16 was. */
#define RINGS_AUTO_BYTES (2u << 20)
#define RINGS_AUTO_MIN	 (512u << 10)
#define RINGS_AUTO_MAX	 (1u << 20)

/* The rings to make: the online CPUs, at most RT_RINGS_MAX. */
unsigned rings_count(void);

/* The size of each of n rings sharing total bytes (a power of two): total
 * / n rounded down to a power of two, at least RINGS_MIN_BYTES. total 0:
 * auto, RINGS_AUTO_BYTES / n within RINGS_AUTO_MIN..RINGS_AUTO_MAX. */
uint32_t rings_size(uint32_t total, unsigned n);

/* Before load: the array of maps holds n rings. 0 or -errno. */
int rings_prepare(struct bpf_map *outer, unsigned n);

/* After load, before attach: creates the n rings and puts them in the
 * array; their fds in fds[0..n), which rings_close() closes. 0, or -errno
 * with nothing left open. */
int rings_create(struct bpf_map *outer, unsigned n, uint32_t size, int *fds);

void rings_close(int *fds, unsigned n);

#endif /* REDTAP_RINGS_H */
