/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * redis_parse.h - what the shim reads from a Redis command before hiredis
 * formats it: the command name (db.operation.name) and, for SELECT, the
 * database index (db.namespace), from a hiredis format string and its
 * arguments, an argv vector, or an already formatted RESP command; and the
 * error prefix of an error reply (db.response.status_code).
 *
 * API: names are upper case, at most REDIS_NAME_MAX - 1 bytes of
 * [A-Z0-9_.:|-], "" when none can be read. *select is REDIS_NOT_SELECT for
 * any other command, REDIS_SELECT_UNKNOWN when the index cannot be read,
 * else the index. Nothing allocates; inputs are read only within the bounds
 * given (format strings and %s arguments are NUL-terminated by contract).
 * Thread-safety: pure functions.
 */
#ifndef REDTAP_PRELOAD_REDIS_PARSE_H
#define REDTAP_PRELOAD_REDIS_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define REDIS_NAME_MAX	     32
#define REDIS_NOT_SELECT     (-1)
#define REDIS_SELECT_UNKNOWN (-2)

void redis_name_fmt(const char *fmt, va_list ap, char *name, int *select);
void redis_name_argv(int argc, const char **argv, const size_t *argvlen, char *name, int *select);
void redis_name_resp(const char *cmd, size_t len, char *name, int *select);

/* The first word of an error reply if it is upper case (WRONGTYPE), else "ERR". */
void redis_error_prefix(const char *str, size_t len, char *out, size_t outsz);

/* SUBSCRIBE and friends and MONITOR: their async callbacks fire many times
 * or never, so they are not timed. */
bool redis_name_untimed(const char *name);

#endif /* REDTAP_PRELOAD_REDIS_PARSE_H */
