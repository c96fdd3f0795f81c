// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tracer.c - spans from exchanges and DB operations: W3C trace context,
 * parenting by serving thread and by connection between two local
 * processes, head sampling, and tail decisions when the local root ends.
 * See tracer.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "http2.h"
#include "httpmetrics.h"
#include "reqhist.h"
#include "semconv.h"
#include "strfmt.h"
#include "tracer.h"

#define THREADS	  16384 /* serving-thread table (direct mapped by tid) */
#define LINKS	  16384 /* client connections of local processes */
#define POOL	  TRACER_POOL_SPANS
#define PENDING	  1024 /* undecided traces */
#define DECIDED	  8192 /* recent decisions (direct mapped by trace id) */
#define STALE_NS  (30ull * 1000000000ull)
#define RND_BATCH 512 /* random bytes fetched per getrandom() */

struct active {
	uint32_t tid;
	bool used;
	bool sampled;
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

struct link {
	bool used;
	bool sampled;
	uint8_t key[36];
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

struct pending {
	bool used;
	bool error;
	bool head;
	uint8_t trace_id[16];
	int first; /* pool index of the first held span, -1 for none */
	uint32_t n;
	uint64_t first_ns;
};

struct decided {
	bool used;
	bool keep;
	uint8_t trace_id[16];
};

struct tracer {
	struct sampler sampler;
	uint64_t slow_ns;
	struct slow_route {
		char route[HTTP_ROUTE_MAX];
		uint64_t ns;
	} slow_routes[16];
	size_t nslow;
	char **critical;
	size_t ncritical;
	double critical_floor;
	struct adaptive *adapt;
	size_t nattrs;	 /* request attributes (tracer_opts.nrequest_attrs) */
	size_t nbaggage; /* the last nbaggage attributes come from baggage */
	char bag_keys[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_NAME + 1];
	size_t bag_header;		      /* captured index of the baggage header */
	size_t crit_header;		      /* captured index of the critical header */
	char crit_value[HTTP1_CAPTURE_VALUE]; /* "" for none */
	char *thread_attrs; /* THREADS x nattrs x HTTP1_CAPTURE_VALUE: the served request's */
	tracer_emit_fn emit;
	void *ctx;
	uint8_t rnd[RND_BATCH]; /* from getrandom(); rnd_pos bytes of it are used */
	size_t rnd_pos;
	uint64_t rng; /* fallback generator, only if getrandom() fails */
	int64_t mono_to_unix;
	struct tracer_stats stats;
	struct active threads[THREADS];
	struct reqhist *hist; /* the last requests of each thread, for late DB records */
	struct link links[LINKS];
	struct pending pending[PENDING];
	struct decided decided[DECIDED];
	struct span *pool;
	int *pool_next;
	int pool_free;
};

/* Facts about a finished span that the tail decision needs. */
struct finish {
	bool local_root;
	bool error;
	bool slow;     /* over its slowness threshold */
	bool critical; /* a server span of a critical route */
	bool server;   /* a server span: the adaptive rates apply */
	bool head;
	const char *service; /* for the adaptive rates and the budget */
	const char *route;
};

/* --- ids and clocks --- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * n (<= RND_BATCH) bytes from the kernel's random source, fetched RND_BATCH
 * at a time so that a span costs a memcpy, not a system call. Should
 * getrandom() ever fail, the bytes come from splitmix64 seeded at start (ids
 * stay unique, though no longer unpredictable).
 */
static void random_bytes(struct tracer *t, uint8_t *out, size_t n)
{
	if (t->rnd_pos + n > sizeof(t->rnd)) {
		ssize_t got;

		do
			got = getrandom(t->rnd, sizeof(t->rnd), 0);
		while (got < 0 && errno == EINTR);
		for (size_t i = got > 0 ? (size_t)got : 0; i < sizeof(t->rnd); i += 8) {
			uint64_t v = splitmix(&t->rng);

			memcpy(t->rnd + i, &v, sizeof(t->rnd) - i < 8 ? sizeof(t->rnd) - i : 8);
		}
		t->rnd_pos = 0;
	}
	memcpy(out, t->rnd + t->rnd_pos, n);
	t->rnd_pos += n;
}

/* A random trace or span id, never all zero (W3C trace context). */
static void random_id(struct tracer *t, uint8_t *out, size_t n)
{
	do
		random_bytes(t, out, n);
	while (is_zero(out, n));
}

static void refresh_clock(struct tracer *t)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	t->mono_to_unix = ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000ll +
			  ((int64_t)real.tv_nsec - mono.tv_nsec);
}

static uint64_t to_unix(const struct tracer *t, uint64_t mono)
{
	return (uint64_t)((int64_t)mono + t->mono_to_unix);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool tracer_parse_traceparent(const char *tp, uint8_t trace_id[16], uint8_t span_id[8],
			      bool *sampled)
{
	uint8_t version, flags;

	/* version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 */
	if (strlen(tp) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
		return false;
	if (!unhex(tp, &version, 1) || version == 0xff || (version == 0 && tp[55] != '\0') ||
	    (tp[55] != '\0' && tp[55] != '-'))
		return false;
	if (!unhex(tp + 3, trace_id, 16) || !unhex(tp + 36, span_id, 8) ||
	    !unhex(tp + 53, &flags, 1))
		return false;
	if (is_zero(trace_id, 16) || is_zero(span_id, 8))
		return false;
	*sampled = flags & 1;
	return true;
}

/* --- tables --- */

static size_t id_hash(const uint8_t trace_id[16], size_t size)
{
	uint64_t v;

	memcpy(&v, trace_id + 8, 8);
	/* the product's top bits depend on every bit of v */
	return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 32) % size;
}

static void link_key(uint8_t key[36], const struct rt_endpoint *client,
		     const struct rt_endpoint *server)
{
	memcpy(key, client->addr, 16);
	memcpy(key + 16, &client->port, 2);
	memcpy(key + 18, server->addr, 16);
	memcpy(key + 34, &server->port, 2);
}

static struct link *link_slot(struct tracer *t, const uint8_t key[36])
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 36; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return &t->links[h % LINKS];
}

static struct decided *decided_find(struct tracer *t, const uint8_t trace_id[16])
{
	struct decided *d = &t->decided[id_hash(trace_id, DECIDED)];

