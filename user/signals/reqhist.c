// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * reqhist.c - per-thread history of served requests, for parenting late
 * work by time. See reqhist.h.
 */
#include <stdlib.h>
#include <string.h>

#include "reqhist.h"

struct thread_hist {
	uint32_t tid;
	uint32_t tgid;
	uint64_t stamp; /* when its last request started, in reqhist_start() calls; 0: free */
	uint32_t next;	/* ring slot the next request takes */
	uint32_t n;	/* valid slots */
	struct reqhist_req r[REQHIST_DEPTH];
};

struct reqhist {
	uint64_t clock;
	struct thread_hist t[REQHIST_SETS][REQHIST_WAYS];
};

size_t reqhist_bytes(void)
{
	return sizeof(struct reqhist);
}

struct reqhist *reqhist_new(void)
{
	return calloc(1, sizeof(struct reqhist));
}

void reqhist_free(struct reqhist *h)
{
	free(h);
}

static unsigned set_of(uint32_t tid)
{
	return (unsigned)(((uint64_t)tid * 0x9e3779b97f4a7c15ull) >> 40) % REQHIST_SETS;
}

static struct thread_hist *lookup(const struct reqhist *h, uint32_t tid)
{
	const struct thread_hist *set = h->t[set_of(tid)];

	for (int w = 0; w < REQHIST_WAYS; w++)
		if (set[w].stamp && set[w].tid == tid)
			return (struct thread_hist *)&set[w];
	return NULL;
}

void reqhist_start(struct reqhist *h, uint32_t tgid, uint32_t tid, const struct reqhist_req *r)
{
	struct thread_hist *th = lookup(h, tid), *set = h->t[set_of(tid)];

	if (!th) {
		th = &set[0];
		for (int w = 1; w < REQHIST_WAYS; w++)
			if (set[w].stamp < th->stamp)
				th = &set[w]; /* a free entry (0) or the least recently started */
	}
	if (!th->stamp || th->tid != tid || th->tgid != tgid) {
		memset(th, 0, sizeof(*th));
		th->tid = tid;
		th->tgid = tgid;
	}
	th->stamp = ++h->clock;
	th->r[th->next] = *r;
	th->r[th->next].end_ns = 0;
	th->next = (th->next + 1) % REQHIST_DEPTH;
	if (th->n < REQHIST_DEPTH)
		th->n++;
}

void reqhist_end(struct reqhist *h, uint32_t tid, const uint8_t span_id[8], uint64_t end_ns)
{
	struct thread_hist *th = lookup(h, tid);

	if (!th)
		return;
	for (uint32_t i = 0; i < th->n; i++) {
		struct reqhist_req *q = &th->r[i];

		if (!q->end_ns && memcmp(q->span_id, span_id, 8) == 0) {
			q->end_ns = end_ns > q->start_ns ? end_ns : q->start_ns;
			/* a request that ends at its start still holds that instant */
			if (!q->end_ns)
				q->end_ns = 1;
			return;
		}
	}
}

bool reqhist_find(const struct reqhist *h, uint32_t tgid, uint32_t tid, uint64_t ts,
		  struct reqhist_req *out)
{
	const struct thread_hist *th = lookup(h, tid);
	const struct reqhist_req *best = NULL;

	if (!th || th->tgid != tgid)
		return false;
	/* oldest first, so that of two that started at once the later one wins */
	for (uint32_t i = 0; i < th->n; i++) {
		const struct reqhist_req *q =
		    &th->r[(th->next + REQHIST_DEPTH - th->n + i) % REQHIST_DEPTH];

		if (q->start_ns > ts)
			continue;
		if (q->end_ns ? ts > q->end_ns : ts - q->start_ns > REQHIST_OPEN_NS)
			continue;
		if (!best || q->start_ns >= best->start_ns)
			best = q;
	}
	if (!best)
		return false;
	*out = *best;
	return true;
}
