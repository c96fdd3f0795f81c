// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * redis_async.c - the shim's asynchronous hiredis wrappers. redisAsyncCommand,
 * redisvAsyncCommand, redisAsyncCommandArgv and redisAsyncFormattedCommand
 * hand hiredis a trampoline callback whose privdata is a slot of a static
 * table holding the caller's callback, its privdata and the start time; the
 * trampoline records the operation (a NULL reply, as on disconnect or
 * redisAsyncFree, is an error) and then calls the caller's callback.
 * SUBSCRIBE-like commands and MONITOR are passed through untimed: their
 * callbacks fire many times (or never). When every slot is taken the
 * command is passed through untimed and counted.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "core.h"
#include "redis_layout.h"
#include "redis_track.h"
#include "resolve.h"

#define ASYNC_SLOTS 4096

typedef struct redisAsyncContext redisAsyncContext;
typedef void(redisCallbackFn)(redisAsyncContext *ac, void *reply, void *privdata);

#define RA_DECL SHIM_EXPORT
RA_DECL int redisAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
			      const char *format, ...);
RA_DECL int redisvAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
			       const char *format, va_list ap);
RA_DECL int redisAsyncCommandArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
				  int argc, const char **argv, const size_t *argvlen);
RA_DECL int redisAsyncFormattedCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
				       const char *cmd, size_t len);
RA_DECL void redisAsyncFree(redisAsyncContext *ac);
RA_DECL redisAsyncContext *redisAsyncConnectWithOptions(const void *options);
RA_DECL redisAsyncContext *redisAsyncConnect(const char *ip, int port);
RA_DECL redisAsyncContext *redisAsyncConnectBind(const char *ip, int port, const char *source_addr);
RA_DECL redisAsyncContext *redisAsyncConnectBindWithReuse(const char *ip, int port,
							  const char *source_addr);
RA_DECL redisAsyncContext *redisAsyncConnectUnix(const char *path);

struct async_slot {
	int used;
	redisCallbackFn *fn;
	void *privdata;
	struct redis_op op;
};

static struct async_slot slots[ASYNC_SLOTS];
static unsigned slot_hint;

static struct async_slot *slot_get(void)
{
	unsigned start = __atomic_fetch_add(&slot_hint, 1, __ATOMIC_RELAXED), i;

	for (i = 0; i < ASYNC_SLOTS; i++) {
		struct async_slot *s = &slots[(start + i) % ASYNC_SLOTS];
		int expected = 0;

		if (__atomic_compare_exchange_n(&s->used, &expected, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return s;
	}
	shim_count_untracked();
	return NULL;
}

static void slot_put(struct async_slot *s)
{
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
}

/* hiredis calls this with the reply (NULL when the context goes away). */
static void trampoline(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct async_slot *s = privdata;
	redisCallbackFn *fn = s->fn;
	void *orig = s->privdata;
	struct redis_op op = s->op;
	int e = errno;

	slot_put(s);
	redis_op_end(&op, reply, e, RT_SHIM_ERR_CLOSED);
	errno = e;
	if (fn)
		fn(ac, reply, orig);
}

/* Takes a slot for a command about to be sent, or NULL to send it untimed. */
static struct async_slot *async_begin(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
				      const void *real, struct redis_op *op)
{
	struct async_slot *s;

	redis_layout_detect(real);
	if (redis_name_untimed(op->name))
		return NULL;
	s = slot_get();
	if (!s)
		return NULL;
	redis_op_begin(op, ac, RT_SHIM_F_ASYNC);
	s->fn = fn;
	s->privdata = privdata;
	s->op = *op;
	return s;
}

static int async_done(struct async_slot *s, int rc)
{
	int e = errno;

	if (rc != RH_OK) {
		/* hiredis will never call back: record the refusal now */
		struct redis_op op = s->op;

		slot_put(s);
		redis_op_end(&op, NULL, e, RT_SHIM_ERR_CLIENT);
	}
	errno = e;
	return rc;
}

static int redis_vasync(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
			const char *format, va_list ap)
{
	__typeof__(&redisvAsyncCommand) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisvAsyncCommand);
	struct async_slot *s;
	struct redis_op op;
	va_list cp;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(ac, fn, privdata, format, ap);
		shim_leave();
		return rc;
	}
	va_copy(cp, ap);
	redis_name_fmt(format, cp, op.name, &op.select);
	va_end(cp);
	s = async_begin(ac, fn, privdata, (const void *)real, &op);
	rc = s ? async_done(s, real(ac, trampoline, s, format, ap))
	       : real(ac, fn, privdata, format, ap);
	shim_leave();
	return rc;
}

int redisvAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
		       const char *format, va_list ap)
{
	return redis_vasync(ac, fn, privdata, format, ap);
}

int redisAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
		      const char *format, ...)
{
	va_list ap;
	int rc;

	va_start(ap, format);
	rc = redis_vasync(ac, fn, privdata, format, ap);
	va_end(ap);
	return rc;
}

int redisAsyncCommandArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata, int argc,
			  const char **argv, const size_t *argvlen)
{
	__typeof__(&redisAsyncCommandArgv) real =
	    SHIM_REAL(SHIM_LIB_HIREDIS, redisAsyncCommandArgv);
	struct async_slot *s;
	struct redis_op op;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(ac, fn, privdata, argc, argv, argvlen);
		shim_leave();
		return rc;
	}
	redis_name_argv(argc, argv, argvlen, op.name, &op.select);
	s = async_begin(ac, fn, privdata, (const void *)real, &op);
	rc = s ? async_done(s, real(ac, trampoline, s, argc, argv, argvlen))
	       : real(ac, fn, privdata, argc, argv, argvlen);
	shim_leave();
	return rc;
}

int redisAsyncFormattedCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
			       const char *cmd, size_t len)
{
	__typeof__(&redisAsyncFormattedCommand) real =
	    SHIM_REAL(SHIM_LIB_HIREDIS, redisAsyncFormattedCommand);
	struct async_slot *s;
	struct redis_op op;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(ac, fn, privdata, cmd, len);
		shim_leave();
		return rc;
	}
	redis_name_resp(cmd, len, op.name, &op.select);
	s = async_begin(ac, fn, privdata, (const void *)real, &op);
	rc =
	    s ? async_done(s, real(ac, trampoline, s, cmd, len)) : real(ac, fn, privdata, cmd, len);
	shim_leave();
	return rc;
}

/* Pending callbacks run (with NULL) inside the real call; then forget it. */
void redisAsyncFree(redisAsyncContext *ac)
{
	__typeof__(&redisAsyncFree) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisAsyncFree);

	if (real)
		real(ac);
	if (ac && __atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_ON)
		conn_drop(ac);
}

redisAsyncContext *redisAsyncConnectWithOptions(const void *options)
{
	REDIS_CONNECT_WRAPPER(redisAsyncConnectWithOptions, (options));
}

redisAsyncContext *redisAsyncConnect(const char *ip, int port)
{
	REDIS_CONNECT_WRAPPER(redisAsyncConnect, (ip, port));
}

redisAsyncContext *redisAsyncConnectBind(const char *ip, int port, const char *source_addr)
{
	REDIS_CONNECT_WRAPPER(redisAsyncConnectBind, (ip, port, source_addr));
}

redisAsyncContext *redisAsyncConnectBindWithReuse(const char *ip, int port, const char *source_addr)
{
	REDIS_CONNECT_WRAPPER(redisAsyncConnectBindWithReuse, (ip, port, source_addr));
}

redisAsyncContext *redisAsyncConnectUnix(const char *path)
{
	REDIS_CONNECT_WRAPPER(redisAsyncConnectUnix, (path));
}
