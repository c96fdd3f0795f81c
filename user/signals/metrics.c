// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - the metric registry: families, label-set hash tables, the
 * series cap with its overflow series, and the walk exporters use. See
 * metrics.h.
 *
 * Every family keeps its series twice: on a creation-ordered list (the
 * exposition order) and in a chained hash table keyed by the label values,
 * so an observation on an existing series is one hash and a few string
 * compares, without allocation. A series is one allocation holding its
 * bucket counts, a 16-bit offset per label value and the label strings
 * (pointers took 6 bytes more a label: ~90 bytes of a ~430-byte HTTP
 * duration series, BENCHMARKS.md); exemplars
 * are allocated on first use because most series never get one: a counter
 * series pays 8 bytes (the pointer) until then, 40 bytes more (one struct
 * metric_exemplar) after; a histogram series 40 bytes per bucket.
 *
 * Capped families also count their series per service_name value in a small
 * open-addressing table (service hash -> count), so that the fair-share test
 * of a new series is O(1) and only an eviction walks the family. Removed
 * series go to a graveyard while a snapshot (which borrows label strings) is
 * alive, and are freed when the last one is.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#define TABLE_INITIAL 16

struct metric_series {
	struct metric_series *hash_next;
	struct metric_series *next; /* creation order */
	struct metric_family *family;
	uint64_t hash;
	struct metric_exemplar *exemplars; /* series_exemplars(family) items, or NULL */
	double value;			   /* counter/gauge */
	double sum;			   /* histogram */
	uint64_t count;			   /* histogram */
	uint64_t touched_ns;		   /* registry clock when last got */
	uint64_t start_unix_ns;		   /* creation, CLOCK_REALTIME */
	uint64_t svc_hash;		   /* hash of the service_name value, never 0 */
	bool overflow;
	/* histograms: nbounds + 1, not cumulative; then (not for the overflow
	 * series) family->nlabels uint16_t offsets of the label values from
	 * the series' start, then those NUL-terminated strings */
	uint64_t buckets[];
};

struct metric_family {
	struct metric_registry *reg;
	struct metric_family *next;
	enum metric_type type;
	char *name;
	char *help;
	char *unit;
	char **label_names;
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	size_t max_series;
	size_t nseries;
	struct metric_series *first;
	struct metric_series *last;
	struct metric_series **table;
	size_t table_size; /* a power of two */
	struct metric_series *overflow;
	uint64_t overflow_total;
	int svc_label;		/* index of the service_name label, -1 if none */
	struct svc_count *svc;	/* capped families with svc_label: the counts */
	size_t svc_size;	/* a power of two */
	size_t svc_used;	/* slots holding a key */
	size_t nsvc;		/* keys with series */
	uint64_t evicted_total; /* series given up for another service's fair share */
	uint64_t removed;	/* series ever removed: a struct metric_memo's check */
	const struct semconv_metric *semconv; /* NULL: declared without an entry */
};

struct metric_registry {
	pthread_mutex_t lock;
	struct metric_family *first;
	struct metric_family *last;
	uint64_t now_ns;		 /* clock of the last metric_registry_expire() */
	uint64_t ttl_ns;		 /* 0: series never expire */
	unsigned int nsnapshots;	 /* alive snapshots borrowing label strings */
	struct metric_series *graveyard; /* removed while a snapshot was alive */
};

/* Series of one service in a capped family; hash 0 marks a free slot. */
struct svc_count {
	uint64_t hash;
	size_t n;
};

static const char *const overflow_names[] = {METRIC_OVERFLOW_LABEL};
static const char *const overflow_values[] = {"true"};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void series_free(struct metric_series *s)
{
	free(s->exemplars);
	free(s);
}

struct metric_registry *metric_registry_new(void)
{
	struct metric_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->now_ns = mono_ns();
	return r;
}

static void family_free(struct metric_family *f)
{
	struct metric_series *s, *next;

	if (!f)
		return;
	for (s = f->first; s; s = next) {
		next = s->next;
		free(s->exemplars);
		free(s);
	}
	if (f->overflow) {
		free(f->overflow->exemplars);
		free(f->overflow);
	}
	for (size_t i = 0; f->label_names && i < f->nlabels; i++)
		free(f->label_names[i]);
	free(f->label_names);
	free(f->svc);
	free(f->table);
	free(f->bounds);
	free(f->unit);
	free(f->help);
	free(f->name);
	free(f);
}

static void graveyard_free(struct metric_registry *r)
{
	struct metric_series *s, *next;

	for (s = r->graveyard; s; s = next) {
		next = s->next;
		series_free(s);
	}
	r->graveyard = NULL;
}