	return d->used && memcmp(d->trace_id, trace_id, 16) == 0 ? d : NULL;
}

static void decided_put(struct tracer *t, const uint8_t trace_id[16], bool keep)
{
	struct decided *d = &t->decided[id_hash(trace_id, DECIDED)];

	d->used = true;
	d->keep = keep;
	memcpy(d->trace_id, trace_id, 16);
}

static struct pending *pending_find(struct tracer *t, const uint8_t trace_id[16], bool create)
{
	size_t h = id_hash(trace_id, PENDING);

	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &t->pending[(h + i) % PENDING];

		if (p->used && memcmp(p->trace_id, trace_id, 16) == 0)
			return p;
		if (!p->used) {
			if (!create)
				return NULL;
			memset(p, 0, sizeof(*p));
			p->used = true;
			p->first = -1;
			memcpy(p->trace_id, trace_id, 16);
			return p;
		}
	}
	return NULL;
}

/* Removes p and re-inserts the entries of its probe cluster after it. */
static void pending_remove(struct tracer *t, struct pending *p)
{
	size_t i = (size_t)(p - t->pending);

	p->used = false;
	for (size_t j = (i + 1) % PENDING; t->pending[j].used; j = (j + 1) % PENDING) {
		struct pending moved = t->pending[j], *dst;

		t->pending[j].used = false;
		dst = pending_find(t, moved.trace_id, true);
		*dst = moved;
	}
}

static void emit(struct tracer *t, const struct span *s)
{
	t->stats.spans_emitted++;
	t->emit(t->ctx, s);
}

/* Emits or frees every span held for p, records the decision. */
static void decide(struct tracer *t, struct pending *p, bool keep)
{
	int i = p->first;

	while (i >= 0) {
		int next = t->pool_next[i];

		if (keep)
			emit(t, &t->pool[i]);
		t->pool_next[i] = t->pool_free;
		t->pool_free = i;
		i = next;
	}
	decided_put(t, p->trace_id, keep);
	if (keep)
		t->stats.traces_kept++;
	else
		t->stats.traces_dropped++;
	pending_remove(t, p);
}

static struct pending *oldest_pending(struct tracer *t)
{
	struct pending *old = NULL;

	for (size_t i = 0; i < PENDING; i++)
		if (t->pending[i].used && (!old || t->pending[i].first_ns < old->first_ns))
			old = &t->pending[i];
	return old;
}

/* Holds s until its trace is decided. False when it cannot be held. */
static bool hold(struct tracer *t, const struct span *s, bool error, bool head, uint64_t now)
{
	struct pending *p = pending_find(t, s->trace_id, true);
	int slot;

	if (!p) {
		struct pending *old = oldest_pending(t);

		t->stats.early_decisions++;
		decide(t, old, old->head || old->error);
		p = pending_find(t, s->trace_id, true);
	}
	if (!p->n)
		p->first_ns = now;
	if (t->pool_free < 0) {
		struct pending *old = oldest_pending(t);

		t->stats.early_decisions++;
		if (old == p) {
			/* This trace alone fills the pool: decide it now. */
			bool keep = p->head || p->error || head || error;

			decide(t, p, keep);
			if (keep)
				emit(t, s);
			return true;
		}
		decide(t, old, old->head || old->error);
		p = pending_find(t, s->trace_id, true);
	}
	slot = t->pool_free;
	t->pool_free = t->pool_next[slot];
	span_copy(&t->pool[slot], s);
	t->pool_next[slot] = p->first;
	p->first = slot;
	p->n++;
	p->error |= error;
	p->head |= head;
	return true;
}

