// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * route.c - the route normaliser: request-target to http.route. See route.h.
 *
 * The path is taken out of the target (query, fragment and absolute-form
 * authority dropped), matched against the user patterns in order, and
 * otherwise rebuilt segment by segment with identifier-looking segments
 * replaced by "{id}". Everything works on the caller's bytes in place; the
 * result is assembled in a ROUTE_MAX_LEN buffer and copied out truncated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

#define SEGMENT_MAX_LEN 64 /* longer segments are never route words */
#define TOKEN_MIN_LEN	16

struct route_pattern {
	char *text;
	size_t len;
};

struct route_table {
	struct route_pattern *patterns;
	size_t n;
	size_t cap;
};

struct route_table *route_table_new(void)
{
	return calloc(1, sizeof(struct route_table));
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->patterns[i].text);
	free(t->patterns);
	free(t);
}

/* ---- patterns ---- */

static bool pattern_valid(const char *p)
{
	size_t len = strlen(p);
	bool in_brace = false;

	if (p[0] != '/' || len > ROUTE_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c == 0x7f || c == '?' || c == '#')
			return false;
		if (c == '*') {
			/* only as the whole last segment */
			if (in_brace || i != len - 1 || p[i - 1] != '/')
				return false;
		} else if (c == '{') {
			if (in_brace || p[i + 1] == '}')
				return false;
			in_brace = true;
		} else if (c == '}') {
			if (!in_brace)
				return false;
			in_brace = false;
		} else if (c == '/' && in_brace) {
			return false;
		}
	}
	return !in_brace;
}

int route_table_add(struct route_table *t, const char *pattern)
{
	struct route_pattern *p;

	if (!t || !pattern || !pattern_valid(pattern))
		return -EINVAL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;

		p = realloc(t->patterns, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->patterns = p;
		t->cap = cap;
	}
	p = &t->patterns[t->n];
	p->text = strdup(pattern);
	if (!p->text)
		return -ENOMEM;
	p->len = strlen(pattern);
	t->n++;
	return 0;
}

bool route_table_has(const struct route_table *t, const char *route)
{
	for (size_t i = 0; t && route && i < t->n; i++)
		if (!strcmp(t->patterns[i].text, route))
			return true;
	return false;
}

/*
 * Matches one pattern segment [p, pe) against one path segment [s, se): literal
 * bytes must be equal, each "{name}" takes one or more bytes. This is glob
 * matching with the placeholder as "?*": only the latest placeholder is ever
 * widened, so the cost is O(len(p) * len(s)) even on hostile paths.
 */
