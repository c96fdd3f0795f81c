// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * inflight.c - in-flight counts per process, service, method and scheme,
 * applied to the gauge once a drain. See inflight.h.
 */
#include <stdlib.h>
#include <string.h>

#include "inflight.h"

struct slot {
	struct inflight_key key;
	uint16_t gen;	 /* bumped when the slot takes a new key */
	bool dirty;	 /* on the dirty list */
	int32_t count;	 /* exchanges started and not over */
	int32_t applied; /* what series holds of this slot's count */
	struct metric_series *series;
};

struct inflight {
	struct slot slot[INFLIGHT_SLOTS];
	uint16_t dirty[INFLIGHT_SLOTS];
	unsigned ndirty;
	unsigned victim; /* rotates over a set's free ways */
};

_Static_assert(INFLIGHT_SLOTS <= UINT16_MAX, "slot numbers are 16-bit, 0 meaning none");
_Static_assert(INFLIGHT_SLOTS % INFLIGHT_WAYS == 0, "whole sets");

struct inflight *inflight_new(void)
{
	return calloc(1, sizeof(struct inflight));
}

void inflight_free(struct inflight *t)
{
	free(t);
}

/* A slot holds nothing the gauge or an exchange still needs. */
static bool slot_free(const struct slot *s)
{
	return !s->count && !s->applied && !s->dirty;
}

static bool key_is(const struct slot *s, uint32_t tgid, uint8_t method, bool tls,
		   const char *service)
{
	return s->key.tgid == tgid && s->key.method == method && s->key.tls == tls &&
	       strcmp(s->key.service, service) == 0;
}

static void mark_dirty(struct inflight *t, struct slot *s)
{
	if (s->dirty)
		return;
	s->dirty = true;
	t->dirty[t->ndirty++] = (uint16_t)(s - t->slot);
}

/* The slot of the key, taking a free one of its set if need be; NULL when all are in use. */
static struct slot *slot_for(struct inflight *t, uint32_t tgid, uint8_t method, bool tls,
			     const char *service)
{
	uint64_t h = ((uint64_t)tgid << 9 ^ (uint64_t)method << 1 ^ tls) * 0x9e3779b97f4a7c15ull;
	struct slot *set = &t->slot[(h >> 40) & (INFLIGHT_SLOTS - INFLIGHT_WAYS)], *s;

	/* tgid is never 0 (inflight_start()): an unused slot matches no key */
	for (unsigned i = 0; i < INFLIGHT_WAYS; i++)
		if (key_is(&set[i], tgid, method, tls, service))
			return &set[i];
	for (unsigned i = 0; i < INFLIGHT_WAYS; i++) {
		s = &set[(t->victim + i) % INFLIGHT_WAYS];
		if (!slot_free(s))
			continue;
		t->victim++;
		s->key.tgid = tgid;
		s->key.method = method;
		s->key.tls = tls;
		strcpy(s->key.service, service); /* its length was checked */
		s->gen++;
		s->series = NULL;
		return s;
	}
	return NULL;
}

bool inflight_start(struct inflight *t, struct http_exchange *x, const char *service,
		    uint8_t method, bool tls)
{
	struct slot *s;

	if (!x->tgid || strlen(service) >= INFLIGHT_SERVICE_MAX)
		return false;
	s = slot_for(t, x->tgid, method, tls, service);
	if (!s)
		return false;
	s->count++;
	mark_dirty(t, s);
	x->inflight_slot = (uint16_t)(s - t->slot + 1);
	x->inflight_gen = s->gen;
	return true;
}

bool inflight_done(struct inflight *t, const struct http_exchange *x)
{
	struct slot *s;

	if (!x->inflight_slot || x->inflight_slot > INFLIGHT_SLOTS)
		return false;
	s = &t->slot[x->inflight_slot - 1];
	/* a slot takes a new key only once its count is back to zero, so the
	 * generation always matches: checked all the same */
	if (s->gen == x->inflight_gen && s->count > 0) {
		s->count--;
		mark_dirty(t, s);
	}
	return true;
}

void inflight_flush(struct inflight *t, inflight_find_fn find, void *ctx)
{
	for (unsigned i = 0; i < t->ndirty; i++) {
		struct slot *s = &t->slot[t->dirty[i]];
		struct metric_series *now;

		s->dirty = false;
		/* looked up even when the count is what the gauge holds (an
		 * exchange that started and ended within the drain): so the
		 * series exists from the first exchange on, shows 0, is kept
		 * from expiring while the exchanges go on, and follows labels
		 * that moved */
		now = find(ctx, &s->key);
		if (now != s->series) {
			/* the labels moved: the count goes with them */
			if (s->applied)
				metric_gauge_add(s->series, -s->applied);
			s->applied = 0;
			s->series = now;
		}
		if (now && s->count != s->applied) {
			metric_gauge_add(now, s->count - s->applied);
			s->applied = s->count;
		}
	}
	t->ndirty = 0;
}