/* Why the trace of local root s (with held spans p) is kept, or RULE_NONE. */
static enum sampling_rule root_rule(struct tracer *t, const struct span *s, const struct finish *f,
				    const struct pending *p, uint64_t now)
{
	enum sampling_rule why = RULE_NONE;

	if (f->error || (p && p->error))
		return RULE_ERROR;
	if (f->slow)
		return RULE_SLOW;
	if (f->head || (p && p->head))
		return RULE_HEAD;
	if (f->critical && sampler_below(s->trace_id, t->critical_floor))
		return RULE_CRITICAL;
	if (f->server && t->adapt &&
	    sampler_below(s->trace_id, adaptive_prob(t->adapt, f->service, f->route, now, &why)))
		return why;
	return RULE_NONE;
}

/* Routes a finished span through the tail decision. True when kept (or,
 * for a span whose trace is still open, when it is head-sampled). A kept
 * local root carries the rule that kept it (sampling.rule). */
static bool finish(struct tracer *t, struct span *s, const struct finish *f, uint64_t now)
{
	struct decided *d = decided_find(t, s->trace_id);
	enum sampling_rule rule;
	struct pending *p;
	bool keep;

	if (d && (d->keep || !f->local_root)) {
		if (d->keep)
			emit(t, s);
		return d->keep;
	}
	if (!f->local_root) {
		hold(t, s, f->error, f->head, now);
		return f->head;
	}
	p = pending_find(t, s->trace_id, false);
	rule = root_rule(t, s, f, p, now);
	keep = rule != RULE_NONE;
	if (keep && t->adapt && !adaptive_budget(t->adapt, f->service, (p ? p->n : 0) + 1, now))
		keep = false;
	/* a trace dropped already gets a second local root only with a reason */
	if (d && !keep)
		return false;
	if (keep)
		span_attr_str(s, SC_SAMPLING_RULE, sampling_rule_name(rule));
	if (p)
		decide(t, p, keep);
	else
		decided_put(t, s->trace_id, keep);
	if (!p) {
		if (keep)
			t->stats.traces_kept++;
		else
			t->stats.traces_dropped++;
	}
	if (keep)
		emit(t, s);
	return keep;
}

/* --- life cycle --- */

/*
 * Milliseconds at s, as nanoseconds: a finite number from 0 to
 * TRACER_SLOW_MAX_MS (NaN, infinities and huge values would make the cast to
 * an integer undefined), followed by ',' or the end. 0 and *end, or -EINVAL.
 */
static int parse_ms(const char *s, char **end, uint64_t *ns)
{
	double ms = strtod(s, end);

	if (*end == s || !(ms >= 0 && ms <= TRACER_SLOW_MAX_MS) || (**end && **end != ','))
		return -EINVAL;
	*ns = (uint64_t)(ms * 1e6);
	return 0;
}

