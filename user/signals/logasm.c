// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logasm.c - log line reassembly per (tgid, fd). See logasm.h.
 *
 * Streams live in a fixed open-addressed table probed over PROBE slots;
 * a stream's line buffer (line_max bytes) is allocated when it first holds
 * bytes and freed when the stream goes idle, so memory is at most
 * max_streams * line_max and usually a few buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logasm.h"

#define PROBE 8

struct stream {
	bool used;
	bool skipping; /* dropping the rest of a cut line, up to its '\n' */
	uint32_t tgid, fd;
	uint64_t last_ts;
	struct logasm_tag tag; /* of the write that began the pending line */
	size_t len;
	char *buf; /* line_max bytes, or NULL */
};

struct logasm {
	size_t nstreams, line_max;
	logasm_line_fn fn;
	void *ctx;
	struct logasm_stats st;
	struct stream streams[];
};

struct logasm *logasm_new(size_t max_streams, size_t line_max, logasm_line_fn fn, void *ctx)
{
	struct logasm *a;

	if (!max_streams || max_streams > (1u << 20) || line_max < 16 || !fn) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a) + max_streams * sizeof(a->streams[0]));
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->nstreams = max_streams;
	a->line_max = line_max;
	a->fn = fn;
	a->ctx = ctx;
	return a;
}

static void deliver(struct logasm *a, struct stream *s, unsigned flags)
{
	size_t n = s->len;

	s->len = 0;
	if (n && s->buf[n - 1] == '\r')
		n--;
	if (!n)
		return;
	a->st.lines++;
	a->st.cut += !!(flags & LOGASM_CUT);
	a->st.partial += !!(flags & LOGASM_PARTIAL);
	a->fn(a->ctx, s->tgid, s->fd, &s->tag, s->buf, n, flags);
}

/* Delivers what is pending and empties the slot. */
static void release(struct logasm *a, struct stream *s)
{
	if (s->len)
		deliver(a, s, LOGASM_PARTIAL);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static size_t slot_of(const struct logasm *a, uint32_t tgid, uint32_t fd)
{
	uint64_t h =
	    ((uint64_t)tgid * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)fd * 0xC2B2AE3D27D4EB4Full);

	return (size_t)((h >> 17) % a->nstreams);
}

static struct stream *stream_get(struct logasm *a, uint32_t tgid, uint32_t fd)
{
	size_t base = slot_of(a, tgid, fd);
	struct stream *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < PROBE && i < a->nstreams; i++) {
		struct stream *s = &a->streams[(base + i) % a->nstreams];

		if (s->used && s->tgid == tgid && s->fd == fd)
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
		if (s->used && (!oldest || s->last_ts < oldest->last_ts))
			oldest = s;
	}
	if (!free_slot) {
		if (!oldest) /* cannot happen: every probed slot is in use */
			return NULL;
		a->st.evictions++;
		release(a, oldest);
		free_slot = oldest;
	}
	free_slot->used = true;
	free_slot->tgid = tgid;
	free_slot->fd = fd;
	return free_slot;
}

void logasm_feed(struct logasm *a, uint32_t tgid, uint32_t fd, const struct logasm_tag *tag,
		 const char *data, size_t cap_len, uint64_t len)
{
	const char *p = data, *end = data + cap_len;
	struct stream *s = stream_get(a, tgid, fd);

	if (!s)
		return;
	s->last_ts = tag->ts;
	if (!s->buf) {
		s->buf = malloc(a->line_max);
		if (!s->buf) {
			s->used = false;
			return;
		}
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p), room = a->line_max - s->len;

		if (s->skipping) {
			if (!nl)
				break;
			s->skipping = false;
			p = nl + 1;
			continue;
		}
		if (!s->len)
			s->tag = *tag;
		if (seg > room) {
			memcpy(s->buf + s->len, p, room);
			s->len += room;
			deliver(a, s, LOGASM_CUT);
			s->skipping = !nl;
		} else {
			memcpy(s->buf + s->len, p, seg);
			s->len += seg;
			if (nl)
				deliver(a, s, 0);
		}
		p = nl ? nl + 1 : end;
	}
	if (cap_len < len) { /* the kernel copied only part of this write */
		if (s->len)
			deliver(a, s, LOGASM_CUT);
		s->skipping = false;
	}
}

void logasm_flush(struct logasm *a, uint64_t older_than)
{
	for (size_t i = 0; i < a->nstreams; i++) {
		struct stream *s = &a->streams[i];

		if (!s->used)
			continue;
		if (s->len && s->tag.ts < older_than)
			deliver(a, s, LOGASM_PARTIAL);
		if (!s->len && s->last_ts < older_than)
			release(a, s); /* idle: give its buffer back */
	}
}

void logasm_forget(struct logasm *a, uint32_t tgid)
{
	for (size_t i = 0; i < a->nstreams; i++)
		if (a->streams[i].used && a->streams[i].tgid == tgid)
			release(a, &a->streams[i]);
}

void logasm_free(struct logasm *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nstreams; i++)
		if (a->streams[i].used)
			release(a, &a->streams[i]);
	free(a);
}

void logasm_stats(const struct logasm *a, struct logasm_stats *out)
{
	*out = a->st;
}
