// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * log.c - leveled logging to stderr, as text or JSON lines. See log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_level log_current_level = LOG_LVL_INFO;
static bool log_json;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(enum log_level level, bool json)
{
	log_current_level = level;
	log_json = json;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

/* Appends s to buf as the inside of a JSON string; returns the new offset. */
static size_t json_escape(char *buf, size_t off, size_t size, const char *s)
{
	for (; *s && off + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)c;
		} else if (c < 0x20) {
			off += (size_t)snprintf(buf + off, size - off, "\\u%04x", c);
		} else {
			buf[off++] = (char)c;
		}
	}
	return off;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024], line[2300];
	struct timespec ts;
	struct tm tm;
	size_t off;
	int saved_errno = errno;

	if (level > log_current_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libbpf and some callers end their messages with a newline. */
	off = strlen(msg);
	while (off && msg[off - 1] == '\n')
		msg[--off] = '\0';

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (log_json) {
		off = (size_t)snprintf(line, sizeof(line),
				       "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
				       "\"level\":\"%s\",\"msg\":\"",
				       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				       tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
				       level_names[level]);
		off = json_escape(line, off, sizeof(line), msg);
		off += (size_t)snprintf(line + off, sizeof(line) - off, "\"}\n");
	} else {
		off = (size_t)snprintf(
		    line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s redtap: %s\n",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000, level_names[level], msg);
	}
	if (off > sizeof(line))
		off = sizeof(line);
	if (write(STDERR_FILENO, line, off) < 0) {
		/* Nothing sensible to do when stderr is gone. */
	}
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
