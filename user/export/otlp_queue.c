// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_queue.c - a ring of span pointers that drops the oldest when full.
 * See otlp_queue.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_queue.h"

struct otlp_queue {
	size_t cap, head, len; /* head: index of the oldest span */
	void *ring[];	       /* malloc()ed items: spans or log records */
};

struct otlp_queue *otlp_queue_new(size_t cap)
{
	struct otlp_queue *q;

	if (!cap || cap > (SIZE_MAX - sizeof(*q)) / sizeof(q->ring[0])) {
		errno = ENOMEM;
		return NULL;
	}
	q = calloc(1, sizeof(*q) + cap * sizeof(q->ring[0]));
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	q->cap = cap;
	return q;
}

void otlp_queue_free(struct otlp_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		free(q->ring[(q->head + i) % q->cap]);
	free(q);
}

struct span *otlp_span_dup(const struct span *s)
{
	struct span *d = malloc(span_size(s));

	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	span_copy(d, s);
	if (d->nattrs > SPAN_ATTRS_MAX) /* a corrupt count: clamp to what the struct holds */
		d->nattrs = SPAN_ATTRS_MAX;
	return d;
}

size_t otlp_queue_push_item(struct otlp_queue *q, void *s)
{
	size_t dropped = 0;

	if (q->len == q->cap) {
		free(q->ring[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->len--;
		dropped = 1;
	}
	q->ring[(q->head + q->len) % q->cap] = s;
	q->len++;
	return dropped;
}

size_t otlp_queue_pop_items(struct otlp_queue *q, void **out, size_t max)
{
	size_t n = q->len < max ? q->len : max;

	for (size_t i = 0; i < n; i++) {
		out[i] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
	}
	q->len -= n;
	return n;
}

size_t otlp_queue_push(struct otlp_queue *q, struct span *s)
{
	return otlp_queue_push_item(q, s);
}

size_t otlp_queue_pop(struct otlp_queue *q, struct span **out, size_t max)
{
	size_t n = q->len < max ? q->len : max;

	for (size_t i = 0; i < n; i++) {
		out[i] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
	}
	q->len -= n;
	return n;
}

size_t otlp_queue_len(const struct otlp_queue *q)
{
	return q->len;
}