void metric_registry_free(struct metric_registry *r)
{
	struct metric_family *f, *next;

	if (!r)
		return;
	for (f = r->first; f; f = next) {
		next = f->next;
		family_free(f);
	}
	graveyard_free(r);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- validation ---- */

static bool is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool valid_metric_name(const char *s)
{
	if (!s || !(is_alpha_(*s) || *s == ':'))
		return false;
	for (s++; *s; s++)
		if (!is_alpha_(*s) && !is_digit(*s) && *s != ':')
			return false;
	return true;
}

static bool valid_label_name(const char *s)
{
	if (!s || !is_alpha_(*s) || strncmp(s, "__", 2) == 0)
		return false;
	for (s++; *s; s++)
		if (!is_alpha_(*s) && !is_digit(*s))
			return false;
	return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The unit must be metric-name characters and "_<unit>" must end the name. */
static bool valid_unit(const char *name, const char *unit)
{
	size_t ln = strlen(name), lu = strlen(unit);

	if (lu == 0 || ln < lu + 2)
		return false;
	for (const char *c = unit; *c; c++)
		if (!is_alpha_(*c) && !is_digit(*c) && *c != ':')
			return false;
	return name[ln - lu - 1] == '_' && strcmp(name + ln - lu, unit) == 0;
}

static bool valid_labels(enum metric_type type, const char *const *names, size_t n)
{
	if ((n && !names) || n > METRIC_LABELS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!valid_label_name(names[i]) || strcmp(names[i], METRIC_OVERFLOW_LABEL) == 0)
			return false;
		if (type == METRIC_HISTOGRAM && strcmp(names[i], "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return false;
	}
	return true;
}

static bool valid_buckets(enum metric_type type, const double *b, size_t n)
{
	if (n == 0)
		return true;
	if (type != METRIC_HISTOGRAM || !b)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
			return false;
	}
	return true;
}

/* The sample and metadata names a family of this type occupies in either format. */
static const char *const *type_suffixes(enum metric_type type)
{
	static const char *const counter[] = {"", "_total", "_created", NULL};
	static const char *const gauge[] = {"", NULL};
	static const char *const histogram[] = {"", "_bucket", "_sum", "_count", "_created", NULL};

	switch (type) {
	case METRIC_COUNTER:
		return counter;
	case METRIC_GAUGE:
		return gauge;
	default:
		return histogram;
	}
}

/* Whether a1 a2 (concatenated) equals b1 b2. */
static bool concat_eq(const char *a1, const char *a2, const char *b1, const char *b2)
{
	if (strlen(a1) + strlen(a2) != strlen(b1) + strlen(b2))
		return false;
	while (*a1 || *a2) {
		const char **a = *a1 ? &a1 : &a2, **b = *b1 ? &b1 : &b2;

		if (**a != **b)
			return false;
		(*a)++;
		(*b)++;
	}
	return true;
}

static bool names_collide(const struct metric_family *f, enum metric_type type, const char *name)
{
	for (const char *const *x = type_suffixes(f->type); *x; x++)
		for (const char *const *y = type_suffixes(type); *y; y++)
			if (concat_eq(f->name, *x, name, *y))
				return true;
	return false;
}

/* ---- families ---- */

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

static struct metric_family *family_alloc(enum metric_type type, const char *name, const char *help,
					  const char *unit, const char *const *label_names,
					  size_t nlabels, const double *buckets, size_t nbuckets)
{
	struct metric_family *f = calloc(1, sizeof(*f));
	bool failed = false;

	if (!f)
		return NULL;
	f->type = type;
	f->name = dup_or_null(name, &failed);
	f->help = dup_or_null(help ? help : "", &failed);
	f->unit = dup_or_null(unit, &failed);
	f->table_size = TABLE_INITIAL;
	f->table = calloc(f->table_size, sizeof(*f->table));
	if (nlabels) {
		f->label_names = calloc(nlabels, sizeof(*f->label_names));
		if (f->label_names) {
			f->nlabels = nlabels;
			for (size_t i = 0; i < nlabels; i++)
				f->label_names[i] = dup_or_null(label_names[i], &failed);
		}
	}
	if (nbuckets) {
		f->bounds = malloc(nbuckets * sizeof(*f->bounds));
		if (f->bounds) {
			memcpy(f->bounds, buckets, nbuckets * sizeof(*f->bounds));
			f->nbounds = nbuckets;
		}
	}
	if (failed || !f->table || (nlabels && !f->label_names) || (nbuckets && !f->bounds)) {
		family_free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

struct metric_family *metric_family_new(struct metric_registry *r, enum metric_type type,
					const char *name, const char *help, const char *unit,
					const char *const *label_names, size_t nlabels,
					const double *buckets, size_t nbuckets, size_t max_series)
{
	return metric_family_new_sc(r, type, name, help, unit, label_names, nlabels, buckets,
				    nbuckets, max_series, NULL);
}

struct metric_family *metric_family_new_sc(struct metric_registry *r, enum metric_type type,
					   const char *name, const char *help, const char *unit,
					   const char *const *label_names, size_t nlabels,
					   const double *buckets, size_t nbuckets,
					   size_t max_series, const struct semconv_metric *sc)
{
	struct metric_family *f, *it;

	if (!r || type < METRIC_COUNTER || type > METRIC_HISTOGRAM || !valid_metric_name(name) ||
	    (type == METRIC_COUNTER && has_suffix(name, "_total")) ||
	    (unit && !valid_unit(name, unit)) || !valid_labels(type, label_names, nlabels) ||
	    !valid_buckets(type, buckets, nbuckets)) {
		errno = EINVAL;
		return NULL;
	}
	f = family_alloc(type, name, help, unit, label_names, nlabels, buckets, nbuckets);
	if (!f)
		return NULL;
	f->reg = r;
	f->max_series = max_series;
	f->svc_label = -1;
	for (size_t i = 0; max_series && i < nlabels; i++)
		if (!strcmp(label_names[i], METRIC_SERVICE_LABEL))
			f->svc_label = (int)i;
	f->semconv = sc;

	pthread_mutex_lock(&r->lock);
	for (it = r->first; it; it = it->next) {
		if (names_collide(it, type, name)) {
			pthread_mutex_unlock(&r->lock);
			family_free(f);
			errno = EINVAL;
			return NULL;
		}
	}
	if (r->last)
		r->last->next = f;
	else
		r->first = f;
	r->last = f;
	pthread_mutex_unlock(&r->lock);
	return f;
}

/* ---- series lookup ---- */

/* FNV-1a over the values with a separator byte, then a final mix so the low
 * bits used as the table index depend on every input byte. */
static uint64_t hash_values(const char *const *values, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p =
		    (const unsigned char *)(values && values[i] ? values[i] : "");

		for (; *p; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t series_buckets(const struct metric_family *f)
{
	return f->type == METRIC_HISTOGRAM ? f->nbounds + 1 : 0;
}

/* Where series s of f (not the overflow series) keeps its label values: the
 * offset of each from s. */
static const uint16_t *series_offsets(const struct metric_family *f, const struct metric_series *s)
{
	return (const uint16_t *)(s->buckets + series_buckets(f));
}

/* Label value i of series s of f (not the overflow series). */
static const char *series_value(const struct metric_family *f, const struct metric_series *s,
				size_t i)
{
	return (const char *)s + series_offsets(f, s)[i];
}

/* Whether a label value a series has equals v (NULL meaning ""). */
static bool text_equal(const char *have, const char *v)
{
	if (!v)
		v = "";
	/* most label values differ in, or are empty at, their first byte */
	return have[0] == v[0] && (!v[0] || strcmp(have + 1, v + 1) == 0);
}

/* Whether a series' label value i equals values[i] (NULL meaning ""). */
static bool value_equal(const struct metric_series *s, const char *const *values, size_t i)
{
	return text_equal(series_value(s->family, s, i), values ? values[i] : NULL);
}

static bool values_equal(const struct metric_series *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!value_equal(s, values, i))
			return false;
	return true;
}

/* Exemplar slots of a series once it has any: one per bucket, one per counter. */
static size_t series_exemplars(const struct metric_family *f)
{
	return f->type == METRIC_COUNTER ? 1 : series_buckets(f);
}

/* One allocation: header, bucket counts, value offsets, value strings.
 * NULL with errno ENOMEM, or E2BIG when the strings end past what a 16-bit
 * offset reaches (64 KiB of label values: no label source comes near). */
static struct metric_series *series_alloc(struct metric_family *f, const char *const *values,
					  uint64_t hash)
{
	size_t nb = series_buckets(f), size, i;
	struct metric_series *s;
	uint16_t *off;
	char *str;

	size = sizeof(*s) + nb * sizeof(uint64_t) + f->nlabels * sizeof(uint16_t);
	for (i = 0; i < f->nlabels; i++)
		size += strlen(values && values[i] ? values[i] : "") + 1;
	if (size > UINT16_MAX + 1ul) {
		errno = E2BIG;
		return NULL;
	}
	s = calloc(1, size);
	if (!s)
		return NULL;
	s->family = f;
	s->hash = hash;
	s->touched_ns = f->reg->now_ns;
	s->start_unix_ns = clock_ns(CLOCK_REALTIME);
	off = (uint16_t *)(s->buckets + nb);
	str = (char *)(off + f->nlabels);
	for (i = 0; i < f->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		size_t len = strlen(v) + 1;

		memcpy(str, v, len);
		off[i] = (uint16_t)(str - (char *)s);
		str += len;
	}
	return s;
}

static struct metric_series *overflow_series(struct metric_family *f)
{
	if (!f->overflow) {
		size_t size = sizeof(*f->overflow) + series_buckets(f) * sizeof(uint64_t);

		f->overflow = calloc(1, size);
		if (!f->overflow)
			return NULL;
		f->overflow->family = f;
		f->overflow->overflow = true;
	}
	f->overflow_total++;
	return f->overflow;
}

/* ---- per-service accounting, eviction, expiry ---- */

static uint64_t svc_hash(const char *const *values, int idx)
{
	const char *v = values && values[idx] ? values[idx] : "";

	return hash_values(&v, 1) | 1; /* never 0: 0 marks a free slot */
}

/* The slot of hash h, or the free slot where it would go; NULL if the table is full. */
static struct svc_count *svc_slot(struct svc_count *t, size_t size, uint64_t h)
{
	for (size_t i = 0, j = h & (size - 1); i < size; i++, j = (j + 1) & (size - 1))
		if (t[j].hash == h || !t[j].hash)
			return &t[j];
	return NULL;
}

/* Rebuilds the table from the series, dropping keys without series. */
static void svc_rebuild(struct metric_family *f)
{
	size_t size = 16;
	struct svc_count *t, *c;

	while (size < 4 * (f->nseries + 1))
		size *= 2;
	t = calloc(size, sizeof(*t));
	if (!t)
		return; /* the old table stays; svc_add() copes with a full one */
	f->nsvc = f->svc_used = 0;
	for (struct metric_series *s = f->first; s; s = s->next) {
		c = svc_slot(t, size, s->svc_hash);
		if (!c->hash) {
			c->hash = s->svc_hash;
			f->svc_used++;
			f->nsvc++;
		}
		c->n++;
	}
	free(f->svc);
	f->svc = t;
	f->svc_size = size;
}

/* Adds by (+1 or -1) to the series count of service hash h. */
static void svc_add(struct metric_family *f, uint64_t h, int by)
{
	struct svc_count *c;

	if (!h)
		return;
	/* a series being added is not linked yet: the rebuild leaves it to us */
	if (by > 0 && (!f->svc || 2 * (f->svc_used + 1) > f->svc_size))
		svc_rebuild(f);
	c = f->svc ? svc_slot(f->svc, f->svc_size, h) : NULL;
	if (!c || (by < 0 && c->hash != h))
		return;
	if (!c->hash) {
		c->hash = h;
		f->svc_used++;
	}
	if (by > 0 && c->n++ == 0)
		f->nsvc++;
	else if (by < 0 && c->n && --c->n == 0)
		f->nsvc--;
}

static size_t svc_count(const struct metric_family *f, uint64_t h)
{
	const struct svc_count *c = f->svc ? svc_slot(f->svc, f->svc_size, h) : NULL;

	return c && c->hash == h ? c->n : 0;
}

/* Unlinks s (prev: its predecessor in creation order, or NULL) and frees it or buries it. */
static void series_remove(struct metric_family *f, struct metric_series *s,
			  struct metric_series *prev)
{
	struct metric_series **pp = &f->table[s->hash & (f->table_size - 1)];

	while (*pp && *pp != s)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = s->hash_next;
	if (prev)
		prev->next = s->next;
	else
		f->first = s->next;
	if (f->last == s)
		f->last = prev;
	f->nseries--;
	f->removed++; /* every memo of this family is void from now on */
	svc_add(f, s->svc_hash, -1);
	if (f->reg->nsnapshots) {
		s->next = f->reg->graveyard;
		f->reg->graveyard = s;
	} else {
		series_free(s);
	}
}

/* A gauge that is not zero (requests in flight) is still in use, observed or not. */
static bool series_pinned(const struct metric_family *f, const struct metric_series *s)
{
	return f->type == METRIC_GAUGE && s->value != 0;
}

/*
 * The family is full and service svc wants a new series. When svc holds less
 * than its fair share (max_series / services, itself included), the service
 * with the most series gives up its least recently used one. true when a
 * series was evicted.
 */
static bool fair_share_evict(struct metric_family *f, uint64_t svc)
{
	size_t mine = svc_count(f, svc), active = f->nsvc + (mine == 0), share, most = 0;
	struct metric_series *victim = NULL, *victim_prev = NULL, *prev = NULL;
	uint64_t big = 0;

	share = f->max_series / (active ? active : 1);
	if (mine >= (share ? share : 1) || !f->svc)
		return false;
	for (size_t i = 0; i < f->svc_size; i++) {
		if (f->svc[i].hash && f->svc[i].n > most) {
			most = f->svc[i].n;
			big = f->svc[i].hash;
		}
	}
	if (most <= share)
		return false;
	for (struct metric_series *s = f->first; s; prev = s, s = s->next) {
		if (s->svc_hash != big || series_pinned(f, s))
			continue;
		if (!victim || s->touched_ns < victim->touched_ns) {
			victim = s;
			victim_prev = prev;
		}
	}
	if (!victim)
		return false;
	series_remove(f, victim, victim_prev);
	f->evicted_total++;
	return true;
}

void metric_registry_set_ttl(struct metric_registry *r, uint64_t ttl_ns)
{
	pthread_mutex_lock(&r->lock);
	r->ttl_ns = ttl_ns;
	pthread_mutex_unlock(&r->lock);
}

size_t metric_registry_expire(struct metric_registry *r, uint64_t now_ns)
{
	size_t removed = 0;

	pthread_mutex_lock(&r->lock);
	r->now_ns = now_ns;
	for (struct metric_family *f = r->first; f && r->ttl_ns; f = f->next) {
		struct metric_series *s = f->first, *prev = NULL, *next;

		if (!f->max_series)
			continue; /* uncapped families are the agent's own: never idle */
		for (; s; s = next) {
			next = s->next;
			if (now_ns > s->touched_ns && now_ns - s->touched_ns >= r->ttl_ns &&
			    !series_pinned(f, s)) {
				series_remove(f, s, prev);
				removed++;
			} else {
				prev = s;
			}
		}
		if (f->svc && f->svc_used > 2 * f->nsvc + 16)
			svc_rebuild(f);
	}
	if (!r->nsnapshots)
		graveyard_free(r);
	pthread_mutex_unlock(&r->lock);
	return removed;
}

uint64_t metric_family_evicted_total(const struct metric_family *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->reg->lock);
	n = f->evicted_total;
	pthread_mutex_unlock(&f->reg->lock);
	return n;
}

/* Doubles the table; on ENOMEM the old one stays (chains just get longer). */
static void table_grow(struct metric_family *f)
{
	size_t size = f->table_size * 2;
	struct metric_series **t = calloc(size, sizeof(*t));

	if (!t)
		return;
	for (struct metric_series *s = f->first; s; s = s->next) {
		s->hash_next = t[s->hash & (size - 1)];
		t[s->hash & (size - 1)] = s;
	}
	free(f->table);
	f->table = t;
	f->table_size = size;
}

/* metric_series_get() with the lock held; memo (may be NULL) notes the series found. */
static struct metric_series *series_get_locked(struct metric_family *f,
					       const char *const *label_values, uint64_t h,
					       struct metric_memo *memo)
{
	struct metric_series *s, **slot;
	uint64_t svc;

	slot = &f->table[h & (f->table_size - 1)];
	for (s = *slot; s; s = s->hash_next)
		if (s->hash == h && values_equal(s, label_values, f->nlabels)) {
			s->touched_ns = f->reg->now_ns;
			goto out;
		}

	svc = f->svc_label >= 0 ? svc_hash(label_values, f->svc_label) : 0;
	if (f->max_series && f->nseries >= f->max_series && !(svc && fair_share_evict(f, svc))) {
		s = overflow_series(f);
		goto out;
	}
	s = series_alloc(f, label_values, h);
	if (!s)
		goto out;
	s->svc_hash = svc;
	svc_add(f, svc, 1);
	s->hash_next = *slot;
	*slot = s;
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	if (++f->nseries > f->table_size)
		table_grow(f);
out:
	if (memo) {
		bool keep = s && !s->overflow;

		memo->family = keep ? f : NULL;
		memo->series = keep ? s : NULL;
		memo->removed = f->removed;
	}
	return s;
}

struct metric_series *metric_series_get(struct metric_family *f, const char *const *label_values)
{
	return metric_series_get_memo(f, label_values, NULL);
}

struct metric_series *metric_series_get_memo(struct metric_family *f,
					     const char *const *label_values,
					     struct metric_memo *memo)
{
	struct metric_series *s;
	uint64_t h;
	int e;

	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	h = hash_values(label_values, f->nlabels);
	pthread_mutex_lock(&f->reg->lock);
	s = series_get_locked(f, label_values, h, memo);
	e = s ? 0 : errno; /* series_alloc()'s, or calloc()'s ENOMEM */
	pthread_mutex_unlock(&f->reg->lock);
	if (!s)
		errno = e;
	return s;
}

/* metric_series_recall() with the lock held. */
static struct metric_series *recall_locked(struct metric_family *f, const struct metric_memo *memo,
					   const char *const *label_values, uint64_t check)
{
	const struct metric_series *s = memo->series;
	const uint16_t *off;

	if (memo->removed != f->removed)
		return NULL; /* the series may be gone */
	/* memo_usable() made sure that s is of f */
	off = series_offsets(f, s);
	for (; check; check &= check - 1) {
		size_t i = (size_t)__builtin_ctzll(check);

		if (!text_equal((const char *)s + off[i], label_values ? label_values[i] : NULL))
			return NULL;
	}
	memo->series->touched_ns = f->reg->now_ns;
	return memo->series;
}

/* Whether a memo can be of f at all (checked before the lock); check cut to f's labels. */
static bool memo_usable(const struct metric_family *f, const struct metric_memo *memo,
			uint64_t *check)
{
	if (!f || !memo || memo->family != f || !memo->series || f->nlabels > 64)
		return false;
	if (f->nlabels < 64)
		*check &= (1ull << f->nlabels) - 1;
	return true;
}

struct metric_series *metric_series_recall(struct metric_family *f, const struct metric_memo *memo,
					   const char *const *label_values, uint64_t check)
{
	struct metric_series *s;

	if (!memo_usable(f, memo, &check))
		return NULL;
	pthread_mutex_lock(&f->reg->lock);
	s = recall_locked(f, memo, label_values, check);
	pthread_mutex_unlock(&f->reg->lock);
	return s;
}

static void update_locked(struct metric_series *s, double v);

struct metric_series *metric_series_recall_update(struct metric_family *f,
						  const struct metric_memo *memo,
						  const char *const *label_values, uint64_t check,
						  double v)
{
	struct metric_series *s;

	if (!memo_usable(f, memo, &check))
		return NULL;
	pthread_mutex_lock(&f->reg->lock);
	s = recall_locked(f, memo, label_values, check);
	if (s)
		update_locked(s, v);
	pthread_mutex_unlock(&f->reg->lock);
	return s;
}

/* ---- updates ---- */

static bool series_is(const struct metric_series *s, enum metric_type type)
{
	return s && s->family->type == type;
}

/* Index of the first bound >= v (le semantics), nbounds for the +Inf bucket. */
static size_t bucket_index(const double *bounds, size_t n, double v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* One observation in bucket i, with the lock held. */
static void histogram_count_locked(struct metric_series *s, size_t i, double v)
{
	s->buckets[i]++;
	s->count++;
	s->sum += v;
}

/* Whether a series of type takes v: counters ignore negative and NaN
 * increments, histograms NaN (metrics.h). */
static bool value_taken(enum metric_type type, double v)
{
	switch (type) {
	case METRIC_COUNTER:
		return v >= 0;
	case METRIC_HISTOGRAM:
		return !isnan(v);
	default:
		return true;
	}
}

/* metric_counter_add(), metric_gauge_add() or metric_histogram_observe() of
 * v, by the series' type, with the lock held. */
static void update_locked(struct metric_series *s, double v)
{
	struct metric_family *f = s->family;

	if (!value_taken(f->type, v))
		return;
	if (f->type == METRIC_HISTOGRAM)
		histogram_count_locked(s, bucket_index(f->bounds, f->nbounds, v), v);
	else
		s->value += v;
}

static void counter_add(struct metric_series *s, double v, const struct metric_exemplar *ex)
{
	if (!series_is(s, METRIC_COUNTER) || !value_taken(METRIC_COUNTER, v))
		return;
	pthread_mutex_lock(&s->family->reg->lock);
	update_locked(s, v);
	if (ex && !s->exemplars)
		s->exemplars = calloc(1, sizeof(*s->exemplars));
	if (ex && s->exemplars)
		*s->exemplars = *ex;
	pthread_mutex_unlock(&s->family->reg->lock);
}

void metric_counter_add(struct metric_series *s, double v)
{
	counter_add(s, v, NULL);
}

void metric_gauge_set(struct metric_series *s, double v)
{
	if (!series_is(s, METRIC_GAUGE))
		return;
	pthread_mutex_lock(&s->family->reg->lock);
	s->value = v;
	pthread_mutex_unlock(&s->family->reg->lock);
}

void metric_gauge_add(struct metric_series *s, double v)
{
	if (!series_is(s, METRIC_GAUGE))
		return;
	pthread_mutex_lock(&s->family->reg->lock);
	update_locked(s, v);
	pthread_mutex_unlock(&s->family->reg->lock);
}

/* Whether an id of n bytes is present: not NULL, not all zero. */
static bool id_present(const uint8_t *id, size_t n)
{
	uint8_t any = 0;

	for (size_t i = 0; id && i < n; i++)
		any |= id[i];
	return any;
}

static void histogram_observe(struct metric_series *s, double v, const struct metric_exemplar *ex)
{
	struct metric_family *f;
	size_t i;

	if (!series_is(s, METRIC_HISTOGRAM) || !value_taken(METRIC_HISTOGRAM, v))
		return;
	f = s->family;
	i = bucket_index(f->bounds, f->nbounds, v);
	pthread_mutex_lock(&f->reg->lock);
	histogram_count_locked(s, i, v);
	if (ex && !s->exemplars)
		s->exemplars = calloc(f->nbounds + 1, sizeof(*s->exemplars));
	if (ex && s->exemplars)
		s->exemplars[i] = *ex;
	pthread_mutex_unlock(&f->reg->lock);
}

void metric_histogram_observe(struct metric_series *s, double v)
{
	histogram_observe(s, v, NULL);
}

/* Fills ex from the caller's ids; false when either id is absent (NULL or all zero). */
static bool exemplar_make(struct metric_exemplar *ex, double v, const uint8_t *trace_id,
			  const uint8_t *span_id, double unix_ts)
{
	if (!id_present(trace_id, sizeof(ex->trace_id)) ||
	    !id_present(span_id, sizeof(ex->span_id)))
		return false;
	memcpy(ex->trace_id, trace_id, sizeof(ex->trace_id));
	memcpy(ex->span_id, span_id, sizeof(ex->span_id));
	ex->value = v;
	ex->timestamp = unix_ts;
	return true;
}

void metric_histogram_observe_exemplar(struct metric_series *s, double v,
				       const uint8_t trace_id[16], const uint8_t span_id[8],
				       double unix_ts)
{
	struct metric_exemplar ex;

	histogram_observe(s, v, exemplar_make(&ex, v, trace_id, span_id, unix_ts) ? &ex : NULL);
}

void metric_counter_add_exemplar(struct metric_series *s, double v, const uint8_t trace_id[16],
				 const uint8_t span_id[8], double unix_ts)
{
	struct metric_exemplar ex;

	counter_add(s, v, exemplar_make(&ex, v, trace_id, span_id, unix_ts) ? &ex : NULL);
}

/* ---- queries ---- */

size_t metric_family_series_count(const struct metric_family *f)
{
	size_t n;

	pthread_mutex_lock(&f->reg->lock);
	n = f->nseries;
	pthread_mutex_unlock(&f->reg->lock);
	return n;
}

uint64_t metric_family_overflow_total(const struct metric_family *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->reg->lock);
	n = f->overflow_total;
	pthread_mutex_unlock(&f->reg->lock);
	return n;
}

size_t metric_registry_series_count(const struct metric_registry *r)
{
	struct metric_registry *rw = (struct metric_registry *)r; /* the lock is not state */
	size_t n = 0;

	pthread_mutex_lock(&rw->lock);
	for (const struct metric_family *f = r->first; f; f = f->next)
		n += f->nseries;
	pthread_mutex_unlock(&rw->lock);
	return n;
}

const char *metric_family_name(const struct metric_family *f)
{
	return f->name;
}

enum metric_type metric_family_type(const struct metric_family *f)
{
	return f->type;
}

const char *metric_family_help(const struct metric_family *f)
{
	return f->help;
}

const char *metric_family_unit(const struct metric_family *f)
{
	return f->unit;
}

const char *const *metric_family_label_names(const struct metric_family *f, size_t *nlabels)
{
	if (nlabels)
		*nlabels = f->nlabels;
	return (const char *const *)f->label_names;
}

const double *metric_family_bounds(const struct metric_family *f, size_t *nbounds)
{
	if (nbounds)
		*nbounds = f->nbounds;
	return f->bounds;
}

const struct semconv_metric *metric_family_semconv(const struct metric_family *f)
{
	return f->semconv;
}

/* ---- walking ---- */

/* The series after s in exposition order (creation order, overflow last); s = NULL: the first. */
static const struct metric_series *series_next(const struct metric_family *f,
					       const struct metric_series *s)
{
	if (!s)
		return f->first ? f->first : f->overflow;
	if (s->overflow)
		return NULL;
	return s->next ? s->next : f->overflow;
}

/* The point of series s of f; its label values go to vals (room for
 * f->nlabels), unless it is the overflow series. */
static void point_fill(struct metric_point *p, const struct metric_family *f,
		       const struct metric_series *s, const char **vals)
{
	memset(p, 0, sizeof(*p));
	p->family = f;
	p->overflow = s->overflow;
	if (s->overflow) {
		p->label_names = overflow_names;
		p->label_values = overflow_values;
		p->nlabels = 1;
	} else {
		for (size_t i = 0; i < f->nlabels; i++)
			vals[i] = series_value(f, s, i);
		p->label_names = (const char *const *)f->label_names;
		p->label_values = vals;
		p->nlabels = f->nlabels;
	}
	p->value = s->value;
	p->start_unix_ns = s->start_unix_ns;
	p->exemplars = s->exemplars;
	p->nexemplars = s->exemplars ? series_exemplars(f) : 0;
	if (f->type == METRIC_HISTOGRAM) {
		p->bounds = f->bounds;
		p->nbounds = f->nbounds;
		p->bucket_counts = s->buckets;
		p->count = s->count;
		p->sum = s->sum;
	}
}

int metric_registry_walk(struct metric_registry *r,
			 int (*family_fn)(void *ctx, const struct metric_family *f),
			 int (*series_fn)(void *ctx, const struct metric_point *p), void *ctx)
{
	const char *vals[METRIC_LABELS_MAX];
	struct metric_point p;
	int err = 0;

	pthread_mutex_lock(&r->lock);
	for (const struct metric_family *f = r->first; f && !err; f = f->next) {
		if (family_fn)
			err = family_fn(ctx, f);
		for (const struct metric_series *s = series_next(f, NULL); s && series_fn && !err;
		     s = series_next(f, s)) {
			point_fill(&p, f, s, vals);
			err = series_fn(ctx, &p);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* ---- snapshots ---- */

struct snapshot_family {
	const struct metric_family *family;
	size_t first; /* index of its first point */
	size_t npoints;
};

struct metric_snapshot {
	struct metric_registry *reg; /* its removed series wait for this snapshot */
	struct snapshot_family *families;
	size_t nfamilies;
	struct metric_point *points;
	size_t npoints;
	const char **values;		   /* all points' label value pointers */
	uint64_t *counts;		   /* all points' bucket counts */
	struct metric_exemplar *exemplars; /* the exemplar arrays of the points that have one */
};

void metric_snapshot_free(struct metric_snapshot *snap)
{
	if (!snap)
		return;
	if (snap->reg) {
		pthread_mutex_lock(&snap->reg->lock);
		if (--snap->reg->nsnapshots == 0)
			graveyard_free(snap->reg);
		pthread_mutex_unlock(&snap->reg->lock);
	}
	free(snap->exemplars);
	free(snap->counts);
	free(snap->points);
	free(snap->values);
	free(snap->families);
	free(snap);
}

/* Sizes the arrays for the registry as it is now; called with the lock held. */
static int snapshot_alloc(struct metric_snapshot *snap, const struct metric_registry *r)
{
	size_t nfam = 0, npoints = 0, nvals = 0, ncounts = 0, nex = 0;

	for (const struct metric_family *f = r->first; f; f = f->next) {
		nfam++;
		for (const struct metric_series *s = series_next(f, NULL); s;
		     s = series_next(f, s)) {
			npoints++;
			nvals += s->overflow ? 0 : f->nlabels;
			ncounts += series_buckets(f);
			nex += s->exemplars ? series_exemplars(f) : 0;
		}
	}
	/* calloc(0) may return NULL: allocate at least one element */
	snap->families = calloc(nfam + 1, sizeof(*snap->families));
	snap->points = calloc(npoints + 1, sizeof(*snap->points));
	snap->values = calloc(nvals + 1, sizeof(*snap->values));
	snap->counts = calloc(ncounts + 1, sizeof(*snap->counts));
	snap->exemplars = calloc(nex + 1, sizeof(*snap->exemplars));
	if (!snap->families || !snap->points || !snap->values || !snap->counts || !snap->exemplars)
		return -ENOMEM;
	return 0;
}

struct metric_snapshot *metric_registry_snapshot(struct metric_registry *r)
{
	struct metric_snapshot *snap = calloc(1, sizeof(*snap));
	size_t nvals = 0, ncounts = 0, nex = 0;

	if (!snap)
		return NULL;
	pthread_mutex_lock(&r->lock);
	snap->reg = r;
	r->nsnapshots++;
	if (snapshot_alloc(snap, r)) {
		pthread_mutex_unlock(&r->lock);
		metric_snapshot_free(snap);
		errno = ENOMEM;
		return NULL;
	}
	for (const struct metric_family *f = r->first; f; f = f->next) {
		struct snapshot_family *sf = &snap->families[snap->nfamilies++];
		size_t nb = series_buckets(f), ne = series_exemplars(f);

		sf->family = f;
		sf->first = snap->npoints;
		for (const struct metric_series *s = series_next(f, NULL); s;
		     s = series_next(f, s)) {
			struct metric_point *p = &snap->points[snap->npoints++];

			point_fill(p, f, s, &snap->values[nvals]);
			nvals += p->overflow ? 0 : p->nlabels;
			if (nb) {
				memcpy(&snap->counts[ncounts], s->buckets, nb * sizeof(uint64_t));
				p->bucket_counts = &snap->counts[ncounts];
				ncounts += nb;
			}
			if (s->exemplars) {
				memcpy(&snap->exemplars[nex], s->exemplars,
				       ne * sizeof(*s->exemplars));
				p->exemplars = &snap->exemplars[nex];
				nex += ne;
			}
		}
		sf->npoints = snap->npoints - sf->first;
	}
	pthread_mutex_unlock(&r->lock);
	return snap;
}

int metric_snapshot_walk(const struct metric_snapshot *snap,
			 int (*family_fn)(void *ctx, const struct metric_family *f),
			 int (*series_fn)(void *ctx, const struct metric_point *p), void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < snap->nfamilies && !err; i++) {
		const struct snapshot_family *sf = &snap->families[i];

		if (family_fn)
			err = family_fn(ctx, sf->family);
		for (size_t j = 0; j < sf->npoints && series_fn && !err; j++)
			err = series_fn(ctx, &snap->points[sf->first + j]);
	}
	return err;
}

struct visit_ctx {
	void (*fn)(void *ctx, const struct metric_point *p);
	void *ctx;
};

static int visit_one(void *ctx, const struct metric_point *p)
{
	struct visit_ctx *v = ctx;

	v->fn(v->ctx, p);
	return 0;
}

void metric_registry_visit(struct metric_registry *r,
			   void (*fn)(void *ctx, const struct metric_point *p), void *ctx)
{
	struct visit_ctx v = {.fn = fn, .ctx = ctx};

	if (fn)
		metric_registry_walk(r, NULL, visit_one, &v);
}
