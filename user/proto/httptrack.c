// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * httptrack.c - HTTP/1.x exchange tracking per connection: protocol
 * sniffing, role from the first request, two http1 streams (requests and
 * responses), a FIFO of pending requests, and the end of exchanges on
 * response end, connection close or silence. See httptrack.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptrack.h"
#include "route.h"

#define FIFO_MAX	 16	       /* pipelined requests kept per connection */
#define FIFO_INLINE	 1	       /* kept inside the connection; more are allocated */
#define SNIFF_MAX	 8	       /* chunks looked at before giving up on a connection */
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
	uint8_t req_dir;  /* direction requests travel in */
	uint64_t cur_ts;  /* ts of the chunk being fed */
	uint32_t cur_tid;
	uint64_t resp_end_ts;  /* ts to stamp on a response that ends now */
	uint64_t req_start_ts; /* ts of the first bytes of the next request head */
	uint32_t req_start_tid;
	uint64_t last_ts[2];  /* per direction */
	uint8_t head, count;  /* FIFO of pending requests */
	uint8_t cap;	      /* entries in fifo: FIFO_INLINE, then powers of 2 */
	struct pending *fifo; /* inline_fifo, or a heap array once pipelining grew it */
	struct pending inline_fifo[FIFO_INLINE];
};

struct httptrack {
	const struct route_table *routes;
	const struct httptrack_callbacks *cb;
	void *ctx;
	uint64_t parse_errors;
	uint64_t exchanges;
};

struct httptrack *httptrack_new(const struct route_table *routes,
				const struct httptrack_callbacks *cb, void *ctx)
{
	struct httptrack *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->routes = routes;
	h->cb = cb;
	h->ctx = ctx;
	return h;
}

void httptrack_free(struct httptrack *h)
{
	free(h);
}

uint64_t httptrack_parse_errors(const struct httptrack *h)
{
	return h->parse_errors;
}

uint64_t httptrack_exchanges(const struct httptrack *h)
{
	return h->exchanges;
}

/* Doubles the FIFO (most connections never pipeline, and an exchange is
 * nearly 1 KiB); on failure it stays as it is and the oldest request is
 * dropped as when the FIFO is full. */
static void fifo_grow(struct http_conn *hc)
{
	uint8_t cap = (uint8_t)(hc->cap * 2 > FIFO_MAX ? FIFO_MAX : hc->cap * 2);
	struct pending *n = malloc(cap * sizeof(*n));

	if (!n)
		return;
	for (uint8_t i = 0; i < hc->count; i++)
		n[i] = hc->fifo[(hc->head + i) % hc->cap];
	if (hc->fifo != hc->inline_fifo)
		free(hc->fifo);
	hc->fifo = n;
	hc->cap = cap;
	hc->head = 0;
}

static struct pending *fifo_front(struct http_conn *hc)
{
	return hc->count ? &hc->fifo[hc->head] : NULL;
}

static void set_error(struct http_exchange *x)
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
		set_error(&p->x);
	p->x.conn = hc->c;
	h->exchanges++;
	if (h->cb->on_done)
		h->cb->on_done(h->ctx, &p->x);
	hc->head = (uint8_t)((hc->head + 1) % hc->cap);
	hc->count--;
}

static void conn_error(struct http_conn *hc)
{
	hc->h->parse_errors++;
	http1_stream_set_opaque(&hc->req);
	http1_stream_set_opaque(&hc->resp);
}

/* --- request stream callbacks --- */

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
	if (hc->count == hc->cap && hc->cap < FIFO_MAX)
		fifo_grow(hc);
	if (hc->count == hc->cap) {
		/* The peer pipelines deeper than we track: forget the oldest. */
		h->parse_errors++;
		finish_front(hc, hc->cur_ts, true);
	}
	p = &hc->fifo[(hc->head + hc->count) % hc->cap];
	memset(p, 0, sizeof(*p));
	hc->count++;
	p->x.server = hc->server;
	p->x.tgid = hc->c->tgid;
	p->x.tid = hc->req_start_tid;
	p->x.start_ns = hc->req_start_ts;
	hc->req_start_ts = hc->cur_ts; /* a next request in this chunk starts here */
	hc->req_start_tid = hc->cur_tid;
	p->x.method = hd->method;
	p->tunnel_ok = hd->method == HTTP1_M_CONNECT;
	memcpy(p->x.path, hd->path, sizeof(p->x.path));
	memcpy(p->x.host, hd->host, sizeof(p->x.host));
	memcpy(p->x.traceparent, hd->traceparent, sizeof(p->x.traceparent));
	memcpy(p->x.tracestate, hd->tracestate, sizeof(p->x.tracestate));
	/* CONNECT's target is an authority, not a route. */
	if (hd->method != HTTP1_M_CONNECT)
		route_normalize(h->routes, hd->path, p->x.route, sizeof(p->x.route));
	p->x.conn = hc->c;
	if (h->cb->on_start)
		h->cb->on_start(h->ctx, &p->x);
	return 0;
}

