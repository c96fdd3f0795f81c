/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * strfmt.h - the few string copies and number formats the daemon does per
 * request or per operation, without a printf: snprintf(dst, n, "%s", src)
 * costs ~550 instructions a call (issue 13, BENCHMARKS.md, "The daemon on
 * the Go service"), these a few dozen. Same results as the
 * snprintf calls they replace: the text cut to fit, always terminated.
 */
#ifndef REDTAP_STRFMT_H
#define REDTAP_STRFMT_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* snprintf(dst, size, "%.*s", (int)n, src): at most n bytes of src, up to
 * its first NUL, cut to size - 1, and a NUL. Returns the length written;
 * size 0 writes nothing. */
static inline size_t str_copy_n(char *dst, size_t size, const char *src, size_t n)
{
	size_t i;

	if (!size)
		return 0;
	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n && src[i]; i++) /* short texts: a loop beats strnlen + memcpy */
		dst[i] = src[i];
	dst[i] = '\0';
	return i;
}

/* snprintf(dst, size, "%s", src): returns the length written. */
static inline size_t str_copy(char *dst, size_t size, const char *src)
{
	return str_copy_n(dst, size, src, (size_t)-1);
}

/* snprintf(out, 8, "%d", v) for 0 <= v <= 9 999 999 (a status code, a
 * port, a gRPC code), through snprintf otherwise. */
static inline void str_int8(char out[8], int v)
{
	char tmp[8];
	size_t n = 0;

	if (v < 0 || v > 9999999) {
		snprintf(out, 8, "%d", v);
		return;
	}
	if (v >= 100 && v <= 999) { /* a status code */
		out[0] = (char)('0' + v / 100);
		out[1] = (char)('0' + v / 10 % 10);
		out[2] = (char)('0' + v % 10);
		out[3] = '\0';
		return;
	}
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

#endif /* REDTAP_STRFMT_H */
