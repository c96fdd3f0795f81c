// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logline.c - the log line parser: JSON objects, logfmt and text with a
 * leading level word. See logline.h.
 *
 * Everything is bounded by the line's length; strings are copied into the
 * fixed buffers of struct logline and cut there. JSON nesting is skipped
 * (not lifted) up to JSON_DEPTH_MAX; deeper or malformed JSON makes the
 * line text.
 */
#include <ctype.h>
#include <string.h>

#include "logline.h"

#define JSON_DEPTH_MAX 32
#define TEXT_WORDS     4

/* A slice of the line. */
struct str {
	const char *p;
	size_t n;
};

static bool eq_nocase(struct str s, const char *w)
{
	size_t n = strlen(w);

	return s.n == n && strncasecmp(s.p, w, n) == 0;
}

static bool eq_any(struct str s, const char *const *words)
{
	for (; *words; words++)
		if (eq_nocase(s, *words))
			return true;
	return false;
}

static const char *const level_keys[] = {"level",     "lvl",	  "severity",	   "levelname",
					 "log.level", "loglevel", "severity_text", NULL};
static const char *const msg_keys[] = {"msg", "message", NULL};
static const char *const time_keys[] = {"time", "ts", "timestamp", "@timestamp", "asctime", NULL};
static const char *const err_keys[] = {"error", "err", NULL};
static const char *const trace_keys[] = {"trace_id", "traceid", "otelTraceID", "trace.id", NULL};
static const char *const span_keys[] = {"span_id", "spanid", "otelSpanID", "span.id", NULL};

static const struct {
	const char *word;
	uint8_t sev;
} level_words[] = {
    {"trace", LOG_SEV_TRACE},	  {"debug", LOG_SEV_DEBUG},	 {"dbg", LOG_SEV_DEBUG},
    {"info", LOG_SEV_INFO},	  {"information", LOG_SEV_INFO}, {"inf", LOG_SEV_INFO},
    {"notice", LOG_SEV_INFO + 1}, {"warn", LOG_SEV_WARN},	 {"warning", LOG_SEV_WARN},
    {"wrn", LOG_SEV_WARN},	  {"error", LOG_SEV_ERROR},	 {"err", LOG_SEV_ERROR},
    {"eror", LOG_SEV_ERROR},	  {"critical", LOG_SEV_FATAL},	 {"crit", LOG_SEV_FATAL},
    {"fatal", LOG_SEV_FATAL},	  {"panic", LOG_SEV_FATAL + 1},	 {"alert", LOG_SEV_FATAL + 2},
    {"emerg", LOG_SEV_FATAL + 3},
};

uint8_t logline_severity(const char *word, size_t len)
{
	struct str s = {word, len};
	unsigned n = 0;

	if (len >= 2 && len <= 3 && isdigit((unsigned char)word[0])) {
		for (size_t i = 0; i < len; i++) {
			if (!isdigit((unsigned char)word[i]))
				return 0;
			n = n * 10 + (unsigned)(word[i] - '0');
		}
		/* Bunyan and pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal */
		if (n >= 10 && n <= 60 && n % 10 == 0)
			return (uint8_t)(1 + (n / 10 - 1) * 4);
		return 0;
	}
	for (size_t i = 0; i < sizeof(level_words) / sizeof(level_words[0]); i++)
		if (eq_nocase(s, level_words[i].word))
			return level_words[i].sev;
	return 0;
}

const char *logline_severity_name(uint8_t sev)
{
	static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

	if (sev < 1 || sev > 24)
		return "";
	return names[(sev - 1) / 4];
}

static void set_severity(struct logline *o, uint8_t sev)
{
	o->severity = sev;
	strcpy(o->severity_text, logline_severity_name(sev));
}

static void copy_cut(char *dst, size_t cap, struct str s)
{
	size_t n = s.n < cap - 1 ? s.n : cap - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* n bytes from 2n hex digits, not all zero (an invalid W3C id). */
static bool parse_hex_id(struct str s, uint8_t *out, size_t n)
{
	uint8_t any = 0;

	if (s.n != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s.p[2 * i]), lo = hexval(s.p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		any |= out[i];
	}
	return any != 0;
}

/* What a key=value member of a JSON or logfmt line means. val is the
 * value's text: unescaped for a JSON string (in buf), raw otherwise. */
static void member(struct logline *o, struct str key, struct str val)
{
	struct logline_attr *a;

	if (eq_any(key, level_keys)) {
		if (!o->severity)
			set_severity(o, logline_severity(val.p, val.n));
		return;
	}
	if (eq_any(key, msg_keys) || eq_any(key, time_keys))
		return; /* in the body */
	if (eq_any(key, trace_keys)) {
		o->has_trace_id = o->has_trace_id || parse_hex_id(val, o->trace_id, 16);
		return;
	}
	if (eq_any(key, span_keys)) {
		o->has_span_id = o->has_span_id || parse_hex_id(val, o->span_id, 8);
		return;
	}
	if (o->nattrs >= LOGLINE_ATTRS_MAX || !key.n)
		return;
	a = &o->attrs[o->nattrs++];
	if (eq_any(key, err_keys))
		strcpy(a->key, "exception.message");
	else
		copy_cut(a->key, sizeof(a->key), key);
	copy_cut(a->val, sizeof(a->val), val);
}

/* --- JSON --- */

struct json {
	const char *p, *end;
};

static void json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

/* A string at j->p (at its opening quote), unescaped into buf (cut at cap;
 * \uXXXX escapes become '?'). Returns false when unterminated. */
static bool json_string(struct json *j, char *buf, size_t cap, struct str *out)
{
	size_t n = 0;

	j->p++; /* the quote */
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			c = *j->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
			case 'f':
				c = ' ';
				break;
			case 'u':
				if (j->end - j->p < 4)
					return false;
				j->p += 4;
				c = '?';
				break;
			default: /* \" \\ \/ and anything else as itself */
				break;
			}
		}
		if (n < cap)
			buf[n++] = c;
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	*out = (struct str){buf, n};
	return true;
}