static void req_on_end(void *ctx)
{
	struct http_conn *hc = ctx;

	hc->req_start_ts = hc->cur_ts;
	hc->req_start_tid = hc->cur_tid;
}

static void req_on_error(void *ctx, const char *reason)
{
	(void)reason;
	conn_error(ctx);
}

static const struct http1_callbacks req_cbs = {
    .on_head = req_on_head,
    .on_end = req_on_end,
    .on_error = req_on_error,
};

/* --- response stream callbacks --- */

static unsigned resp_on_head(void *ctx, const struct http1_head *hd)
{
	struct http_conn *hc = ctx;
	struct pending *p = fifo_front(hc);
	unsigned flags = 0;

	hc->resp_end_ts = hc->cur_ts;
	hc->orphan_resp = p == NULL;
	if (!p) {
		hc->h->parse_errors++;
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

/* Decides on the first chunks whether the connection carries HTTP/1.x. */
static struct http_conn *classify(struct httptrack *h, struct conn *c,
				  const struct rt_data_event *ev)
{
	struct http_conn *hc;

	switch (http1_detect(ev->data, ev->cap_len)) {
	case HTTP1_DETECT_REQUEST:
		/* Whoever sends the first request is the client. */
		hc = http_conn_new(h, c, ev->dir == RT_DIR_INGRESS, ev->dir);
		if (!hc)
			return NULL;
		c->proto = CONN_PROTO_HTTP1;
		c->proto_state = hc;
		return hc;
	case HTTP1_DETECT_NONE:
	case HTTP1_DETECT_RESPONSE: /* joined mid-exchange: wait for a request */
	case HTTP1_DETECT_MORE:
		if (++c->sniff_tries >= SNIFF_MAX)
			c->proto = CONN_PROTO_OPAQUE;
		return NULL;
	}
	return NULL;
}

void httptrack_data(struct httptrack *h, struct conn *c, const struct rt_data_event *ev)
{
	struct http_conn *hc = c->proto_state;
	uint8_t dir = ev->dir & 1;
	uint64_t prev_ts;

	if (c->proto == CONN_PROTO_OPAQUE)
		return;
	if (c->proto == CONN_PROTO_UNKNOWN) {
		hc = classify(h, c, ev);
		if (!hc)
			return;
	}
	if (c->proto != CONN_PROTO_HTTP1 || !hc)
		return;
	hc->c = c;
	hc->cur_ts = ev->hdr.ts;
	hc->cur_tid = (uint32_t)ev->hdr.pid_tgid;
	prev_ts = hc->last_ts[dir];
	hc->last_ts[dir] = ev->hdr.ts;
	if (dir == hc->req_dir) {
		if (!http1_stream_busy(&hc->req)) {
			hc->req_start_ts = ev->hdr.ts;
			hc->req_start_tid = hc->cur_tid;
		}
		http1_stream_feed(&hc->req, ev->data, ev->cap_len, ev->len);
	} else {
		hc->resp_end_ts = http1_stream_framing_unknown(&hc->resp) ? prev_ts : ev->hdr.ts;
		http1_stream_feed(&hc->resp, ev->data, ev->cap_len, ev->len);
	}
}

void httptrack_close(struct httptrack *h, struct conn *c, uint64_t ts)
{
	struct http_conn *hc = c->proto_state;
	uint64_t last;

	(void)h;
	if (c->proto != CONN_PROTO_HTTP1 || !hc)
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
	if (hc->fifo != hc->inline_fifo)
		free(hc->fifo);
	free(hc);
	c->proto_state = NULL;
	c->proto = CONN_PROTO_OPAQUE;
}

void httptrack_sweep(struct httptrack *h, struct conn *c, uint64_t now_ns)
{
	struct http_conn *hc = c->proto_state;
	uint64_t last;

	(void)h;
	if (c->proto != CONN_PROTO_HTTP1 || !hc || !http1_stream_framing_unknown(&hc->resp))
		return;
	last = hc->last_ts[!hc->req_dir];
	if (now_ns > last && now_ns - last >= UNKNOWN_QUIET_NS) {
		hc->c = c;
		hc->resp_end_ts = last;
		http1_stream_end_unknown(&hc->resp);
	}
}
