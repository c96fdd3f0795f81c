// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * reqlabels.c - bounded metric labels of request attributes: the setting's
 * parser, the allow-list and bucket mappings, and the values of an exchange.
 * See reqlabels.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reqlabels.h"
#include "tracer.h"

static struct {
	size_t n;
	struct reqlabel l[REQLABELS_MAX];
	int cap[REQLABELS_MAX];		/* captured header index */
	const char *bag[REQLABELS_MAX]; /* baggage entry, or NULL */
	char bagbuf[REQLABELS_MAX][SEMCONV_REQUEST_KEY_MAX + 1];
} table;

#define SUFFIX "_bucket"

static bool is_valchar(char c)
{
	return (unsigned char)c > ' ' && c != 0x7f && c != '|' && c != ',';
}

/* One "key=allow:..|.." or "key=buckets:N" at s; *end after it. */
static int parse_one(const char *s, const char **end, struct reqlabel *l)
{
	size_t klen = 0;
	const char *v;

	memset(l, 0, sizeof(*l));
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return -EINVAL;
	while ((s[klen] >= 'a' && s[klen] <= 'z') || (s[klen] >= '0' && s[klen] <= '9') ||
	       s[klen] == '_')
		klen++;
	if (klen > SEMCONV_REQUEST_KEY_MAX - strlen(SUFFIX) || s[klen] != '=')
		return -EINVAL;
	memcpy(l->attr, s, klen);
	v = s + klen + 1;
	if (!strncmp(v, "buckets:", 8)) {
		unsigned long nb = 0;

		v += 8;
		if (*v < '0' || *v > '9')
			return -EINVAL;
		while (*v >= '0' && *v <= '9' && nb <= REQLABELS_BUCKETS_MAX)
			nb = nb * 10 + (unsigned long)(*v++ - '0');
		if (!nb || nb > REQLABELS_BUCKETS_MAX)
			return -EINVAL;
		l->nbuckets = (unsigned int)nb;
	} else if (!strncmp(v, "allow:", 6)) {
		v += 6;
		for (;;) {
			size_t len = 0;

			while (is_valchar(v[len]))
				len++;
			if (!len || len >= REQLABELS_VALUE || l->nallow == REQLABELS_ALLOW_MAX)
				return -EINVAL;
			memcpy(l->allow[l->nallow++], v, len);
			v += len;
			if (*v != '|')
				break;
			v++;
		}
	} else {
		return -EINVAL;
	}
	if (*v && *v != ',')
		return -EINVAL;
	*end = *v ? v + 1 : v;
	return **end || !*v ? 0 : -EINVAL; /* no trailing ',' */
}

int reqlabels_parse(const char *s, struct reqlabel *out, size_t *n)
{
	struct reqlabel l[REQLABELS_MAX];

	*n = 0;
	if (!s || !strcmp(s, "none"))
		return 0;
	while (*s) {
		const char *end;

		if (*n == REQLABELS_MAX || parse_one(s, &end, &l[*n]))
			return -EINVAL;
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(l[i].attr, l[*n].attr))
				return -EINVAL;
		(*n)++;
		s = end;
	}
	if (out)
		memcpy(out, l, *n * sizeof(l[0]));
	return 0;
}

uint32_t reqlabels_bucket(const char *v, unsigned int nbuckets)
{
	uint32_t h = 2166136261u;

	for (; *v; v++) {
		h ^= (unsigned char)*v;
		h *= 16777619u;
	}
	return nbuckets ? h % nbuckets : 0;
}

void reqlabels_value(const struct reqlabel *l, const char *v, char out[REQLABELS_VALUE])
{
	out[0] = '\0';
	if (!v[0])
		return;
	if (l->nbuckets) {
		snprintf(out, REQLABELS_VALUE, "b%u", (unsigned)reqlabels_bucket(v, l->nbuckets));
		return;
	}
	for (size_t i = 0; i < l->nallow; i++) {
		if (!strcmp(l->allow[i], v)) {
			snprintf(out, REQLABELS_VALUE, "%s", v);
			return;
		}
	}
	snprintf(out, REQLABELS_VALUE, "%s", "_other");
}

int reqlabels_configure(const char *spec, const struct reqlabels_src *src, char *errbuf,
			size_t errlen)
{
	char keys[REQLABELS_MAX][SEMCONV_REQUEST_KEY_MAX + 1];
	const char *kp[REQLABELS_MAX];
	size_t n, nh = src ? src->nattrs - src->nbaggage : 0;

	memset(&table, 0, sizeof(table));
	if (reqlabels_parse(spec, table.l, &n)) {
		snprintf(errbuf, errlen, "traces.attribute_labels: '%s' is malformed", spec);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t a = 0;

		while (src && a < src->nattrs && strcmp(src->keys[a], table.l[i].attr))
			a++;
		if (!src || a == src->nattrs) {
			snprintf(errbuf, errlen,
				 "traces.attribute_labels: '%s' is no request attribute "
				 "(traces.header_attributes, traces.baggage_attributes)",
				 table.l[i].attr);
			memset(&table, 0, sizeof(table));
			return -EINVAL;
		}
		if (a < nh) {
			table.cap[i] = (int)a;
		} else {
			table.cap[i] = (int)src->bag_header;
			snprintf(table.bagbuf[i], sizeof(table.bagbuf[i]), "%s",
				 src->bag_entries[a - nh]);
			table.bag[i] = table.bagbuf[i];
		}
		snprintf(keys[i], sizeof(keys[i]), "%s%s", table.l[i].attr,
			 table.l[i].nbuckets ? SUFFIX : "");
		kp[i] = keys[i];
	}
	if (semconv_set_label_keys(kp, n)) {
		memset(&table, 0, sizeof(table));
		return -EINVAL;
	}
	table.n = n;
	return 0;
}

void reqlabels_values(const struct http_exchange *x, char out[REQLABELS_MAX][REQLABELS_VALUE],
		      const char *ptrs[REQLABELS_MAX])
{
	for (size_t i = 0; i < REQLABELS_MAX; i++) {
		char v[REQLABELS_VALUE] = "";

		ptrs[i] = out[i];
		out[i][0] = '\0';
		if (i >= table.n)
			continue;
		if (table.bag[i])
			tracer_baggage_get(x->captured[table.cap[i]], table.bag[i], v, sizeof(v));
		else
			snprintf(v, sizeof(v), "%s", x->captured[table.cap[i]]);
		reqlabels_value(&table.l[i], v, out[i]);
	}
}