int tracer_parse_slow(const char *s, uint64_t *default_ns, const char **routes)
{
	uint64_t ns;
	char *end;

	*routes = NULL;
	if (!s || !*s)
		return 0;
	if (*s != '/') {
		if (parse_ms(s, &end, &ns))
			return -EINVAL;
		*default_ns = ns;
		s = *end ? end + 1 : end;
	}
	*routes = *s ? s : NULL;
	/* validate the rest: /route=ms pairs */
	while (*s) {
		const char *eq = strchr(s, '=');

		if (*s != '/' || !eq || parse_ms(eq + 1, &end, &ns))
			return -EINVAL;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_keychar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int tracer_parse_header_attrs(const char *s, char headers[][HTTP1_CAPTURE_NAME + 1],
			      char keys[][SEMCONV_REQUEST_KEY_MAX + 1], size_t *n)
{
	*n = 0;
	if (!s)
		return 0;
	while (*s) {
		size_t hlen = 0, klen = 0;
		const char *k;

		while (is_tchar(s[hlen]))
			hlen++;
		if (!hlen || hlen > HTTP1_CAPTURE_NAME || s[hlen] != '=')
			return -EINVAL;
		k = s + hlen + 1;
		while (is_keychar(k[klen]))
			klen++;
		if (!klen || klen > SEMCONV_REQUEST_KEY_MAX || (k[klen] && k[klen] != ','))
			return -EINVAL;
		if (*n == HTTP1_CAPTURE_MAX)
			return -EINVAL;
		if (headers)
			snprintf(headers[*n], HTTP1_CAPTURE_NAME + 1, "%.*s", (int)hlen, s);
		if (keys)
			snprintf(keys[*n], SEMCONV_REQUEST_KEY_MAX + 1, "%.*s", (int)klen, k);
		(*n)++;
		s = k[klen] ? k + klen + 1 : k + klen;
	}
	return 0;
}

int tracer_parse_critical_header(const char *s, char header[HTTP1_CAPTURE_NAME + 1],
				 char value[HTTP1_CAPTURE_VALUE])
{
	size_t hlen = 0, vlen;

	if (!s || !*s) {
		if (header)
			header[0] = '\0';
		if (value)
			value[0] = '\0';
		return 0;
	}
	while (is_tchar(s[hlen]))
		hlen++;
	if (!hlen || hlen > HTTP1_CAPTURE_NAME || s[hlen] != '=')
		return -EINVAL;
	vlen = strlen(s + hlen + 1);
	if (!vlen || vlen >= HTTP1_CAPTURE_VALUE)
		return -EINVAL;
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)s[hlen + 1 + i] <= ' ' || s[hlen + 1 + i] == 0x7f)
			return -EINVAL;
	if (header)
		snprintf(header, HTTP1_CAPTURE_NAME + 1, "%.*s", (int)hlen, s);
	if (value)
		snprintf(value, HTTP1_CAPTURE_VALUE, "%s", s + hlen + 1);
	return 0;
}

/* Copies the per-route thresholds of a list checked by tracer_parse_slow(). */
static void add_slow_routes(struct tracer *t, const char *s)
{
	while (s && *s && t->nslow < sizeof(t->slow_routes) / sizeof(t->slow_routes[0])) {
		const char *eq = strchr(s, '=');
		struct slow_route *r = &t->slow_routes[t->nslow++];
		char *end;

		if (!eq)
			return;
		snprintf(r->route, sizeof(r->route), "%.*s", (int)(eq - s), s);
		if (parse_ms(eq + 1, &end, &r->ns))
			return; /* not checked by tracer_parse_slow(): stop */
		s = *end ? end + 1 : end;
	}
}

/* The slowness threshold of a route (the default when it has none). */
static uint64_t slow_threshold(const struct tracer *t, const char *route)
{
	for (size_t i = 0; i < t->nslow; i++)
		if (route && strcmp(t->slow_routes[i].route, route) == 0)
			return t->slow_routes[i].ns;
	return t->slow_ns;
}

struct tracer *tracer_new(const struct tracer_opts *o, tracer_emit_fn emit_fn, void *ctx)
{
	struct adaptive_opts ao = {
	    .error_ratio = o->error_ratio,
	    .window_ns = o->window_ns,
	    .budget = o->budget,
	};
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pool = calloc(POOL, sizeof(*t->pool));
	t->pool_next = calloc(POOL, sizeof(*t->pool_next));
	t->critical = calloc(o->ncritical + 1, sizeof(*t->critical));
	if (!t->pool || !t->pool_next || !t->critical)
		goto err;
	for (size_t i = 0; i < o->ncritical; i++) {
		t->critical[i] = strdup(o->critical_routes[i]);
		if (!t->critical[i])
			goto err;
		t->ncritical++;
	}
	for (int i = 0; i < POOL; i++)
		t->pool_next[i] = i + 1 < POOL ? i + 1 : -1;
	t->pool_free = 0;
	t->critical_floor = o->critical_floor > 0 ? o->critical_floor : 1.0;
	t->nattrs = o->nrequest_attrs < HTTP1_CAPTURE_MAX ? o->nrequest_attrs : HTTP1_CAPTURE_MAX;
	if (o->nbaggage <= t->nattrs && o->baggage_header < HTTP1_CAPTURE_MAX) {
		t->nbaggage = o->nbaggage;
		t->bag_header = o->baggage_header;
		for (size_t j = 0; j < t->nbaggage; j++)
			snprintf(t->bag_keys[j], sizeof(t->bag_keys[j]), "%s", o->baggage_keys[j]);
	}
	if (o->critical_value && o->critical_header < HTTP1_CAPTURE_MAX) {
		snprintf(t->crit_value, sizeof(t->crit_value), "%s", o->critical_value);
		t->crit_header = o->critical_header;
	}
	if (t->nattrs) {
		t->thread_attrs = calloc(THREADS, t->nattrs * HTTP1_CAPTURE_VALUE);
		if (!t->thread_attrs)
			goto err;
	}
	t->adapt = adaptive_new(&ao);
	t->hist = reqhist_new();
	if (!t->adapt || !t->hist)
		goto err;
	t->sampler = o->sampler;
	t->slow_ns = o->slow_ns;
	add_slow_routes(t, o->slow_routes);
	t->emit = emit_fn;
	t->ctx = ctx;
	t->rnd_pos = sizeof(t->rnd); /* empty: the first id fetches a batch */
	if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng))
		t->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	refresh_clock(t);
	return t;
