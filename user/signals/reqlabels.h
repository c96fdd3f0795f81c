/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * reqlabels.h - bounded metric labels of request attributes
 * (traces.attribute_labels): which request attributes (traces.header_attributes,
 * traces.baggage_attributes) also label the HTTP duration families, and how
 * their values are bounded. A raw value never becomes a label:
 *
 *   key=allow:v1|v2|...   label <key>: the value when listed, else "_other"
 *   key=buckets:N         label <key>_bucket: "b<FNV-1a 32 of the value mod N>"
 *
 * An attribute not named stays on spans only. A request without the
 * attribute gets an empty value, which /metrics leaves out. The labels are
 * the semconv slots SC_REQUEST_LABEL0.. (semconv.h), in the order given.
 *
 * API: reqlabels_parse() checks a setting; reqlabels_configure() sets the
 * process-wide table once at start, before the families are declared;
 * reqlabels_values() then gives an exchange's label values. Thread-safe
 * after configuration (read-only).
 */
#ifndef REDTAP_REQLABELS_H
#define REDTAP_REQLABELS_H

#include <stddef.h>
#include <stdint.h>

#include "httptrack.h"
#include "semconv.h"

#define REQLABELS_MAX	      SEMCONV_REQUEST_KEYS /* labels */
#define REQLABELS_ALLOW_MAX   16		   /* listed values per label */
#define REQLABELS_BUCKETS_MAX 1024
#define REQLABELS_VALUE	      HTTP1_CAPTURE_VALUE

struct reqlabel {
	char attr[SEMCONV_REQUEST_KEY_MAX + 1]; /* the request attribute's key */
	unsigned int nbuckets;			/* 0: the allow-list */
	size_t nallow;
	char allow[REQLABELS_ALLOW_MAX][REQLABELS_VALUE];
};

/* Parses "key=allow:a|b,key2=buckets:64" ("" or "none": no labels) into
 * out (may be NULL; REQLABELS_MAX entries), *n the count. Keys are
 * [a-z][a-z0-9_]* of at most SEMCONV_REQUEST_KEY_MAX - 7 bytes, each once;
 * N is 1..REQLABELS_BUCKETS_MAX; listed values are 1..63 visible bytes
 * other than '|' and ','. -EINVAL when malformed. */
int reqlabels_parse(const char *s, struct reqlabel *out, size_t *n);

/* Where the request attributes come from, as the tracer has them: attribute
 * i < nattrs - nbaggage is captured header i; the others are entries
 * bag_entries[j] of the baggage header captured at index bag_header. */
struct reqlabels_src {
	const char *const *keys; /* the attributes' keys, nattrs of them */
	size_t nattrs;
	size_t nbaggage;
	const char *const *bag_entries;
	size_t bag_header;
};

/* Sets the process-wide labels from a checked setting and the attributes;
 * also the semconv label keys. -EINVAL (and errbuf) when a label names
 * no request attribute. spec "" clears them. */
int reqlabels_configure(const char *spec, const struct reqlabels_src *src, char *errbuf,
			size_t errlen);

/* The bucket of a value: FNV-1a 32 bits mod nbuckets (stable across runs,
 * versions and nodes, so dashboards can name buckets). */
uint32_t reqlabels_bucket(const char *v, unsigned int nbuckets);

/* One label's value of an attribute value v into out: "" when v is empty. */
void reqlabels_value(const struct reqlabel *l, const char *v, char out[REQLABELS_VALUE]);

/* The values of the configured labels for x, REQLABELS_MAX of them (the
 * unused ones ""); ptrs[i] points at out[i]. */
void reqlabels_values(const struct http_exchange *x, char out[REQLABELS_MAX][REQLABELS_VALUE],
		      const char *ptrs[REQLABELS_MAX]);

#endif /* REDTAP_REQLABELS_H */
