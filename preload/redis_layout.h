/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * redis_layout.h - reads hiredis structs whose layout changed between 0.x
 * (Debian's 0.14) and 1.x, without hiredis headers: redisContext gained a
 * function table pointer in front (moving err, fd, flags ...), redisReply
 * gained dval (moving len and str). The version is decided once per process
 * from the symbols of the hiredis library the wrappers resolved:
 * redisConnectWithOptions exists since 1.0, redisReconnect since 0.13.
 *
 * API: redis_layout_detect(fn) with any resolved hiredis function (first
 * call wins), then the accessors. A context or reply pointer must be one
 * hiredis gave the host. With REDIS_LAYOUT_OLD (< 0.13) the endpoint is not
 * read. redis_layout_offset() exposes the offsets for tests.
 * Thread-safety: any thread.
 */
#ifndef REDTAP_PRELOAD_REDIS_LAYOUT_H
#define REDTAP_PRELOAD_REDIS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "conns.h"

enum redis_layout {
	REDIS_LAYOUT_UNKNOWN = 0,
	REDIS_LAYOUT_OLD = 1, /* 0.11, 0.12: no tcp/unix_sock fields */
	REDIS_LAYOUT_V0 = 2,  /* 0.13, 0.14 */
	REDIS_LAYOUT_V1 = 3,  /* 1.0 ... 1.2 */
};

enum redis_field {
	RF_CTX_ERR,
	RF_CTX_FD,
	RF_CTX_FLAGS,
	RF_CTX_CONN_TYPE,
	RF_CTX_TCP_HOST,
	RF_CTX_TCP_PORT,
	RF_CTX_UNIX_PATH,
	RF_REPLY_LEN,
	RF_REPLY_STR,
};

/* hiredis constants that are the same in every version. */
#define RH_OK		0
#define RH_ERR		(-1)
#define RH_BLOCK	0x1
#define RH_REPLY_STATUS 5
#define RH_REPLY_ERROR	6

enum redis_layout redis_layout_from_symbols(bool has_with_options, bool has_reconnect);
enum redis_layout redis_layout_detect(const void *resolved_fn);
enum redis_layout redis_layout_get(void);
size_t redis_layout_offset(enum redis_layout l, enum redis_field f);

int redis_ctx_err(const void *ctx);
int redis_ctx_flags(const void *ctx);
/* Fills ep from the context's tcp/unix fields; false if they cannot be read. */
bool redis_ctx_endpoint(const void *ctx, struct endpoint *ep);

/*
 * A reader whose fn table is NULL (redisReaderCreateWithFunctions(NULL), or
 * c->reader->fn = NULL) hands out no reply objects: each "reply" is the
 * small integer REDIS_REPLY_* of its type, cast to a pointer. Such a value
 * is never dereferenced nor freed; the functions below take it as a reply
 * of that type with no contents.
 */
#define RH_REPLY_ADDR_MIN 4096 /* below: not an object (page 0 is never mapped) */
bool redis_reply_is_object(const void *reply);

int redis_reply_type(const void *reply);
/* Error reply: its prefix into status ("" when the reply has no contents).
 * Status "OK": true from the second. */
bool redis_reply_error(const void *reply, char *status, size_t size);
bool redis_reply_ok(const void *reply);

#endif /* REDTAP_PRELOAD_REDIS_LAYOUT_H */