err:
	tracer_free(t);
	errno = ENOMEM;
	return NULL;
}

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncritical; i++)
		free(t->critical[i]);
	free(t->critical);
	adaptive_free(t->adapt);
	reqhist_free(t->hist);
	free(t->thread_attrs);
	free(t->pool);
	free(t->pool_next);
	free(t);
}

void tracer_stats(const struct tracer *t, struct tracer_stats *out)
{
	struct adaptive_stats as;

	*out = t->stats;
	adaptive_stats(t->adapt, &as);
	out->budget_traces = as.budget_traces;
	out->budget_spans = as.budget_spans;
	out->adaptive_untracked = as.untracked;
}

/* Decides the open traces that began at or before cutoff, as if their
 * roots had ended without error now: kept when head-sampled or failed. */
static void decide_open(struct tracer *t, uint64_t cutoff)
{
	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &t->pending[i];

		if (p->used && p->first_ns <= cutoff) {
			decide(t, p, p->head || p->error);
			i--; /* the cluster may have shifted into this slot */
		}
	}
}

void tracer_sweep(struct tracer *t, uint64_t now)
{
	refresh_clock(t);
	adaptive_sweep(t->adapt, now);
	if (now > STALE_NS)
		decide_open(t, now - STALE_NS - 1);
}

void tracer_flush(struct tracer *t)
{
	if (t)
		decide_open(t, UINT64_MAX);
}

/* --- trace context at start --- */

/* Value i of the request attributes of the request thread tid serves. */
static char *thread_attr(struct tracer *t, uint32_t tid, size_t i)
{
	return t->thread_attrs + ((size_t)(tid % THREADS) * t->nattrs + i) * HTTP1_CAPTURE_VALUE;
}

static int unhex_digit(char c)
{
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : hexval(c);
}

/* Skips blanks (OWS) from p up to end. */
static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

bool tracer_baggage_get(const char *b, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), n = 0;

	if (!outlen)
		return false;
	out[0] = '\0';
	while (b && *b) {
		const char *end = strchr(b, ','), *v;

		if (!end)
			end = b + strlen(b);
		b = skip_ows(b, end);
		v = (size_t)(end - b) > klen ? skip_ows(b + klen, end) : end;
		if (v < end && *v == '=' && !memcmp(b, key, klen)) {
			for (v = skip_ows(v + 1, end); v < end && *v != ';' && n + 1 < outlen;) {
				int hi = end - v >= 3 ? unhex_digit(v[1]) : -1;
				int lo = end - v >= 3 ? unhex_digit(v[2]) : -1;

				if (*v == '%' && hi >= 0 && lo >= 0) {
					out[n++] = (char)(hi << 4 | lo);
					v += 3;
				} else {
					out[n++] = *v++;
				}
			}
			while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
				n--;
			out[n] = '\0';
			return n > 0;
		}
		b = *end ? end + 1 : end;
	}
	return false;
}

/* The request attribute values of x: its captured headers, then the
 * configured baggage entries. */
static void request_values(const struct tracer *t, const struct http_exchange *x,
			   char out[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_VALUE])
{
	size_t nh = t->nattrs - t->nbaggage;

	for (size_t i = 0; i < nh; i++)
		memcpy(out[i], x->captured[i], HTTP1_CAPTURE_VALUE);
	for (size_t j = 0; j < t->nbaggage; j++)
		tracer_baggage_get(x->captured[t->bag_header], t->bag_keys[j], out[nh + j],
				   HTTP1_CAPTURE_VALUE);
}

/* The request attributes into s: those of the request thread tid serves in
 * s's trace, else (vals, may be NULL) those of s's own request. */
static void request_attrs(struct tracer *t, struct span *s, uint32_t tid,
			  const char (*vals)[HTTP1_CAPTURE_VALUE])
{
	const struct active *a = &t->threads[tid % THREADS];
	bool served = a->used && a->tid == tid && memcmp(a->trace_id, s->trace_id, 16) == 0;

	for (size_t i = 0; i < t->nattrs; i++) {
		const char *v = served ? thread_attr(t, tid, i) : vals ? vals[i] : "";

		if (v[0])
			span_attr_str(s, (enum semconv_attr)(SC_REQUEST_ATTR0 + i), v);
	}
}

