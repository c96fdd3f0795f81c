/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logasm.h - reassembles log lines from the writes of many processes: one
 * stream per (tgid, fd), lines split at '\n' within a write and joined
 * across writes, each line at most line_max bytes.
 *
 * A line is tagged with the struct logasm_tag of the write that started
 * it: its time, thread and the trace context that thread had then, so that
 * a line finished by a later write still belongs to the request during
 * which it was begun.
 *
 * Bounds and losses, each reported through the line's flags:
 *  - a line longer than line_max is cut there (LOGASM_CUT) and the rest of
 *    it, up to its '\n', is dropped;
 *  - a write the kernel copied only in part (cap_len < len) ends its line
 *    with what was copied (LOGASM_CUT); the stream restarts with the next
 *    write;
 *  - a partial line older than the flush age, or of a stream evicted or
 *    forgotten, is delivered as it is (LOGASM_PARTIAL);
 *  - at most max_streams streams: a new one evicts (flushes) the least
 *    recently written of the slots it may take.
 * A '\r' before the '\n' and empty lines are not delivered as content: an
 * empty line is skipped.
 *
 * API: logasm_new() (NULL and errno), logasm_feed() per write,
 * logasm_flush() periodically, logasm_forget() when a process exits,
 * logasm_free() delivers what is pending and frees (NULL ok). The callback
 * gets a line that is only valid during the call. Not thread-safe.
 */
#ifndef REDTAP_LOGASM_H
#define REDTAP_LOGASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGASM_CUT     1u /* the line was longer than what is delivered */
#define LOGASM_PARTIAL 2u /* delivered without its '\n' (flushed) */

struct logasm_tag {
	uint64_t ts; /* CLOCK_MONOTONIC ns of the write */
	uint32_t tid;
	bool has_trace;
	bool sampled;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint32_t file_id; /* the log file written (logfiles.h); 0: stdout, stderr or a dup */
};

typedef void (*logasm_line_fn)(void *ctx, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
			       const char *line, size_t len, unsigned flags);

struct logasm;

struct logasm *logasm_new(size_t max_streams, size_t line_max, logasm_line_fn fn, void *ctx);
void logasm_free(struct logasm *a);

/* One write of len bytes of which data[0..cap_len) were copied. */
void logasm_feed(struct logasm *a, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
		 const char *data, size_t cap_len, uint64_t len);

/* Delivers the partial lines begun before older_than (CLOCK_MONOTONIC ns). */
void logasm_flush(struct logasm *a, uint64_t older_than);

/* Delivers the partial lines of tgid and frees its streams. */
void logasm_forget(struct logasm *a, uint32_t tgid);

struct logasm_stats {
	uint64_t lines;	    /* delivered */
	uint64_t cut;	    /* delivered with LOGASM_CUT */
	uint64_t partial;   /* delivered with LOGASM_PARTIAL */
	uint64_t evictions; /* streams flushed to make room */
};
void logasm_stats(const struct logasm *a, struct logasm_stats *out);

#endif /* REDTAP_LOGASM_H */
