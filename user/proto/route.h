/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * route.h - turns an HTTP request-target into a low-cardinality route for the
 * http.route attribute: user patterns first ("/users/{id}"), then a heuristic
 * that replaces identifier-looking path segments with "{id}".
 *
 * API: route_table_new(), route_table_add() for each configured pattern, then
 * route_normalize() per request; route_table_free() accepts NULL.
 *
 * Thread-safety: a table is built by one thread and read-only afterwards;
 * concurrent route_normalize() calls on it need no lock.
 */
#ifndef REDTAP_ROUTE_H
#define REDTAP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest route route_normalize() writes, and longest pattern accepted. */
#define ROUTE_MAX_LEN 127
/* Path segments kept; the rest becomes one "*" segment. */
#define ROUTE_MAX_SEGMENTS 8

struct route_table;

/* NULL and errno (ENOMEM) on failure. */
struct route_table *route_table_new(void);

/* NULL is ok. */
void route_table_free(struct route_table *t);

/*
 * Adds a pattern (copied). Segments are literal text, "{name}" placeholders
 * (each matches one or more characters within a segment, so "/f/{n}.txt"
 * works), or a final "*" segment that matches the rest of the path (at least
 * one more segment, possibly empty: "/static/" followed by "*" matches
 * "/static/" and "/static/a/b" but not "/static"). Patterns are tried in the order added.
 * Returns 0, -EINVAL for a malformed pattern (not starting with '/', longer
 * than ROUTE_MAX_LEN, unbalanced or nested braces, an empty placeholder, '*'
 * anywhere but as the whole last segment, '?', '#', spaces or control bytes),
 * or -ENOMEM.
 */
int route_table_add(struct route_table *t, const char *pattern);

/*
 * Writes the route of an HTTP request-target into out (always NUL-terminated,
 * at most out_size - 1 bytes; nothing is written when out_size is 0). The
 * query and fragment are stripped; absolute-form ("http://host:port/p") is
 * reduced to its path; "*" stays "*"; an empty path becomes "/"; any other
 * target not starting with '/' is treated as if it did. A matching pattern is
 * written as the pattern itself. Otherwise each segment that looks like an
 * identifier becomes "{id}" (or "{id}.ext" when only the part before a short
 * file extension does): digits; numbers with separators, dates and versions
 * ("2024-01-15", "1.2.3", "10.0.0.1"); UUIDs; hex of 8+ characters with a digit
 * (16+ without); tokens of 16+ characters with 2+ digits or random-looking
 * letter case; e-mail addresses and @handles; percent-encoded text; bytes that
 * are control characters or not UTF-8; segments over 64 bytes. Words such as
 * "v1", "api", "users", "index.html" stay. At most ROUTE_MAX_SEGMENTS segments
 * are kept (the rest becomes one "*" segment), and the route never exceeds
 * ROUTE_MAX_LEN characters (whole segments give way to that "*" segment). t may be NULL. Returns
 * the length written.
 */
size_t route_normalize(const struct route_table *t, const char *target, char *out, size_t out_size);

/* Whether route is one of the table's patterns (t may be NULL: false). */
bool route_table_has(const struct route_table *t, const char *route);

#endif /* REDTAP_ROUTE_H */
