// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * redis_layout.c - hiredis 0.x / 1.x struct layouts, detected at run time
 * (see redis_layout.h). The mirror structs below restate the public
 * layouts of each version; the unit test checks them against real headers.
 */
#include <string.h>
#include <sys/time.h>

#include "core.h"
#include "redis_layout.h"
#include "redis_parse.h"
#include "resolve.h"

struct ctx_v0 {
	int err;
	char errstr[128];
	int fd;
	int flags;
	char *obuf;
	void *reader;
	int connection_type;
	struct timeval *timeout;
	struct {
		char *host;
		char *source_addr;
		int port;
	} tcp;
	struct {
		char *path;
	} unix_sock;
};

struct ctx_v1 {
	const void *funcs;
	int err;
	char errstr[128];
	int fd;
	int flags;
	char *obuf;
	void *reader;
	int connection_type;
	struct timeval *connect_timeout;
	struct timeval *command_timeout;
	struct {
		char *host;
		char *source_addr;
		int port;
	} tcp;
	struct {
		char *path;
	} unix_sock;
};

struct reply_v0 {
	int type;
	long long integer;
	size_t len;
	char *str;
	size_t elements;
	void **element;
};

struct reply_v1 {
	int type;
	long long integer;
	double dval;
	size_t len;
	char *str;
	char vtype[4];
	size_t elements;
	void **element;
};

#define CONN_TCP  0
#define CONN_UNIX 1

static int layout;

enum redis_layout redis_layout_from_symbols(bool has_with_options, bool has_reconnect)
{
	if (has_with_options)
		return REDIS_LAYOUT_V1;
	return has_reconnect ? REDIS_LAYOUT_V0 : REDIS_LAYOUT_OLD;
}

enum redis_layout redis_layout_detect(const void *resolved_fn)
{
	int l = __atomic_load_n(&layout, __ATOMIC_ACQUIRE);

	if (l != REDIS_LAYOUT_UNKNOWN || !resolved_fn)
		return (enum redis_layout)l;
	l = redis_layout_from_symbols(shim_resolve_sibling(resolved_fn, "redisConnectWithOptions"),
				      shim_resolve_sibling(resolved_fn, "redisReconnect"));
	__atomic_store_n(&layout, l, __ATOMIC_RELEASE);
	shim_feature(RT_SHIM_FEAT_HIREDIS | (l == REDIS_LAYOUT_V1 ? RT_SHIM_FEAT_HIREDIS_V1 : 0));
	return (enum redis_layout)l;
}

enum redis_layout redis_layout_get(void)
{
	return (enum redis_layout)__atomic_load_n(&layout, __ATOMIC_ACQUIRE);
}

size_t redis_layout_offset(enum redis_layout l, enum redis_field f)
{
	bool v1 = l == REDIS_LAYOUT_V1;

	switch (f) {
	case RF_CTX_ERR:
		return v1 ? offsetof(struct ctx_v1, err) : offsetof(struct ctx_v0, err);
	case RF_CTX_FD:
		return v1 ? offsetof(struct ctx_v1, fd) : offsetof(struct ctx_v0, fd);
	case RF_CTX_FLAGS:
		return v1 ? offsetof(struct ctx_v1, flags) : offsetof(struct ctx_v0, flags);
	case RF_CTX_CONN_TYPE:
		return v1 ? offsetof(struct ctx_v1, connection_type)
			  : offsetof(struct ctx_v0, connection_type);
	case RF_CTX_TCP_HOST:
		return v1 ? offsetof(struct ctx_v1, tcp.host) : offsetof(struct ctx_v0, tcp.host);
	case RF_CTX_TCP_PORT:
		return v1 ? offsetof(struct ctx_v1, tcp.port) : offsetof(struct ctx_v0, tcp.port);
	case RF_CTX_UNIX_PATH:
		return v1 ? offsetof(struct ctx_v1, unix_sock.path)
			  : offsetof(struct ctx_v0, unix_sock.path);
	case RF_REPLY_LEN:
		return v1 ? offsetof(struct reply_v1, len) : offsetof(struct reply_v0, len);
	case RF_REPLY_STR:
		return v1 ? offsetof(struct reply_v1, str) : offsetof(struct reply_v0, str);
	}
	return 0;
}

static int read_int(const void *base, enum redis_field f)
{
	int v;

	memcpy(&v, (const char *)base + redis_layout_offset(redis_layout_get(), f), sizeof(v));
	return v;
}

static const void *read_ptr(const void *base, enum redis_field f)
{
	const void *v;

	memcpy(&v, (const char *)base + redis_layout_offset(redis_layout_get(), f), sizeof(v));
	return v;
}

int redis_ctx_err(const void *ctx)
{
	return ctx && redis_layout_get() ? read_int(ctx, RF_CTX_ERR) : 0;
}

int redis_ctx_flags(const void *ctx)
{
	return ctx && redis_layout_get() ? read_int(ctx, RF_CTX_FLAGS) : RH_BLOCK;
}

bool redis_ctx_endpoint(const void *ctx, struct endpoint *ep)
{
	const char *s;
	int type, port;

	if (!ctx || redis_layout_get() < REDIS_LAYOUT_V0)
		return false;
	type = read_int(ctx, RF_CTX_CONN_TYPE);
	if (type == CONN_TCP) {
		s = read_ptr(ctx, RF_CTX_TCP_HOST);
		port = read_int(ctx, RF_CTX_TCP_PORT);
		if (!s || port <= 0 || port > 65535)
			return false;
		shim_strlcpy((uint8_t *)ep->host, sizeof(ep->host), s);
		ep->port = (uint16_t)port;
		ep->unix_sock = 0;
	} else if (type == CONN_UNIX) {
		s = read_ptr(ctx, RF_CTX_UNIX_PATH);
		if (!s)
			return false;
		shim_strlcpy((uint8_t *)ep->host, sizeof(ep->host), s);
		ep->port = 0;
		ep->unix_sock = 1;
	} else {
		return false; /* a user-supplied fd: nothing to go by */
	}
	return true;
}

bool redis_reply_is_object(const void *reply)
{
	return (uintptr_t)reply >= RH_REPLY_ADDR_MIN;
}

int redis_reply_type(const void *reply)
{
	int type;

	if (!redis_reply_is_object(reply))
		return (int)(uintptr_t)reply; /* NULL: 0; a NULL-fn reader's reply: its type */
	memcpy(&type, reply, sizeof(type));   /* first member in every version */
	return type;
}

bool redis_reply_error(const void *reply, char *status, size_t size)
{
	const char *str;
	size_t len;

	if (redis_reply_type(reply) != RH_REPLY_ERROR)
		return false;
	if (!redis_reply_is_object(reply) || !redis_layout_get()) {
		if (size)
			status[0] = 0;
		return true;
	}
	str = read_ptr(reply, RF_REPLY_STR);
	memcpy(&len, (const char *)reply + redis_layout_offset(redis_layout_get(), RF_REPLY_LEN),
	       sizeof(len));
	redis_error_prefix(str, str ? len : 0, status, size);
	return true;
}

bool redis_reply_ok(const void *reply)
{
	const char *str;

	if (redis_reply_type(reply) != RH_REPLY_STATUS || !redis_reply_is_object(reply) ||
	    !redis_layout_get())
		return false;
	str = read_ptr(reply, RF_REPLY_STR);
	return str && str[0] == 'O' && str[1] == 'K' && !str[2];
}
