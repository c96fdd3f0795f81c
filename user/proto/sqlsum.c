// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sqlsum.c - SQL sanitising and summaries (see sqlsum.h): a PostgreSQL-aware
 * tokenizer, a walk over libpg_query's JSON parse tree, a bounded cache.
 */
#include <errno.h>
#include <pg_query.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sqlsum.h"
#include "utf8.h"

#define MAX_TOKS   2048
#define MAX_STMTS  16
#define MAX_PARENS 64
#define ITEMS_SZ   160
#define NAME_SZ	   64

enum tok_type { T_WORD, T_QIDENT, T_PARAM, T_LIT, T_PUNCT, T_CAST };

struct tok {
	uint32_t start, len;
	uint8_t type;
	uint8_t space; /* whitespace or a comment came before it */
};

/* Operation and items (tables, nested operations) of one statement. */
struct stmt_sum {
	char op[32];
	char items[ITEMS_SZ];
	char last_op[32];    /* the operation the items added last belong to */
	char pending_op[32]; /* a nested operation, added before its first table */
};

/* Adds a table name, preceded by a nested operation that names it first. */
static void add_table(struct stmt_sum *st, const char *name);

/* ---- tokenizer ---- */

static bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips a quoted run starting after the opening quote; returns the index after it. */
static size_t skip_quoted(const char *s, size_t n, size_t i, char q, bool backslash)
{
	while (i < n) {
		if (backslash && s[i] == '\\') {
			i += 2;
		} else if (s[i] == q) {
			if (i + 1 < n && s[i + 1] == q)
				i += 2;
			else
				return i + 1;
		} else {
			i++;
		}
	}
	return n;
}

static size_t skip_comment(const char *s, size_t n, size_t i)
{
	int depth = 1;

	for (i += 2; i < n && depth;) {
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	}
	return i > n ? n : i;
}

/* A $tag$...$tag$ string at s[i] == '$': index after it, or 0 if this is no tag. */
static size_t skip_dollar(const char *s, size_t n, size_t i)
{
	size_t j = i + 1, taglen;
	const char *end;

	if (j < n && is_ident_start((unsigned char)s[j]))
		while (j < n && is_ident_char((unsigned char)s[j]) && s[j] != '$')
			j++;
	if (j >= n || s[j] != '$')
		return 0;
	taglen = j - i + 1;
	end = memmem(s + j + 1, n - (j + 1), s + i, taglen);
	return end ? (size_t)(end - s) + taglen : n;
}

static size_t skip_number(const char *s, size_t n, size_t i)
{
	if (s[i] == '0' && i + 1 < n && strchr("xXoObB", s[i + 1]) && s[i + 1]) {
		for (i += 2; i < n &&
			     (is_digit((unsigned char)s[i]) || is_ident_start((unsigned char)s[i]));
		     i++)
			;
		return i;
	}
	while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	if (i < n && s[i] == '.' && !(i + 1 < n && s[i + 1] == '.'))
		for (i++; i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'); i++)
			;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < n && is_digit((unsigned char)s[j]))
			for (i = j; i < n && is_digit((unsigned char)s[i]); i++)
				;
	}
	return i;
}

