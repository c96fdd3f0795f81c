// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * seriesmemo.c - set-associative tables of series memos, keyed by the
 * caller's key and a fingerprint of a text. See seriesmemo.h.
 */
#include <string.h>

#include "k8slabels.h"
#include "seriesmemo.h"

/* The key, the process and the text's length and first and last 8 bytes. */
static uint64_t fingerprint(uint64_t key, uint32_t tgid, const char *text)
{
	size_t len = strlen(text);
	uint64_t head = 0, tail = 0, fp;

	if (len >= 8) {
		memcpy(&head, text, sizeof(head));
		memcpy(&tail, text + len - 8, sizeof(tail));
	} else {
		memcpy(&head, text, len);
	}
	fp = (key ^ len << 32 ^ tgid) * 0x9e3779b97f4a7c15ULL;
	fp = (fp ^ head) * 0xff51afd7ed558ccdULL;
	return (fp ^ tail) * 0xc4ceb9fe1a85ec53ULL;
}

struct metric_series *seriesmemo_get(struct seriesmemo_slot *t, size_t nslots, unsigned *victim,
				     struct metric_family *f, const char *const *labels, size_t n,
				     uint32_t tgid, uint64_t key, const char *text, uint64_t keyed,
				     double *update)
{
	uint64_t fp = fingerprint(key, tgid, text);
	struct seriesmemo_slot *set = &t[(fp >> 40) & (nslots - SERIESMEMO_WAYS)], *slot = NULL;
	struct metric_series *s;

	for (size_t i = 0; i < SERIESMEMO_WAYS && !slot; i++)
		if (set[i].key == key && set[i].fp == fp)
			slot = &set[i];
	if (slot) {
		s = k8slabels_series_memo(f, labels, n, tgid, &slot->m, ~keyed, update);
		if (s)
			return s; /* recalled, or found and noted again */
	}
	slot = &set[(*victim)++ % SERIESMEMO_WAYS];
	slot->key = key;
	slot->fp = fp;
	memset(&slot->m, 0, sizeof(slot->m)); /* nothing to recall: noted here */
	return k8slabels_series_memo(f, labels, n, tgid, &slot->m, ~keyed, NULL);
}
