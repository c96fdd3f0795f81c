/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sampler.h - head sampling as OpenTelemetry's SDKs configure it with
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: always_on, always_off,
 * traceidratio and their parentbased_* forms (the default is
 * parentbased_always_on).
 *
 * API: sampler_parse() fills a struct sampler (a value, no resources);
 * sampler_decide() gives the decision for a new span from its trace id and
 * its parent's sampled flag when the parent is remote.
 *
 * Also the adaptive part of the tail decision: keep-probabilities that
 * follow each service's and route's error ratio and p99, and the per-node
 * span budget (struct adaptive, below).
 */
#ifndef REDTAP_SAMPLER_H
#define REDTAP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sampler_kind {
	SAMPLER_ALWAYS_ON,
	SAMPLER_ALWAYS_OFF,
	SAMPLER_RATIO,
};

struct sampler {
	enum sampler_kind root; /* for spans without a parent */
	bool parent_based;	/* follow a parent's sampled flag */
	double ratio;		/* SAMPLER_RATIO: 0..1 */
};

/* name/arg as in the environment (NULL = unset). -EINVAL with a sentence
 * in err for an unknown sampler or a bad ratio. */
int sampler_parse(struct sampler *s, const char *name, const char *arg, char *err, size_t errlen);

/* has_parent: the span continues a trace from elsewhere; parent_sampled:
 * that parent's W3C sampled flag. */
bool sampler_decide(const struct sampler *s, const uint8_t trace_id[16], bool has_parent,
		    bool parent_sampled);

/* The trace-id ratio rule on its own: the trace id's last 8 bytes, read
 * big-endian, below p * 2^64. Every node with the same p agrees, and a
 * trace kept at p is kept at any larger p. */
bool sampler_below(const uint8_t trace_id[16], double p);

/*
 * Adaptive keep-probabilities (issue 14). Per service, and per route of a
 * service up to ADAPTIVE_ROUTES routes, a sliding window of ADAPTIVE_SLOTS
 * slots (1 s each for the default 60 s window) counts requests, errors and
 * requests slower than the route's SLO latency. A key is unhealthy while,
 * over the window's completed slots, errors / requests exceeds error_ratio,
 * or slow / requests exceeds 1 % (the p99 is above the SLO latency). Once
 * unhealthy, its keep-probability starts at 1/64 and doubles every slot up
 * to 1; once healthy it decays by a tenth per slot. A trace is kept at its route's probability, or
 * its service's when the route is not tracked (none, or beyond the cap), with sampler_below().
 *
 * The budget: at most budget spans per second per node (0: no cap), an
 * equal share per service seen in the window; a service may go over its
 * share while more than half of the node's second is left. Traces over
 * budget are dropped and counted.
 *
 * Time is the caller's (monotonic ns): tests drive it. Not thread-safe.
 */
#define ADAPTIVE_SLOTS	  60
#define ADAPTIVE_SERVICES 128 /* services tracked (budget shares, rates) */
#define ADAPTIVE_ROUTES	  256 /* routes tracked; further ones use their service's rate */
#define ADAPTIVE_NAME_MAX 128 /* longer service names and routes are cut */
#define ADAPTIVE_P_MIN	  (1.0 / 64)
#define ADAPTIVE_DECAY	  0.9

/* Why a trace was kept: the span attribute sampling.rule. */
enum sampling_rule {
	RULE_NONE,
	RULE_HEAD,	     /* "head": the head sampler (or the caller) kept it */
	RULE_ERROR,	     /* "error": a span failed */
	RULE_SLOW,	     /* "slow": the root was slower than its threshold */
	RULE_CRITICAL,	     /* "critical": a critical route, at its floor rate */
	RULE_ADAPTIVE_ERROR, /* "adaptive.error_ratio": the route's error ratio is high */
	RULE_ADAPTIVE_SLOW,  /* "adaptive.latency": the route's p99 is above its SLO */
};

const char *sampling_rule_name(enum sampling_rule r);

struct adaptive_opts {
	double error_ratio; /* unhealthy above this; 0: the error rule is off */
	uint64_t window_ns; /* the sliding window; 0: 60 s */
	double budget;	    /* spans per second per node; 0: no cap */
};

struct adaptive_stats {
	uint64_t budget_traces; /* traces dropped by the budget */
	uint64_t budget_spans;	/* their spans */
	uint64_t untracked;	/* observations of a route or service beyond the caps */
};

struct adaptive;

struct adaptive *adaptive_new(const struct adaptive_opts *o); /* NULL and errno on error */
void adaptive_free(struct adaptive *a);			      /* NULL ok */

/* One request of service (route may be "" or NULL) that ended at now;
 * slow: it took longer than the route's SLO latency. */
void adaptive_observe(struct adaptive *a, const char *service, const char *route, bool error,
		      bool slow, uint64_t now);
/* The keep-probability of a trace rooted at service/route, and the rule
 * behind it (RULE_NONE when 0). */
double adaptive_prob(struct adaptive *a, const char *service, const char *route, uint64_t now,
		     enum sampling_rule *why);
/* Takes spans from the budget for a kept trace of service. False: over
 * budget, drop it (counted). */
bool adaptive_budget(struct adaptive *a, const char *service, uint32_t spans, uint64_t now);
/* Forgets services and routes idle for a whole window. */
void adaptive_sweep(struct adaptive *a, uint64_t now);
void adaptive_stats(const struct adaptive *a, struct adaptive_stats *out);

#endif /* REDTAP_SAMPLER_H */