static size_t lex(const char *s, size_t n, struct tok *t, size_t max)
{
	size_t i = 0, k = 0, st, end;
	bool space = false;

	while (i < n && k < max) {
		unsigned char c = (unsigned char)s[i], lc = c | 0x20;
		char next = i + 1 < n ? s[i + 1] : 0;
		uint8_t type;

		st = i;
		if (is_space(c)) {
			i++;
			space = true;
			continue;
		}
		if (c == '-' && next == '-') {
			while (i < n && s[i] != '\n')
				i++;
			space = true;
			continue;
		}
		if (c == '/' && next == '*') {
			i = skip_comment(s, n, i);
			space = true;
			continue;
		}
		if (c == '\'') {
			i = skip_quoted(s, n, i + 1, '\'', false);
			type = T_LIT;
		} else if (lc == 'e' && next == '\'') {
			i = skip_quoted(s, n, i + 2, '\'', true);
			type = T_LIT;
		} else if ((lc == 'b' || lc == 'x' || lc == 'n') && next == '\'') {
			i = skip_quoted(s, n, i + 2, '\'', false);
			type = T_LIT;
		} else if (lc == 'u' && next == '&' && i + 2 < n &&
			   (s[i + 2] == '\'' || s[i + 2] == '"')) {
			type = s[i + 2] == '\'' ? T_LIT : T_QIDENT;
			i = skip_quoted(s, n, i + 3, s[i + 2], false);
		} else if (c == '"') {
			i = skip_quoted(s, n, i + 1, '"', false);
			type = T_QIDENT;
		} else if (c == '$' && is_digit((unsigned char)next)) {
			for (i++; i < n && is_digit((unsigned char)s[i]); i++)
				;
			type = T_PARAM;
		} else if (c == '$' && (end = skip_dollar(s, n, i))) {
			i = end;
			type = T_LIT;
		} else if (is_digit(c) || (c == '.' && is_digit((unsigned char)next))) {
			i = skip_number(s, n, i);
			type = T_LIT;
		} else if (is_ident_start(c)) {
			while (i < n && is_ident_char((unsigned char)s[i]))
				i++;
			type = T_WORD;
		} else if (c == ':' && next == ':') {
			i += 2;
			type = T_CAST;
		} else {
			i++;
			type = T_PUNCT;
		}
		t[k].start = (uint32_t)st;
		t[k].len = (uint32_t)(i - st);
		t[k].type = type;
		t[k].space = space;
		k++;
		space = false;
	}
	return k;
}

static bool tok_is(const char *s, const struct tok *t, const char *word)
{
	size_t l = strlen(word);

	return t->type == T_WORD && t->len == l && !strncasecmp(s + t->start, word, l);
}

static bool tok_punct(const char *s, const struct tok *t, char c)
{
	return t->type == T_PUNCT && s[t->start] == c;
}

/* ---- UTF-8 ---- */

void sqlsum_utf8_fix(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t l = utf8_seq(p);

		if (!l) {
			*p++ = '?';
		} else if (l == 1 && *p < 0x20) {
			*p++ = ' ';
		} else {
			p += l;
		}
	}
}

/* ---- output buffers ---- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t len)
{
	size_t room = b->cap - 1 - b->n;

	if (len > room)
		len = room;
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = 0;
}

/* Appends a space-separated word if it fits whole. */
static void word_add(char *dst, size_t size, const char *w)
{
	size_t n = strlen(dst), l = strlen(w);

	if (!l || n + (n ? 1 : 0) + l + 1 > size)
		return;
	if (n)
		dst[n++] = ' ';
	memcpy(dst + n, w, l + 1);
}

/* Whether w is one of the space-separated words of list; never for "". */
static bool word_has(const char *list, const char *w)
{
	size_t l = strlen(w);
	const char *p = list;

	if (!l)
		return false; /* strstr() finds "" everywhere: p += 0 would never end */
	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return true;
		p += l;
	}
	return false;
}

/* Copies a string, cut to fit. */
static void scopy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void upper_copy(char *dst, size_t size, const char *s, size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
	dst[len] = 0;
}

/* ---- sanitising ---- */

/* toks[i] is IN and toks[i+1] '(' then literals and commas and ')': index of ')'. */
static size_t in_list_end(const char *s, const struct tok *t, size_t n, size_t i)
{
	size_t j = i + 2;

	if (!tok_is(s, &t[i], "IN") || i + 1 >= n || !tok_punct(s, &t[i + 1], '('))
		return 0;
	for (;;) {
		if (j >= n || t[j].type != T_LIT)
			return 0;
		if (++j >= n)
			return 0;
		if (tok_punct(s, &t[j], ')'))
			return j;
		if (!tok_punct(s, &t[j], ','))
			return 0;
		j++;
	}
}

static size_t sanitize_toks(const char *s, const struct tok *t, size_t n, char *out, size_t outsz)
{
	struct sbuf b = {out, 0, outsz};
	size_t i, end;

	out[0] = 0;
	for (i = 0; i < n; i++) {
		if (t[i].space && b.n)
			sb_put(&b, " ", 1);
		if (t[i].type == T_LIT) {
			sb_put(&b, "?", 1);
		} else if ((end = in_list_end(s, t, n, i))) {
			sb_put(&b, s + t[i].start, t[i].len);
			sb_put(&b, t[i + 1].space ? " (?)" : "(?)", t[i + 1].space ? 4 : 3);
			i = end;
		} else {
			sb_put(&b, s + t[i].start, t[i].len);
		}
	}
	sqlsum_utf8_fix(out);
	return strlen(out);
}

