/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_build.h - what the OTLP encoders share to build protobuf-c messages:
 * an arena that owns every message of one request, attribute builders, and
 * UTF-8 repair (OTLP strings must be valid UTF-8: a collector rejects the
 * whole request otherwise, and captured bytes may be anything).
 *
 * API: otlp_arena_init() an embedded arena, allocate from it, then
 * otlp_arena_release() frees everything at once. Allocation functions
 * return NULL (errno = ENOMEM) on failure; builders return NULL likewise.
 * Strings passed to builders are NOT copied unless they need repair: they
 * must outlive the message. Not thread-safe (one arena per encoding).
 */
#ifndef REDTAP_OTLP_BUILD_H
#define REDTAP_OTLP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/otlp_common.pb-c.h"

struct otlp_arena_chunk;

struct otlp_arena {
	struct otlp_arena_chunk *head;
};

void otlp_arena_init(struct otlp_arena *a);
void otlp_arena_release(struct otlp_arena *a);
/* Zero-filled, aligned for any type. */
void *otlp_arena_alloc(struct otlp_arena *a, size_t size);
/* An array of n zero-filled items of size each (overflow-checked). */
void *otlp_arena_calloc(struct otlp_arena *a, size_t n, size_t size);
char *otlp_arena_strdup(struct otlp_arena *a, const char *s);

/* Whether s is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool otlp_utf8_valid(const char *s);
/* s itself when valid UTF-8, else an arena copy with each bad byte replaced by U+FFFD. */
const char *otlp_utf8(struct otlp_arena *a, const char *s);

/* KeyValue builders (key and a string value go through otlp_utf8()). A NULL
 * val (the result of a failed allocation) gives NULL. */
Otlpb__KeyValue *otlp_kv_str(struct otlp_arena *a, const char *key, const char *val);
Otlpb__KeyValue *otlp_kv_int(struct otlp_arena *a, const char *key, int64_t val);
Otlpb__KeyValue *otlp_kv_bool(struct otlp_arena *a, const char *key, bool val);

/* The instrumentation scope of everything redtap sends: name "redtap", its version. */
Otlpb__InstrumentationScope *otlp_scope(struct otlp_arena *a);

/*
 * A batch of n items (spans, log records) split into one group per
 * resource (process and service), each group's messages in batch order:
 * the shape of every OTLP export request. same(ctx, i, j) says whether
 * items i and j share a resource; build(a, ctx, i) makes item i's message
 * (NULL on failure). Linear search: a batch holds few processes.
 */
struct otlp_groups {
	size_t ng;     /* groups */
	size_t *first; /* [g] index of group g's first item */
	size_t *n;     /* [g] messages in group g */
	void ***msgs;  /* [g] those messages */
};

int otlp_group(struct otlp_arena *a, size_t n, bool (*same)(const void *ctx, size_t i, size_t j),
	       void *(*build)(struct otlp_arena *a, const void *ctx, size_t i), const void *ctx,
	       struct otlp_groups *out);

#endif /* REDTAP_OTLP_BUILD_H */
