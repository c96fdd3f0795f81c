// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_reqlabels.c - fuzz target for the bounded request labels
 * (user/signals/reqlabels.c): header and baggage values come from remote
 * clients and become metric label values, the setting from the operator.
 *
 * Input: up to the first '\n' a traces.attribute_labels setting (tried as
 * given, and the fixed one below when it is rejected); the rest is split
 * at '\n' into the captured values of a request (header 0, 1, 2 and the
 * baggage header 3). Checks: a label value is "", "_other", a listed
 * value, or "b<n>" with n below the bucket count; never a raw value
 * otherwise; always NUL-terminated within REQLABELS_VALUE.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "reqlabels.h"

static const char *const keys[] = {"tenant", "channel", "order", "region"};
static const char *const bag[] = {"region"};
static const struct reqlabels_src src = {
    .keys = keys, .nattrs = 4, .nbaggage = 1, .bag_entries = bag, .bag_header = 3};

static void check_value(const struct reqlabel *l, const char *v)
{
	fuzz_check(strnlen(v, REQLABELS_VALUE) < REQLABELS_VALUE);
	if (!v[0] || !strcmp(v, "_other"))
		return;
	if (l->nbuckets) {
		char *end;
		unsigned long n;

		fuzz_check(v[0] == 'b');
		n = strtoul(v + 1, &end, 10);
		fuzz_check(!*end && n < l->nbuckets);
		return;
	}
	for (size_t i = 0; i < l->nallow; i++)
		if (!strcmp(l->allow[i], v))
			return;
	fuzz_check(!"a label value neither listed, bucketed nor _other");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t speclen = nl ? (size_t)(nl - data) : size;
	char *spec = fuzz_strdup(data, speclen), err[256];
	struct reqlabel l[REQLABELS_MAX];
	char out[REQLABELS_MAX][REQLABELS_VALUE];
	const char *p[REQLABELS_MAX];
	struct http_exchange x;
	size_t n = 0, off = nl ? speclen + 1 : size;

	if (reqlabels_parse(spec, l, &n) || reqlabels_configure(spec, &src, err, sizeof(err))) {
		free(spec);
		spec = fuzz_strdup((const uint8_t *)"tenant=buckets:7,region=allow:eu|us", 35);
		fuzz_check(reqlabels_parse(spec, l, &n) == 0);
		fuzz_check(reqlabels_configure(spec, &src, err, sizeof(err)) == 0);
	}
	memset(&x, 0, sizeof(x));
	for (size_t i = 0; i < HTTP1_CAPTURE_MAX && off < size; i++) {
		const uint8_t *e = memchr(data + off, '\n', size - off);
		size_t len = e ? (size_t)(e - (data + off)) : size - off;

		if (len >= HTTP1_CAPTURE_VALUE)
			len = HTTP1_CAPTURE_VALUE - 1;
		memcpy(x.captured[i], data + off, len);
		off = e ? (size_t)(e - data) + 1 : size;
	}
	reqlabels_values(&x, out, p);
	for (size_t i = 0; i < REQLABELS_MAX; i++) {
		fuzz_check(p[i] == out[i]);
		if (i < n)
			check_value(&l[i], p[i]);
		else
			fuzz_check(!p[i][0]);
	}
	free(spec);
	return 0;
}
