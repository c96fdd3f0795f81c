/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ringbuf.h - the daemon's reader of the kernel's BPF ring buffer
 * (BPF_MAP_TYPE_RINGBUF), in place of libbpf's ring_buffer, for memory:
 * libbpf maps the whole data area twice (so that a record that wraps past
 * the end reads as one piece), and every page of both mappings is resident
 * from the start, so the 8 MiB ring was 16 MiB of the daemon's 31 MiB RSS.
 * This reader maps a window of 1 MiB of the kernel's own doubled mapping
 * at the consumer position and moves it as it reads: a record is always
 * contiguous, and the ring costs the daemon's RSS the window only (the ring
 * itself stays kernel memory, of the size --ringbuf-size says).
 *
 * API: rb_reader_new() maps the ring of a map fd; rb_reader_poll() waits up
 * to a timeout for the kernel's wake-up and hands every committed record to
 * the callback, in order (the pointer is valid during the call only);
 * rb_reader_free() unmaps and accepts NULL. rb_reader_wrap() reads a ring
 * laid out in ordinary memory (the unit tests). Single-threaded.
 */
#ifndef REDTAP_RINGBUF_H
#define REDTAP_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

struct rb_reader;

/* Called for every record; a negative value stops the read and is returned. */
typedef int (*rb_record_fn)(void *ctx, void *data, size_t len);

/* size: the map's max_entries (a power of two, a multiple of the page
 * size). NULL and errno on failure. */
struct rb_reader *rb_reader_new(int map_fd, uint32_t size, rb_record_fn fn, void *ctx);

/* A reader of a ring in memory: the consumer and producer positions and
 * the data laid out as the kernel maps it (size bytes, then the same bytes
 * again), read through a window of window bytes (8 <= window <= size, a
 * multiple of 8). Never polls. */
struct rb_reader *rb_reader_wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
				 const void *doubled, uint32_t size, uint32_t window,
				 rb_record_fn fn, void *ctx);

/* Hands every committed record to the callback; the number handled, or
 * the callback's negative value. */
int rb_reader_consume(struct rb_reader *r);

/* Waits up to timeout_ms for a wake-up (0: not at all), then consumes.
 * The number of records handled, or -errno (-EINTR on a signal). */
int rb_reader_poll(struct rb_reader *r, int timeout_ms);

/* Records skipped because they were longer than the window (never
 * expected), and how often the window moved. */
uint64_t rb_reader_skipped(const struct rb_reader *r);
uint64_t rb_reader_moves(const struct rb_reader *r);

void rb_reader_free(struct rb_reader *r);

#endif /* REDTAP_RINGBUF_H */
