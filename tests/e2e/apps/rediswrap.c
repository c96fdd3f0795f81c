// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rediswrap.c - a tiny shared library the end-to-end tests load from
 * Python with ctypes, so that a Python program talks to Redis through
 * hiredis (libhiredis.so) exactly like a C client would, and the shim sees
 * its calls. rw_incr() connects, runs INCR key, and returns the new value,
 * or -1 on any error (the reply type is checked).
 */
#include <hiredis/hiredis.h>

long long rw_incr(const char *host, int port, const char *key);
long long rw_incr(const char *host, int port, const char *key)
{
	redisContext *c = redisConnect(host, port);
	redisReply *r;
	long long v = -1;

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return -1;
	}
	r = redisCommand(c, "INCR %s", key);
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return v;
}