/* Skips any value (nested containers bounded by JSON_DEPTH_MAX); a scalar
 * other than a string is returned raw in *raw. */
static bool json_skip(struct json *j, struct str *raw)
{
	int depth = 0;
	char tmp[1];
	struct str s;

	json_ws(j);
	if (j->p >= j->end)
		return false;
	if (*j->p != '{' && *j->p != '[') {
		const char *start = j->p;

		if (*j->p == '"')
			return json_string(j, tmp, 0, &s);
		while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']' &&
		       !isspace((unsigned char)*j->p))
			j->p++;
		*raw = (struct str){start, (size_t)(j->p - start)};
		return raw->n > 0;
	}
	while (j->p < j->end) {
		char c = *j->p;

		if (c == '"') {
			if (!json_string(j, tmp, 0, &s))
				return false;
			continue;
		}
		j->p++;
		if (c == '{' || c == '[') {
			if (++depth > JSON_DEPTH_MAX)
				return false;
		} else if (c == '}' || c == ']') {
			if (--depth == 0) {
				raw->n = 0;
				return true;
			}
		}
	}
	return false;
}

static bool parse_json(const char *line, size_t len, struct logline *o)
{
	struct json j = {line, line + len};
	char kbuf[LOGLINE_KEY_MAX], vbuf[LOGLINE_VAL_MAX];

	json_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return false;
	j.p++;
	for (;;) {
		struct str key, val = {NULL, 0};

		json_ws(&j);
		if (j.p < j.end && *j.p == '}')
			return true;
		if (j.p >= j.end || *j.p != '"' || !json_string(&j, kbuf, sizeof(kbuf), &key))
			return false;
		json_ws(&j);
		if (j.p >= j.end || *j.p != ':')
			return false;
		j.p++;
		json_ws(&j);
		if (j.p < j.end && *j.p == '"') {
			if (!json_string(&j, vbuf, sizeof(vbuf), &val))
				return false;
			member(o, key, val);
		} else {
			if (!json_skip(&j, &val))
				return false;
			if (val.n) /* a number, true, false or null */
				member(o, key, val);
		}
		json_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == '}')
			return true;
		return false;
	}
}

/* --- logfmt --- */

static bool logfmt_has_key(const char *line, size_t len)
{
	static const char *const keys[] = {"level=", "lvl=", "msg=", NULL};

	for (const char *const *k = keys; *k; k++) {
		size_t kn = strlen(*k);

		for (size_t i = 0; i + kn <= len; i++)
			if ((i == 0 || line[i - 1] == ' ') && memcmp(line + i, *k, kn) == 0)
				return true;
	}
	return false;
}

static void parse_logfmt(const char *line, size_t len, struct logline *o)
{
	const char *p = line, *end = line + len;
	char vbuf[LOGLINE_VAL_MAX];

	while (p < end) {
		struct str key, val;
		size_t n = 0;

		while (p < end && *p == ' ')
			p++;
		key.p = p;
		while (p < end && *p != '=' && *p != ' ')
			p++;
		key.n = (size_t)(p - key.p);
		if (p >= end || *p != '=') {
			continue; /* a bare word: skip it */
		}
		p++;
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (n < sizeof(vbuf))
					vbuf[n++] = *p;
				p++;
			}
			if (p < end)
				p++;
			val = (struct str){vbuf, n};
		} else {
			val.p = p;
			while (p < end && *p != ' ')
				p++;
			val.n = (size_t)(p - val.p);
		}
		member(o, key, val);
	}
}

/* --- text --- */

static void parse_text(const char *line, size_t len, struct logline *o)
{
	const char *p = line, *end = line + (len < 256 ? len : 256);

	for (int w = 0; w < TEXT_WORDS && p < end; w++) {
		const char *s;
		uint8_t sev;

		while (p < end && (isspace((unsigned char)*p) || *p == '[' || *p == '('))
			p++;
		s = p;
		while (p < end && isalpha((unsigned char)*p))
			p++;
		if (p > s && (p == end || !isalnum((unsigned char)*p))) {
			sev = logline_severity(s, (size_t)(p - s));
			if (sev) {
				set_severity(o, sev);
				return;
			}
		}
		while (p < end && !isspace((unsigned char)*p))
			p++;
	}
}

void logline_parse(const char *line, size_t len, struct logline *out)
{
	memset(out, 0, sizeof(*out));
	if (parse_json(line, len, out)) {
		out->format = LOGLINE_JSON;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (logfmt_has_key(line, len)) {
		out->format = LOGLINE_LOGFMT;
		parse_logfmt(line, len, out);
		return;
	}
	parse_text(line, len, out);
}
