/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logredact.h - replaces secrets in log lines before they leave the node:
 * a list of POSIX extended regular expressions (case-insensitive), each
 * match replaced by LOGREDACT_MASK. When a pattern has a group, the text
 * of its first group is kept and only the rest of the match is replaced,
 * so "Authorization: Bearer abc" becomes "Authorization: [REDACTED]".
 *
 * The defaults (LOGREDACT_DEFAULTS) cover Authorization headers, bearer
 * tokens, password= / passwd / pwd, secret, token and api keys, in JSON,
 * logfmt, query strings and free text.
 *
 * API: logredact_new() compiles the defaults (unless no_defaults) and the
 * extra patterns, a list separated by LOGREDACT_SEP; NULL and errno
 * (EINVAL with the bad pattern in err). logredact_apply() writes the
 * redacted line into out (cut at cap, NUL-terminated) and returns its
 * length; it counts lines that had a match. Any bytes are accepted: NUL
 * bytes in the line become '?'. Not thread-safe (regexec on one set).
 */
#ifndef REDTAP_LOGREDACT_H
#define REDTAP_LOGREDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGREDACT_MASK "[REDACTED]"
#define LOGREDACT_SEP  ";;"
#define LOGREDACT_MAX  32 /* patterns, defaults included */

struct logredact;

struct logredact *logredact_new(const char *extra, bool no_defaults, char *err, size_t errlen);
void logredact_free(struct logredact *r);

/* out receives at most cap - 1 bytes and a NUL; returns their number. */
size_t logredact_apply(struct logredact *r, const char *line, size_t len, char *out, size_t cap);

/* Lines in which at least one pattern matched. */
uint64_t logredact_count(const struct logredact *r);

#endif /* REDTAP_LOGREDACT_H */
