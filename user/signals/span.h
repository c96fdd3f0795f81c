/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * span.h - one finished span, as the daemon builds it from an HTTP
 * exchange or a shim DB/cache operation and hands it to the trace
 * exporter.
 *
 * API (span.c): a span is a plain value (no pointers), so it can be
 * copied into a queue; span_size() bytes of it are enough (span_copy()). span_init()
 * empties one. Its strings (name, tracestate, service and executable
 * names, status message, string attribute values) live back to back in
 * text[], each at most SPAN_VALUE_MAX bytes and all within SPAN_TEXT_MAX:
 * a string that does not fit is truncated, an attribute with no room left
 * is dropped, as is one past SPAN_ATTRS_MAX. Attribute keys are
 * semconv.h ids, not strings. Resource attributes are derived by the
 * exporter from pid, service and executable names.
 *
 * Memory: sizeof(struct span) is 1,384 bytes (bench/BENCHMARKS.md has
 * the pool's size); the largest spans (HTTP server spans with a long
 * tracestate) use about 1 KiB of text, most use 100-300 bytes.
 */
#ifndef REDTAP_SPAN_H
#define REDTAP_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "semconv.h"

/* OTLP Span.SpanKind values */
enum span_kind {
	SPAN_KIND_INTERNAL = 1,
	SPAN_KIND_SERVER = 2,
	SPAN_KIND_CLIENT = 3,
};

/* OTLP Status.StatusCode values */
enum span_status {
	SPAN_STATUS_UNSET = 0,
	SPAN_STATUS_OK = 1,
	SPAN_STATUS_ERROR = 2,
};

/* The span's own strings (not attributes). */
enum span_str {
	SPAN_NAME,
	SPAN_STATUS_MESSAGE,
	SPAN_TRACESTATE,
	SPAN_SERVICE_NAME,
	SPAN_EXE_NAME,
	SPAN_STR_COUNT
};

#define SPAN_ATTRS_MAX 18   /* an HTTP server span sets 13, sampling.rule, request attributes */
#define SPAN_TEXT_MAX  1024 /* all strings of a span, with their NULs */
#define SPAN_VALUE_MAX 255  /* one string, without its NUL */

struct span_attr {
	int64_t i;    /* when is_int */
	uint16_t off; /* the value in text[] when !is_int */
	uint8_t key;  /* enum semconv_attr */
	uint8_t is_int;
	uint8_t pad[4];
};

struct span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero for a root span */
	uint64_t start_unix_ns;
	uint64_t end_unix_ns;
	uint32_t pid;
	uint8_t kind;	/* enum span_kind */
	uint8_t status; /* enum span_status */
	uint8_t nattrs;
	uint8_t sampled;	      /* W3C sampled flag of the trace */
	uint16_t str[SPAN_STR_COUNT]; /* offsets in text[]; 0 is "" */
	uint16_t text_len;	      /* bytes of text[] in use, at least 1 */
	struct span_attr attrs[SPAN_ATTRS_MAX];
	char text[SPAN_TEXT_MAX]; /* text[0] is the empty string */
};

_Static_assert(SPAN_TEXT_MAX <= UINT16_MAX, "text offsets are 16 bits");
_Static_assert(SC_ATTR_COUNT <= UINT8_MAX, "attribute ids are 8 bits");

static inline void span_init(struct span *s)
{
	memset(s, 0, offsetof(struct span, text));
	s->text[0] = '\0';
	s->text_len = 1;
}

/* The bytes of s that carry data: what a copy needs. */
static inline size_t span_size(const struct span *s)
{
	size_t used = s->text_len < SPAN_TEXT_MAX ? s->text_len : SPAN_TEXT_MAX;

	return offsetof(struct span, text) + used;
}

static inline void span_copy(struct span *dst, const struct span *src)
{
	memcpy(dst, src, span_size(src));
}

/* Appends v (truncated) to text[]: its offset, or 0 when empty or full. */
uint16_t span_text_add(struct span *s, const char *v);

static inline const char *span_text(const struct span *s, uint16_t off)
{
	return off < SPAN_TEXT_MAX ? s->text + off : "";
}

static inline void span_set(struct span *s, enum span_str which, const char *v)
{
	s->str[which] = span_text_add(s, v);
}

static inline const char *span_get(const struct span *s, enum span_str which)
{
	return span_text(s, s->str[which]);
}

/* Append one attribute (see above for what is dropped). A NULL val adds none. */
void span_attr_str(struct span *s, enum semconv_attr key, const char *val);
void span_attr_int(struct span *s, enum semconv_attr key, int64_t val);

/* The OpenTelemetry key and the string value of an attribute. */
static inline const char *span_attr_key(const struct span_attr *a)
{
	return semconv_key((enum semconv_attr)a->key);
}

static inline const char *span_attr_val(const struct span *s, const struct span_attr *a)
{
	return a->is_int ? "" : span_text(s, a->off);
}

#endif /* REDTAP_SPAN_H */
