// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_k8sapi.c - fuzz target for the optional pod list reader
 * (user/intake/k8sapi.c): the JSON body a kubelet or API server (or whoever
 * answers at k8s.pods_url) sends, up to 16 MiB.
 *
 * Input: the body, in an exact-size buffer. Checks that a parse either fails
 * with no table or gives a sorted table whose every pod has a NUL-terminated
 * uid, app and workload, a workload only with a kind, and is found by uid.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "k8sapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8sapi_table *t = NULL;
	char *buf = malloc(size ? size : 1);
	int err;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	err = k8sapi_parse(buf, size, &t);
	fuzz_check(err == 0 || err == -EINVAL || err == -ENOMEM);
	fuzz_check(err ? t == NULL : t != NULL);
	for (size_t i = 0; t && i < t->n; i++) {
		const struct k8sapi_pod *p = &t->pods[i];

		fuzz_check(fuzz_has_nul(p->uid, sizeof(p->uid)));
		fuzz_check(fuzz_has_nul(p->app, sizeof(p->app)));
		fuzz_check(fuzz_has_nul(p->workload, sizeof(p->workload)));
		fuzz_check(p->uid[0]);
		fuzz_check(!p->workload[0] == (p->kind == PODMETA_WL_NONE));
		fuzz_check(i == 0 || strcmp(t->pods[i - 1].uid, p->uid) <= 0);
		fuzz_check(k8sapi_find(t, p->uid) != NULL);
	}
	free(t);
	free(buf);
	return 0;
}
