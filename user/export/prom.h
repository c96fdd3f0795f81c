/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * prom.h - renders a metric registry as Prometheus text format 0.0.4 or as
 * OpenMetrics 1.0 text, picks between them from an HTTP Accept header, and
 * formats numbers the way both formats want them.
 *
 * API: prom_negotiate() + prom_content_type() for the HTTP layer, then
 * prom_render() for the body (a malloc'd buffer the caller frees). The
 * number formatters are exposed for other writers (tests, JSON).
 *
 * Thread-safety: prom_render() holds the registry lock only while it takes a
 * snapshot, and formats without it;
 * the rest is pure. Numbers are formatted with printf/strtod, so LC_NUMERIC
 * must stay "C" (the default) in the daemon.
 */
#ifndef REDTAP_PROM_H
#define REDTAP_PROM_H

#include <stddef.h>

#include "metrics.h"

enum prom_format { PROM_FMT_TEXT, PROM_FMT_OPENMETRICS };

/*
 * Picks the format from an HTTP Accept header (NULL or "" -> text): OpenMetrics
 * when application/openmetrics-text (version 1.0.0, 0.0.1 or none) is named
 * with a q-value > 0 that is at least the q-value given to the text format
 * (text/plain, else a text or any-type wildcard, the most specific one
 * wins); text format 0.0.4 otherwise. Ties go to OpenMetrics.
 */
enum prom_format prom_negotiate(const char *accept);

/* The Content-Type header value for the format (a static string). */
const char *prom_content_type(enum prom_format f);

/*
 * Renders every family of the registry, in creation order: families without
 * series still get their metadata lines. *out is malloc'd and NUL-terminated
 * (caller frees), *out_len excludes the NUL. Returns 0 or -errno (-EINVAL,
 * -ENOMEM); *out is untouched on error.
 */
int prom_render(struct metric_registry *r, enum prom_format f, char **out, size_t *out_len);

/* Large enough for any number these functions write, with the NUL. */
#define PROM_NUM_MAX 32

/*
 * Writes a sample value: the shortest decimal that parses back to exactly v,
 * integers without exponent or decimal point (up to 2^53), plain notation for
 * magnitudes in [1e-5, 1e15), otherwise d.ddde[+-]XX; "+Inf", "-Inf", "NaN".
 * Returns the length.
 */
size_t prom_format_value(char buf[PROM_NUM_MAX], double v);

/*
 * Writes an "le" label value: Go's shortest %g rendering (what client_golang
 * writes, e.g. "0.005", "1", "1e+06") for the text format, plus ".0" when
 * there is neither a point nor an exponent for OpenMetrics ("1.0", "10.0"),
 * its canonical form. Returns the length.
 */
size_t prom_format_le(char buf[PROM_NUM_MAX], double v, enum prom_format f);

#endif /* REDTAP_PROM_H */
