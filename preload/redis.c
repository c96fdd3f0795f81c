// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * redis.c - the shim's synchronous hiredis wrappers: redisCommand,
 * redisvCommand, redisCommandArgv time one command each; the append family
 * queues the command in the context's FIFO and redisGetReply ends the oldest
 * one (pipelining); redisFree, redisFreeKeepFd and redisReconnect end what is
 * still pending; the connect functions forget a recycled address. Works with
 * hiredis 0.13/0.14 and 1.x (redis_layout.h); includes no hiredis header.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>

#include "core.h"
#include "redis_layout.h"
#include "redis_track.h"
#include "resolve.h"

typedef struct redisContext redisContext;

#define RD_DECL SHIM_EXPORT
RD_DECL void *redisCommand(redisContext *c, const char *format, ...);
RD_DECL void *redisvCommand(redisContext *c, const char *format, va_list ap);
RD_DECL void *redisCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen);
RD_DECL int redisAppendCommand(redisContext *c, const char *format, ...);
RD_DECL int redisvAppendCommand(redisContext *c, const char *format, va_list ap);
RD_DECL int redisAppendCommandArgv(redisContext *c, int argc, const char **argv,
				   const size_t *argvlen);
RD_DECL int redisAppendFormattedCommand(redisContext *c, const char *cmd, size_t len);
RD_DECL int redisGetReply(redisContext *c, void **reply);
RD_DECL void redisFree(redisContext *c);
RD_DECL int redisFreeKeepFd(redisContext *c);
RD_DECL int redisReconnect(redisContext *c);
RD_DECL redisContext *redisConnectWithOptions(const void *options);
RD_DECL redisContext *redisConnect(const char *ip, int port);
RD_DECL redisContext *redisConnectWithTimeout(const char *ip, int port, const struct timeval tv);
RD_DECL redisContext *redisConnectNonBlock(const char *ip, int port);
RD_DECL redisContext *redisConnectBindNonBlock(const char *ip, int port, const char *source_addr);
RD_DECL redisContext *redisConnectBindNonBlockWithReuse(const char *ip, int port,
							const char *source_addr);
RD_DECL redisContext *redisConnectUnix(const char *path);
RD_DECL redisContext *redisConnectUnixWithTimeout(const char *path, const struct timeval tv);
RD_DECL redisContext *redisConnectUnixNonBlock(const char *path);
RD_DECL redisContext *redisConnectFd(int fd);

typedef void (*free_reply_fn)(void *reply);

/* ---- shared with redis_async.c ---- */

void redis_op_begin(struct redis_op *op, const void *ctx, uint8_t flags)
{
	op->ctx = ctx;
	op->flags = flags;
	/* as in pq.c: no precise clock read, and no report, when nobody listens */
	op->start_ns = shim_listening() ? shim_now() : 0;
}

void redis_op_to_pend(const struct redis_op *op, struct pend *p)
{
	size_t n = strlen(op->name);

	p->start_ns = op->start_ns;
	p->select_db = op->select;
	p->flags = op->flags;
	p->kind = RT_SHIM_KIND_COMMAND;
	memcpy(p->text, op->name, n);
	p->text_len = (uint16_t)n;
}

void redis_op_from_pend(struct redis_op *op, const void *ctx, const struct pend *p)
{
	size_t n = p->text_len < REDIS_NAME_MAX - 1 ? p->text_len : REDIS_NAME_MAX - 1;

	op->ctx = ctx;
	op->start_ns = p->start_ns;
	op->select = p->select_db;
	op->flags = p->flags;
	memcpy(op->name, p->text, n);
	op->name[n] = 0;
}

static uint8_t ctx_error(const void *ctx, int errno_after, uint8_t fallback)
{
	switch (redis_ctx_err(ctx)) {
	case 1: /* REDIS_ERR_IO: 0.x reports its timeouts as EAGAIN */
		return errno_after == EAGAIN || errno_after == EWOULDBLOCK ||
			       errno_after == ETIMEDOUT
			   ? RT_SHIM_ERR_TIMEOUT
			   : RT_SHIM_ERR_IO;
	case 3: /* REDIS_ERR_EOF */
		return RT_SHIM_ERR_EOF;
	case 4: /* REDIS_ERR_PROTOCOL */
		return RT_SHIM_ERR_PROTOCOL;
	case 6: /* REDIS_ERR_TIMEOUT (1.x) */
		return RT_SHIM_ERR_TIMEOUT;
	case 2: /* REDIS_ERR_OTHER */
	case 5: /* REDIS_ERR_OOM */
		return RT_SHIM_ERR_CLIENT;
	default:
		return fallback;
	}
}