size_t sqlsum_sanitize(const char *sql, size_t len, char *out, size_t outsz)
{
	struct tok *t;
	size_t n;

	if (!outsz)
		return 0;
	out[0] = 0;
	if (!sql)
		return 0;
	len = strnlen(sql, len < SQLSUM_TEXT_MAX ? len : SQLSUM_TEXT_MAX);
	t = malloc(MAX_TOKS * sizeof(*t));
	if (!t)
		return 0;
	n = lex(sql, len, t, MAX_TOKS);
	n = sanitize_toks(sql, t, n, out, outsz);
	free(t);
	return n;
}

/* ---- summaries ---- */

static void add_table(struct stmt_sum *st, const char *name)
{
	if (st->pending_op[0] && strcmp(st->pending_op, st->last_op)) {
		word_add(st->items, sizeof(st->items), st->pending_op);
		scopy(st->last_op, sizeof(st->last_op), st->pending_op);
	}
	st->pending_op[0] = 0;
	if (name[0] && !word_has(st->items, name))
		word_add(st->items, sizeof(st->items), name);
}

static const char *const dml_words[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", NULL};
static const char *const table_intro[] = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", NULL};
static const char *const not_names[] = {"SELECT", "VALUES",  "SET",  "OF",   "NOWAIT",
					"SKIP",	  "DEFAULT", "WITH", "ONLY", "LATERAL",
					"STDIN",  "STDOUT",  NULL};

static const char *tok_in(const char *s, const struct tok *t, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (tok_is(s, t, words[i]))
			return words[i];
	return NULL;
}

/* Copies an identifier (unquoting "..."), appending to dst. */
static void ident_append(char *dst, size_t size, const char *s, const struct tok *t)
{
	size_t n = strlen(dst), i, end = t->start + t->len;

	i = t->start;
	if (t->type == T_QIDENT) {
		i++;
		if (end > i && s[end - 1] == '"')
			end--;
	}
	for (; i < end && n + 1 < size; i++) {
		if (t->type == T_QIDENT && s[i] == '"' && i + 1 < end && s[i + 1] == '"')
			i++;
		dst[n++] = s[i];
	}
	dst[n] = 0;
}

/* Reads a possibly schema-qualified name at t[j]; returns tokens used, 0 if none. */
static size_t read_name(const char *s, const struct tok *t, size_t n, size_t j, char *name)
{
	size_t k = j;

	name[0] = 0;
	while (k < n && (tok_is(s, &t[k], "ONLY") || tok_is(s, &t[k], "LATERAL")))
		k++;
	if (k >= n || (t[k].type != T_WORD && t[k].type != T_QIDENT) || tok_in(s, &t[k], not_names))
		return 0;
	ident_append(name, NAME_SZ, s, &t[k]);
	while (k + 2 < n && tok_punct(s, &t[k + 1], '.') &&
	       (t[k + 2].type == T_WORD || t[k + 2].type == T_QIDENT)) {
		if (strlen(name) + 2 < NAME_SZ)
			strcat(name, ".");
		ident_append(name, NAME_SZ, s, &t[k + 2]);
		k += 2;
	}
	return k + 1 - j;
}

static void fb_statement(const char *s, const struct tok *t, size_t a, size_t b,
			 struct stmt_sum *st)
{
	bool call_paren[MAX_PARENS];
	int depth = 0;
	size_t i, first = a, used;
	const char *w;
	char name[NAME_SZ];

	memset(st, 0, sizeof(*st));
	while (first < b && tok_punct(s, &t[first], '('))
		first++;
	if (first >= b || t[first].type != T_WORD)
		return;
	upper_copy(st->op, sizeof(st->op), s + t[first].start, t[first].len);
	if (!strcmp(st->op, "WITH")) {
		for (i = first + 1; i < b; i++) {
			if (tok_punct(s, &t[i], '('))
				depth++;
			else if (tok_punct(s, &t[i], ')'))
				depth--;
			else if (!depth && (w = tok_in(s, &t[i], dml_words))) {
				scopy(st->op, sizeof(st->op), w);
				break;
			}
		}
		depth = 0;
	}
	scopy(st->last_op, sizeof(st->last_op), st->op);
	for (i = first; i < b; i++) {
		if (tok_punct(s, &t[i], '(')) {
			if (depth < MAX_PARENS)
				call_paren[depth] = i > a && t[i - 1].type == T_WORD &&
						    !tok_is(s, &t[i - 1], "IN") &&
						    !tok_is(s, &t[i - 1], "AS") &&
						    !tok_in(s, &t[i - 1], table_intro);
			depth++;
			continue;
		}
		if (tok_punct(s, &t[i], ')')) {
			if (depth > 0)
				depth--;
			continue;
		}
		if (depth > 0 && depth <= MAX_PARENS && call_paren[depth - 1])
			continue;
		w = tok_in(s, &t[i], dml_words);
		if (w && i > first && tok_punct(s, &t[i - 1], '('))
			scopy(st->pending_op, sizeof(st->pending_op), w);
		if (tok_in(s, &t[i], table_intro) || (i == first && tok_is(s, &t[i], "COPY"))) {
			used = read_name(s, t, b, i + 1, name);
			if (!used)
				continue;
			/* FROM f(...) is a function, not a table */
			if (!tok_is(s, &t[i], "INTO") && !tok_is(s, &t[i], "UPDATE") &&
			    i + 1 + used < b && tok_punct(s, &t[i + 1 + used], '('))
				continue;
			add_table(st, name);
			i += used;
		}
	}
}

/* Splits tokens into statements at top-level semicolons. */
static int fb_statements(const char *s, const struct tok *t, size_t n, struct stmt_sum *out)
{
	size_t i, a = 0;
	int depth = 0, k = 0;

	for (i = 0; i <= n && k < MAX_STMTS; i++) {
		if (i < n && tok_punct(s, &t[i], '('))
			depth++;
		else if (i < n && tok_punct(s, &t[i], ')') && depth > 0)
			depth--;
		if (i < n && !(tok_punct(s, &t[i], ';') && !depth))
			continue;
		if (i > a) {
			fb_statement(s, t, a, i, &out[k]);
			if (out[k].op[0])
				k++;
		}
		a = i + 1;
	}
	return k;
}

/* Final operation and summary from per-statement results. */
static void finish(const struct stmt_sum *st, int nst, struct sql_summary *out)
{
	bool same = true;
	int i;

	out->operation[0] = 0;
	out->summary[0] = 0;
	if (nst <= 0)
		return;
	for (i = 1; i < nst; i++)
		if (strcmp(st[i].op, st[0].op))
			same = false;
	if (nst == 1)
		scopy(out->operation, sizeof(out->operation), st[0].op);
	else if (same) {
		scopy(out->operation, sizeof(out->operation), "BATCH ");
		scopy(out->operation + 6, sizeof(out->operation) - 6, st[0].op);
	} else
		scopy(out->operation, sizeof(out->operation), "BATCH");
	for (i = 0; i < nst; i++) {
		char one[sizeof(out->summary)] = "";
		char *tok, *save = NULL, items[ITEMS_SZ];

		word_add(one, sizeof(one), st[i].op);
		scopy(items, sizeof(items), st[i].items);
		for (tok = strtok_r(items, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			word_add(one, sizeof(one), tok);
		word_add(out->summary, sizeof(out->summary), one);
	}
	sqlsum_utf8_fix(out->operation);
	sqlsum_utf8_fix(out->summary);
}

static int fallback_toks(const char *s, const struct tok *t, size_t n, struct stmt_sum *st)
{
	return fb_statements(s, t, n, st);
}

void sqlsum_fallback(const char *sql, size_t len, struct sql_summary *out)
{
	struct stmt_sum st[MAX_STMTS];
	struct tok *t;
	size_t n;

	out->operation[0] = 0;
	out->summary[0] = 0;
	if (!sql)
		return;
	len = strnlen(sql, len < SQLSUM_TEXT_MAX ? len : SQLSUM_TEXT_MAX);
	t = malloc(MAX_TOKS * sizeof(*t));
	if (!t)
		return;
	n = lex(sql, len, t, MAX_TOKS);
	finish(st, fallback_toks(sql, t, n, st), out);
	free(t);
}

/* ---- libpg_query parse tree ---- */

struct jwalk {
	struct stmt_sum *st;
	int nst;
	int depth;
	bool want_node; /* the next key names a top-level statement's node */
	int rv_depth;	/* > 0 inside a RangeVar object */
	int pending;	/* 1 schemaname, 2 relname: the next string value */
	char schema[NAME_SZ], rel[NAME_SZ];
};

static const char *node_op(const char *key)
{
	static const char *const map[][2] = {
	    {"SelectStmt", "SELECT"}, {"InsertStmt", "INSERT"}, {"UpdateStmt", "UPDATE"},
	    {"DeleteStmt", "DELETE"}, {"MergeStmt", "MERGE"},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(key, map[i][0]))
			return map[i][1];
	return NULL;
}

/* Reads a JSON string at *p (after the quote) into buf; returns the end. */
static const char *json_str(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	while (*p && *p != '"') {
		char c = *p++;

		if (c == '\\' && *p) {
			c = *p++;
			if (c == 'u') {
				c = '?';
				for (int k = 0; k < 4 && *p; k++)
					p++;
			} else if (c == 'n' || c == 't' || c == 'r' || c == 'b' || c == 'f') {
				c = ' ';
			}
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = 0;
	return *p ? p + 1 : p;
}

static void jw_key(struct jwalk *w, const char *key)
{
	struct stmt_sum *cur = w->nst ? &w->st[w->nst - 1] : NULL;
	const char *op = node_op(key);

	if (w->want_node) {
		w->want_node = false;
		if (w->nst < MAX_STMTS) {
			cur = &w->st[w->nst++];
			memset(cur, 0, sizeof(*cur));
			scopy(cur->op, sizeof(cur->op), op ? op : "");
			scopy(cur->last_op, sizeof(cur->last_op), cur->op);
		}
		return;
	}
	if (!strcmp(key, "stmt")) {
		w->want_node = true;
	} else if (op && cur) {
		scopy(cur->pending_op, sizeof(cur->pending_op), op);
	} else if ((!strcmp(key, "RangeVar") || !strcmp(key, "relation")) && !w->rv_depth) {
		/* "relation" fields are RangeVars serialised without the node wrapper */
		w->rv_depth = w->depth + 1;
		w->schema[0] = 0;
		w->rel[0] = 0;
	} else if (w->rv_depth && w->depth == w->rv_depth) {
		w->pending = !strcmp(key, "schemaname") ? 1 : !strcmp(key, "relname") ? 2 : 0;
	}
}

static void jw_rangevar_end(struct jwalk *w)
{
	struct stmt_sum *cur = w->nst ? &w->st[w->nst - 1] : NULL;
	char name[2 * NAME_SZ];

	w->rv_depth = 0;
	if (!cur || !w->rel[0])
		return;
	snprintf(name, sizeof(name), "%s%s%s", w->schema, w->schema[0] ? "." : "", w->rel);
	add_table(cur, name);
}

static int json_walk(const char *json, struct stmt_sum *st)
{
	struct jwalk w = {.st = st};
	char buf[NAME_SZ * 2];
	const char *p = json;

	while (*p) {
		char c = *p++;

		if (c == '{' || c == '[') {
			w.depth++;
		} else if (c == '}' || c == ']') {
			if (c == '}' && w.rv_depth && w.depth == w.rv_depth)
				jw_rangevar_end(&w);
			w.depth--;
		} else if (c == '"') {
			p = json_str(p, buf, sizeof(buf));
			while (*p == ' ')
				p++;
			if (*p == ':') {
				jw_key(&w, buf);
			} else if (w.pending && w.rv_depth && w.depth == w.rv_depth) {
				scopy(w.pending == 1 ? w.schema : w.rel, NAME_SZ, buf);
				w.pending = 0;
			}
		}
	}
	return w.nst;
}

/* 0 and fills out when libpg_query parses sql (NUL-terminated). */
static int parse_tree(const char *sql, const struct stmt_sum *fb, int nfb, struct sql_summary *out)
{
	struct stmt_sum st[MAX_STMTS];
	PgQueryParseResult r = pg_query_parse(sql);
	int n, i;

	if (r.error || !r.parse_tree) {
		pg_query_free_parse_result(r);
		return -EINVAL;
	}
	n = json_walk(r.parse_tree, st);
	pg_query_free_parse_result(r);
	if (n <= 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		/* Utility statements: the tokenizer's first keyword (CREATE, SET, BEGIN...). */
		if (!st[i].op[0])
			scopy(st[i].op, sizeof(st[i].op), i < nfb ? fb[i].op : "");
		if (!st[i].op[0])
			return -EINVAL;
	}
	finish(st, n, out);
	return 0;
}

/*
 * Whether libpg_query may see this text: short enough, every token lexed and
 * parentheses nested no deeper than MAX_PARENS, so that the parser's work and
 * its parse tree (walked by json_walk) stay bounded by constants.
 */
static bool parse_allowed(const char *s, const struct tok *t, size_t n, size_t len)
{
	int depth = 0;
	size_t i;

	if (len > SQLSUM_PARSE_MAX || n >= MAX_TOKS)
		return false;
	for (i = 0; i < n; i++) {
		if (tok_punct(s, &t[i], '(') && ++depth > MAX_PARENS)
			return false;
		if (tok_punct(s, &t[i], ')') && depth > 0)
			depth--;
	}
	return true;
}

/* ---- parser budget ---- */

static pthread_mutex_t budget_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t budget_rate = SQLSUM_PARSE_BUDGET_NS; /* ns of parsing per second */
static int64_t budget_left;			      /* ns; a burst of one second at most */
static uint64_t budget_at;			      /* last refill, CLOCK_MONOTONIC ns */
static uint64_t budget_skipped;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether the parser may run now; refills the bucket first. */
static bool budget_take(uint64_t now)
{
	bool ok;

	pthread_mutex_lock(&budget_mu);
	if (!budget_at || now < budget_at) {
		budget_left = (int64_t)budget_rate;
	} else {
		double add = (double)(now - budget_at) * (double)budget_rate / 1e9;

		budget_left =
		    add >= (double)budget_rate ? (int64_t)budget_rate : budget_left + (int64_t)add;
		if (budget_left > (int64_t)budget_rate)
			budget_left = (int64_t)budget_rate;
	}
	budget_at = now;
	ok = budget_left > 0;
	if (!ok)
		budget_skipped++;
	pthread_mutex_unlock(&budget_mu);
	return ok;
}

static void budget_spend(uint64_t ns)
{
	pthread_mutex_lock(&budget_mu);
	budget_left -= ns > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ns;
	pthread_mutex_unlock(&budget_mu);
}

void sqlsum_set_parse_budget(uint64_t ns_per_sec)
{
	pthread_mutex_lock(&budget_mu);
	budget_rate = ns_per_sec;
	budget_left = (int64_t)ns_per_sec;
	budget_at = 0;
	pthread_mutex_unlock(&budget_mu);
}

uint64_t sqlsum_parse_skipped(void)
{
	uint64_t n;

	pthread_mutex_lock(&budget_mu);
	n = budget_skipped;
	pthread_mutex_unlock(&budget_mu);
	return n;
}

/* Fills out; false when the parser was skipped for want of budget (do not cache). */
static bool describe(const char *sql, size_t len, bool truncated, struct sql_summary *out)
{
	struct stmt_sum fb[MAX_STMTS];
	struct tok *t = malloc(MAX_TOKS * sizeof(*t));
	bool complete = true;
	uint64_t t0;
	char *copy;
	size_t n;
	int nfb;

	memset(out, 0, sizeof(*out));
	if (!t)
		return false;
	if (len > SQLSUM_TEXT_MAX) {
		len = SQLSUM_TEXT_MAX;
		truncated = true;
	}
	n = lex(sql, len, t, MAX_TOKS);
	sanitize_toks(sql, t, n, out->sanitized, sizeof(out->sanitized));
	nfb = fallback_toks(sql, t, n, fb);
	if (!parse_allowed(sql, t, n, len))
		truncated = true;
	free(t);
	if (!truncated) {
		t0 = mono_ns();
		if (!budget_take(t0)) {
			complete = false;
		} else if ((copy = strndup(sql, len))) {
			if (!parse_tree(copy, fb, nfb, out))
				out->parsed = true;
			free(copy);
			budget_spend(mono_ns() - t0);
		}
	}
	if (!out->parsed)
		finish(fb, nfb, out);
	return complete;
}

/* ---- cache ---- */

struct cache_ent {
	uint64_t hash;
	uint32_t len;
	bool truncated;
	bool used;
	bool fixed; /* sanitising text gives text: a raw text equal to it is a hit */
	char text[SQLSUM_CACHE_TEXT];
	struct sql_summary sum;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cache_ent *cache;

static uint64_t text_hash(const char *s, size_t n, bool truncated)
{
	uint64_t h = 0xcbf29ce484222325ull ^ truncated;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

/* Copies the summary of the entry of text[0..len) (hash h) into out when
 * the cache has it; with raw, only an entry whose text is its own
 * sanitised form (fixed). */
static bool cache_get(uint64_t h, const char *text, size_t len, bool truncated, bool raw,
		      struct sql_summary *out)
{
	struct cache_ent *e;
	bool hit;

	pthread_mutex_lock(&cache_mu);
	e = cache ? &cache[h & (SQLSUM_CACHE_ENTRIES - 1)] : NULL;
	hit = e && e->used && e->hash == h && e->len == len && e->truncated == truncated &&
	      (!raw || e->fixed) && !memcmp(e->text, text, len);
	if (hit)
		*out = e->sum;
	pthread_mutex_unlock(&cache_mu);
	return hit;
}

static void cache_put(uint64_t h, const char *key, size_t klen, bool truncated,
		      const struct sql_summary *sum)
{
	char again[sizeof(sum->sanitized)];
	bool fixed =
	    sqlsum_sanitize(key, klen, again, sizeof(again)) == klen && !memcmp(again, key, klen);
	struct cache_ent *e;

	pthread_mutex_lock(&cache_mu);
	if (!cache)
		cache = calloc(SQLSUM_CACHE_ENTRIES, sizeof(*cache));
	if (cache) {
		e = &cache[h & (SQLSUM_CACHE_ENTRIES - 1)];
		e->hash = h;
		e->len = (uint32_t)klen;
		e->truncated = truncated;
		e->fixed = fixed;
		memcpy(e->text, key, klen);
		e->sum = *sum;
		e->used = true;
	}
	pthread_mutex_unlock(&cache_mu);
}

/*
 * The cache is keyed by the sanitised text: texts that differ only in their
 * literals (a simple-protocol query with its values inline, an IN list of
 * another length) share one entry, and the summary never depends on a
 * literal. A sanitised text that filled its buffer may have been cut, so
 * it is no key: such texts are described every time.
 *
 * A text with no literal, comment or extra space (a driver's "... WHERE id
 * = $1", sent with every execution) is its own sanitised form: it is looked
 * up as it is first, and found without being sanitised (about 3 300
 * instructions of a Go service's request, BENCHMARKS.md). Only entries
 * whose key sanitises to itself answer that look-up (sanitising is not
 * idempotent for every text: a leading control byte becomes a space that a
 * second pass drops), so the answer is the one the sanitised key gives.
 * The cache holds sanitised texts only, never a literal.
 */
int sqlsum_describe(const char *sql, size_t len, bool truncated, struct sql_summary *out)
{
	char key[sizeof(out->sanitized)];
	size_t klen;
	uint64_t h;

	if (!sql || !out)
		return -EINVAL;
	len = strnlen(sql, len);
	if (len < sizeof(key) - 1 &&
	    cache_get(text_hash(sql, len, truncated), sql, len, truncated, true, out))
		return 0;
	klen = len <= SQLSUM_CACHE_TEXT ? sqlsum_sanitize(sql, len, key, sizeof(key)) : 0;
	if (!klen || klen >= sizeof(key) - 1) {
		describe(sql, len, truncated, out);
		return 0;
	}
	h = text_hash(key, klen, truncated);
	if (cache_get(h, key, klen, truncated, false, out))
		return 0;
	if (describe(sql, len, truncated, out))
		cache_put(h, key, klen, truncated, out);
	/* else the tokenizer's answer, for now: not kept */
	return 0;
}
