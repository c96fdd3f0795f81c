/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.h - the daemon's one logger: levels, text or JSON lines on stderr.
 *
 * API: log_init() once at start-up; then rt_err/rt_warn/rt_info/rt_debug
 * with printf-style arguments. Lines below the configured level cost one
 * comparison. libbpf's own messages are routed here by log_libbpf_print().
 * Thread-safe (each line is one write(2)).
 */
#ifndef REDTAP_LOG_H
#define REDTAP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

extern enum log_level log_current_level;

/* Sets the level and the format (json = one JSON object per line). */
void log_init(enum log_level level, bool json);

/* Parses "error", "warn", "info", "debug"; returns -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define rt_err(...)  log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define rt_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define rt_info(...)                                                                               \
	do {                                                                                       \
		if (log_current_level >= LOG_LVL_INFO)                                             \
			log_msg(LOG_LVL_INFO, __VA_ARGS__);                                        \
	} while (0)
#define rt_debug(...)                                                                              \
	do {                                                                                       \
		if (log_current_level >= LOG_LVL_DEBUG)                                            \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif /* REDTAP_LOG_H */