void redis_op_end(const struct redis_op *op, const void *reply, int errno_after,
		  uint8_t fallback_err)
{
	struct conn *c = conn_get(op->ctx, RT_SHIM_SYS_REDIS);
	struct endpoint scratch = {.known = 0}, *ep = c ? &c->ep : &scratch;
	struct shim_wire w;
	char status[16] = "";
	uint8_t err = RT_SHIM_ERR_NONE;
	int db = c ? c->redis_db : 0;

	if (!reply)
		err = ctx_error(op->ctx, errno_after, fallback_err);
	else if (redis_reply_error(reply, status, sizeof(status)))
		err = RT_SHIM_ERR_SERVER;
	else if (op->select != REDIS_NOT_SELECT && redis_reply_ok(reply) && c)
		c->redis_db = op->select >= 0 ? op->select : -1;
	if (!op->start_ns || !shim_listening())
		return;
	if (!ep->known)
		ep->known = redis_ctx_endpoint(op->ctx, ep);
	shim_op_init(&w, RT_SHIM_SYS_REDIS, RT_SHIM_KIND_COMMAND, op->ctx);
	w.u.op.start_ns = op->start_ns;
	w.u.op.end_ns = shim_now();
	w.u.op.error = err;
	w.u.op.flags = op->flags | (ep->unix_sock ? RT_SHIM_F_UNIX_SOCKET : 0);
	w.u.op.server_port = ep->port;
	shim_strlcpy(w.u.op.operation, sizeof(w.u.op.operation), op->name);
	shim_strlcpy(w.u.op.status, sizeof(w.u.op.status), status);
	shim_strlcpy(w.u.op.server_address, sizeof(w.u.op.server_address), ep->host);
	if (db >= 0)
		shim_append_uint((char *)w.u.op.namespace_, sizeof(w.u.op.namespace_),
				 (unsigned)db);
	shim_emit(&w);
}

void redis_abandon(const void *ctx, uint8_t err)
{
	struct conn *c = conn_find(ctx);
	struct redis_op op;
	struct pend *p;

	while (c && (p = pend_head(c))) {
		if (p->type == PEND_OP) {
			redis_op_from_pend(&op, ctx, p);
			redis_op_end(&op, NULL, 0, err);
		}
		pend_pop(c);
	}
}

/* ---- blocking commands ---- */

/* After a blocking command: its reply answers the oldest pending command. */
static void redis_command_done(struct redis_op *op, void *reply)
{
	int e = errno;
	struct conn *c = conn_get(op->ctx, RT_SHIM_SYS_REDIS);
	struct redis_op oldest;
	struct pend *p;

	if (!(redis_ctx_flags(op->ctx) & RH_BLOCK)) {
		/* non-blocking context: the command was only appended */
		op->flags |= RT_SHIM_F_PIPELINE;
		if (!reply && !redis_ctx_err(op->ctx) && c && (p = pend_push(c)))
			redis_op_to_pend(op, p);
		else if (!reply && redis_ctx_err(op->ctx))
			redis_op_end(op, NULL, e, RT_SHIM_ERR_CLIENT);
		errno = e;
		return;
	}
	if (c && c->fifo_len) {
		p = pend_push(c);
		if (p)
			redis_op_to_pend(op, p);
		p = pend_head(c);
		if (p->type == PEND_OP) {
			redis_op_from_pend(&oldest, op->ctx, p);
			redis_op_end(&oldest, reply, e, RT_SHIM_ERR_CLIENT);
			pend_pop(c);
		} else if (p->skip_ops <= 1 || !--p->skip_ops) {
			pend_pop(c);
		}
	} else {
		redis_op_end(op, reply, e, RT_SHIM_ERR_CLIENT);
	}
	errno = e;
}

static void *redis_vcommand(redisContext *c, const char *format, va_list ap)
{
	__typeof__(&redisvCommand) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisvCommand);
	struct redis_op op;
	va_list cp;
	void *reply;

	if (!real)
		return NULL;
	if (!shim_enter()) {
		reply = real(c, format, ap);
		shim_leave();
		return reply;
	}
	redis_layout_detect((const void *)real);
	va_copy(cp, ap);
	redis_name_fmt(format, cp, op.name, &op.select);
	va_end(cp);
	redis_op_begin(&op, c, 0);
	reply = real(c, format, ap);
	redis_command_done(&op, reply);
	shim_leave();
	return reply;
}

