/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ringbuf.h - the daemon's reader of the kernel's BPF ring buffers
 * (BPF_MAP_TYPE_RINGBUF, one per CPU), in place of libbpf's ring_buffer,
 * for memory and order:
 * libbpf maps the whole data area twice (so that a record that wraps past
 * the end reads as one piece), and every page of both mappings is resident
 * from the start, so the 8 MiB ring was 16 MiB of the daemon's 31 MiB RSS.
 * This reader maps a ring no larger than its share of 2 MiB whole, once,
 * with 64 KiB of the kernel's second copy after it; a larger ring it reads
 * through a window of that share of the kernel's own doubled mapping, at
 * the consumer position, moved as it reads. Either way a record is always
 * contiguous, and a ring costs the daemon's RSS at most its share (a
 * larger ring stays kernel memory, of the size --ringbuf-size says). With
 * several rings the share is of 2 MiB among them, and the records of all
 * rings are handed out in the order of their timestamps (the first 8
 * bytes of every record, struct rt_event_hdr's ts), so that a thread's
 * records keep their order when it moves to another CPU.
 *
 * API: rb_reader_new() maps the rings of n map fds; rb_reader_poll() waits
 * up to a timeout for the kernel's wake-up and hands every committed record
 * to the callback, in order (the pointer is valid during the call only);
 * rb_reader_free() unmaps and accepts NULL. rb_reader_wrap() and
 * rb_reader_wrap_whole() read a ring laid out in ordinary memory,
 * rb_reader_wrap_add() adds more such rings (the unit tests). Single-threaded.
 */
#ifndef REDTAP_RINGBUF_H
#define REDTAP_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

#include "redtap/event.h"

struct rb_reader;

/* The most rings one reader merges: as many as the capture makes. */
#define RB_RINGS_MAX RT_RINGS_MAX

/* Called for every record; a negative value stops the read and is returned. */
typedef int (*rb_record_fn)(void *ctx, void *data, size_t len);

/* map_fds: n (1..RB_RINGS_MAX) ring maps of size bytes each (max_entries:
 * a power of two, a multiple of the page size), open as long as the
 * reader is (a window is mapped again as it moves). NULL and errno on
 * failure. */
struct rb_reader *rb_reader_new(const int *map_fds, unsigned n, uint32_t size, rb_record_fn fn,
				void *ctx);

/* A reader of a ring in memory: the consumer and producer positions and
 * the data laid out as the kernel maps it (size bytes, then the same bytes
 * again), read through a window of window bytes (8 <= window <= size, a
 * multiple of 8). Never polls. */
struct rb_reader *rb_reader_wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
				 const void *doubled, uint32_t size, uint32_t window,
				 rb_record_fn fn, void *ctx);

/* A reader of a ring in memory as the daemon reads a ring mapped whole:
 * data holds the ring's size bytes, then its first tail bytes again
 * (16 <= tail <= size, a multiple of 8), and a record of up to tail bytes,
 * header included, is read in one piece wherever it starts. */
struct rb_reader *rb_reader_wrap_whole(unsigned long *consumer_pos,
				       const unsigned long *producer_pos, const void *data,
				       uint32_t size, uint32_t tail, rb_record_fn fn, void *ctx);

/* Another ring in memory of the same size and window, for a reader made
 * by rb_reader_wrap(): 0, or -EINVAL past RB_RINGS_MAX. */
int rb_reader_wrap_add(struct rb_reader *r, unsigned long *consumer_pos,
		       const unsigned long *producer_pos, const void *doubled);

/* Hands every committed record to the callback; the number handled, or
 * the callback's negative value (that record is consumed). With several
 * rings, records are merged by timestamp, and a record stamped after
 * the read began waits for the next read, so that no record of a thread
 * is handed out before an earlier one of that thread in another ring
 * (one stamped more than a second after it is not held back: the clocks
 * disagree). */
int rb_reader_consume(struct rb_reader *r);

/* rb_reader_consume() with the read's start time given (the unit tests):
 * one pass over the records committed now and stamped at or before until
 * (or more than a second after it). With one ring, every committed record
 * whatever its stamp. */
int rb_reader_consume_until(struct rb_reader *r, uint64_t until);

/* Waits up to timeout_ms for a wake-up (0: not at all), then consumes.
 * The number of records handled, or -errno (-EINTR on a signal). */
int rb_reader_poll(struct rb_reader *r, int timeout_ms);

/* Records skipped because they were longer than the window (never
 * expected), and how often the window moved. */
uint64_t rb_reader_skipped(const struct rb_reader *r);
uint64_t rb_reader_moves(const struct rb_reader *r);

/* The rings read. */
unsigned rb_reader_rings(const struct rb_reader *r);

/* The CLOCK_MONOTONIC offset, in ns, of a /proc/PID/timens_offsets text
 * ("monotonic SECS NSECS" line); 0 without one. The reader subtracts its
 * own from its clock, so that it compares with the programs' stamps. */
int64_t rb_timens_offset(const char *text);

void rb_reader_free(struct rb_reader *r);

#endif /* REDTAP_RINGBUF_H */
