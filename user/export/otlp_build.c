// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_build.c - the arena, attribute builders and UTF-8 repair that the
 * OTLP encoders share. See otlp_build.h.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_build.h"
#include "utf8.h"
#include "version.h"

#define CHUNK_MIN (64 * 1024)
#define ALIGN	  alignof(max_align_t)

struct otlp_arena_chunk {
	struct otlp_arena_chunk *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

void otlp_arena_init(struct otlp_arena *a)
{
	a->head = NULL;
}

void otlp_arena_release(struct otlp_arena *a)
{
	struct otlp_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

void *otlp_arena_alloc(struct otlp_arena *a, size_t size)
{
	struct otlp_arena_chunk *c = a->head;
	size_t need = (size + ALIGN - 1) & ~(ALIGN - 1);
	void *p;

	if (need < size) {
		errno = ENOMEM;
		return NULL;
	}
	if (!c || c->size - c->used < need) {
		size_t sz = need > CHUNK_MIN ? need : CHUNK_MIN;

		c = malloc(sizeof(*c) + sz);
		if (!c) {
			errno = ENOMEM;
			return NULL;
		}
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

void *otlp_arena_calloc(struct otlp_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return otlp_arena_alloc(a, n * size);
}

char *otlp_arena_strdup(struct otlp_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = otlp_arena_alloc(a, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* The length of the run of ASCII bytes at the start of s[0..len), eight
 * at a time: attribute values are nearly always ASCII, and a byte at a
 * time through utf8_seq() was ~15 % of a span's encoding (BENCHMARKS.md). */
static size_t ascii_run(const unsigned char *s, size_t len)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

bool otlp_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;

	while ((i += ascii_run(p + i, len - i)) < len) {
		size_t n = utf8_seq(p + i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

const char *otlp_utf8(struct otlp_arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;

	if (otlp_utf8_valid(s))
		return s;
	/* each bad byte becomes 3 bytes at most */
	out = otlp_arena_calloc(a, strlen(s) + 1, 3);
	if (!out)
		return NULL;
	for (o = out; *p;) {
		size_t n = utf8_seq(p);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	return out;
}

static Otlpb__KeyValue *kv_new(struct otlp_arena *a, const char *key)
{
	Otlpb__KeyValue *kv = otlp_arena_alloc(a, sizeof(*kv));
	Otlpb__AnyValue *v = otlp_arena_alloc(a, sizeof(*v));
	const char *k = otlp_utf8(a, key);

	if (!kv || !v || !k)
		return NULL;
	otlpb__key_value__init(kv);
	otlpb__any_value__init(v);
	kv->key = (char *)k;
	kv->value = v;
	return kv;
}

Otlpb__KeyValue *otlp_kv_str(struct otlp_arena *a, const char *key, const char *val)
{
	Otlpb__KeyValue *kv;
	const char *v;

	if (!val) {
		errno = ENOMEM; /* a failed allocation upstream */
		return NULL;
	}
	kv = kv_new(a, key);
	v = otlp_utf8(a, val);
	if (!kv || !v)
		return NULL;
	kv->value->value_case = OTLPB__ANY_VALUE__VALUE_STRING_VALUE;
	kv->value->string_value = (char *)v;
	return kv;
}

Otlpb__KeyValue *otlp_kv_int(struct otlp_arena *a, const char *key, int64_t val)
{
	Otlpb__KeyValue *kv = kv_new(a, key);

	if (!kv)
		return NULL;
	kv->value->value_case = OTLPB__ANY_VALUE__VALUE_INT_VALUE;
	kv->value->int_value = val;
	return kv;
}

Otlpb__KeyValue *otlp_kv_bool(struct otlp_arena *a, const char *key, bool val)
{
	Otlpb__KeyValue *kv = kv_new(a, key);

	if (!kv)
		return NULL;
	kv->value->value_case = OTLPB__ANY_VALUE__VALUE_BOOL_VALUE;
	kv->value->bool_value = val;
	return kv;
}

Otlpb__InstrumentationScope *otlp_scope(struct otlp_arena *a)
{
	Otlpb__InstrumentationScope *s = otlp_arena_alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	otlpb__instrumentation_scope__init(s);
	s->name = "redtap";
	s->version = (char *)redtap_version;
	return s;
}

int otlp_group(struct otlp_arena *a, size_t n, bool (*same)(const void *ctx, size_t i, size_t j),
	       void *(*build)(struct otlp_arena *a, const void *ctx, size_t i), const void *ctx,
	       struct otlp_groups *out)
{
	size_t slots = n ? n : 1, *gi = otlp_arena_calloc(a, slots, sizeof(*gi)), *filled;

	out->ng = 0;
	out->first = otlp_arena_calloc(a, slots, sizeof(*out->first));
	out->n = otlp_arena_calloc(a, slots, sizeof(*out->n));
	out->msgs = otlp_arena_calloc(a, slots, sizeof(*out->msgs));
	filled = otlp_arena_calloc(a, slots, sizeof(*filled));
	if (!gi || !out->first || !out->n || !out->msgs || !filled)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;

		while (g < out->ng && !same(ctx, out->first[g], i))
			g++;
		if (g == out->ng)
			out->first[out->ng++] = i;
		out->n[g]++;
		gi[i] = g;
	}
	for (size_t g = 0; g < out->ng; g++) {
		out->msgs[g] = otlp_arena_calloc(a, out->n[g], sizeof(*out->msgs[g]));
		if (!out->msgs[g])
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		void *m = build(a, ctx, i);

		if (!m)
			return -ENOMEM;
		out->msgs[gi[i]][filled[gi[i]]++] = m;
	}
	return 0;
}
