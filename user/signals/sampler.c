// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sampler.c - OTEL_TRACES_SAMPLER head sampling. The ratio sampler keeps a
 * trace when the trace id's last 8 bytes, read as a big-endian integer,
 * fall below ratio * 2^64, so every node that sees the same trace id with
 * the same ratio decides the same way. The adaptive keep-probabilities use
 * the same rule, and the per-node span budget. See sampler.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

int sampler_parse(struct sampler *s, const char *name, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum sampler_kind root;
		bool parent_based;
	} table[] = {
	    {"always_on", SAMPLER_ALWAYS_ON, false},
	    {"always_off", SAMPLER_ALWAYS_OFF, false},
	    {"traceidratio", SAMPLER_RATIO, false},
	    {"parentbased_always_on", SAMPLER_ALWAYS_ON, true},
	    {"parentbased_always_off", SAMPLER_ALWAYS_OFF, true},
	    {"parentbased_traceidratio", SAMPLER_RATIO, true},
	};
	char *end;

	s->root = SAMPLER_ALWAYS_ON;
	s->parent_based = true;
	s->ratio = 1.0;
	if (!name || !name[0])
		return 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(name, table[i].name) != 0)
			continue;
		s->root = table[i].root;
		s->parent_based = table[i].parent_based;
		if (s->root != SAMPLER_RATIO || !arg || !arg[0])
			return 0;
		s->ratio = strtod(arg, &end);
		if (*end || !(s->ratio >= 0 && s->ratio <= 1)) {
			snprintf(err, errlen,
				 "OTEL_TRACES_SAMPLER_ARG: \"%s\" is not a ratio between 0 and 1",
				 arg);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen,
		 "OTEL_TRACES_SAMPLER: unknown sampler \"%s\" (use always_on, always_off, "
		 "traceidratio or parentbased_*)",
		 name);
	return -EINVAL;
}

bool sampler_decide(const struct sampler *s, const uint8_t trace_id[16], bool has_parent,
		    bool parent_sampled)
{
	if (has_parent && s->parent_based)
		return parent_sampled;
	switch (s->root) {
	case SAMPLER_ALWAYS_ON:
		return true;
	case SAMPLER_ALWAYS_OFF:
		return false;
	case SAMPLER_RATIO:
		return sampler_below(trace_id, s->ratio);
	}
	return true;
}

bool sampler_below(const uint8_t trace_id[16], double p)
{
	uint64_t v = 0;

	if (p >= 1.0)
		return true;
	if (!(p > 0))
		return false;
	for (int i = 8; i < 16; i++)
		v = v << 8 | trace_id[i];
	/* v < p * 2^64, exactly: the bound is an integer below 2^64 */
	return v < (uint64_t)ceil(p * 18446744073709551616.0);
}

/* --- adaptive keep-probabilities and the budget --- */