static void new_trace(struct tracer *t, struct trace_ctx *c)
{
	random_id(t, c->trace_id, 16);
	memset(c->parent_id, 0, 8);
	c->remote_parent = false;
	c->sampled = sampler_decide(&t->sampler, c->trace_id, false, false);
}

static void start_server(struct tracer *t, struct http_exchange *x)
{
	struct trace_ctx *c = &x->trace;
	const struct conn *cn = x->conn;
	struct active *a;
	bool sampled;

	if (tracer_parse_traceparent(x->traceparent, c->trace_id, c->parent_id, &sampled)) {
		c->remote_parent = true;
		c->sampled = sampler_decide(&t->sampler, c->trace_id, true, sampled);
	} else {
		uint8_t key[36];
		struct link *l = NULL;

		if (cn && cn->has_endpoints) {
			/* the client's local endpoint is our remote one */
			link_key(key, &cn->remote, &cn->local);
			l = link_slot(t, key);
			if (!l->used || memcmp(l->key, key, 36) != 0)
				l = NULL;
		}
		if (l) {
			memcpy(c->trace_id, l->trace_id, 16);
			memcpy(c->parent_id, l->span_id, 8);
			c->remote_parent = false;
			c->sampled = l->sampled;
		} else {
			new_trace(t, c);
		}
	}
	a = &t->threads[x->tid % THREADS];
	if (t->nattrs) {
		char vals[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_VALUE];

		request_values(t, x, vals);
		for (size_t i = 0; i < t->nattrs; i++)
			memcpy(thread_attr(t, x->tid, i), vals[i], HTTP1_CAPTURE_VALUE);
	}
	a->used = true;
	a->tid = x->tid;
	a->sampled = c->sampled;
	memcpy(a->trace_id, c->trace_id, 16);
	memcpy(a->span_id, c->span_id, 8);
	{
		struct reqhist_req r = {.start_ns = x->start_ns, .sampled = c->sampled};

		memcpy(r.trace_id, c->trace_id, 16);
		memcpy(r.span_id, c->span_id, 8);
		reqhist_start(t->hist, x->tgid, x->tid, &r);
	}
}

/* Parent of work done by thread tid: the request it serves, if any. */
static bool parent_of_thread(struct tracer *t, uint32_t tid, struct trace_ctx *c)
{
	struct active *a = &t->threads[tid % THREADS];

	if (!a->used || a->tid != tid)
		return false;
	memcpy(c->trace_id, a->trace_id, 16);
	memcpy(c->parent_id, a->span_id, 8);
	c->remote_parent = false;
	c->sampled = a->sampled;
	return true;
}

/* Parent of a DB operation: the request its thread served when the operation
 * started (its record may arrive late, after a batch waited in the shim). */
static bool parent_of_op(struct tracer *t, const struct db_op *op, struct trace_ctx *c)
{
	struct reqhist_req r;

	if (!op->tid || !reqhist_find(t->hist, op->pid, op->tid, op->start_ns, &r))
		return false;
	memcpy(c->trace_id, r.trace_id, 16);
	memcpy(c->parent_id, r.span_id, 8);
	c->remote_parent = false;
	c->sampled = r.sampled;
	return true;
}

bool tracer_thread_context(struct tracer *t, uint32_t tid, uint8_t trace_id[16], uint8_t span_id[8],
			   bool *sampled)
{
	struct trace_ctx c;

	if (!t || !parent_of_thread(t, tid, &c))
		return false;
	memcpy(trace_id, c.trace_id, 16);
	memcpy(span_id, c.parent_id, 8);
	*sampled = c.sampled;
	return true;
}

/* Returns false when the exchange gets no span of ours. */
static bool start_client(struct tracer *t, struct http_exchange *x)
{
	struct trace_ctx *c = &x->trace;
	const struct conn *cn = x->conn;
	uint8_t tid[16], pid[8];
	bool sampled;

	/* A client that sends its own traceparent is instrumented: its span
	 * already exists (the header's parent id), and the server side will
	 * continue from it. A second span of ours would duplicate it. */
	if (tracer_parse_traceparent(x->traceparent, tid, pid, &sampled))
		return false;
	if (!parent_of_thread(t, x->tid, c))
		new_trace(t, c);
	if (cn && cn->has_endpoints) {
		uint8_t key[36];
		struct link *l;

		link_key(key, &cn->local, &cn->remote);
		l = link_slot(t, key);
		l->used = true;
		l->sampled = c->sampled;
		memcpy(l->key, key, 36);
		memcpy(l->trace_id, c->trace_id, 16);
		memcpy(l->span_id, c->span_id, 8);
	}
	return true;
}

