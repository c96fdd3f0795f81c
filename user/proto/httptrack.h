/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * httptrack.h - HTTP/1.x as a protocol of the pipeline (protocol.h): turns
 * the chunks of one connection into exchanges (request + response, with
 * timestamps and thread ids).
 *
 * API: http1_protocol. A connection is HTTP/1 from its first request, in
 * either direction (who sends it is the client, so the role never depends
 * on the kernel's hint). Requests wait in a FIFO for their responses
 * (pipelining, keep-alive): HTTP_FIFO_MAX per connection and
 * HTTP_FIFO_BUDGET entries beyond the first for the whole instance; past
 * those the oldest request is dropped (reported, reason
 * pipeline_too_deep), and a FIFO that drains gives its memory back. Each
 * exchange that starts goes to the sink's http_start (which may fill
 * x->trace), each finished one to http_done: every start is matched by
 * exactly one done. A close completes a response delimited by it; pending
 * requests finish with error_type "connection_closed". The sweep ends
 * responses of unknown framing that went quiet. Parse errors go to the
 * sink with an enum http1_error reason (http1.h); after one, the
 * connection is no longer parsed and turns opaque once nothing is pending.
 */
#ifndef REDTAP_HTTPTRACK_H
#define REDTAP_HTTPTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "conntab.h"
#include "http1.h"

#define HTTP_ROUTE_MAX 128
/* The route of an exchange whose request was not captured (docs/protocols.md). */
#define HTTP_ROUTE_UNSEEN "_unseen"

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
	struct trace_ctx trace;
	const struct conn *conn; /* endpoints; valid during the callback only */
	/* Answered, but the request was in a capture gap: method
	 * HTTP1_M_OTHER, route HTTP_ROUTE_UNSEEN, started at the gap's chunk. */
	bool request_unseen;
	/* Appended for HTTP/2 and gRPC (http2.h); all zero for HTTP/1.x. */
	uint8_t version;     /* enum http_version */
	bool grpc;	     /* a gRPC call: path is /package.Service/Method */
	uint8_t grpc_type;   /* enum grpc_type, from the messages seen each way */
	int16_t grpc_status; /* the grpc-status trailer; -1 when none was decoded */
	/* The in-flight gauge's series httpmetrics_start() added 1 to (NULL:
	 * none), for its -1 at the end: a gauge that is not zero is never
	 * removed, so the pointer stays valid until then. Zero at start. */
	struct metric_series *inflight;
	/* Or the slot of inflight.h's table that counted it (0: none), and
	 * that slot's generation then. Zero at start. */
	uint16_t inflight_slot;
	uint16_t inflight_gen;
	/* The strings, from error_buf on, come last: httptrack.c's FIFO starts
	 * an exchange by zeroing what comes before error_buf and emptying
	 * each string (exchange_reset()), not by zeroing the 1.3 KiB. A new
	 * field goes above error_buf; a new string here, and in
	 * exchange_reset(). */
	char error_buf[8]; /* storage for a status code used as error_type */
	char route[HTTP_ROUTE_MAX];
	char path[HTTP1_PATH_MAX];
	char host[HTTP1_HOST_MAX];
	char traceparent[HTTP1_TRACEPARENT_MAX];
	char tracestate[HTTP1_TRACESTATE_MAX];
	/* HTTP/1.x requests: the http1_capture_set() header values, "" if absent */
	char captured[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_VALUE];
};

enum http_version {
	HTTP_V1 = 0, /* HTTP/1.x (network.protocol.version "1.1") */
	HTTP_V2 = 2,
};

/* A string of network.protocol.version: "1.1" or "2". */
const char *http_version_name(uint8_t version);

/* Sets x->error_type from the status (OTel HTTP semconv: servers fail on
 * 5xx, clients on 4xx too; no status: "connection_closed"). */
void http_exchange_set_error(struct http_exchange *x);

#define HTTP_FIFO_MAX	 16   /* pending requests per connection */
#define HTTP_FIFO_BUDGET 4096 /* allocated FIFO entries for all connections (~4 MiB) */

struct protocol;
struct metric_series;

extern const struct protocol http1_protocol;

/* FIFO entries an http1 instance has allocated for all its connections. */
size_t http1_fifo_allocated(const void *inst);

#endif /* REDTAP_HTTPTRACK_H */
