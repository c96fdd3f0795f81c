/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * utf8.h - the one UTF-8 check of the daemon: the length of the valid
 * sequence at a byte. The SQL summaries (sqlsum_utf8_fix()), the
 * Prometheus exposition's escaping (prom.c) and the OTLP strings
 * (otlp_utf8_valid(), otlp_utf8()) all repair or reject what it rejects:
 * bytes that start no sequence, missing continuation bytes, overlong
 * forms, surrogates (U+D800-U+DFFF) and code points past U+10FFFF.
 */
#ifndef REDTAP_UTF8_H
#define REDTAP_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at p, or 0 when p starts none.
 * Reads no byte past the first one that is not a continuation byte, so a
 * NUL-terminated string is never read beyond its NUL. */
static inline size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0], lo, hi;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong form */
		hi = c == 0xed ? 0x9f : 0xbf; /* no surrogate */
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		lo = c == 0xf0 ? 0x90 : 0x80; /* no overlong form */
		hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80
			   ? 4
			   : 0;
	}
	return 0;
}

#endif /* REDTAP_UTF8_H */
