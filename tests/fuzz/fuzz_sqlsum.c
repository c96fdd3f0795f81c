// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_sqlsum.c - fuzz target for the SQL summariser (user/proto/sqlsum.c):
 * statement text arrives from any process through the shim channel, so every
 * byte string must be summarised in bounded time without faults.
 *
 * Input: byte 0 bit 0 = the text is truncated; the rest is the statement.
 * Runs sqlsum_describe(), sqlsum_sanitize() and sqlsum_fallback() on an
 * exact-size copy and checks that every output is NUL-terminated UTF-8.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "otlp_build.h"
#include "sqlsum.h"

/* True when s is NUL-terminated within n bytes and valid UTF-8 (the
 * OTLP exporter's check: no overlong forms, surrogates or code points past
 * U+10FFFF either). */
static bool utf8_ok(const char *s, size_t n)
{
	return fuzz_has_nul(s, n) && otlp_utf8_valid(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sql_summary sum;
	char out[256];
	bool truncated;
	char *sql;
	size_t n;

	if (!size)
		return 0;
	truncated = data[0] & 1;
	sql = malloc(size - 1 ? size - 1 : 1);
	if (!sql)
		abort();
	memcpy(sql, data + 1, size - 1);

	fuzz_check(sqlsum_describe(sql, size - 1, truncated, &sum) == 0);
	fuzz_check(utf8_ok(sum.operation, sizeof(sum.operation)));
	fuzz_check(utf8_ok(sum.summary, sizeof(sum.summary)));
	fuzz_check(utf8_ok(sum.sanitized, sizeof(sum.sanitized)));

	n = sqlsum_sanitize(sql, size - 1, out, sizeof(out));
	fuzz_check(n < sizeof(out) && strlen(out) == n);

	memset(&sum, 0, sizeof(sum));
	sqlsum_fallback(sql, size - 1, &sum);
	fuzz_check(utf8_ok(sum.operation, sizeof(sum.operation)));
	fuzz_check(utf8_ok(sum.summary, sizeof(sum.summary)));
	free(sql);
	return 0;
}
