/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sqlsum.h - SQL statement text to OpenTelemetry attributes: the operation
 * name (db.operation.name), a low-cardinality summary (db.query.summary:
 * each operation and the tables it names, in order, e.g. "SELECT users" or
 * "INSERT orders SELECT items"), and a sanitised text (db.query.text) in
 * which every literal is a "?" placeholder.
 *
 * The summary comes from the PostgreSQL parser (libpg_query) when the text
 * parses; otherwise (truncated text, another dialect, garbage) from a
 * fallback tokenizer that knows PostgreSQL's lexical traps: '' and E''
 * strings, U&'' and B''/X'' literals, $tag$...$tag$ dollar quotes, nested
 * comments, :: casts, and $1 parameters, which are kept. A text holding
 * several statements is a batch: its operation is "BATCH <op>" when they
 * all share one operation, else "BATCH". IN lists of literals collapse to
 * "IN (?)". All output is valid UTF-8 (other bytes become '?'), NUL-terminated.
 *
 * API: sqlsum_describe() looks the text up in a bounded cache (one per
 * process, made on first use; keyed by the sanitised text, so texts that
 * differ only in their literals share an entry) and fills a struct
 * sql_summary. The building
 * blocks are exported for tests: sqlsum_sanitize() and sqlsum_fallback().
 *
 * Work bounds (the text comes from any local process): every loop of the
 * tokenizer and of the summary advances through the text or its tokens, so
 * one call is linear in min(len, SQLSUM_TEXT_MAX); at most MAX_TOKS tokens
 * and MAX_STMTS statements are looked at. libpg_query only sees texts of at
 * most SQLSUM_PARSE_MAX bytes whose parentheses nest at most 64 deep; longer
 * or deeper texts get the tokenizer's summary, as truncated ones do. Even
 * so a 1 KiB expression chain costs the parser milliseconds, so its time is
 * budgeted: SQLSUM_PARSE_BUDGET_NS per second (a token bucket, one second of
 * burst). Past it, texts get the tokenizer's summary (not cached) and are
 * counted in sqlsum_parse_skipped().
 *
 * Thread-safety: all functions may be called from any thread (the cache has
 * a mutex; parsing happens outside it).
 */
#ifndef REDTAP_SQLSUM_H
#define REDTAP_SQLSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQLSUM_CACHE_ENTRIES 1024
#define SQLSUM_CACHE_TEXT    1024	/* longer texts are summarised every time */
#define SQLSUM_TEXT_MAX	     (1u << 20) /* bytes looked at; the rest is treated as cut off */
#define SQLSUM_PARSE_MAX     8192	/* longer texts are not given to libpg_query */

struct sql_summary {
	char operation[32];  /* "SELECT", "BATCH INSERT", ... ; "" when none found */
	char summary[128];   /* "SELECT users orders"; "" when none found */
	char sanitized[512]; /* literals replaced by ?, comments dropped, spaces collapsed */
	bool parsed;	     /* libpg_query parsed the text */
};

/*
 * Describes sql[0..len) (need not be NUL-terminated; stops at a NUL byte).
 * truncated says the text is a prefix of a longer statement, so the parser
 * is not tried. Returns 0, or -EINVAL when sql or out is NULL.
 */
int sqlsum_describe(const char *sql, size_t len, bool truncated, struct sql_summary *out);

/* Writes the sanitised text into out (outsz > 0); returns its length. */
size_t sqlsum_sanitize(const char *sql, size_t len, char *out, size_t outsz);

/* Fills operation and summary with the tokenizer alone (sanitized untouched). */
void sqlsum_fallback(const char *sql, size_t len, struct sql_summary *out);

/* Parser time allowed per second, from every thread together; the default: 100 ms. */
#define SQLSUM_PARSE_BUDGET_NS 100000000ull
void sqlsum_set_parse_budget(uint64_t ns_per_sec); /* and refills the bucket */

/* Texts that got the tokenizer's summary because the parser's budget was spent. */
uint64_t sqlsum_parse_skipped(void);

/* Replaces bytes that are not valid UTF-8 with '?', in place. */
void sqlsum_utf8_fix(char *s);

#endif /* REDTAP_SQLSUM_H */
