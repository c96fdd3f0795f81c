/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * promtext.h - a registry's exposition (user/export/prom.c) for the unit
 * tests that check what a recorder put in it: rendered with the length
 * checked, kept in a buffer the test owns, and a sample's value read back.
 * Header-only; include after <cmocka.h>.
 */
#ifndef REDTAP_TEST_PROMTEXT_H
#define REDTAP_TEST_PROMTEXT_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* r in format fmt, a new string the caller frees; the render must succeed
 * and say its length right. */
static inline char *promtext(struct metric_registry *r, enum prom_format fmt)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(prom_render(r, fmt, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* promtext() into *buf, which held the previous render (or NULL). */
static inline const char *promtext_into(char **buf, struct metric_registry *r, enum prom_format fmt)
{
	free(*buf);
	*buf = promtext(r, fmt);
	return *buf;
}

/* The value of the sample whose name{labels} is exactly series; NAN when absent. */
static inline double promtext_value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line)
		if (!strncmp(line, series, n) && line[n] == ' ')
			return strtod(line + n + 1, NULL);
	return NAN;
}

#endif /* REDTAP_TEST_PROMTEXT_H */
