// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * k8slabels.c - appends a process's pod labels to a family's label values.
 * See k8slabels.h.
 */
#include <math.h>
#include <string.h>

#include "k8slabels.h"
#include "podmeta.h"

struct metric_series *k8slabels_series_get(struct metric_family *f, const char *const *vals,
					   size_t n, uint32_t pid)
{
	return k8slabels_series_memo(f, vals, n, pid, NULL, 0, NULL);
}

struct metric_series *k8slabels_series_memo(struct metric_family *f, const char *const *vals,
					    size_t n, uint32_t pid, struct metric_memo *memo,
					    uint64_t check, double *update)
{
	const char *all[K8SLABELS_MAX_VALUES + PODMETA_NLABELS];
	struct podmeta_labelvals lv; /* podmeta_label_values() sets every value */
	struct metric_series *s;

	if (n > K8SLABELS_MAX_VALUES)
		return NULL;
	podmeta_label_values(pid, &lv);
	memcpy(all, vals, n * sizeof(*vals));
	memcpy(all + n, lv.vals, sizeof(lv.vals));
	if (!memo)
		return metric_series_get(f, all);
	/* the pod labels are the process's now: always compared */
	check |= ((1ull << PODMETA_NLABELS) - 1) << n;
	if (!update)
		s = metric_series_recall(f, memo, all, check);
	else if ((s = metric_series_recall_update(f, memo, all, check, *update)))
		*update = NAN;
	return s ? s : metric_series_get_memo(f, all, memo);
}