void tracer_http_start(struct tracer *t, struct http_exchange *x)
{
	memset(&x->trace, 0, sizeof(x->trace));
	random_id(t, x->trace.span_id, 8);
	if (x->server)
		start_server(t, x);
	else if (!start_client(t, x))
		return;
	x->trace.valid = true;
}

/* --- spans --- */

static void span_common(struct tracer *t, struct span *s, const struct trace_ctx *c, uint64_t start,
			uint64_t end, uint32_t pid, const char *service, const char *exe)
{
	span_init(s);
	memcpy(s->trace_id, c->trace_id, 16);
	memcpy(s->span_id, c->span_id, 8);
	memcpy(s->parent_span_id, c->parent_id, 8);
	s->start_unix_ns = to_unix(t, start);
	s->end_unix_ns = to_unix(t, end > start ? end : start);
	s->pid = pid;
	s->sampled = c->sampled;
	span_set(s, SPAN_SERVICE_NAME, service);
	span_set(s, SPAN_EXE_NAME, exe);
}

static bool critical_route(const struct tracer *t, const char *route)
{
	for (size_t i = 0; i < t->ncritical; i++)
		if (strcmp(t->critical[i], route) == 0)
			return true;
	return false;
}

bool tracer_http_done(struct tracer *t, const struct http_exchange *x, const char *service,
		      const char *exe)
{
	const char *method = http1_method_name(x->method);
	const struct conn *cn = x->conn;
	struct finish f = {0};
	char ip[INET6_ADDRSTRLEN] = "", addr[HTTP1_HOST_MAX], name[SPAN_VALUE_MAX + 1];
	char svc[HTTP1_PATH_MAX] = "", rpc[HTTP1_PATH_MAX] = "";
	size_t pathlen = strcspn(x->path, "?#");
	uint64_t slow;
	struct span s;
	bool failed;

	if (!x->trace.valid)
		return false;
	span_common(t, &s, &x->trace, x->start_ns, x->end_ns, x->tgid, service, exe);
	s.kind = x->server ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT;
	if (x->grpc && grpc_split_path(x->path, svc, sizeof(svc), rpc, sizeof(rpc)))
		snprintf(name, sizeof(name), "%s/%s", svc, rpc); /* OTel RPC: service/method */
	else if (x->method == HTTP1_M_OTHER)
		snprintf(name, sizeof(name), "HTTP");
	else if (x->server && x->route[0])
		snprintf(name, sizeof(name), "%s %s", method, x->route);
	else
		snprintf(name, sizeof(name), "%s", method);
	span_set(&s, SPAN_NAME, name);
	/* tracestate belongs to the traceparent it came with: a new root drops it */
	if (x->trace.remote_parent)
		span_set(&s, SPAN_TRACESTATE, x->tracestate);
	if (!svc[0]) /* a gRPC span's rpc.* say it, in the slots a span has */
		span_attr_str(&s, SC_HTTP_REQUEST_METHOD, method);
	if (cn)
		str_copy(ip, sizeof(ip), conn_remote_ip(cn));
	if (x->server) {
		char path[HTTP1_PATH_MAX];

		snprintf(path, sizeof(path), "%.*s", (int)pathlen, x->path);
		if (!svc[0])
			span_attr_str(&s, SC_URL_PATH, path);
		if (x->route[0] && !svc[0])
			span_attr_str(&s, SC_HTTP_ROUTE, x->route);
		if (x->host[0]) {
			httpmetrics_server_address(x, addr, sizeof(addr));
			span_attr_str(&s, SC_SERVER_ADDRESS, addr);
		}
		if (cn && cn->has_endpoints) {
			span_attr_int(&s, SC_SERVER_PORT, cn->local.port);
			span_attr_str(&s, SC_CLIENT_ADDRESS, ip);
		}
	} else {
		httpmetrics_server_address(x, addr, sizeof(addr));
		span_attr_str(&s, SC_SERVER_ADDRESS, addr);
		if (cn && cn->has_endpoints)
			span_attr_int(&s, SC_SERVER_PORT, cn->remote.port);
		if (x->route[0] && !svc[0])
			span_attr_str(&s, SC_URL_TEMPLATE, x->route);
	}
	if (ip[0]) {
		span_attr_str(&s, SC_NETWORK_PEER_ADDRESS, ip);
		span_attr_int(&s, SC_NETWORK_PEER_PORT, cn->remote.port);
	}
	span_attr_str(&s, SC_NETWORK_PROTOCOL_NAME, "http");
	span_attr_str(&s, SC_URL_SCHEME, httpmetrics_url_scheme(x));
	if (x->grpc && svc[0]) {
		span_attr_str(&s, SC_RPC_SYSTEM, "grpc");
		span_attr_str(&s, SC_RPC_SERVICE, svc);
		span_attr_str(&s, SC_RPC_METHOD, rpc);
		if (x->grpc_status >= 0)
			span_attr_int(&s, SC_RPC_GRPC_STATUS_CODE, x->grpc_status);
	} else if (x->version == HTTP_V2) {
		span_attr_str(&s, SC_NETWORK_PROTOCOL_VERSION, "2");
	}
	if (x->status)
		span_attr_int(&s, SC_HTTP_RESPONSE_STATUS_CODE, x->status);
	if (t->nattrs) {
		char vals[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_VALUE];

		request_values(t, x, vals);
		request_attrs(t, &s, x->tid, (const char(*)[HTTP1_CAPTURE_VALUE])vals);
	}
	failed = x->error_type != NULL;
	if (failed) {
		span_attr_str(&s, SC_ERROR_TYPE, x->error_type);
		s.status = SPAN_STATUS_ERROR;
	}

	if (!x->server && cn && cn->has_endpoints) {
		uint8_t key[36];
		struct link *l;

		link_key(key, &cn->local, &cn->remote);
		l = link_slot(t, key);
		if (l->used && memcmp(l->key, key, 36) == 0 &&
		    memcmp(l->span_id, x->trace.span_id, 8) == 0)
			l->used = false;
	}
	if (x->server) {
		struct active *a = &t->threads[x->tid % THREADS];

		if (a->used && a->tid == x->tid && memcmp(a->span_id, x->trace.span_id, 8) == 0)
			a->used = false;
		reqhist_end(t->hist, x->tid, x->trace.span_id, x->end_ns);
	}
	f.local_root = is_zero(x->trace.parent_id, 8) || x->trace.remote_parent;
	f.error = failed;
	f.head = x->trace.sampled;
	slow = slow_threshold(t, x->server ? x->route : NULL);
	f.slow = slow && x->end_ns - x->start_ns >= slow;
	f.server = x->server;
	f.critical =
	    x->server &&
	    (critical_route(t, x->route) ||
	     (t->crit_value[0] && strcmp(x->captured[t->crit_header], t->crit_value) == 0));
	f.service = service;
	f.route = x->server ? x->route : NULL;
	/* the slowness threshold is the route's SLO latency for its p99 */
	if (x->server)
		adaptive_observe(t->adapt, service, x->route, failed, f.slow, x->end_ns);
	return finish(t, &s, &f, x->end_ns);
}