void *redisvCommand(redisContext *c, const char *format, va_list ap)
{
	return redis_vcommand(c, format, ap);
}

void *redisCommand(redisContext *c, const char *format, ...)
{
	va_list ap;
	void *reply;

	va_start(ap, format);
	reply = redis_vcommand(c, format, ap);
	va_end(ap);
	return reply;
}

void *redisCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
	__typeof__(&redisCommandArgv) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisCommandArgv);
	struct redis_op op;
	void *reply;

	if (!real)
		return NULL;
	if (!shim_enter()) {
		reply = real(c, argc, argv, argvlen);
		shim_leave();
		return reply;
	}
	redis_layout_detect((const void *)real);
	redis_name_argv(argc, argv, argvlen, op.name, &op.select);
	redis_op_begin(&op, c, 0);
	reply = real(c, argc, argv, argvlen);
	redis_command_done(&op, reply);
	shim_leave();
	return reply;
}

/* ---- pipelining: append, then redisGetReply ---- */

static void redis_append_done(struct redis_op *op, int rc)
{
	int e = errno;
	struct conn *c;
	struct pend *p;

	op->flags |= RT_SHIM_F_PIPELINE;
	if (rc != RH_OK) {
		redis_op_end(op, NULL, e, RT_SHIM_ERR_CLIENT);
	} else if ((c = conn_get(op->ctx, RT_SHIM_SYS_REDIS)) && (p = pend_push(c))) {
		redis_op_to_pend(op, p);
	}
	errno = e;
}

static int redis_vappend(redisContext *c, const char *format, va_list ap)
{
	__typeof__(&redisvAppendCommand) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisvAppendCommand);
	struct redis_op op;
	va_list cp;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(c, format, ap);
		shim_leave();
		return rc;
	}
	redis_layout_detect((const void *)real);
	va_copy(cp, ap);
	redis_name_fmt(format, cp, op.name, &op.select);
	va_end(cp);
	redis_op_begin(&op, c, 0);
	rc = real(c, format, ap);
	redis_append_done(&op, rc);
	shim_leave();
	return rc;
}

int redisvAppendCommand(redisContext *c, const char *format, va_list ap)
{
	return redis_vappend(c, format, ap);
}

int redisAppendCommand(redisContext *c, const char *format, ...)
{
	va_list ap;
	int rc;

	va_start(ap, format);
	rc = redis_vappend(c, format, ap);
	va_end(ap);
	return rc;
}

int redisAppendCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
	__typeof__(&redisAppendCommandArgv) real =
	    SHIM_REAL(SHIM_LIB_HIREDIS, redisAppendCommandArgv);
	struct redis_op op;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(c, argc, argv, argvlen);
		shim_leave();
		return rc;
	}
	redis_layout_detect((const void *)real);
	redis_name_argv(argc, argv, argvlen, op.name, &op.select);
	redis_op_begin(&op, c, 0);
	rc = real(c, argc, argv, argvlen);
	redis_append_done(&op, rc);
	shim_leave();
	return rc;
}

int redisAppendFormattedCommand(redisContext *c, const char *cmd, size_t len)
{
	__typeof__(&redisAppendFormattedCommand) real =
	    SHIM_REAL(SHIM_LIB_HIREDIS, redisAppendFormattedCommand);
	struct redis_op op;
	int rc;

	if (!real)
		return RH_ERR;
	if (!shim_enter()) {
		rc = real(c, cmd, len);
		shim_leave();
		return rc;
	}
	redis_layout_detect((const void *)real);
	redis_name_resp(cmd, len, op.name, &op.select);
	redis_op_begin(&op, c, 0);
	rc = real(c, cmd, len);
	redis_append_done(&op, rc);
	shim_leave();
	return rc;
}

/* One reply (or an error) for the oldest appended command. */
static void redis_reply_done(redisContext *c, struct conn *cn, int rc, void *reply)
{
	struct pend *p = pend_head(cn);
	struct redis_op op;
	int e = errno;

	if (rc == RH_OK && !reply)
		return; /* non-blocking context, nothing read yet */
	if (p->type == PEND_SKIP) {
		if (p->skip_ops <= 1 || !--p->skip_ops)
			pend_pop(cn);
		return;
	}
	redis_op_from_pend(&op, c, p);
	pend_pop(cn);
	redis_op_end(&op, rc == RH_OK ? reply : NULL, e, RT_SHIM_ERR_CLIENT);
	errno = e;
}

