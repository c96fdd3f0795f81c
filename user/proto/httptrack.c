// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * httptrack.c - HTTP/1.x exchange tracking per connection, the first
 * implementation of struct protocol (protocol.h): detection on the first
 * request, role from who sent it, two http1 streams (requests and
 * responses), a bounded FIFO of pending requests, and the end of
 * exchanges on response end, connection close or silence. See httptrack.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptrack.h"
#include "protocol.h"
#include "route.h"

#define FIFO_INLINE	 1	       /* kept inside the connection; more are allocated */
#define UNKNOWN_QUIET_NS 1000000000ull /* unknown-framing response ends after 1 s of quiet */

struct pending {
	struct http_exchange x;
	bool tunnel_ok; /* CONNECT */
};

struct http_conn {
	struct httptrack *h;
	struct conn *c;
	struct http1_stream req;
	struct http1_stream resp;
	bool server;
	bool orphan_resp; /* current response has no request to pair with */
	bool failed;	  /* a stream gave up: the connection is no longer parsed */
	bool req_hidden;  /* a capture gap may have hidden requests (answered later) */
	uint8_t req_dir;  /* direction requests travel in */
	uint64_t cur_ts;  /* ts of the chunk being fed */
	uint32_t cur_tid;
	uint64_t resp_end_ts;  /* ts to stamp on a response that ends now */
	uint64_t req_start_ts; /* ts of the first bytes of the next request head */
	uint32_t req_start_tid;
	uint64_t hidden_ts; /* the request chunk whose gap may hide requests */
	uint32_t hidden_tid;
	uint64_t last_ts[2];  /* per direction */
	uint8_t head, count;  /* FIFO of pending requests */
	uint8_t cap;	      /* entries in fifo: FIFO_INLINE, then powers of 2 */
	struct pending *fifo; /* inline_fifo, or a heap array once pipelining grew it */
	struct pending inline_fifo[FIFO_INLINE];
};

/* One instance per pipeline. */
struct httptrack {
	const struct proto_sink *sink;
	const struct route_table *routes;
	size_t heap_entries; /* FIFO entries allocated beyond the inline ones */
};

size_t http1_fifo_allocated(const void *inst)
{
	const struct httptrack *h = inst;

	return h->heap_entries;
}

static void report_error(struct httptrack *h, enum http1_error reason)
{
	if (h->sink->parse_error)
		h->sink->parse_error(h->sink->ctx, &http1_protocol, reason);
}

_Static_assert((FIFO_INLINE & (FIFO_INLINE - 1)) == 0 && (HTTP_FIFO_MAX & (HTTP_FIFO_MAX - 1)) == 0,
	       "the FIFO's capacity, FIFO_INLINE doubled up to HTTP_FIFO_MAX, is a power of two");

/* The index of the FIFO's entry i places after its head: a mask, as the
 * capacity is a power of two (a division cost more on every exchange). */
static uint8_t fifo_index(const struct http_conn *hc, unsigned i)
{
	return (uint8_t)((hc->head + i) & (hc->cap - 1u));
}

/* Doubles the FIFO (most connections never pipeline, and an exchange is
 * nearly 1 KiB) within HTTP_FIFO_MAX per connection and HTTP_FIFO_BUDGET
 * for all; when it cannot grow the oldest request is dropped (counted). */
static void fifo_grow(struct http_conn *hc)
{
	uint8_t cap = (uint8_t)(hc->cap * 2 > HTTP_FIFO_MAX ? HTTP_FIFO_MAX : hc->cap * 2);
	size_t was = hc->fifo == hc->inline_fifo ? 0 : hc->cap;
	struct pending *n;

	if (hc->h->heap_entries - was + cap > HTTP_FIFO_BUDGET)
		return;
	n = malloc(cap * sizeof(*n));
	if (!n)
		return;
	for (uint8_t i = 0; i < hc->count; i++)
		n[i] = hc->fifo[fifo_index(hc, i)];
	if (hc->fifo != hc->inline_fifo)
		free(hc->fifo);
	hc->h->heap_entries += cap - was;
	hc->fifo = n;
	hc->cap = cap;
	hc->head = 0;
}

/* Gives an allocated FIFO back once it is empty: a burst of pipelining
 * does not keep its memory for the connection's lifetime. */
