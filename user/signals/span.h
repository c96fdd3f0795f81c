/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * span.h - one finished span, as the daemon builds it from an HTTP
 * exchange or a shim DB/cache operation and hands it to the trace
 * exporter.
 *
 * API: a span is a plain value (no pointers), so it can be copied into a
 * queue. Attributes are a small fixed array of string or integer values
 * with OpenTelemetry semantic-convention keys; span_attr_str() and
 * span_attr_int() append one and silently drop it when the array is full
 * (values are truncated to fit). Resource attributes are derived by the
 * exporter from pid, service_name and exe_name.
 */
#ifndef REDTAP_SPAN_H
#define REDTAP_SPAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

#define SPAN_ATTRS_MAX	  20
#define SPAN_ATTR_KEY_MAX 48
#define SPAN_ATTR_VAL_MAX 160

struct span_attr {
	char key[SPAN_ATTR_KEY_MAX];
	char str[SPAN_ATTR_VAL_MAX]; /* used when !is_int */
	int64_t i;
	bool is_int;
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
	uint8_t sampled; /* W3C sampled flag of the trace */
	char name[160];
	char status_message[64];
	char tracestate[256];
	char service_name[128];
	char exe_name[64];
	struct span_attr attrs[SPAN_ATTRS_MAX];
};

static inline void span_attr_str(struct span *s, const char *key, const char *val)
{
	struct span_attr *a;

	if (s->nattrs >= SPAN_ATTRS_MAX || !val)
		return;
	a = &s->attrs[s->nattrs++];
	snprintf(a->key, sizeof(a->key), "%.*s", (int)sizeof(a->key) - 1, key);
	snprintf(a->str, sizeof(a->str), "%.*s", (int)sizeof(a->str) - 1, val);
	a->is_int = false;
}

static inline void span_attr_int(struct span *s, const char *key, int64_t val)
{
	struct span_attr *a;

	if (s->nattrs >= SPAN_ATTRS_MAX)
		return;
	a = &s->attrs[s->nattrs++];
	snprintf(a->key, sizeof(a->key), "%.*s", (int)sizeof(a->key) - 1, key);
	a->str[0] = '\0';
	a->i = val;
	a->is_int = true;
}

/* Lower-case hex of an id of n bytes into out (2n + 1 bytes). */
static inline void span_hex(const uint8_t *id, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif /* REDTAP_SPAN_H */
