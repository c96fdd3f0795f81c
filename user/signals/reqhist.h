/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * reqhist.h - the last few server requests of every serving thread, so that
 * work reported late (a shim record that waited in a batch) is parented by
 * when it ran, not by what its thread serves when the record arrives.
 *
 * Per thread: a ring of REQHIST_DEPTH requests {start, end (0 while open),
 * trace id, span id, sampled}. Threads live in a set-associative table of
 * REQHIST_SETS x REQHIST_WAYS entries keyed by tid (with its tgid: a tid
 * reused by another process starts afresh); a new thread takes the least
 * recently started entry of its set. Memory: reqhist_bytes(), about 430
 * KiB for 2048 threads, allocated once and touched as threads appear.
 *
 * reqhist_find(tgid, tid, ts): the request of that thread whose [start,
 * end] holds ts, or that is still open, started at or before ts and at most
 * REQHIST_OPEN_NS before it; of several, the latest started (of two that
 * started at once, the one started last). Nothing else:
 * work between two requests, or older than the ring remembers, has none.
 *
 * Not thread-safe: the event loop owns it (as it owns the tracer).
 */
#ifndef REDTAP_REQHIST_H
#define REDTAP_REQHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQHIST_DEPTH	4
#define REQHIST_WAYS	4
#define REQHIST_SETS	512
#define REQHIST_OPEN_NS (30ull * 1000000000ull) /* an open request parents this long */

struct reqhist;

struct reqhist_req {
	uint64_t start_ns;
	uint64_t end_ns; /* 0: open */
	uint8_t trace_id[16];
	uint8_t span_id[8];
	bool sampled;
};

struct reqhist *reqhist_new(void);
void reqhist_free(struct reqhist *h);
size_t reqhist_bytes(void);

/* Thread tid of process tgid started serving request r (end_ns ignored). */
void reqhist_start(struct reqhist *h, uint32_t tgid, uint32_t tid, const struct reqhist_req *r);
/* The request span_id of thread tid ended at end_ns; unknown ones are ignored. */
void reqhist_end(struct reqhist *h, uint32_t tid, const uint8_t span_id[8], uint64_t end_ns);
/* The request of thread tid (of tgid) that was being served at ts, into out. */
bool reqhist_find(const struct reqhist *h, uint32_t tgid, uint32_t tid, uint64_t ts,
		  struct reqhist_req *out);

#endif /* REDTAP_REQHIST_H */
