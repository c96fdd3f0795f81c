/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * k8slabels.h - the Kubernetes labels of the HTTP and database families.
 *
 * API: a family whose semconv entry ends with SC_K8S_LABELS (semconv.h) gets
 * its series with k8slabels_series_get(): the caller's label values for the
 * other attributes, the process's pod labels (podmeta_label_values(): the
 * configured set, "" when unknown) appended. Thread-safe as podmeta and the
 * registry.
 */
#ifndef REDTAP_K8SLABELS_H
#define REDTAP_K8SLABELS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* At most this many values before the Kubernetes ones. */
#define K8SLABELS_MAX_VALUES 16

/* metric_series_get() with vals[0..n) then pid's Kubernetes label values;
 * NULL (and no series) when n is too large. */
struct metric_series *k8slabels_series_get(struct metric_family *f, const char *const *vals,
					   size_t n, uint32_t pid);

/* The same through a memo (metric_series_recall(): the values of vals with
 * their bit set in check are compared, the Kubernetes ones always; the caller
 * vouches for the others), noting the series found in memo on a miss. With
 * update not NULL, a recalled series gets *update applied in the same hold
 * of the lock (metric_series_recall_update()) and *update becomes NAN; a
 * value still there is the caller's to apply. */
struct metric_series *k8slabels_series_memo(struct metric_family *f, const char *const *vals,
					    size_t n, uint32_t pid, struct metric_memo *memo,
					    uint64_t check, double *update);

#endif /* REDTAP_K8SLABELS_H */
