/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - the daemon's metric registry: counters, gauges and histograms
 * with labels, and a cap on distinct label sets per family.
 *
 * API: metric_registry_new() makes an empty registry; metric_family_new()
 * declares a family (name, help, unit, label names, histogram bounds, series
 * cap); metric_series_get() finds or creates the series for a set of label
 * values, then metric_counter_add*() / metric_gauge_*() /
 * metric_histogram_observe*() update it. Exporters read everything back with
 * metric_registry_walk() / metric_registry_visit() (under the lock), or take
 * a metric_registry_snapshot() and walk it without the lock; prom.h renders
 * from a snapshot.
 *
 * Ownership: the registry owns its families and series; every string and
 * array passed in is copied. Family pointers stay valid until
 * metric_registry_free(). A series of a family WITHOUT a cap is never removed,
 * so its pointer may be kept. A series of a capped family may be removed by
 * metric_registry_expire() or to make room for another service: get it again
 * with metric_series_get() for every observation (from the thread that calls
 * metric_registry_expire(), or the pointer may go stale in between).
 *
 * Cardinality: when a family already holds max_series series, any new label
 * set is folded into one overflow series whose only label is
 * otel_metric_overflow="true" (the OpenTelemetry convention), and the fold is
 * counted in metric_family_overflow_total().
 *
 * Expiry (capped families only): with a TTL set, metric_registry_expire()
 * removes the series that metric_series_get() has not returned for ttl, as
 * Prometheus marks a series stale after 5 minutes; gauges that are not zero
 * (requests in flight) stay. A label set seen again is a new series: counts
 * from zero, with a new start time (metric_point.start_unix_ns).
 *
 * Fair share (capped families with a "service_name" label): when the family is
 * full and a service holding fewer than max_series / (services holding series,
 * itself included) needs a new series, the service holding the most gives up
 * its least recently used series (counted in metric_family_evicted_total()).
 * One noisy service cannot keep the others in the overflow series.
 *
 * Thread-safety: one mutex per registry; every function may be called from
 * any thread. Walk and visit callbacks run under that mutex, so they must not
 * call back into the registry (snapshot walks hold no lock). Readers never
 * write: values are kept current by their one writer (the self-metrics by
 * the event loop's sweep), not refreshed at read time.
 */
#ifndef REDTAP_METRICS_H
#define REDTAP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_registry;
struct metric_family;
struct metric_series;

/* The label OpenTelemetry puts on the series that absorbs label sets past the cap. */
#define METRIC_OVERFLOW_LABEL "otel_metric_overflow"

/* NULL and errno (ENOMEM) on failure. */
struct metric_registry *metric_registry_new(void);

/* Frees the registry with all its families and series. NULL is ok. */
void metric_registry_free(struct metric_registry *r);

/*
 * Declares a family. name is a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*);
 * counters are named WITHOUT the _total suffix (rendered as name_total).
 * help may be NULL. unit is the OpenMetrics unit ("seconds", "bytes") or NULL;
 * the name must then end with "_<unit>". label_names ([a-zA-Z_][a-zA-Z0-9_]*,
 * not "__*", not otel_metric_overflow, not "le" for histograms, no duplicates)
 * are copied. buckets (histograms only: finite, strictly increasing upper
 * bounds; +Inf is implicit) are copied. max_series caps distinct label sets
 * (0 = unlimited); nlabels is at most METRIC_LABELS_MAX.
 * Returns NULL and errno: EINVAL for a bad name, label, unit or bucket list, or
 * a name whose samples would collide with an existing family's; ENOMEM.
 */
#define METRIC_LABELS_MAX 64

struct metric_family *metric_family_new(struct metric_registry *r, enum metric_type type,
					const char *name, const char *help, const char *unit,
					const char *const *label_names, size_t nlabels,
					const double *buckets, size_t nbuckets, size_t max_series);

/*
 * The same, for a family declared from a semantic-conventions entry
 * (semconv.h; semconv_family_new() is the usual caller): the family keeps the
 * pointer sc, which must outlive the registry (a static entry), and exporters
 * read it back with metric_family_semconv() for the OpenTelemetry names.
 */
struct semconv_metric;
struct metric_family *metric_family_new_sc(struct metric_registry *r, enum metric_type type,
					   const char *name, const char *help, const char *unit,
					   const char *const *label_names, size_t nlabels,
					   const double *buckets, size_t nbuckets,
					   size_t max_series, const struct semconv_metric *sc);

/*
 * The series for these label values (one per label name, in declaration order;
 * a NULL value, or a NULL array, means ""), created on first use. Finding an
 * existing series allocates nothing. Past the cap, returns the overflow series
 * and counts one fold. Returns NULL and errno = ENOMEM, or E2BIG when the
 * values add up to more than a series holds (64 KiB).
 */
struct metric_series *metric_series_get(struct metric_family *f, const char *const *label_values);

/*
 * A caller's note of a series it got, to find it again without hashing and
 * comparing every label value (the HTTP families: 15 values per exchange).
 * Zero it before first use. It never dangles: it holds, besides the series,
 * the family's count of removed series when it was taken, and is used only
 * while that count is unchanged (no series of the family expired or was
 * evicted since). The overflow series is never noted (each fold is counted).
 */
struct metric_memo {
	struct metric_family *family;
	struct metric_series *series;
	uint64_t removed; /* the family's removals when noted */
};

/* metric_series_get(), and the series found noted in memo (memo emptied
 * when it is the overflow series or NULL). */
struct metric_series *metric_series_get_memo(struct metric_family *f,
					     const char *const *label_values,
					     struct metric_memo *memo);

/*
 * The series of memo again, as metric_series_get() would return it (it counts
 * as a get for expiry), when memo is of family f, still valid (above), and
 * the series' label values i with bit i set in check equal label_values[i]
 * (NULL meaning ""). The caller vouches for the labels it leaves out of check
 * (a value it derives from a key it compared itself, e.g. a method enum).
 * NULL when any of that fails: then call metric_series_get_memo().
 */
struct metric_series *metric_series_recall(struct metric_family *f, const struct metric_memo *memo,
					   const char *const *label_values, uint64_t check);

/*
 * metric_series_recall(), and when it returns the series, v applied to it in
 * the same hold of the lock as metric_counter_add(), metric_gauge_add() or
 * metric_histogram_observe() would: the usual find-then-update in one round
 * trip.
 */
struct metric_series *metric_series_recall_update(struct metric_family *f,
						  const struct metric_memo *memo,
						  const char *const *label_values, uint64_t check,
						  double v);

/*
 * Updates. Each one is ignored when the series is NULL or of another type.
 * Counters ignore negative and NaN increments; histograms ignore NaN.
 */
void metric_counter_add(struct metric_series *s, double v);
void metric_gauge_set(struct metric_series *s, double v);
void metric_gauge_add(struct metric_series *s, double v);
void metric_histogram_observe(struct metric_series *s, double v);

/*
 * Observes v and keeps (trace_id, span_id, v, unix_ts) as the exemplar of the
 * bucket v falls in, replacing the previous one. The ids are binary (16 and 8
 * bytes, as in W3C trace context and OTLP), neither all zero; otherwise (or
 * NULL) the observation is still counted but no exemplar is kept. Exporters
 * render them (hex in prom.c, bytes in OTLP).
 */
void metric_histogram_observe_exemplar(struct metric_series *s, double v,
				       const uint8_t trace_id[16], const uint8_t span_id[8],
				       double unix_ts);

/*
 * Adds v to a counter and keeps (trace_id, span_id, v, unix_ts) as the
 * series' one exemplar, replacing the previous one; the same id rules as
 * metric_histogram_observe_exemplar() (absent ids: added, no exemplar kept).
 * Only a series that ever got one pays for it (see metrics.c).
 */
void metric_counter_add_exemplar(struct metric_series *s, double v, const uint8_t trace_id[16],
				 const uint8_t span_id[8], double unix_ts);

/* Series of the family, not counting the overflow series. */
size_t metric_family_series_count(const struct metric_family *f);

/* How many times metric_series_get() folded a label set into the overflow
 * series (one per observation in the usual get-then-update pattern). */
uint64_t metric_family_overflow_total(const struct metric_family *f);

/* Sum of metric_family_series_count() over all families. */
size_t metric_registry_series_count(const struct metric_registry *r);

/* The label that names the service, for fair shares. */
#define METRIC_SERVICE_LABEL "service_name"

/* Series of capped families expire after ttl_ns without a get; 0 (the default): never. */
void metric_registry_set_ttl(struct metric_registry *r, uint64_t ttl_ns);

/*
 * Advances the registry clock to now_ns (CLOCK_MONOTONIC, or any clock that
 * only grows) and removes the capped families' series idle for the TTL.
 * Call it periodically (the agent: every second). Returns how many it removed.
 */
size_t metric_registry_expire(struct metric_registry *r, uint64_t now_ns);

/* Series this family gave up so another service got its fair share. */
uint64_t metric_family_evicted_total(const struct metric_family *f);

/* Immutable properties of a family; safe without the lock. */
const char *metric_family_name(const struct metric_family *f);
enum metric_type metric_family_type(const struct metric_family *f);
const char *metric_family_help(const struct metric_family *f); /* never NULL; may be "" */
const char *metric_family_unit(const struct metric_family *f); /* NULL when none */
const char *const *metric_family_label_names(const struct metric_family *f, size_t *nlabels);
const double *metric_family_bounds(const struct metric_family *f, size_t *nbounds);
/* The semantic-conventions entry of the family, NULL if declared without one. */
const struct semconv_metric *metric_family_semconv(const struct metric_family *f);

/* The exemplar kept for one histogram bucket or one counter series. Ids are binary
 * (big-endian, as in W3C trace context and OTLP); an exemplar is present iff
 * trace_id is not all zero. */
struct metric_exemplar {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	double value;
	double timestamp; /* unix seconds */
};

static inline bool metric_exemplar_present(const struct metric_exemplar *e)
{
	for (int i = 0; i < 16; i++)
		if (e->trace_id[i])
			return true;
	return false;
}

/*
 * A read-only view of one series, valid only during the callback. For the
 * overflow series the labels are {"otel_metric_overflow"} = {"true"}.
 * Histogram fields are zero for counters and gauges (exemplars excepted: a
 * counter may carry one).
 */
struct metric_point {
	const struct metric_family *family;
	const char *const *label_names;
	const char *const *label_values; /* never NULL items */
	size_t nlabels;
	bool overflow;	      /* this is the overflow series */
	double value;	      /* counter/gauge */
	const double *bounds; /* histogram upper bounds (without +Inf) */
	size_t nbounds;
	const uint64_t *bucket_counts; /* nbounds + 1, NOT cumulative */
	/* histograms: nbounds + 1, one per bucket; counters: 1; NULL if none was ever kept */
	const struct metric_exemplar *exemplars;
	size_t nexemplars; /* items at exemplars (0 when NULL); check metric_exemplar_present() */
	uint64_t count;
	double sum;
	uint64_t start_unix_ns; /* when the series (re)started; 0 for the overflow series */
};

/*
 * Takes the lock, then for each family in creation
 * order calls family_fn (also for families without series), then series_fn for
 * each of its series in creation order, the overflow series last. Either
 * callback may be NULL. A callback returning non-zero stops the walk and that
 * value is returned; otherwise 0.
 */
int metric_registry_walk(struct metric_registry *r,
			 int (*family_fn)(void *ctx, const struct metric_family *f),
			 int (*series_fn)(void *ctx, const struct metric_point *p), void *ctx);

/*
 * A consistent copy of every series' values, taken under the lock in one
 * short pass, so that slow consumers (rendering,
 * encoding) run without holding the lock. Label strings, names and bounds are
 * shared with the registry, not copied: a snapshot must be freed before its
 * registry. Returns NULL and errno = ENOMEM.
 */
struct metric_snapshot;
struct metric_snapshot *metric_registry_snapshot(struct metric_registry *r);
void metric_snapshot_free(struct metric_snapshot *snap); /* NULL ok */

/* The walk of metric_registry_walk() over a snapshot, without any lock. */
int metric_snapshot_walk(const struct metric_snapshot *snap,
			 int (*family_fn)(void *ctx, const struct metric_family *f),
			 int (*series_fn)(void *ctx, const struct metric_point *p), void *ctx);

/* The same walk with only a per-series callback (for OTLP and other exporters). */
void metric_registry_visit(struct metric_registry *r,
			   void (*fn)(void *ctx, const struct metric_point *p), void *ctx);

#endif /* REDTAP_METRICS_H */