const char *sampling_rule_name(enum sampling_rule r)
{
	static const char *const names[] = {
	    [RULE_NONE] = "",
	    [RULE_HEAD] = "head",
	    [RULE_ERROR] = "error",
	    [RULE_SLOW] = "slow",
	    [RULE_CRITICAL] = "critical",
	    [RULE_ADAPTIVE_ERROR] = "adaptive.error_ratio",
	    [RULE_ADAPTIVE_SLOW] = "adaptive.latency",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "";
}

/* One service (route "") or one route of a service. */
struct akey {
	bool used;
	uint64_t hash;
	char service[ADAPTIVE_NAME_MAX];
	char route[ADAPTIVE_NAME_MAX];
	uint64_t slot; /* absolute number of the newest slot */
	uint32_t n[ADAPTIVE_SLOTS], err[ADAPTIVE_SLOTS], slow[ADAPTIVE_SLOTS];
	uint64_t sum_n, sum_err, sum_slow; /* over the window */
	double p;			   /* keep-probability */
	uint64_t p_slot;		   /* the slot p was computed for */
	enum sampling_rule why;		   /* what raised p last */
	double tokens;			   /* services: budget share left */
	uint64_t tok_ns;		   /* services: last refill, 0 for never */
};

/* Open addressing with linear probing; size is twice cap. */
struct atable {
	struct akey *k;
	size_t size, cap, used;
};

struct adaptive {
	struct adaptive_opts o;
	uint64_t slot_ns;
	struct atable svc, rt;
	double tokens; /* the node's budget left in this second */
	uint64_t tok_ns;
	bool tok_init;
	struct adaptive_stats st;
};

static uint64_t name_hash(const char *service, const char *route)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *c = service; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* no byte of a C string */
	for (const char *c = route; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	return h;
}

static size_t probe_free(const struct atable *t, uint64_t hash)
{
	size_t i = hash % t->size;

	while (t->k[i].used)
		i = (i + 1) % t->size;
	return i;
}

/* The key of service/route (cut to ADAPTIVE_NAME_MAX - 1 bytes by the
 * caller); created at slot when create and the table has room. */
static struct akey *akey_find(struct atable *t, const char *service, const char *route, bool create,
			      uint64_t slot)
{
	uint64_t h = name_hash(service, route);
	struct akey *k;

	for (size_t n = 0, i = h % t->size; n < t->size; n++, i = (i + 1) % t->size) {
		k = &t->k[i];
		if (!k->used)
			break;
		if (k->hash == h && strcmp(k->service, service) == 0 &&
		    strcmp(k->route, route) == 0)
			return k;
	}
	if (!create || t->used >= t->cap)
		return NULL;
	k = &t->k[probe_free(t, h)];
	memset(k, 0, sizeof(*k));
	k->used = true;
	k->hash = h;
	strcpy(k->service, service);
	strcpy(k->route, route);
	k->slot = slot;
	k->p_slot = slot;
	t->used++;
	return k;
}

/* Removes entry i and moves the rest of its probe cluster into place. */
static void akey_remove(struct atable *t, size_t i)
{
	t->k[i].used = false;
	t->used--;
	for (size_t j = (i + 1) % t->size; t->k[j].used; j = (j + 1) % t->size) {
		struct akey moved = t->k[j];

		t->k[j].used = false;
		t->k[probe_free(t, moved.hash)] = moved;
	}
}

/* Slides k's window forward to slot, emptying the slots it passes. */
static void akey_roll(struct akey *k, uint64_t slot)
{
	uint64_t d;

	if (slot <= k->slot)
		return;
	d = slot - k->slot;
	if (d >= ADAPTIVE_SLOTS) {
		memset(k->n, 0, sizeof(k->n));
		memset(k->err, 0, sizeof(k->err));
		memset(k->slow, 0, sizeof(k->slow));
		k->sum_n = k->sum_err = k->sum_slow = 0;
	} else {
		for (uint64_t s = k->slot + 1; s <= slot; s++) {
			size_t i = s % ADAPTIVE_SLOTS;

			k->sum_n -= k->n[i];
			k->sum_err -= k->err[i];
			k->sum_slow -= k->slow[i];
			k->n[i] = k->err[i] = k->slow[i] = 0;
		}
	}
	k->slot = slot;
}

/* Judged on the window's completed slots: a slot still filling (the first
 * request of a second) says nothing yet. */
static enum sampling_rule akey_health(const struct adaptive *a, const struct akey *k)
{
	size_t cur = k->slot % ADAPTIVE_SLOTS;
	uint64_t n = k->sum_n - k->n[cur], err = k->sum_err - k->err[cur];
	uint64_t slow = k->sum_slow - k->slow[cur];

	if (a->o.error_ratio > 0 && (double)err > a->o.error_ratio * (double)n)
		return RULE_ADAPTIVE_ERROR;
	/* more than 1 % slower than the SLO latency: the p99 is above it */
	if (slow * 100 > n)
		return RULE_ADAPTIVE_SLOW;
	return RULE_NONE;
}

/* Brings k's window and keep-probability up to slot. */
static void akey_update(const struct adaptive *a, struct akey *k, uint64_t slot)
{
	enum sampling_rule why;
	uint64_t steps;

	akey_roll(k, slot);
	why = akey_health(a, k);
	steps = slot > k->p_slot ? slot - k->p_slot : 0;
	k->p_slot = slot > k->p_slot ? slot : k->p_slot;
	if (why) {
		k->why = why;
		if (k->p < ADAPTIVE_P_MIN)
			k->p = ADAPTIVE_P_MIN;
		else
			k->p = ldexp(k->p, steps > 16 ? 16 : (int)steps);
		if (k->p > 1)
			k->p = 1;
	} else if (steps && k->p > 0) {
		k->p *= pow(ADAPTIVE_DECAY, (double)(steps > 1000 ? 1000 : steps));
		if (k->p < 1e-4)
			k->p = 0;
	}
}

static int atable_init(struct atable *t, size_t cap)
{
	t->cap = cap;
	t->size = 2 * cap;
	t->used = 0;
	t->k = calloc(t->size, sizeof(*t->k));
	return t->k ? 0 : -ENOMEM;
}

struct adaptive *adaptive_new(const struct adaptive_opts *o)
{
	struct adaptive *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->o = *o;
	if (!a->o.window_ns)
		a->o.window_ns = 60ull * 1000000000ull;
	a->slot_ns = a->o.window_ns / ADAPTIVE_SLOTS;
	if (!a->slot_ns)
		a->slot_ns = 1;
	if (atable_init(&a->svc, ADAPTIVE_SERVICES) || atable_init(&a->rt, ADAPTIVE_ROUTES)) {
		adaptive_free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void adaptive_free(struct adaptive *a)
{
	if (!a)
		return;
	free(a->svc.k);
	free(a->rt.k);
	free(a);
}

/* service and route cut to the keys' size; route NULL is "". */
static void names(char svc[ADAPTIVE_NAME_MAX], char rt[ADAPTIVE_NAME_MAX], const char *service,
		  const char *route)
{
	snprintf(svc, ADAPTIVE_NAME_MAX, "%s", service ? service : "");
	snprintf(rt, ADAPTIVE_NAME_MAX, "%s", route ? route : "");
}

static void count(const struct adaptive *a, struct akey *k, bool error, bool slow, uint64_t slot)
{
	size_t i;

	akey_roll(k, slot);
	/* an observation older than the newest slot counts in the newest */
	i = k->slot % ADAPTIVE_SLOTS;
	if (k->n[i] == UINT32_MAX)
		return;
	k->n[i]++;
	k->sum_n++;
	k->err[i] += error;
	k->sum_err += error;
	k->slow[i] += slow;
	k->sum_slow += slow;
	akey_update(a, k, slot);
}

void adaptive_observe(struct adaptive *a, const char *service, const char *route, bool error,
		      bool slow, uint64_t now)
{
	char svc[ADAPTIVE_NAME_MAX], rt[ADAPTIVE_NAME_MAX];
	uint64_t slot = now / a->slot_ns;
	struct akey *k;

	names(svc, rt, service, route);
	k = akey_find(&a->svc, svc, "", true, slot);
	if (k)
		count(a, k, error, slow, slot);
	else
		a->st.untracked++;
	if (!rt[0])
		return;
	k = akey_find(&a->rt, svc, rt, true, slot);
	if (k)
		count(a, k, error, slow, slot);
	else
		a->st.untracked++;
}

double adaptive_prob(struct adaptive *a, const char *service, const char *route, uint64_t now,
		     enum sampling_rule *why)
{
	char svc[ADAPTIVE_NAME_MAX], rt[ADAPTIVE_NAME_MAX];
	uint64_t slot = now / a->slot_ns;
	struct akey *k = NULL;

	names(svc, rt, service, route);
	if (rt[0])
		k = akey_find(&a->rt, svc, rt, false, slot);
	if (!k)
		k = akey_find(&a->svc, svc, "", false, slot);
	*why = RULE_NONE;
	if (!k)
		return 0;
	akey_update(a, k, slot);
	if (k->p > 0)
		*why = k->why;
	return k->p;
}

/* tokens grow at rate per second from last to now, up to rate. */
static void refill(double *tokens, uint64_t *last, double rate, uint64_t now)
{
	if (now > *last)
		*tokens += rate * (double)(now - *last) / 1e9;
	if (*tokens > rate)
		*tokens = rate;
	if (now > *last)
		*last = now;
}

bool adaptive_budget(struct adaptive *a, const char *service, uint32_t spans, uint64_t now)
{
	char svc[ADAPTIVE_NAME_MAX], rt[ADAPTIVE_NAME_MAX];
	double budget = a->o.budget, share;
	struct akey *k;
	bool ok;

	if (!(budget > 0))
		return true;
	if (!a->tok_init) {
		a->tokens = budget;
		a->tok_ns = now;
		a->tok_init = true;
	}
	refill(&a->tokens, &a->tok_ns, budget, now);
	names(svc, rt, service, NULL);
	k = akey_find(&a->svc, svc, "", true, now / a->slot_ns);
	share = budget / (double)(a->svc.used ? a->svc.used : 1);
	if (k)
		akey_roll(k, now / a->slot_ns); /* busy: not swept */
	if (k && !k->tok_ns) {
		k->tokens = share;
		k->tok_ns = now ? now : 1;
	} else if (k) {
		refill(&k->tokens, &k->tok_ns, share, now);
	}
	/* within its share, or borrowing while half the node's second is left */
	ok = a->tokens > 0 && ((k && k->tokens > 0) || a->tokens > budget / 2);
	if (!ok) {
		a->st.budget_traces++;
		a->st.budget_spans += spans;
		return false;
	}
	a->tokens -= spans;
	if (a->tokens < -budget)
		a->tokens = -budget;
	if (k) {
		k->tokens -= spans;
		if (k->tokens < -share)
			k->tokens = -share;
	}
	return true;
}

static void sweep_table(struct atable *t, uint64_t slot)
{
	for (size_t i = 0; i < t->size; i++) {
		struct akey *k = &t->k[i];

		if (k->used && slot >= k->slot + ADAPTIVE_SLOTS &&
		    slot >= k->p_slot + ADAPTIVE_SLOTS) {
			akey_remove(t, i);
			i--; /* the cluster may have shifted into this slot */
		}
	}
}

void adaptive_sweep(struct adaptive *a, uint64_t now)
{
	sweep_table(&a->svc, now / a->slot_ns);
	sweep_table(&a->rt, now / a->slot_ns);
}

void adaptive_stats(const struct adaptive *a, struct adaptive_stats *out)
{
	*out = a->st;
}