static void fifo_shrink(struct http_conn *hc)
{
	if (hc->count || hc->fifo == hc->inline_fifo)
		return;
	free(hc->fifo);
	hc->h->heap_entries -= hc->cap;
	hc->fifo = hc->inline_fifo;
	hc->cap = FIFO_INLINE;
	hc->head = 0;
}

static struct pending *fifo_front(struct http_conn *hc)
{
	return hc->count ? &hc->fifo[hc->head] : NULL;
}

const char *http_version_name(uint8_t version)
{
	return version == HTTP_V2 ? "2" : "1.1";
}

void http_exchange_set_error(struct http_exchange *x)
{
	if (x->status == 0) {
		x->error_type = "connection_closed";
		return;
	}
	/* Servers fail on 5xx; clients on 4xx too (OTel HTTP semconv). */
	if (x->status >= 500 || (!x->server && x->status >= 400)) {
		snprintf(x->error_buf, sizeof(x->error_buf), "%d", x->status);
		x->error_type = x->error_buf;
	}
}

/* Finishes the front request: reports it and pops it. */
static void finish_front(struct http_conn *hc, uint64_t end_ts, bool failed)
{
	struct pending *p = fifo_front(hc);
	struct httptrack *h = hc->h;

	if (!p)
		return;
	p->x.end_ns = end_ts > p->x.start_ns ? end_ts : p->x.start_ns;
	p->x.error_type = NULL;
	if (failed)
		p->x.error_type = "connection_closed";
	else
		http_exchange_set_error(&p->x);
	p->x.conn = hc->c;
	if (h->sink->http_done)
		h->sink->http_done(h->sink->ctx, &p->x);
	hc->head = fifo_index(hc, 1);
	hc->count--;
	fifo_shrink(hc);
}

static void conn_error(struct http_conn *hc, enum http1_error reason)
{
	report_error(hc->h, reason);
	hc->failed = true;
	http1_stream_set_opaque(&hc->req);
	http1_stream_set_opaque(&hc->resp);
}

/* --- request stream callbacks --- */

/* A new entry at the back of the FIFO (room made if needed), zeroed but
 * for who and when. */
/* An exchange as zeroed, but only its first bytes of each string are
 * written (httptrack.h: the strings come last). */
static void exchange_reset(struct http_exchange *x)
{
	memset(x, 0, offsetof(struct http_exchange, error_buf));
	x->error_buf[0] = x->route[0] = x->path[0] = x->host[0] = '\0';
	x->traceparent[0] = x->tracestate[0] = '\0';
	for (size_t i = 0; i < HTTP1_CAPTURE_MAX; i++)
		x->captured[i][0] = '\0';
}

static struct pending *push_pending(struct http_conn *hc, uint64_t start_ts, uint32_t tid)
{
	struct pending *p;

	if (hc->count == hc->cap && hc->cap < HTTP_FIFO_MAX)
		fifo_grow(hc);
	if (hc->count == hc->cap) {
		/* The peer pipelines deeper than we track: forget the oldest. */
		report_error(hc->h, HTTP1_E_PIPELINE_OVERFLOW);
		finish_front(hc, hc->cur_ts, true);
	}
	p = &hc->fifo[fifo_index(hc, hc->count)];
	exchange_reset(&p->x);
	p->tunnel_ok = false;
	hc->count++;
	p->x.server = hc->server;
	p->x.tgid = hc->c->tgid;
	p->x.tid = tid;
	p->x.start_ns = start_ts;
	return p;
}

