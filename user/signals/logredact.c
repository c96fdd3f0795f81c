// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logredact.c - secret redaction of log lines with POSIX regex.h. See
 * logredact.h.
 *
 * Each pattern runs over the output of the previous one; two buffers of
 * the caller's size take turns, so the work per line is bounded by
 * patterns * cap and never allocates.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logredact.h"

/* The value part stops at a quote, a separator or white space. */
#define VALUE "[^\"'&,;[:space:]}]+"

static const char *const defaults[] = {
    "(authorization[\"']?[[:space:]]*[:=][[:space:]]*[\"']?)[^\"',}]+",
    "(bearer[[:space:]]+)[A-Za-z0-9._~+/=-]+",
    "((password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)"
    "[\"']?[[:space:]]*[:=][[:space:]]*[\"']?)" VALUE,
};

struct logredact {
	regex_t re[LOGREDACT_MAX];
	size_t n;
	uint64_t count;
	char *tmp; /* scratch of tmp_cap bytes */
	size_t tmp_cap;
};

static int add(struct logredact *r, const char *pat, char *err, size_t errlen)
{
	int rc;

	if (r->n >= LOGREDACT_MAX) {
		snprintf(err, errlen, "more than %d redaction patterns", LOGREDACT_MAX);
		return -EINVAL;
	}
	rc = regcomp(&r->re[r->n], pat, REG_EXTENDED | REG_ICASE);
	if (rc) {
		char msg[128];

		regerror(rc, &r->re[r->n], msg, sizeof(msg));
		snprintf(err, errlen, "redaction pattern '%.200s': %s", pat, msg);
		return -EINVAL;
	}
	r->n++;
	return 0;
}

struct logredact *logredact_new(const char *extra, bool no_defaults, char *err, size_t errlen)
{
	struct logredact *r = calloc(1, sizeof(*r));
	const char *p = extra;
	int rc = 0;

	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; !no_defaults && i < sizeof(defaults) / sizeof(defaults[0]) && !rc; i++)
		rc = add(r, defaults[i], err, errlen);
	while (!rc && p && *p) {
		const char *sep = strstr(p, LOGREDACT_SEP);
		size_t n = sep ? (size_t)(sep - p) : strlen(p);
		char *pat = strndup(p, n);

		if (!pat) {
			rc = -ENOMEM;
			break;
		}
		if (n)
			rc = add(r, pat, err, errlen);
		free(pat);
		p = sep ? sep + strlen(LOGREDACT_SEP) : NULL;
	}
	if (rc) {
		logredact_free(r);
		errno = -rc;
		return NULL;
	}
	return r;
}

void logredact_free(struct logredact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		regfree(&r->re[i]);
	free(r->tmp);
	free(r);
}

/* Appends s[0..n) to out (length *o, capacity cap - 1), cut at the end. */
static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (n > cap - 1 - *o)
		n = cap - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
}

/* One pattern over in (NUL-terminated, length n) into out; true on a match. */
static bool one(const regex_t *re, const char *in, size_t n, char *out, size_t cap, size_t *olen)
{
	regmatch_t m[2];
	size_t off = 0, o = 0;
	bool hit = false;

	while (off <= n && regexec(re, in + off, 2, m, off ? REG_NOTBOL : 0) == 0) {
		size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
		size_t keep = m[1].rm_so >= 0 ? (size_t)m[1].rm_eo : so;

		if (eo == so) { /* an empty match: step over one byte */
			put(out, cap, &o, in + off, so + (off + so < n));
			off += so + 1;
			continue;
		}
		hit = true;
		put(out, cap, &o, in + off, keep);
		put(out, cap, &o, LOGREDACT_MASK, sizeof(LOGREDACT_MASK) - 1);
		off += eo;
	}
	if (off < n)
		put(out, cap, &o, in + off, n - off);
	out[o] = '\0';
	*olen = o;
	return hit;
}

size_t logredact_apply(struct logredact *r, const char *line, size_t len, char *out, size_t cap)
{
	size_t n;
	bool hit = false;
	char *a, *b;

	if (!cap)
		return 0;
	if (r->tmp_cap < cap) {
		char *t = realloc(r->tmp, cap);

		if (!t) { /* no scratch: nothing may leave unredacted */
			out[0] = '\0';
			return 0;
		}
		r->tmp = t;
		r->tmp_cap = cap;
	}
	n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = line[i] ? line[i] : '?';
	out[n] = '\0';
	/* a and b take turns; the result must end in out */
	a = out;
	b = r->tmp;
	for (size_t i = 0; i < r->n; i++) {
		hit |= one(&r->re[i], a, n, b, cap, &n);
		a = b;
		b = a == out ? r->tmp : out;
	}
	if (a != out)
		memcpy(out, a, n + 1);
	r->count += hit;
	return n;
}

uint64_t logredact_count(const struct logredact *r)
{
	return r->count;
}