bool tracer_db_op(struct tracer *t, const struct db_op *op, const char *service, const char *exe,
		  uint8_t trace_id[16], uint8_t span_id[8])
{
	struct trace_ctx c = {0};
	struct finish f = {0};
	struct span s;

	random_id(t, c.span_id, 8);
	if (!parent_of_op(t, op, &c))
		new_trace(t, &c);
	span_common(t, &s, &c, op->start_ns, op->end_ns, op->pid, service, exe);
	s.kind = SPAN_KIND_CLIENT;
	span_set(&s, SPAN_NAME,
		 op->query_summary[0] ? op->query_summary
		 : op->operation[0]   ? op->operation
				      : op->system);
	span_attr_str(&s, SC_DB_SYSTEM_NAME, op->system);
	if (op->namespace_[0])
		span_attr_str(&s, SC_DB_NAMESPACE, op->namespace_);
	if (op->operation[0])
		span_attr_str(&s, SC_DB_OPERATION_NAME, op->operation);
	if (op->query_summary[0])
		span_attr_str(&s, SC_DB_QUERY_SUMMARY, op->query_summary);
	if (op->query_text[0])
		span_attr_str(&s, SC_DB_QUERY_TEXT, op->query_text);
	if (op->server_address[0])
		span_attr_str(&s, SC_SERVER_ADDRESS, op->server_address);
	if (op->server_port)
		span_attr_int(&s, SC_SERVER_PORT, op->server_port);
	if (op->status_code[0])
		span_attr_str(&s, SC_DB_RESPONSE_STATUS_CODE, op->status_code);
	if (op->error_type[0]) {
		span_attr_str(&s, SC_ERROR_TYPE, op->error_type);
		s.status = SPAN_STATUS_ERROR;
	}
	request_attrs(t, &s, op->tid, NULL);
	f.local_root = is_zero(c.parent_id, 8);
	f.error = op->error_type[0] != '\0';
	f.head = c.sampled;
	f.slow = t->slow_ns && op->end_ns - op->start_ns >= t->slow_ns;
	f.service = service;
	if (trace_id)
		memcpy(trace_id, c.trace_id, 16);
	if (span_id)
		memcpy(span_id, c.span_id, 8);
	return finish(t, &s, &f, op->end_ns);
}
