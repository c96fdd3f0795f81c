// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_route.c - fuzz target for route normalisation (user/proto/route.c):
 * every request-target a remote client sends becomes a metric label, so the
 * result must stay bounded and well-formed for any bytes.
 *
 * Input: byte 0 bit 0 = also add the target itself as a user pattern (the
 * pattern parser is the operator's input, but must reject junk safely);
 * byte 1 an output buffer size; the rest is the request-target.
 * Checks the documented bounds: at most ROUTE_MAX_LEN bytes, at most
 * ROUTE_MAX_SEGMENTS + 1 segments, NUL-terminated, starts with '/' or is "*".
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "route.h"

static struct route_table *base_table(void)
{
	static struct route_table *t;
	static const char *const pats[] = {"/users/{id}", "/users/{id}/orders/{order}", "/static/*",
					   "/f/{n}.txt", "/api/v1/items"};

	if (!t) {
		t = route_table_new();
		if (!t)
			abort();
		for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
			if (route_table_add(t, pats[i]))
				abort();
	}
	return t;
}

static void check_route(const char *out, size_t len, size_t outsz, bool user_pattern)
{
	size_t slashes = 0;

	fuzz_check(len < outsz && len <= ROUTE_MAX_LEN && strlen(out) == len);
	if (outsz <= ROUTE_MAX_LEN)
		return; /* a short buffer may cut the route anywhere */
	fuzz_check(out[0] == '/' || strcmp(out, "*") == 0);
	if (user_pattern)
		return; /* a matching pattern is written as it is */
	for (const char *p = out; *p; p++)
		slashes += *p == '/';
	fuzz_check(slashes <= ROUTE_MAX_SEGMENTS + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_table *t;
	size_t outsz, len;
	char *target, *out;
	int ret;

	if (size < 2)
		return 0;
	outsz = data[1] & 0x80 ? ROUTE_MAX_LEN + 1 : data[1] + 1u;
	target = fuzz_strdup(data + 2, size - 2);
	out = malloc(outsz);
	if (!out)
		abort();

	len = route_normalize(NULL, target, out, outsz);
	check_route(out, len, outsz, false);
	len = route_normalize(base_table(), target, out, outsz);
	check_route(out, len, outsz, false);
	if (data[0] & 1) {
		t = route_table_new();
		if (!t)
			abort();
		ret = route_table_add(t, target);
		fuzz_check(ret == 0 || ret == -EINVAL);
		len = route_normalize(t, target, out, outsz);
		check_route(out, len, outsz, true);
		route_table_free(t);
	}
	free(out);
	free(target);
	return 0;
}