static unsigned req_on_head(void *ctx, const struct http1_head *hd)
{
	struct http_conn *hc = ctx;
	struct httptrack *h = hc->h;
	struct pending *p;

	/* Without pipelining a new request means the previous response,
	 * whose end we could not see, is over. */
	if (http1_stream_framing_unknown(&hc->resp)) {
		hc->resp_end_ts = hc->last_ts[!hc->req_dir];
		http1_stream_end_unknown(&hc->resp);
	}
	p = push_pending(hc, hc->req_start_ts, hc->req_start_tid);
	hc->req_start_ts = hc->cur_ts; /* a next request in this chunk starts here */
	hc->req_start_tid = hc->cur_tid;
	p->x.method = hd->method;
	p->tunnel_ok = hd->method == HTTP1_M_CONNECT;
	http1_head_copy(p->x.path, sizeof(p->x.path), hd->path, hd->path_len);
	http1_head_copy(p->x.host, sizeof(p->x.host), hd->host, hd->host_len);
	http1_head_copy(p->x.traceparent, sizeof(p->x.traceparent), hd->traceparent,
			hd->traceparent_len);
	http1_head_copy(p->x.tracestate, sizeof(p->x.tracestate), hd->tracestate,
			hd->tracestate_len);
	for (size_t i = 0; i < HTTP1_CAPTURE_MAX; i++)
		if (hd->captured_len[i]) /* exchange_reset() emptied the rest */
			http1_head_copy(p->x.captured[i], sizeof(p->x.captured[i]), hd->captured[i],
					hd->captured_len[i]);
	/* CONNECT's target is an authority, not a route. */
	if (hd->method != HTTP1_M_CONNECT)
		route_normalize(h->routes, p->x.path, p->x.route, sizeof(p->x.route));
	p->x.conn = hc->c;
	if (h->sink->http_start)
		h->sink->http_start(h->sink->ctx, &p->x);
	return 0;
}

static void req_on_end(void *ctx)
{
	struct http_conn *hc = ctx;

	hc->req_start_ts = hc->cur_ts;
	hc->req_start_tid = hc->cur_tid;
}

static void req_on_error(void *ctx, enum http1_error reason)
{
	conn_error(ctx, reason);
}

static const struct http1_callbacks req_cbs = {
    .on_head = req_on_head,
    .on_end = req_on_end,
    .on_error = req_on_error,
};

/* --- response stream callbacks --- */

/* A response with no request pending, after a capture gap in the request
 * stream: it answers a request the gap hid (pipelined past the captured
 * prefix). Responses are the ground truth: it is an exchange, with an
 * unknown method and the placeholder route, from the chunk with the gap. */
static struct pending *unseen_request(struct http_conn *hc)
{
	struct httptrack *h = hc->h;
	struct pending *p = push_pending(hc, hc->hidden_ts, hc->hidden_tid);

	p->x.method = HTTP1_M_OTHER;
	p->x.request_unseen = true;
	snprintf(p->x.route, sizeof(p->x.route), "%s", HTTP_ROUTE_UNSEEN);
	p->x.conn = hc->c;
	if (h->sink->http_start)
		h->sink->http_start(h->sink->ctx, &p->x);
	return p;
}

static unsigned resp_on_head(void *ctx, const struct http1_head *hd)
{
	struct http_conn *hc = ctx;
	struct pending *p = fifo_front(hc);
	unsigned flags = 0;

	hc->resp_end_ts = hc->cur_ts;
	if (!p && hc->req_hidden)
		p = unseen_request(hc);
	hc->orphan_resp = p == NULL;
	if (!p) {
		report_error(hc->h, HTTP1_E_UNPAIRED_RESPONSE);
		return 0;
	}
	p->x.status = hd->status;
	if (p->x.method == HTTP1_M_HEAD)
		flags |= HTTP1_F_NO_BODY;
	if (p->tunnel_ok && hd->status >= 200 && hd->status < 300) {
		flags |= HTTP1_F_TUNNEL;
		http1_stream_set_opaque(&hc->req);
	}
	if (hd->status == 101)
		http1_stream_set_opaque(&hc->req);
	return flags;
}

static void resp_on_end(void *ctx)
{
	struct http_conn *hc = ctx;

	if (hc->orphan_resp) {
		hc->orphan_resp = false;
		return;
	}
	finish_front(hc, hc->resp_end_ts, false);
}

static const struct http1_callbacks resp_cbs = {
    .on_head = resp_on_head,
    .on_end = resp_on_end,
    .on_error = req_on_error,
};

static struct http_conn *http_conn_new(struct httptrack *h, struct conn *c, bool server,
				       uint8_t req_dir)
{
	struct http_conn *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return NULL;
	hc->h = h;
	hc->c = c;
	hc->server = server;
	hc->req_dir = req_dir;
	hc->fifo = hc->inline_fifo;
	hc->cap = FIFO_INLINE;
	http1_stream_init(&hc->req, HTTP1_REQUESTS, &req_cbs, hc);
	http1_stream_init(&hc->resp, HTTP1_RESPONSES, &resp_cbs, hc);
	return hc;
}

