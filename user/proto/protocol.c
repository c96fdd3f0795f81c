// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * protocol.c - the set of protocols a pipeline runs: classifies a
 * connection on its first chunks, then hands every chunk, sweep and close
 * to the connection's protocol. See protocol.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int proto_set_add(struct proto_set *s, const struct protocol *p, const struct proto_env *env)
{
	void *inst;

	if (s->n == PROTO_SET_MAX)
		return -ENOSPC;
	inst = p->new (env);
	if (!inst)
		return -ENOMEM;
	s->p[s->n] = p;
	s->inst[s->n++] = inst;
	return 0;
}

void proto_set_release(struct proto_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->p[i]->free(s->inst[i]);
	s->n = 0;
}

static size_t index_of(const struct proto_set *s, const struct conn *c)
{
	size_t i = (size_t)c->proto - CONN_PROTO_FIRST;

	return c->proto >= CONN_PROTO_FIRST && c->proto != CONN_PROTO_OPAQUE && i < s->n ? i : s->n;
}

const struct protocol *proto_set_of(const struct proto_set *s, const struct conn *c)
{
	size_t i = index_of(s, c);

	return i < s->n ? s->p[i] : NULL;
}

/* Bytes of one direction held back because they were too few to tell:
 * the start of a message written a byte or two at a time. */
struct sniff_dir {
	uint64_t ts; /* the first held chunk's */
	uint32_t tid;
	uint16_t len;
	uint8_t source;
	uint8_t data[PROTO_SNIFF_BYTES];
};

struct proto_sniff {
	struct sniff_dir d[2]; /* by direction */
};

static void sniff_free(struct conn *c)
{
	free(c->sniff);
	c->sniff = NULL;
}

/* One refusal more; true when that made the connection opaque. */
static bool refused(struct conn *c)
{
	if (++c->sniff_tries < PROTO_SNIFF_MAX)
		return false;
	c->proto = CONN_PROTO_OPAQUE;
	sniff_free(c);
	return true;
}

/* The first protocol whose detect() claims ch (*i), else whether any of
 * them needs more bytes to tell. */
static enum proto_detect detect_all(struct proto_set *s, const struct proto_chunk *ch, size_t *i)
{
	enum proto_detect best = PROTO_DETECT_NO;

	for (*i = 0; *i < s->n; (*i)++) {
		enum proto_detect r = s->p[*i]->detect(ch);

		if (r == PROTO_DETECT_YES)
			return r;
		if (r == PROTO_DETECT_MORE)
			best = r;
	}
	return best;
}

/* Feeds ch to the connection's protocol i; true when it became opaque. */
static bool feed_one(struct proto_set *s, size_t i, struct conn *c, const struct proto_chunk *ch)
{
	if (s->p[i]->feed(s->inst[i], c, ch) == PROTO_KEEP)
		return false;
	s->p[i]->close(s->inst[i], c, ch->ts);
	c->proto_state = NULL;
	c->proto = CONN_PROTO_OPAQUE;
	return true;
}

/* Protocol i claimed first (the held bytes h, if any, then ch): open it
 * and feed them in order. 0, or -ENOMEM (nothing changed). */
static int claim(struct proto_set *s, size_t i, struct conn *c, const struct proto_chunk *first,
		 const struct sniff_dir *h, const struct proto_chunk *ch, bool *opaque)
{
	struct proto_chunk held;

	if (s->p[i]->open(s->inst[i], c, first))
		return -ENOMEM;
	c->proto = (uint8_t)(CONN_PROTO_FIRST + i);
	*opaque = false;
	if (h && h->len) {
		held = (struct proto_chunk){.data = h->data,
					    .cap_len = h->len,
					    .len = h->len,
					    .ts = h->ts,
					    .tid = h->tid,
					    .dir = ch->dir,
					    .source = h->source};
		*opaque = feed_one(s, i, c, &held);
	}
	if (!*opaque)
		*opaque = feed_one(s, i, c, ch);
	sniff_free(c);
	return 0;
}

/* Holds ch back (no gap, small enough); false when it cannot. */
static bool hold(struct conn *c, const struct proto_chunk *ch)
{
	struct proto_sniff *sn = c->sniff;
	struct sniff_dir *h;

	if (ch->len != ch->cap_len || ch->cap_len >= PROTO_SNIFF_BYTES)
		return false;
	if (!sn) {
		sn = calloc(1, sizeof(*sn));
		if (!sn)
			return false;
		c->sniff = sn;
	}
	h = &sn->d[ch->dir & 1];
	memcpy(h->data, ch->data, ch->cap_len);
	h->len = (uint16_t)ch->cap_len;
	h->ts = ch->ts;
	h->tid = ch->tid;
	h->source = ch->source;
	return true;
}

/*
 * Classifies the connection on the bytes of ch's direction: those held
 * back from earlier chunks followed by ch's. Too few to tell: held back
 * (at most PROTO_SNIFF_BYTES without a gap). Refused: counted, and ch is
 * looked at alone, as a message may start there. True when the
 * connection has just become opaque.
 */
static bool classify(struct proto_set *s, struct conn *c, const struct proto_chunk *ch)
{
	struct proto_sniff *sn = c->sniff;
	struct sniff_dir *h = sn ? &sn->d[ch->dir & 1] : NULL;
	enum proto_detect r;
	bool opaque;
	size_t i;

	if (!ch->len && !ch->cap_len)
		return false; /* nothing moved */
	if (h && h->len) {
		size_t room = PROTO_SNIFF_BYTES - h->len;
		size_t add = ch->cap_len < room ? ch->cap_len : room;
		struct proto_chunk joined = *ch;

		memcpy(h->data + h->len, ch->data, add);
		joined.data = h->data;
		joined.cap_len = joined.len = h->len + add;
		joined.ts = h->ts;
		joined.tid = h->tid;
		r = detect_all(s, &joined, &i);
		if (r == PROTO_DETECT_YES)
			return claim(s, i, c, &joined, h, ch, &opaque) ? false : opaque;
		if (r == PROTO_DETECT_MORE && add == ch->cap_len && ch->len == ch->cap_len &&
		    h->len + add < PROTO_SNIFF_BYTES) {
			h->len = (uint16_t)(h->len + add);
			return false;
		}
		h->len = 0;
		if (refused(c))
			return true;
	}
	r = detect_all(s, ch, &i);
	if (r == PROTO_DETECT_YES)
		return claim(s, i, c, ch, NULL, ch, &opaque) ? false : opaque;
	if (r == PROTO_DETECT_MORE && hold(c, ch))
		return false;
	return refused(c);
}

bool proto_set_feed(struct proto_set *s, struct conn *c, const struct proto_chunk *ch)
{
	size_t i;

	if (c->proto == CONN_PROTO_OPAQUE)
		return false;
	if (c->proto == CONN_PROTO_UNKNOWN)
		return classify(s, c, ch);
	i = index_of(s, c);
	return i < s->n && feed_one(s, i, c, ch);
}

void proto_set_sweep(struct proto_set *s, struct conn *c, uint64_t now_ns)
{
	size_t i = index_of(s, c);

	if (i < s->n && s->p[i]->sweep)
		s->p[i]->sweep(s->inst[i], c, now_ns);
}

void proto_set_close(struct proto_set *s, struct conn *c, uint64_t ts)
{
	size_t i = index_of(s, c);

	sniff_free(c);
	if (i < s->n)
		s->p[i]->close(s->inst[i], c, ts);
	c->proto_state = NULL;
	c->proto = CONN_PROTO_OPAQUE;
}
