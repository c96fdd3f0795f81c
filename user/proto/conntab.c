// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * conntab.c - a chained hash table of connections keyed by (tgid, fd),
 * with generation checks for fd reuse and a bound on its size. See
 * conntab.h.
 *
 * The bucket arrays start small and double as connections come (one
 * bucket a connection, up to one for max_conns): a node with a hundred
 * connections keeps its buckets in a few cache lines, where arrays sized
 * for 65 536 spread them over 1 MiB, a cache miss on every record's
 * look-up (BENCHMARKS.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conntab.h"

struct conntab {
	struct conn **buckets;
	struct conn **pbuckets; /* by tgid alone: one process's connections */
	size_t nbuckets;	/* power of two, for both */
	size_t max_buckets;	/* what they may grow to */
	struct conn *all;	/* every connection, newest first */
	size_t count;
	size_t max;
	uint64_t full_misses;
	uint64_t recreated;
	conntab_close_fn on_close;
	void *ctx;
};

/* struct conn's first fields in one cache line (conntab.h) */
#define CONN_ALIGN 64u
_Static_assert(offsetof(struct conn, sniff) + sizeof(void *) <= CONN_ALIGN,
	       "the hot fields fit a line");

#define BUCKETS_MIN 256u
#define BUCKETS_MAX (1u << 20)

static size_t hash_key(uint32_t tgid, uint32_t fd, size_t nbuckets)
{
	uint64_t k = ((uint64_t)tgid << 32 | fd) * 0x9e3779b97f4a7c15ull;

	return (size_t)(k >> 32) & (nbuckets - 1);
}

struct conntab *conntab_new(size_t max_conns, conntab_close_fn on_close, void *ctx)
{
	struct conntab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max_buckets = BUCKETS_MIN;
	while (t->max_buckets < max_conns && t->max_buckets < BUCKETS_MAX)
		t->max_buckets <<= 1;
	t->nbuckets = BUCKETS_MIN;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->pbuckets = calloc(t->nbuckets, sizeof(*t->pbuckets));
	if (!t->buckets || !t->pbuckets) {
		free(t->buckets);
		free(t->pbuckets);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->max = max_conns;
	t->on_close = on_close;
	t->ctx = ctx;
	return t;
}

static size_t hash_tgid(uint32_t tgid, size_t nbuckets)
{
	return (size_t)((tgid * 0x9e3779b97f4a7c15ull) >> 32) & (nbuckets - 1);
}

static void unlink_conn(struct conntab *t, struct conn **pp, uint64_t ts)
{
	struct conn *c = *pp;

	*pp = c->hnext;
	*c->ppprev = c->pnext;
	if (c->pnext)
		c->pnext->ppprev = c->ppprev;
	*c->apprev = c->anext;
	if (c->anext)
		c->anext->apprev = c->apprev;
	t->count--;
	if (t->on_close)
		t->on_close(t->ctx, c, ts);
	free(c);
}

/* Puts c at the head of its chains in bucket arrays b (by key) and pb
 * (by process) of n buckets. */
static void link_buckets(struct conn **b, struct conn **pb, size_t n, struct conn *c)
{
	struct conn **pp = &b[hash_key(c->tgid, c->fd, n)];

	c->hnext = *pp;
	*pp = c;
	pp = &pb[hash_tgid(c->tgid, n)];
	c->pnext = *pp;
	if (c->pnext)
		c->pnext->ppprev = &c->pnext;
	c->ppprev = pp;
	*pp = c;
}

/* Doubles both bucket arrays and links every connection in again; on
 * ENOMEM the table stays as it is (longer chains, still right). */
__attribute__((noinline, cold)) static void grow(struct conntab *t)
{
	size_t n = t->nbuckets * 2;
	struct conn **b = calloc(n, sizeof(*b)), **pb = calloc(n, sizeof(*pb));

	if (!b || !pb) {
		free(b);
		free(pb);
		return;
	}
	for (struct conn *c = t->all; c; c = c->anext)
		link_buckets(b, pb, n, c);
	free(t->buckets);
	free(t->pbuckets);
	t->buckets = b;
	t->pbuckets = pb;
	t->nbuckets = n;
}

static struct conn **find(struct conntab *t, uint32_t tgid, uint32_t fd)
{
	struct conn **pp = &t->buckets[hash_key(tgid, fd, t->nbuckets)];

	while (*pp && ((*pp)->tgid != tgid || (*pp)->fd != fd))
		pp = &(*pp)->hnext;
	return pp;
}

void conntab_free(struct conntab *t)
{
	if (!t)
		return;
	while (t->all)
		unlink_conn(t, find(t, t->all->tgid, t->all->fd), 0);
	free(t->buckets);
	free(t->pbuckets);
	free(t);
}

/* conntab_get()'s new connection for id, in place of *pp (the fd's old
 * one, or the empty end of its chain). Out of line: the look-up that
 * finds one, once every record, stays without its registers. */
__attribute__((noinline)) static struct conn *conn_create(struct conntab *t, struct conn **pp,
							  const struct rt_conn_id *id)
{
	struct conn *c;

	if (*pp)
		unlink_conn(t, pp, 0); /* fd reused: the old connection is over */
	if (t->count >= t->max) {
		t->full_misses++;
		return NULL;
	}
	if (posix_memalign((void **)&c, CONN_ALIGN, sizeof(*c))) {
		t->full_misses++;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->tgid = id->tgid;
	c->fd = id->fd;
	c->gen = c->first_gen = id->gen;
	link_buckets(t->buckets, t->pbuckets, t->nbuckets, c);
	c->anext = t->all;
	if (c->anext)
		c->anext->apprev = &c->anext;
	c->apprev = &t->all;
	t->all = c;
	t->count++;
	if (t->count > t->nbuckets && t->nbuckets < t->max_buckets)
		grow(t);
	return c;
}

struct conn *conntab_get(struct conntab *t, const struct rt_conn_id *id, bool create)
{
	struct conn **pp = find(t, id->tgid, id->fd);
	struct conn *c = *pp;

	if (c && id->gen >= c->first_gen && id->gen <= c->gen)
		return c;
	if (c && c->gen > id->gen)
		return NULL; /* a late record of a connection already replaced */
	return create ? conn_create(t, pp, id) : NULL;
}

struct conn *conntab_open(struct conntab *t, const struct rt_conn_id *id, uint64_t sock_ino)
{
	struct conn *c = *find(t, id->tgid, id->fd);

	if (c && sock_ino && c->sock_ino == sock_ino && id->gen > c->gen) {
		c->gen = id->gen;   /* the same socket: its kernel entry was re-created */
		c->opaque_told = 0; /* the new entry must be told again */
		t->recreated++;
		return c;
	}
	c = conntab_get(t, id, true);
	if (c && !c->sock_ino)
		c->sock_ino = sock_ino;
	return c;
}

void conntab_close_tgid(struct conntab *t, uint32_t tgid, uint64_t opened_before, uint64_t ts)
{
	struct conn *c = t->pbuckets[hash_tgid(tgid, t->nbuckets)], *next;

	for (; c; c = next) {
		next = c->pnext;
		if (c->tgid == tgid && c->opened_ts <= opened_before)
			unlink_conn(t, find(t, c->tgid, c->fd), ts);
	}
}

void conntab_close(struct conntab *t, const struct rt_conn_id *id, uint64_t ts)
{
	struct conn **pp = find(t, id->tgid, id->fd);

	if (*pp && (*pp)->first_gen <= id->gen)
		unlink_conn(t, pp, ts);
}

void conntab_close_if(struct conntab *t, bool (*pred)(void *ctx, const struct conn *c), void *ctx,
		      uint64_t ts)
{
	struct conn *c, *next;

	for (c = t->all; c; c = next) {
		next = c->anext;
		if (pred(ctx, c))
			unlink_conn(t, find(t, c->tgid, c->fd), ts);
	}
}

void conntab_for_each(struct conntab *t, void (*fn)(void *ctx, struct conn *c), void *ctx)
{
	for (struct conn *c = t->all; c; c = c->anext)
		fn(ctx, c);
}

/* Writes the address of an endpoint (IPv4-mapped shown as IPv4). */
static void endpoint_ip(const struct rt_endpoint *e, char *out, size_t outlen)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(e->addr, v4mapped, 12) == 0)
		inet_ntop(AF_INET, e->addr + 12, out, (socklen_t)outlen);
	else
		inet_ntop(AF_INET6, e->addr, out, (socklen_t)outlen);
}

void conn_set_endpoints(struct conn *c, const struct rt_endpoint *local,
			const struct rt_endpoint *remote, uint16_t family)
{
	c->local = *local;
	c->remote = *remote;
	c->family = family;
	c->has_endpoints = 1;
	endpoint_ip(remote, c->remote_ip, sizeof(c->remote_ip));
}

const char *conn_remote_ip(const struct conn *c)
{
	return c->has_endpoints ? c->remote_ip : "";
}

size_t conntab_count(const struct conntab *t)
{
	return t->count;
}

uint64_t conntab_full_misses(const struct conntab *t)
{
	return t->full_misses;
}

uint64_t conntab_recreated(const struct conntab *t)
{
	return t->recreated;
}