int redisGetReply(redisContext *c, void **reply)
{
	__typeof__(&redisGetReply) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisGetReply);
	static void *free_cache;
	free_reply_fn free_reply;
	struct conn *cn;
	void *mine = NULL;
	int rc, e;

	if (!real)
		return RH_ERR;
	if (!shim_enter() || !(cn = conn_find(c)) || !pend_head(cn)) {
		rc = real(c, reply);
		shim_leave();
		return rc;
	}
	/* The caller may not want the reply; we still need to look at it. */
	rc = real(c, reply ? reply : &mine);
	e = errno;
	redis_reply_done(c, cn, rc, reply ? (rc == RH_OK ? *reply : NULL) : mine);
	if (redis_reply_is_object(mine)) {
		free_reply = (free_reply_fn)shim_resolve(&free_cache, SHIM_LIB_HIREDIS,
							 "freeReplyObject", NULL);
		if (free_reply)
			free_reply(mine);
	}
	errno = e;
	shim_leave();
	return rc;
}

/* ---- connection life ---- */

static void redis_gone(const void *ctx, bool forget)
{
	int e = errno;
	struct conn *cn;

	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_ON || !ctx)
		return;
	redis_abandon(ctx, RT_SHIM_ERR_CLOSED);
	cn = conn_find(ctx);
	if (cn) {
		cn->ep.known = 0;
		cn->redis_db = 0; /* a new connection starts in database 0 */
	}
	if (forget)
		conn_drop(ctx);
	errno = e;
}

void redisFree(redisContext *c)
{
	__typeof__(&redisFree) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisFree);

	redis_gone(c, true);
	if (real)
		real(c);
}

int redisFreeKeepFd(redisContext *c)
{
	__typeof__(&redisFreeKeepFd) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisFreeKeepFd);

	redis_gone(c, true);
	return real ? real(c) : -1;
}

int redisReconnect(redisContext *c)
{
	__typeof__(&redisReconnect) real = SHIM_REAL(SHIM_LIB_HIREDIS, redisReconnect);

	redis_gone(c, false);
	return real ? real(c) : RH_ERR;
}

void *redis_fresh(void *ctx, const void *real)
{
	if (ctx) {
		redis_layout_detect(real);
		conn_drop(ctx);
	}
	return ctx;
}

redisContext *redisConnectWithOptions(const void *options)
{
	REDIS_CONNECT_WRAPPER(redisConnectWithOptions, (options));
}

redisContext *redisConnect(const char *ip, int port)
{
	REDIS_CONNECT_WRAPPER(redisConnect, (ip, port));
}

redisContext *redisConnectWithTimeout(const char *ip, int port, const struct timeval tv)
{
	REDIS_CONNECT_WRAPPER(redisConnectWithTimeout, (ip, port, tv));
}

redisContext *redisConnectNonBlock(const char *ip, int port)
{
	REDIS_CONNECT_WRAPPER(redisConnectNonBlock, (ip, port));
}

redisContext *redisConnectBindNonBlock(const char *ip, int port, const char *source_addr)
{
	REDIS_CONNECT_WRAPPER(redisConnectBindNonBlock, (ip, port, source_addr));
}

redisContext *redisConnectBindNonBlockWithReuse(const char *ip, int port, const char *source_addr)
{
	REDIS_CONNECT_WRAPPER(redisConnectBindNonBlockWithReuse, (ip, port, source_addr));
}

redisContext *redisConnectUnix(const char *path)
{
	REDIS_CONNECT_WRAPPER(redisConnectUnix, (path));
}

redisContext *redisConnectUnixWithTimeout(const char *path, const struct timeval tv)
{
	REDIS_CONNECT_WRAPPER(redisConnectUnixWithTimeout, (path, tv));
}

redisContext *redisConnectUnixNonBlock(const char *path)
{
	REDIS_CONNECT_WRAPPER(redisConnectUnixNonBlock, (path));
}

redisContext *redisConnectFd(int fd)
{
	REDIS_CONNECT_WRAPPER(redisConnectFd, (fd));
}