static bool segment_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star_p = NULL, *star_s = NULL;

	while (s < se) {
		if (p < pe && *p == '{') {
			p = (const char *)memchr(p, '}', (size_t)(pe - p)) + 1;
			star_p = p;
			star_s = ++s;
		} else if (p < pe && *p == *s) {
			p++;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	return p == pe;
}

/* Whether the pattern matches the whole path whose segments are [s, se) (after the first '/'). */
static bool pattern_match(const struct route_pattern *pat, const char *s, const char *se)
{
	const char *p = pat->text + 1, *pend = pat->text + pat->len;

	for (;;) {
		const char *pe = memchr(p, '/', (size_t)(pend - p));
		const char *sseg_end = memchr(s, '/', (size_t)(se - s));

		if (!pe)
			pe = pend;
		if (!sseg_end)
			sseg_end = se;
		if (pe - p == 1 && *p == '*' && pe == pend)
			return true;
		if (!segment_match(p, pe, s, sseg_end))
			return false;
		if (pe == pend || sseg_end == se)
			return pe == pend && sseg_end == se;
		p = pe + 1;
		s = sseg_end + 1;
	}
}

/* ---- identifier heuristics ---- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(unsigned char c)
{
	return is_lower(c) || is_upper(c);
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether [s, e) is a well-formed UTF-8 text without control characters. */
static bool clean_utf8(const unsigned char *s, const unsigned char *e)
{
	while (s < e) {
		unsigned c = *s;
		size_t n, i;
		unsigned lo = 0x80, hi = 0xbf;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			lo = c == 0xe0 ? 0xa0 : 0x80;
			hi = c == 0xed ? 0x9f : 0xbf;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			lo = c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xf4 ? 0x8f : 0xbf;
		} else {
			return false;
		}
		if ((size_t)(e - s) < n || s[1] < lo || s[1] > hi)
			return false;
		for (i = 2; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return false;
		s += n;
	}
	return true;
}

/* 8-4-4-4-12 hex digits. */
static bool is_uuid(const unsigned char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

/* YYYY-MM-DD, possibly followed by a time. */
static bool is_date_prefix(const unsigned char *s, size_t n)
{
	static const char shape[] = "dddd-dd-dd";

	if (n < sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Character counts of one segment. token_other counts bytes outside the token
 * alphabet [A-Za-z0-9-_.~=+]; num_other those outside digits and "-_.:,+";
 * case_switches the adjacent letter pairs (case_pairs) whose case differs. */
struct seg_stats {
	size_t digits, lower, upper, hex;
	size_t token_other;
	size_t num_other;
	size_t case_pairs;
	size_t case_switches;
	bool at;      /* an '@' */
	bool percent; /* a %XX escape */
};

static void seg_scan(const unsigned char *s, size_t n, struct seg_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		st->digits += is_digit(c);
		st->lower += is_lower(c);
		st->upper += is_upper(c);
		st->hex += is_hex(c);
		if (!is_digit(c) && !is_alpha(c)) {
			if (!strchr("-_.~=+", c))
				st->token_other++;
			if (!strchr("-_.:,+", c))
				st->num_other++;
		} else if (!is_digit(c)) {
			st->num_other++;
		}
		if (c == '@')
			st->at = true;
		if (c == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2]))
			st->percent = true;
		if (i > 0 && is_alpha(c) && is_alpha(s[i - 1])) {
			st->case_pairs++;
			st->case_switches += is_upper(c) != is_upper(s[i - 1]);
		}
	}
}

/* Whether [s, s+n) (with a digit) is entirely a number strtod() reads: 1.5e3, 0x1f. */
static bool is_float(const unsigned char *s, size_t n)
{
	char tmp[SEGMENT_MAX_LEN + 1], *end;

	memcpy(tmp, s, n);
	tmp[n] = '\0';
	strtod(tmp, &end);
	return end == tmp + n;
}

/*
 * Whether the path segment [s, s+n) is the common route word: lowercase
 * letters only, shorter than both TOKEN_MIN_LEN and the 16 of the hex rule.
 * Such a word meets none of looks_like_id()'s rules (no digit, '%', '@',
 * date, UUID, token or hex run of 16) and has no extension.
 */
static bool is_plain_word(const unsigned char *s, size_t n)
{
	size_t k = 0;

	if (n == 0 || n >= TOKEN_MIN_LEN || n >= 16)
		return false;
	while (k < n && is_lower(s[k]))
		k++;
	return k == n;
}

/* Whether the path segment [s, s+n) looks like an identifier rather than a route word. */
static bool looks_like_id(const unsigned char *s, size_t n)
{
	struct seg_stats st;

	if (n == 0 || is_plain_word(s, n))
		return false;
	if (n > SEGMENT_MAX_LEN)
		return true;
	/* The common identifier, digits only, is a number (the first rule that
	 * can match below, after a clean UTF-8 text without '%'). */
	{
		size_t k = 0;

		while (k < n && is_digit(s[k]))
			k++;
		if (k == n)
			return true;
	}
	if (!clean_utf8(s, s + n))
		return true;
	seg_scan(s, n, &st);
	if (st.percent)
		return true;
	/* numbers, with separators: 42, 1.5, 1,234, 10.0.0.1, 2024-01-15 */
	if (st.digits && (!st.num_other || is_float(s, n)))
		return true;
	if (is_date_prefix(s, n) || is_uuid(s, n))
		return true;
	if (st.hex == n && ((n >= 8 && st.digits) || n >= 16))
		return true;
	/* e-mail addresses and @handles */
	if (st.at && n >= 2)
		return true;
	/* opaque tokens: base64(url), JWT parts, random-case or digit-laden slugs */
	if (n >= TOKEN_MIN_LEN && !st.token_other && (st.lower || st.upper) &&
	    (st.digits >= 2 || (st.case_pairs && st.case_switches * 5 >= st.case_pairs * 2)))
		return true;
	return false;
}

/* Length of a short file extension at the end of [s, s+n) (".json", ".mp4"), 0 if none. */
static size_t extension_len(const unsigned char *s, size_t n)
{
	const unsigned char *dot = memrchr(s, '.', n);
	size_t len;

	if (!dot || dot == s)
		return 0;
	len = n - (size_t)(dot - s); /* with the dot */
	if (len < 2 || len > 6)
		return 0;
	if (!is_alpha(dot[1]))
		return 0;
	for (size_t i = 2; i < len; i++)
		if (!is_digit(dot[i]) && !is_alpha(dot[i]))
			return 0;
	return len;
}

/* ---- output ---- */

struct route_buf {
	char s[ROUTE_MAX_LEN + 1];
	size_t len;
	size_t seg_start[ROUTE_MAX_SEGMENTS]; /* where each kept segment's '/' is */
	size_t nseg;
};

static bool rb_fits(const struct route_buf *b, size_t n)
{
	return b->len + n <= ROUTE_MAX_LEN;
}

static void rb_put(struct route_buf *b, const void *s, size_t n)
{
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

/* Ends the route with "/" "*", dropping kept segments until it fits. */
static void rb_truncate(struct route_buf *b)
{
	while (!rb_fits(b, 2) && b->nseg)
		b->len = b->seg_start[--b->nseg];
	rb_put(b, "/*", 2);
}

/* Appends one segment as it should appear; false when the route is full. */
static bool rb_segment(struct route_buf *b, const unsigned char *s, size_t n)
{
	size_t ext = 0, out_len;
	bool word = is_plain_word(s, n), id = !word && looks_like_id(s, n);

	if (!id && !word) {
		ext = extension_len(s, n);
		if (ext && !looks_like_id(s, n - ext))
			ext = 0;
	}
	out_len = 1 + (id || ext ? 4 + ext : n);
	if (b->nseg == ROUTE_MAX_SEGMENTS || !rb_fits(b, out_len))
		return false;
	b->seg_start[b->nseg++] = b->len;
	rb_put(b, "/", 1);
	if (id || ext) {
		rb_put(b, "{id}", 4);
		rb_put(b, s + n - ext, ext);
	} else {
		rb_put(b, s, n);
	}
	return true;
}

/* ---- the target ---- */

/* Length of "scheme://" at the start of s, 0 if s is not absolute-form. */
static size_t scheme_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha((unsigned char)s[0]))
		return 0;
	while (i < n && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
			 s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (n - i >= 3 && memcmp(s + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

static size_t copy_out(const char *s, size_t n, char *out, size_t out_size)
{
	if (!out || out_size == 0)
		return 0;
	if (n > out_size - 1)
		n = out_size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

size_t route_normalize(const struct route_table *t, const char *target, char *out, size_t out_size)
{
	const char *path = target ? target : "";
	size_t n = strcspn(path, "?#"), skip;
	struct route_buf b; /* only s[0..len) and seg_start[0..nseg) are read */
	const unsigned char *s, *e;

	if (n == 1 && path[0] == '*')
		return copy_out("*", 1, out, out_size);
	skip = scheme_len(path, n);
	if (skip) {
		const char *slash = memchr(path + skip, '/', n - skip);

		n = slash ? n - (size_t)(slash - path) : 0;
		path = slash ? slash : path + n;
	}
	if (n == 0)
		return copy_out("/", 1, out, out_size);

	b.len = 0;
	b.nseg = 0;
	s = (const unsigned char *)path + (path[0] == '/');
	e = (const unsigned char *)path + n;
	for (size_t i = 0; t && i < t->n; i++)
		if (pattern_match(&t->patterns[i], (const char *)s, (const char *)e))
			return copy_out(t->patterns[i].text, t->patterns[i].len, out, out_size);

	for (;;) {
		const unsigned char *se = memchr(s, '/', (size_t)(e - s));

		if (!se)
			se = e;
		if (!rb_segment(&b, s, (size_t)(se - s))) {
			rb_truncate(&b);
			break;
		}
		if (se == e)
			break;
		s = se + 1;
	}
	return copy_out(b.s, b.len, out, out_size);
}