/* --- struct protocol --- */

static void *http1_new(const struct proto_env *env)
{
	struct httptrack *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->sink = env->sink;
	h->routes = env->routes;
	return h;
}

static void http1_free(void *inst)
{
	free(inst);
}

/* A request in either direction; a response alone (joined mid-exchange)
 * is not enough to tell who is the client. */
static enum proto_detect http1_proto_detect(const struct proto_chunk *ch)
{
	switch (http1_detect(ch->data, ch->cap_len)) {
	case HTTP1_DETECT_REQUEST:
		return PROTO_DETECT_YES;
	case HTTP1_DETECT_MORE:
		return PROTO_DETECT_MORE;
	case HTTP1_DETECT_NONE:
	case HTTP1_DETECT_RESPONSE:
		break;
	}
	return PROTO_DETECT_NO;
}

/* Whoever sends the first request is the client. */
static int http1_open(void *inst, struct conn *c, const struct proto_chunk *first)
{
	struct http_conn *hc = http_conn_new(inst, c, first->dir == RT_DIR_INGRESS, first->dir);

	if (!hc)
		return -ENOMEM;
	c->proto_state = hc;
	return 0;
}

static enum proto_verdict http1_feed(void *inst, struct conn *c, const struct proto_chunk *ch)
{
	struct http_conn *hc = c->proto_state;
	uint8_t dir = ch->dir & 1;
	uint64_t prev_ts;

	(void)inst;
	hc->c = c;
	hc->cur_ts = ch->ts;
	hc->cur_tid = ch->tid;
	prev_ts = hc->last_ts[dir];
	hc->last_ts[dir] = ch->ts;
	if (dir == hc->req_dir) {
		if (!http1_stream_busy(&hc->req)) {
			hc->req_start_ts = ch->ts;
			hc->req_start_tid = hc->cur_tid;
		}
		http1_stream_feed(&hc->req, ch->data, ch->cap_len, ch->len);
		if (ch->len > ch->cap_len && http1_stream_out_of_sync(&hc->req)) {
			hc->req_hidden = true;
			hc->hidden_ts = ch->ts;
			hc->hidden_tid = ch->tid;
		}
	} else {
		hc->resp_end_ts = http1_stream_framing_unknown(&hc->resp) ? prev_ts : ch->ts;
		http1_stream_feed(&hc->resp, ch->data, ch->cap_len, ch->len);
	}
	/* Not parsed any more: once nothing is pending, stop the copying. */
	return hc->failed && !hc->count ? PROTO_OPAQUE : PROTO_KEEP;
}

static void http1_close(void *inst, struct conn *c, uint64_t ts)
{
	struct http_conn *hc = c->proto_state;
	uint64_t last;

	(void)inst;
	if (!hc)
		return;
	last = hc->last_ts[0] > hc->last_ts[1] ? hc->last_ts[0] : hc->last_ts[1];
	if (!last)
		last = ts;
	hc->c = c;
	hc->resp_end_ts = hc->last_ts[!hc->req_dir] ? hc->last_ts[!hc->req_dir] : last;
	http1_stream_close(&hc->resp); /* a close-delimited response completes here */
	http1_stream_close(&hc->req);
	while (hc->count)
		finish_front(hc, ts ? ts : last, true);
	fifo_shrink(hc);
	free(hc);
	c->proto_state = NULL;
}

static void http1_sweep(void *inst, struct conn *c, uint64_t now_ns)
{
	struct http_conn *hc = c->proto_state;
	uint64_t last;

	(void)inst;
	if (!hc || !http1_stream_framing_unknown(&hc->resp))
		return;
	last = hc->last_ts[!hc->req_dir];
	if (now_ns > last && now_ns - last >= UNKNOWN_QUIET_NS) {
		hc->c = c;
		hc->resp_end_ts = last;
		http1_stream_end_unknown(&hc->resp);
	}
}

const struct protocol http1_protocol = {
    .name = "http",
    .nerrors = HTTP1_E_MAX,
    .error_name = http1_error_name,
    .new = http1_new,
    .free = http1_free,
    .detect = http1_proto_detect,
    .open = http1_open,
    .feed = http1_feed,
    .sweep = http1_sweep,
    .close = http1_close,
};
