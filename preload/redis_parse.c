// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * redis_parse.c - command names, SELECT indexes and error prefixes of Redis
 * commands as the shim sees them (see redis_parse.h).
 */
#include <string.h>

#include "redis_parse.h"

struct name_buf {
	char *p;
	size_t n;
	bool done; /* a character outside the name alphabet ended it */
};

static void name_put(struct name_buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && !b->done; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == ':' || c == '|' || c == '-')) {
			b->done = true;
			break;
		}
		if (b->n + 1 < REDIS_NAME_MAX)
			b->p[b->n++] = c;
	}
	b->p[b->n] = 0;
}

static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (s && n < max && s[n])
		n++;
	return n;
}

/* Parses a decimal database index; REDIS_SELECT_UNKNOWN if it is not one. */
static int parse_index(const char *s, size_t len)
{
	long v = 0;
	size_t i;

	if (!s || !len || len > 9)
		return REDIS_SELECT_UNKNOWN;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return REDIS_SELECT_UNKNOWN;
		v = v * 10 + (s[i] - '0');
	}
	return (int)v;
}

static bool is_select(const char *name)
{
	return !strcmp(name, "SELECT");
}

/* The second word of a SELECT format string, consuming arguments as hiredis does. */
static int fmt_select_index(const char *p, va_list ap)
{
	const char *s;
	size_t len;

	while (*p == ' ')
		p++;
	if (*p != '%')
		return parse_index(p, strcspn(p, " "));
	p++;
	if (*p == 's') {
		s = va_arg(ap, const char *);
		return parse_index(s, bounded_len(s, 16));
	}
	if (*p == 'b') {
		s = va_arg(ap, const char *);
		len = va_arg(ap, size_t);
		return parse_index(s, len);
	}
	if (*p == 'd' || *p == 'i' || *p == 'u')
		return va_arg(ap, int);
	if (p[0] == 'l' && (p[1] == 'd' || p[1] == 'i' || p[1] == 'u'))
		return (int)va_arg(ap, long);
	if (p[0] == 'l' && p[1] == 'l' && (p[2] == 'd' || p[2] == 'i' || p[2] == 'u'))
		return (int)va_arg(ap, long long);
	return REDIS_SELECT_UNKNOWN;
}

void redis_name_fmt(const char *fmt, va_list ap, char *name, int *select)
{
	struct name_buf b = {name, 0, false};
	const char *p = fmt, *s;
	size_t len;

	name[0] = 0;
	*select = REDIS_NOT_SELECT;
	if (!p)
		return;
	while (*p == ' ')
		p++;
	while (*p && *p != ' ') {
		if (*p != '%') {
			name_put(&b, p++, 1);
			continue;
		}
		if (p[1] == 's') {
			s = va_arg(ap, const char *);
			name_put(&b, s, bounded_len(s, REDIS_NAME_MAX));
		} else if (p[1] == 'b') {
			s = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			name_put(&b, s, len < REDIS_NAME_MAX ? len : REDIS_NAME_MAX);
		} else if (p[1] == '%') {
			name_put(&b, "%", 1);
		} else {
			return; /* an argument type we do not follow: stop reading */
		}
		p += 2;
	}
	if (is_select(name))
		*select = fmt_select_index(p, ap);
}

void redis_name_argv(int argc, const char **argv, const size_t *argvlen, char *name, int *select)
{
	struct name_buf b = {name, 0, false};

	name[0] = 0;
	*select = REDIS_NOT_SELECT;
	if (argc < 1 || !argv || !argv[0])
		return;
	name_put(&b, argv[0], argvlen ? argvlen[0] : bounded_len(argv[0], REDIS_NAME_MAX));
	if (!is_select(name))
		return;
	*select = REDIS_SELECT_UNKNOWN;
	if (argc >= 2 && argv[1])
		*select = parse_index(argv[1], argvlen ? argvlen[1] : bounded_len(argv[1], 16));
}

/* Reads "$<len>\r\n<bytes>\r\n" at cmd[*pos]; returns the bytes, or NULL. */
static const char *resp_bulk(const char *cmd, size_t len, size_t *pos, size_t *blen)
{
	size_t i = *pos, n = 0;

	if (i >= len || cmd[i] != '$')
		return NULL;
	for (i++; i < len && cmd[i] >= '0' && cmd[i] <= '9' && n < (1u << 30); i++)
		n = n * 10 + (size_t)(cmd[i] - '0');
	if (i + 2 > len || cmd[i] != '\r' || cmd[i + 1] != '\n' || n > len - i - 2)
		return NULL;
	*blen = n;
	*pos = i + 2 + n + 2;
	return cmd + i + 2;
}

void redis_name_resp(const char *cmd, size_t len, char *name, int *select)
{
	struct name_buf b = {name, 0, false};
	const char *s;
	size_t pos = 0, blen;

	name[0] = 0;
	*select = REDIS_NOT_SELECT;
	if (!cmd || !len)
		return;
	if (cmd[0] != '*') {
		/* an inline command: words separated by spaces */
		for (pos = 0; pos < len && cmd[pos] == ' '; pos++)
			;
		name_put(&b, cmd + pos, len - pos);
		return;
	}
	while (pos < len && cmd[pos] != '\n')
		pos++;
	pos++;
	s = resp_bulk(cmd, len, &pos, &blen);
	if (!s)
		return;
	name_put(&b, s, blen);
	if (!is_select(name))
		return;
	*select = REDIS_SELECT_UNKNOWN;
	s = resp_bulk(cmd, len, &pos, &blen);
	if (s)
		*select = parse_index(s, blen);
}

void redis_error_prefix(const char *str, size_t len, char *out, size_t outsz)
{
	size_t n = 0;

	while (str && n < len && n + 1 < outsz &&
	       ((str[n] >= 'A' && str[n] <= 'Z') || (str[n] >= '0' && str[n] <= '9') ||
		str[n] == '_' || str[n] == '-'))
		n++;
	if (!n || (n < len && str[n] != ' ') || !(str[0] >= 'A' && str[0] <= 'Z')) {
		memcpy(out, "ERR", 4);
		return;
	}
	memcpy(out, str, n);
	out[n] = 0;
}

bool redis_name_untimed(const char *name)
{
	static const char *const untimed[] = {
	    "SUBSCRIBE",    "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE",
	    "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",	  NULL,
	};
	int i;

	for (i = 0; untimed[i]; i++)
		if (!strcmp(name, untimed[i]))
			return true;
	return false;
}
