// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * protocol.c - the set of protocols a pipeline runs: classifies a
 * connection on its first chunks, then hands every chunk, sweep and close
 * to the connection's protocol. See protocol.h for the contract.
 */
#include <errno.h>

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

/* The protocol whose detect() claims the chunk, s->n when none does. */
static size_t classify(struct proto_set *s, struct conn *c, const struct proto_chunk *ch)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->p[i]->detect(ch) != PROTO_DETECT_YES)
			continue;
		if (s->p[i]->open(s->inst[i], c, ch))
			return s->n; /* out of memory: try again on the next chunk */
		c->proto = (uint8_t)(CONN_PROTO_FIRST + i);
		return i;
	}
	if (++c->sniff_tries >= PROTO_SNIFF_MAX)
		c->proto = CONN_PROTO_OPAQUE;
	return s->n;
}

bool proto_set_feed(struct proto_set *s, struct conn *c, const struct proto_chunk *ch)
{
	size_t i;

	if (c->proto == CONN_PROTO_OPAQUE)
		return false;
	i = c->proto == CONN_PROTO_UNKNOWN ? classify(s, c, ch) : index_of(s, c);
	if (i == s->n)
		return c->proto == CONN_PROTO_OPAQUE;
	if (s->p[i]->feed(s->inst[i], c, ch) == PROTO_KEEP)
		return false;
	s->p[i]->close(s->inst[i], c, ch->ts);
	c->proto_state = NULL;
	c->proto = CONN_PROTO_OPAQUE;
	return true;
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

	if (i < s->n)
		s->p[i]->close(s->inst[i], c, ts);
	c->proto_state = NULL;
	c->proto = CONN_PROTO_OPAQUE;
}
