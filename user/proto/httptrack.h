/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * httptrack.h - turns the data records of one connection into HTTP/1.x
 * exchanges (request + response, with timestamps and thread ids).
 *
 * API: httptrack_data() takes every data record of a connection; it
 * classifies the connection on its first bytes (who sends the first
 * request is the client, so the role never depends on the kernel's hint),
 * keeps a FIFO of pending requests for pipelining and keep-alive, and
 * reports each exchange that starts through on_start (which may fill
 * x->trace; the in-flight gauge counts server ones) and each finished one
 * through on_done; every on_start is matched by exactly one on_done. httptrack_close()
 * ends a connection: a response delimited by the close completes, pending
 * requests finish with error_type "connection_closed". httptrack_sweep()
 * ends responses of unknown framing that went quiet. Not thread-safe.
 */
#ifndef REDTAP_HTTPTRACK_H
#define REDTAP_HTTPTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "conntab.h"
#include "http1.h"
#include "redtap/event.h"

#define HTTP_ROUTE_MAX 128

/* Trace context of an exchange, filled by the on_start callback. */
struct trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_id[8]; /* zero: a root span */
	bool valid;
	bool sampled;	    /* head-sampling decision */
	bool remote_parent; /* parent came from a traceparent header or a peer process */
};

struct http_exchange {
	bool server; /* this process served the request (else: client) */
	uint32_t tgid;
	uint32_t tid;	   /* thread that read (server) or wrote (client) it */
	uint64_t start_ns; /* CLOCK_MONOTONIC: first request bytes */
	uint64_t end_ns;   /* last response bytes; 0 in on_start */
	enum http1_method method;
	int status;		/* 0 when no response was seen */
	const char *error_type; /* NULL when the exchange is not an error */
	char error_buf[8];	/* storage for a status code used as error_type */
	char route[HTTP_ROUTE_MAX];
	char path[HTTP1_PATH_MAX];
	char host[HTTP1_HOST_MAX];
	char traceparent[HTTP1_TRACEPARENT_MAX];
	char tracestate[HTTP1_TRACESTATE_MAX];
	struct trace_ctx trace;
	const struct conn *conn; /* endpoints; valid during the callback only */
};

struct httptrack_callbacks {
	void (*on_start)(void *ctx, struct http_exchange *x);
	void (*on_done)(void *ctx, const struct http_exchange *x);
};

struct route_table;
struct httptrack;

/* routes may be NULL; cb and ctx are borrowed. NULL and errno on failure. */
struct httptrack *httptrack_new(const struct route_table *routes,
				const struct httptrack_callbacks *cb, void *ctx);
void httptrack_free(struct httptrack *h); /* NULL ok */

void httptrack_data(struct httptrack *h, struct conn *c, const struct rt_data_event *ev);
void httptrack_close(struct httptrack *h, struct conn *c, uint64_t ts);
void httptrack_sweep(struct httptrack *h, struct conn *c, uint64_t now_ns);

/* Counters for self-metrics. */
uint64_t httptrack_parse_errors(const struct httptrack *h);
uint64_t httptrack_exchanges(const struct httptrack *h);

#endif /* REDTAP_HTTPTRACK_H */
