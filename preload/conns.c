// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * conns.c - the shim's static connection table and per-connection FIFOs
 * (see conns.h).
 */
#include <string.h>

#include "conns.h"
#include "core.h"

#define KEY_EMPTY   0
#define KEY_DELETED 1

static struct conn conns[CONN_SLOTS];

static unsigned conn_hash(uintptr_t key)
{
	return (unsigned)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> 32) & (CONN_SLOTS - 1);
}

struct conn *conn_find(const void *obj)
{
	uintptr_t key = (uintptr_t)obj;
	unsigned i = conn_hash(key), n;

	if (key <= KEY_DELETED)
		return NULL;
	for (n = 0; n < CONN_SLOTS; n++, i = (i + 1) & (CONN_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&conns[i].key, __ATOMIC_ACQUIRE);

		if (cur == key)
			return &conns[i];
		if (cur == KEY_EMPTY)
			return NULL;
	}
	return NULL;
}

struct conn *conn_get(const void *obj, uint8_t system)
{
	uintptr_t key = (uintptr_t)obj;
	struct conn *c = conn_find(obj);
	unsigned i = conn_hash(key), n;

	if (c || key <= KEY_DELETED)
		return c;
	for (n = 0; n < CONN_SLOTS; n++, i = (i + 1) & (CONN_SLOTS - 1)) {
		uintptr_t cur = __atomic_load_n(&conns[i].key, __ATOMIC_ACQUIRE);

		if (cur != KEY_EMPTY && cur != KEY_DELETED)
			continue;
		if (!__atomic_compare_exchange_n(&conns[i].key, &cur, key, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue; /* another thread took it for another object */
		c = &conns[i];
		c->system = system;
		c->stmt_next = 0;
		c->fifo_head = 0;
		c->fifo_len = 0;
		c->redis_db = 0;
		memset(&c->ep, 0, sizeof(c->ep));
		for (n = 0; n < CONN_STMTS; n++)
			c->stmts[n].used = 0;
		return c;
	}
	shim_count_untracked();
	return NULL;
}

void conn_drop(const void *obj)
{
	struct conn *c = conn_find(obj);

	if (c)
		__atomic_store_n(&c->key, KEY_DELETED, __ATOMIC_RELEASE);
}

static struct pend *pend_at(struct conn *c, unsigned idx)
{
	return &c->fifo[(c->fifo_head + idx) % CONN_FIFO];
}

static struct pend *pend_tail(struct conn *c)
{
	return c->fifo_len ? pend_at(c, c->fifo_len - 1u) : NULL;
}

static struct pend *pend_append(struct conn *c, uint8_t type)
{
	struct pend *p = pend_at(c, c->fifo_len);

	c->fifo_len++;
	memset(p, 0, offsetof(struct pend, text));
	p->type = type;
	p->select_db = -1;
	return p;
}

/* OP entries use at most CONN_FIFO - 1 slots: the last one is kept
 * for a SKIP entry, which counts whatever does not fit, in order. */
static struct pend *pend_skip(struct conn *c)
{
	struct pend *t = pend_tail(c);

	if (t && t->type == PEND_SKIP)
		return t;
	return pend_append(c, PEND_SKIP);
}

struct pend *pend_push(struct conn *c)
{
	if (c->fifo_len < CONN_FIFO - 1)
		return pend_append(c, PEND_OP);
	pend_skip(c)->skip_ops++;
	shim_count_untracked();
	return NULL;
}

struct pend *pend_head(struct conn *c)
{
	return c->fifo_len ? pend_at(c, 0) : NULL;
}

void pend_pop(struct conn *c)
{
	if (!c->fifo_len)
		return;
	c->fifo_head = (uint16_t)((c->fifo_head + 1) % CONN_FIFO);
	c->fifo_len--;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

void stmt_put(struct conn *c, const char *name, const char *text)
{
	uint64_t h = name_hash(name);
	struct stmt *s = NULL;
	size_t len;
	int i;

	for (i = 0; i < CONN_STMTS; i++)
		if (c->stmts[i].used && c->stmts[i].name_hash == h)
			s = &c->stmts[i];
	if (!s) {
		s = &c->stmts[c->stmt_next];
		c->stmt_next = (uint8_t)((c->stmt_next + 1) % CONN_STMTS);
	}
	len = shim_strnlen(text, PEND_TEXT + 1);
	s->truncated = len > PEND_TEXT;
	if (s->truncated)
		len = PEND_TEXT;
	if (len)
		memcpy(s->text, text, len);
	s->len = (uint16_t)len;
	s->name_hash = h;
	s->used = 1;
}

const struct stmt *stmt_get(const struct conn *c, const char *name)
{
	uint64_t h = name_hash(name);
	int i;

	for (i = 0; i < CONN_STMTS; i++)
		if (c->stmts[i].used && c->stmts[i].name_hash == h)
			return &c->stmts[i];
	return NULL;
}
