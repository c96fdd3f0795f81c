/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * seriesmemo.h - small set-associative tables of series memos (struct
 * metric_memo of metrics.h) for the families the pipeline records into on
 * every exchange or operation (httpmetrics.c, dbmetrics.c).
 *
 * The caller names a key (non-zero: what some of the labels are derived
 * from, e.g. an HTTP method enum) and a text (a route, a query summary)
 * whose length and first and last 8 bytes, with the key and the process,
 * pick a set of SERIESMEMO_WAYS slots and tell most series apart. A slot of
 * that key and fingerprint is recalled (metric_series_recall()) with only
 * the labels the key does not determine compared: no hash of every label
 * value. A miss looks the series up by all labels and notes it in a slot of
 * the set. A memo never dangles: the registry voids it when the family
 * removes a series.
 *
 * Not thread-safe: one thread at a time per table (the registry itself
 * may be used from any thread meanwhile).
 */
#ifndef REDTAP_SERIESMEMO_H
#define REDTAP_SERIESMEMO_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define SERIESMEMO_WAYS 4 /* slots of a set, any of which may hold a series */

/* A series noted for the records with this key and text fingerprint; key 0: none. */
struct seriesmemo_slot {
	uint64_t key;
	uint64_t fp;
	struct metric_memo m;
};

/*
 * The series of f for labels (n values, then process tgid's pod labels,
 * k8slabels.h) through the table t of nslots (a power of two, at least
 * SERIESMEMO_WAYS; zeroed before first use); *victim rotates over the ways
 * on misses. keyed: the label positions key determines (not compared on a
 * recall). With update not NULL, a recalled series gets *update applied in
 * the same hold of the registry's lock and *update becomes NAN; a value
 * still there is the caller's to apply. NULL when the series cannot be had
 * (as k8slabels_series_memo()).
 */
struct metric_series *seriesmemo_get(struct seriesmemo_slot *t, size_t nslots, unsigned *victim,
				     struct metric_family *f, const char *const *labels, size_t n,
				     uint32_t tgid, uint64_t key, const char *text, uint64_t keyed,
				     double *update);

#endif /* REDTAP_SERIESMEMO_H */
