// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * k8slabels.c - appends a process's pod labels to a family's label values.
 * See k8slabels.h.
 */
#include <string.h>

#include "k8slabels.h"
#include "podmeta.h"

struct metric_series *k8slabels_series_get(struct metric_family *f, const char *const *vals,
					   size_t n, uint32_t pid)
{
	const char *all[K8SLABELS_MAX_VALUES + PODMETA_NLABELS];
	struct podmeta_labelvals lv; /* podmeta_label_values() sets every value */

	if (n > K8SLABELS_MAX_VALUES)
		return NULL;
	podmeta_label_values(pid, &lv);
	memcpy(all, vals, n * sizeof(*vals));
	memcpy(all + n, lv.vals, sizeof(lv.vals));
	return metric_series_get(f, all);
}
