/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_queue.h - the bounded FIFO of spans waiting for export. When it is
 * full, pushing drops (frees) the OLDEST span, so memory stays bounded
 * however long the collector is away, and the newest data survives.
 *
 * Spans are stored as compact copies (otlp_span_dup): span_size() bytes,
 * the text in use only, so only the span.h accessors may read a copy.
 *
 * API: not thread-safe; the exporter holds its lock around every call.
 * The queue owns the spans it holds; otlp_queue_pop() hands them over.
 */
#ifndef REDTAP_OTLP_QUEUE_H
#define REDTAP_OTLP_QUEUE_H

#include <stddef.h>

#include "span.h"

struct otlp_queue;

/* A queue for at most cap spans (cap >= 1). NULL and errno = ENOMEM. */
struct otlp_queue *otlp_queue_new(size_t cap);
/* Frees the queue and the spans it still holds. NULL ok. */
void otlp_queue_free(struct otlp_queue *q);

/* A malloc()ed copy of s holding only its s->nattrs attributes (free() it); NULL on ENOMEM. */
struct span *otlp_span_dup(const struct span *s);

/* Appends s (ownership moves to the queue). Returns how many spans were dropped (0 or 1). */
size_t otlp_queue_push(struct otlp_queue *q, struct span *s);

/* Moves up to max of the oldest spans into out, oldest first; returns how many. */
size_t otlp_queue_pop(struct otlp_queue *q, struct span **out, size_t max);

size_t otlp_queue_len(const struct otlp_queue *q);

/* The same for any single-block malloc()ed item (log records): the queue
 * frees what it drops or still holds at otlp_queue_free() with free(). */
size_t otlp_queue_push_item(struct otlp_queue *q, void *item);
size_t otlp_queue_pop_items(struct otlp_queue *q, void **out, size_t max);

#endif /* REDTAP_OTLP_QUEUE_H */
