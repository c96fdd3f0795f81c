// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_http2.c - unit tests for HTTP/2 and gRPC (user/proto/http2.c,
 * http2_protocol) on byte streams built with nghttp2's HPACK deflater:
 * detection (preface, a connection joined late, and no misfire on HTTP/1,
 * PostgreSQL, Redis or TLS), frames split at every byte, multiplexed streams
 * answered out of order, CONTINUATION, padding and priority, RST_STREAM,
 * GOAWAY, a huge header block, the unknown dynamic table of a connection
 * joined late, capture gaps, the stream bounds, and gRPC status, trailers-only
 * answers, streaming types and the error rule. Every test checks that each
 * start is matched by exactly one done.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include "conntab.h"
#include "http2.h"
#include "httptrack.h"
#include "protocol.h"
#include "route.h"

#define IN	 RT_DIR_INGRESS
#define OUT	 RT_DIR_EGRESS
#define MAX_X	 256
#define WIRE_MAX (512 * 1024)

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct seen {
	struct http_exchange x;
	char err[32];
};

struct fx {
	struct proto_sink sink;
	struct proto_env env;
	struct route_table *routes;
	void *inst;
	struct conn c;
	bool opened;
	uint64_t ts;
	uint64_t errors[H2_E_MAX];
	long open; /* starts not yet done */
	size_t nstart, ndone;
	struct seen done[MAX_X];
	nghttp2_hd_deflater *enc[2]; /* by direction of travel */
	uint8_t *wire[2];	     /* bytes built, by direction */
	size_t len[2];
};

/* --- sink --- */

static void on_start(void *ctx, struct http_exchange *x)
{
	struct fx *f = ctx;

	f->open++;
	f->nstart++;
	assert_int_equal(x->version, HTTP_V2);
	assert_true(x->end_ns == 0);
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct fx *f = ctx;

	f->open--;
	assert_true(f->open >= 0);
	assert_true(x->end_ns >= x->start_ns);
	if (f->ndone < MAX_X) {
		f->done[f->ndone].x = *x;
		snprintf(f->done[f->ndone].err, sizeof(f->done[0].err), "%s",
			 x->error_type ? x->error_type : "");
		f->done[f->ndone].x.error_type = NULL;
	}
	f->ndone++;
}

static void on_error(void *ctx, const struct protocol *p, unsigned reason)
{
	struct fx *f = ctx;

	assert_ptr_equal(p, &http2_protocol);
	assert_true(reason < H2_E_MAX);
	f->errors[reason]++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->routes = route_table_new();
	assert_non_null(f->routes);
	f->sink = (struct proto_sink){
	    .http_start = on_start, .http_done = on_done, .parse_error = on_error, .ctx = f};
	f->env = (struct proto_env){.sink = &f->sink, .routes = f->routes};
	f->inst = http2_protocol.new(&f->env);
	assert_non_null(f->inst);
	f->c.tgid = 4242;
	f->c.fd = 9;
	f->ts = 1000000000ull;
	for (int d = 0; d < 2; d++) {
		assert_int_equal(nghttp2_hd_deflate_new(&f->enc[d], 4096), 0);
		f->wire[d] = malloc(WIRE_MAX);
		assert_non_null(f->wire[d]);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->opened)
		http2_protocol.close(f->inst, &f->c, f->ts);
	assert_int_equal(f->open, 0);
	assert_int_equal(f->nstart, f->ndone);
	assert_int_equal(http2_streams_allocated(f->inst), 0);
	http2_protocol.free(f->inst);
	route_table_free(f->routes);
	for (int d = 0; d < 2; d++) {
		nghttp2_hd_deflate_del(f->enc[d]);
		free(f->wire[d]);
	}
	free(f);
	return 0;
}

/* --- building wire bytes --- */

static void put(struct fx *f, uint8_t d, const void *p, size_t n)
{
	assert_true(f->len[d] + n <= WIRE_MAX);
	memcpy(f->wire[d] + f->len[d], p, n);
	f->len[d] += n;
}

static void frame(struct fx *f, uint8_t d, uint8_t type, uint8_t flags, uint32_t sid,
		  const void *payload, size_t n)
{
	uint8_t h[9] = {
	    (uint8_t)(n >> 16),	  (uint8_t)(n >> 8),	(uint8_t)n,	     type,	  flags,
	    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};

	put(f, d, h, sizeof(h));
	if (n)
		put(f, d, payload, n);
}

/* An HPACK block of NULL-terminated name, value pairs, encoded by d's
 * deflater (so repeated fields use its dynamic table). */
static size_t hpack(struct fx *f, uint8_t d, uint8_t *out, size_t cap, const char *const *kv)
{
	nghttp2_nv nv[32];
	size_t n = 0;
	ssize_t rv;

	for (; kv[2 * n]; n++) {
		nv[n] = (nghttp2_nv){.name = (uint8_t *)kv[2 * n],
				     .value = (uint8_t *)kv[2 * n + 1],
				     .namelen = strlen(kv[2 * n]),
				     .valuelen = strlen(kv[2 * n + 1]),
				     .flags = NGHTTP2_NV_FLAG_NONE};
	}
	rv = nghttp2_hd_deflate_hd(f->enc[d], out, cap, nv, n);
	assert_true(rv > 0);
	return (size_t)rv;
}

static void headers(struct fx *f, uint8_t d, uint32_t sid, bool end_stream, const char *const *kv)
{
	uint8_t blk[8192];
	size_t n = hpack(f, d, blk, sizeof(blk), kv);

	frame(f, d, 1 /* HEADERS */, (uint8_t)(0x4 | (end_stream ? 0x1 : 0)), sid, blk, n);
}

static void data(struct fx *f, uint8_t d, uint32_t sid, bool end_stream, const void *p, size_t n)
{
	frame(f, d, 0 /* DATA */, end_stream ? 0x1 : 0, sid, p, n);
}

/* One gRPC message of n bytes of 'm'. */
static void grpc_msg(struct fx *f, uint8_t d, uint32_t sid, bool end_stream, size_t n)
{
	uint8_t m[64] = {0, 0, 0, 0, (uint8_t)n};

	assert_true(n <= sizeof(m) - 5);
	memset(m + 5, 'm', n);
	data(f, d, sid, end_stream, m, 5 + n);
}

static void client_start(struct fx *f, uint8_t d)
{
	static const uint8_t settings[] = {0, 3, 0, 0, 0, 100};

	put(f, d, preface, 24);
	frame(f, d, 4 /* SETTINGS */, 0, 0, settings, sizeof(settings));
}

/* --- feeding --- */

static void feed(struct fx *f, uint8_t d, const uint8_t *p, size_t cap, uint64_t len)
{
	struct proto_chunk ch = {
	    .data = p, .cap_len = cap, .len = len, .ts = f->ts, .tid = 77, .dir = d};

	f->ts += 1000000;
	if (!f->opened) {
		assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_YES);
		assert_int_equal(http2_protocol.open(f->inst, &f->c, &ch), 0);
		f->opened = true;
	}
	assert_int_equal(http2_protocol.feed(f->inst, &f->c, &ch), PROTO_KEEP);
}

/* Sends what was built in direction d, in chunks of step bytes (the
 * first chunk at least first bytes), and forgets it. */
static void flush(struct fx *f, uint8_t d, size_t step, size_t first)
{
	size_t off = 0;

	while (off < f->len[d]) {
		size_t n = off ? step : (first > step ? first : step);

		if (n > f->len[d] - off)
			n = f->len[d] - off;
		feed(f, d, f->wire[d] + off, n, n);
		off += n;
	}
	f->len[d] = 0;
}

static const char *const get_items[] = {
    ":method",	   "GET",
    ":scheme",	   "http",
    ":path",	   "/items/42",
    ":authority",  "shop:8080",
    "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    NULL};
static const char *const resp_200[] = {":status", "200", "content-type", "text/plain", NULL};
static const char *const resp_503[] = {":status", "503", NULL};

/* --- tests --- */

static void test_detect(void **state)
{
	static const char http1[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	static const uint8_t pg_startup[] = {0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f};
	static const uint8_t pg_query[] = {'Q', 0,   0,	  0,   13,  's', 'e',
					   'l', 'e', 'c', 't', ' ', '1', 0};
	static const char redis[] = "*1\r\n$4\r\nPING\r\n";
	static const uint8_t tls[] = {0x16, 3, 1, 0, 0x2e, 1, 0, 0, 0x2a, 3, 3, 0, 0, 0, 0};
	static const uint8_t ping[] = {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t *bad[] = {(const uint8_t *)http1, pg_startup, pg_query,
				(const uint8_t *)redis, tls,	    ping};
	size_t badlen[] = {sizeof(http1) - 1, sizeof(pg_startup), sizeof(pg_query),
			   sizeof(redis) - 1, sizeof(tls),	  sizeof(ping)};
	struct fx *f = *state;
	struct proto_chunk ch = {.dir = IN};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ch.data = bad[i];
		ch.cap_len = ch.len = badlen[i];
		assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_NO);
	}
	/* the preface, whole, short, and cut by the capture limit */
	ch.data = (const uint8_t *)preface;
	ch.cap_len = ch.len = 24;
	assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_YES);
	ch.cap_len = ch.len = 5;
	assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_MORE);
	ch.cap_len = 16;
	ch.len = 200;
	assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_YES);
	/* a connection joined late: a HEADERS frame on its own */
	headers(f, OUT, 7, true, get_items);
	ch.data = f->wire[OUT];
	ch.cap_len = ch.len = f->len[OUT];
	assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_YES);
	ch.len++; /* not whole: not enough */
	assert_int_equal(http2_protocol.detect(&ch), PROTO_DETECT_NO);
	f->len[OUT] = 0;
}

/* Server side: requests come in. */
static void exchange_at_step(size_t step)
{
	struct fx *f;
	void *st;

	setup(&st);
	f = st;
	client_start(f, IN);
	headers(f, IN, 1, true, get_items);
	flush(f, IN, step, 24);
	headers(f, OUT, 1, false, resp_200);
	data(f, OUT, 1, true, "hello", 5);
	flush(f, OUT, step, 1);
	assert_int_equal(f->ndone, 1);
	assert_true(f->done[0].x.server);
	assert_int_equal(f->done[0].x.status, 200);
	assert_int_equal(f->done[0].x.method, HTTP1_M_GET);
	assert_string_equal(f->done[0].x.path, "/items/42");
	assert_string_equal(f->done[0].x.route, "/items/{id}");
	assert_string_equal(f->done[0].x.host, "shop:8080");
	assert_string_equal(f->done[0].x.traceparent,
			    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	assert_string_equal(f->done[0].err, "");
	assert_false(f->done[0].x.grpc);
	for (int e = 0; e < H2_E_MAX; e++)
		assert_int_equal(f->errors[e], 0);
	teardown(&st);
}

static void test_split_every_byte(void **state)
{
	(void)state;
	for (size_t step = 1; step <= 64; step++)
		exchange_at_step(step);
	exchange_at_step(100000);
}

/* The same bytes split at every single offset into two chunks. */
static void test_split_each_offset(void **state)
{
	struct fx *f = *state;
	uint8_t all[4096];
	size_t n;

	(void)f;
	{
		void *st;
		struct fx *g;

		setup(&st);
		g = st;
		client_start(g, IN);
		headers(g, IN, 1, false, get_items);
		data(g, IN, 1, true, "body", 4);
		n = g->len[IN];
		memcpy(all, g->wire[IN], n);
		teardown(&st);
	}
	for (size_t k = 24; k < n; k++) {
		void *st;
		struct fx *g;

		setup(&st);
		g = st;
		feed(g, IN, all, k, k);
		feed(g, IN, all + k, n - k, n - k);
		headers(g, OUT, 1, true, resp_503);
		flush(g, OUT, 4096, 1);
		assert_int_equal(g->ndone, 1);
		assert_int_equal(g->done[0].x.status, 503);
		assert_string_equal(g->done[0].err, "503");
		teardown(&st);
	}
}

static void test_multiplexed(void **state)
{
	static const char *const r1[] = {":method", "GET", ":path", "/a", ":scheme", "http", NULL};
	static const char *const r3[] = {":method", "POST", ":path", "/b", ":scheme", "http", NULL};
	static const char *const r5[] = {":method", "PUT", ":path", "/c", ":scheme", "http", NULL};
	static const char *const s404[] = {":status", "404", NULL};
	struct fx *f = *state;

	/* client side: requests go out */
	client_start(f, OUT);
	headers(f, OUT, 1, true, r1);
	headers(f, OUT, 3, false, r3);
	headers(f, OUT, 5, true, r5);
	data(f, OUT, 3, true, "x", 1);
	flush(f, OUT, 7, 24);
	headers(f, IN, 5, true, resp_200);
	headers(f, IN, 3, false, s404);
	headers(f, IN, 1, false, resp_503);
	data(f, IN, 1, true, "e", 1);
	data(f, IN, 3, true, "n", 1);
	flush(f, IN, 3, 1);
	assert_int_equal(f->ndone, 3);
	assert_string_equal(f->done[0].x.path, "/c");
	assert_int_equal(f->done[0].x.status, 200);
	assert_false(f->done[0].x.server);
	assert_string_equal(f->done[1].x.path, "/a");
	assert_string_equal(f->done[1].err, "503");
	assert_string_equal(f->done[2].x.path, "/b");
	assert_int_equal(f->done[2].x.method, HTTP1_M_POST);
	assert_string_equal(f->done[2].err, "404"); /* a client fails on 4xx */
}

static void test_continuation_padding_priority(void **state)
{
	struct fx *f = *state;
	uint8_t blk[1024], p[2048];
	size_t n;

	client_start(f, IN);
	n = hpack(f, IN, blk, sizeof(blk), get_items);
	assert_true(n > 10);
	/* HEADERS: padded (pad 7), priority, first 4 bytes of the block */
	p[0] = 7;
	memset(p + 1, 0, 5);
	memcpy(p + 6, blk, 4);
	memset(p + 10, 0, 7);
	frame(f, IN, 1, 0x08 | 0x20 | 0x01, 1, p, 17);
	frame(f, IN, 9 /* CONTINUATION */, 0, 1, blk + 4, 3);
	frame(f, IN, 9, 0x4, 1, blk + 7, n - 7);
	flush(f, IN, 5, 24);
	assert_int_equal(f->nstart, 1);
	headers(f, OUT, 1, false, resp_200);
	/* padded DATA ending the stream */
	p[0] = 3;
	memcpy(p + 1, "ok", 2);
	memset(p + 3, 0, 3);
	frame(f, OUT, 0, 0x08 | 0x01, 1, p, 6);
	flush(f, OUT, 2, 1);
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->done[0].x.path, "/items/42");
	assert_int_equal(f->done[0].x.status, 200);
	for (int e = 0; e < H2_E_MAX; e++)
		assert_int_equal(f->errors[e], 0);
}

static void test_rst_and_goaway(void **state)
{
	static const uint8_t cancel[] = {0, 0, 0, 8};
	static const uint8_t goaway[] = {0, 0, 0, 3, 0, 0, 0, 0};
	struct fx *f = *state;

	client_start(f, IN);
	headers(f, IN, 1, true, get_items);
	headers(f, IN, 3, true, get_items);
	headers(f, IN, 5, true, get_items);
	headers(f, IN, 7, true, get_items);
	frame(f, IN, 3 /* RST_STREAM */, 0, 1, cancel, 4);
	flush(f, IN, 1000, 24);
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->done[0].err, "stream_reset");
	/* the server answers 3 and refuses what is above it */
	headers(f, OUT, 3, true, resp_200);
	frame(f, OUT, 7 /* GOAWAY */, 0, 0, goaway, sizeof(goaway));
	flush(f, OUT, 1000, 1);
	assert_int_equal(f->ndone, 4);
	assert_int_equal(f->done[1].x.status, 200);
	assert_string_equal(f->done[1].err, "");
	assert_string_equal(f->done[2].err, "refused_stream");
	assert_string_equal(f->done[3].err, "refused_stream");
	assert_int_equal(f->nstart, 4);
}

static void test_close_reports_open(void **state)
{
	struct fx *f = *state;

	client_start(f, IN);
	headers(f, IN, 1, true, get_items);
	flush(f, IN, 1000, 24);
	http2_protocol.close(f->inst, &f->c, f->ts);
	f->opened = false;
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->done[0].err, "connection_closed");
	assert_null(f->c.proto_state);
}

static void test_huge_header_block(void **state)
{
	struct fx *f = *state;
	char *big = malloc(100001);
	const char *kv[] = {":method", "GET",	":path", "/big", ":scheme",
			    "http",    "x-big", big,	 NULL};
	uint8_t *blk = malloc(200000);
	nghttp2_nv nv[4];
	ssize_t n;
	size_t off = 0;
	bool first = true;

	assert_non_null(big);
	assert_non_null(blk);
	memset(big, 'b', 100000);
	big[100000] = '\0';
	for (int i = 0; i < 4; i++)
		nv[i] =
		    (nghttp2_nv){(uint8_t *)kv[2 * i], (uint8_t *)kv[2 * i + 1], strlen(kv[2 * i]),
				 strlen(kv[2 * i + 1]), NGHTTP2_NV_FLAG_NO_INDEX};
	n = nghttp2_hd_deflate_hd(f->enc[IN], blk, 200000, nv, 4);
	assert_true(n > 70000); /* Huffman-coded, still past nghttp2's 64 KiB */
	client_start(f, IN);
	while (off < (size_t)n) {
		size_t t = (size_t)n - off > 16384 ? 16384 : (size_t)n - off;
		bool last = off + t == (size_t)n;

		frame(f, IN, first ? 1 : 9, (uint8_t)((last ? 0x4 : 0) | (first ? 0x1 : 0)), 1,
		      blk + off, t);
		first = false;
		off += t;
	}
	flush(f, IN, 1500, 24);
	/* nghttp2 refuses a 100 KB field: counted; :method and :path came first */
	assert_int_equal(f->errors[H2_E_HPACK], 1);
	assert_int_equal(f->nstart, 1);
	/* the table is unknown from there on, but the next block is all literal */
	{
		static const char *const r3[] = {":method", "GET", ":path", "/after", NULL};

		headers(f, IN, 3, true, r3);
		flush(f, IN, 1500, 1);
	}
	headers(f, OUT, 1, true, resp_200);
	headers(f, OUT, 3, true, resp_200);
	flush(f, OUT, 1500, 1);
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->done[0].x.path, "/big");
	assert_string_equal(f->done[1].x.path, "/after");
	free(big);
	free(blk);
}

/* Joined late: the second request refers to table entries made by the
 * first, which was not seen. What is literal or static decodes, what refers
 * to the unseen entries is unknown; nothing is reported with a guess. */
static void test_unknown_dynamic_table(void **state)
{
	static const char *const r[] = {":method",	  "POST",  ":authority",
					"secret.example", ":path", "/secret/path",
					"x-id",		  "abc",   NULL};
	static const char *const lit[] = {":method", "GET", ":path", "/", NULL};
	/* :method GET, then index 63: an entry made before the join */
	static const uint8_t unseen_path[] = {0x82, 0x80 | 63};
	/* index 200: past any default-size table */
	static const uint8_t too_far[] = {0x82, 0xff, 200 - 127};
	struct fx *f = *state;

	headers(f, IN, 1, true, r); /* the table now holds :authority and x-id */
	f->len[IN] = 0;		    /* ... but the agent was not there */
	headers(f, IN, 3, true, r);
	flush(f, IN, 1000, 1);
	/* :path is a literal (nghttp2 never indexes it): reported; :authority
	 * and x-id are unknown: no host */
	assert_int_equal(f->nstart, 1);
	assert_int_equal(f->errors[H2_E_HPACK_UNKNOWN], 0); /* nothing it needs was lost */
	frame(f, IN, 1, 0x5, 7, unseen_path, sizeof(unseen_path));
	flush(f, IN, 1000, 1);
	assert_int_equal(f->nstart, 1); /* no :path: not reported */
	assert_int_equal(f->errors[H2_E_HPACK_UNKNOWN], 1);
	assert_int_equal(f->errors[H2_E_NO_PSEUDO], 0);
	frame(f, IN, 1, 0x5, 9, too_far, sizeof(too_far));
	flush(f, IN, 1000, 1);
	assert_int_equal(f->nstart, 1);
	assert_int_equal(f->errors[H2_E_HPACK_UNKNOWN], 2);
	/* a block made of static entries and literals decodes */
	headers(f, IN, 5, true, lit);
	flush(f, IN, 1000, 1);
	assert_int_equal(f->nstart, 2);
	/* the response side was never seen from its start either: it resyncs */
	headers(f, OUT, 3, true, resp_200);
	headers(f, OUT, 5, true, resp_200);
	headers(f, OUT, 7, true, resp_200);
	flush(f, OUT, 1000, 1);
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->done[0].x.path, "/secret/path");
	assert_string_equal(f->done[0].x.host, "");
	assert_int_equal(f->done[0].x.method, HTTP1_M_POST);
	assert_int_equal(f->done[0].x.status, 200);
	assert_string_equal(f->done[1].x.path, "/");
	/* stream 7's answer: its request was not decoded, on a connection
	 * joined late: not an unpaired response */
	assert_int_equal(f->errors[H2_E_UNPAIRED], 0);
}

/* A capture gap inside DATA is skipped by length; one across frames
 * resynchronises at the next chunk. */
static void test_gaps(void **state)
{
	struct fx *f = *state;
	uint8_t body[3000];

	memset(body, 'z', sizeof(body));
	client_start(f, IN);
	headers(f, IN, 1, true, get_items);
	headers(f, IN, 3, true, get_items);
	flush(f, IN, 1000, 24);
	headers(f, OUT, 1, false, resp_200);
	data(f, OUT, 1, true, body, sizeof(body));
	/* the server wrote it at once; 256 bytes were captured */
	feed(f, OUT, f->wire[OUT], 256, f->len[OUT]);
	f->len[OUT] = 0;
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->errors[H2_E_GAP], 0);
	/* a gap hiding frame headers */
	headers(f, OUT, 3, false, resp_200);
	data(f, OUT, 3, false, body, 100);
	data(f, OUT, 3, false, body, 100);
	feed(f, OUT, f->wire[OUT], 40, f->len[OUT] - 50);
	f->len[OUT] = 0;
	assert_int_equal(f->errors[H2_E_GAP], 1);
	/* resynchronised: the next chunk starts a frame */
	data(f, OUT, 3, true, body, 10);
	flush(f, OUT, 1000, 1);
	assert_int_equal(f->ndone, 2);
	assert_int_equal(f->done[1].x.status, 200);
}

static void test_stream_bound(void **state)
{
	static const char *const r[] = {":method", "GET", ":path", "/", NULL};
	struct fx *f = *state;

	client_start(f, IN);
	for (uint32_t i = 0; i < H2_STREAMS_MAX + 5; i++)
		headers(f, IN, 1 + 2 * i, true, r);
	flush(f, IN, 4096, 24);
	assert_int_equal(f->nstart, H2_STREAMS_MAX);
	assert_int_equal(f->errors[H2_E_TOO_MANY_STREAMS], 5);
	assert_int_equal(http2_streams_allocated(f->inst), H2_STREAMS_MAX);
}

static const char *const grpc_req[] = {":method",
				       "POST",
				       ":scheme",
				       "http",
				       ":path",
				       "/shop.v1.Catalog/GetItem",
				       "content-type",
				       "application/grpc",
				       "te",
				       "trailers",
				       NULL};

static void test_grpc(void **state)
{
	static const char *const ok_trailer[] = {"grpc-status", "0", NULL};
	static const char *const unavailable[] = {"grpc-status", "14", "grpc-message", "down",
						  NULL};
	static const char *const trailers_only[] = {
	    ":status", "200", "content-type", "application/grpc", "grpc-status", "12", NULL};
	static const char *const grpc_resp[] = {":status", "200", "content-type",
						"application/grpc", NULL};
	struct fx *f = *state;

	client_start(f, IN);
	/* 1: unary OK */
	headers(f, IN, 1, false, grpc_req);
	grpc_msg(f, IN, 1, true, 10);
	/* 3: bidi streaming, failing UNAVAILABLE */
	headers(f, IN, 3, false, grpc_req);
	grpc_msg(f, IN, 3, false, 4);
	grpc_msg(f, IN, 3, false, 4);
	/* 5: trailers-only UNIMPLEMENTED */
	headers(f, IN, 5, false, grpc_req);
	grpc_msg(f, IN, 5, true, 1);
	flush(f, IN, 11, 24);
	headers(f, OUT, 1, false, grpc_resp);
	grpc_msg(f, OUT, 1, false, 20);
	headers(f, OUT, 1, true, ok_trailer);
	headers(f, OUT, 3, false, grpc_resp);
	grpc_msg(f, OUT, 3, false, 3);
	grpc_msg(f, OUT, 3, false, 3);
	headers(f, OUT, 5, true, trailers_only);
	flush(f, OUT, 13, 1);
	grpc_msg(f, IN, 3, true, 4);
	flush(f, IN, 5, 1);
	headers(f, OUT, 3, true, unavailable);
	flush(f, OUT, 5, 1);
	assert_int_equal(f->ndone, 3);
	assert_true(f->done[0].x.grpc);
	assert_int_equal(f->done[0].x.grpc_status, 0);
	assert_int_equal(f->done[0].x.grpc_type, GRPC_UNARY);
	assert_string_equal(f->done[0].err, "");
	assert_int_equal(f->done[1].x.grpc_status, 12);
	assert_string_equal(f->done[1].err, "UNIMPLEMENTED");
	assert_int_equal(f->done[2].x.grpc_status, 14);
	assert_int_equal(f->done[2].x.grpc_type, GRPC_BIDI_STREAM);
	assert_string_equal(f->done[2].err, "UNAVAILABLE");
	assert_string_equal(f->done[2].x.path, "/shop.v1.Catalog/GetItem");
	assert_true(f->done[2].x.end_ns > f->done[2].x.start_ns);
}

static void test_grpc_rules(void **state)
{
	char svc[64], meth[64];

	(void)state;
	assert_true(grpc_code_is_error(14, true));
	assert_true(grpc_code_is_error(2, true));
	assert_false(grpc_code_is_error(5, true)); /* NOT_FOUND: the caller's problem */
	assert_false(grpc_code_is_error(1, true));
	assert_true(grpc_code_is_error(5, false));
	assert_false(grpc_code_is_error(0, false));
	assert_string_equal(grpc_code_name(14), "UNAVAILABLE");
	assert_string_equal(grpc_code_name(99), "UNKNOWN");
	assert_string_equal(grpc_type_name(GRPC_SERVER_STREAM), "server_stream");
	assert_true(grpc_split_path("/pkg.Svc/Method", svc, sizeof(svc), meth, sizeof(meth)));
	assert_string_equal(svc, "pkg.Svc");
	assert_string_equal(meth, "Method");
	assert_false(grpc_split_path("/a/b/c", svc, sizeof(svc), meth, sizeof(meth)));
	assert_false(grpc_split_path("/nomethod", svc, sizeof(svc), meth, sizeof(meth)));
	assert_false(grpc_split_path("/x/", svc, sizeof(svc), meth, sizeof(meth)));
	assert_string_equal(svc, "");
	assert_string_equal(h2_error_name(H2_E_HPACK_UNKNOWN), "hpack_unknown_index");
	assert_string_equal(h2_error_name(999), "unknown");
}

/* Garbage after a late-join detection makes the connection opaque. */
static void test_not_h2_goes_opaque(void **state)
{
	struct fx *f = *state;
	uint8_t junk[9] = {0, 0, 0, 3 /* RST_STREAM of length 0 */, 0, 0, 0, 0, 1};
	enum proto_verdict v = PROTO_KEEP;
	int i;

	data(f, IN, 1, false, "x", 1);
	flush(f, IN, 4096, 1);
	for (i = 0; i < 32 && v == PROTO_KEEP; i++) {
		struct proto_chunk ch = {
		    .data = junk, .cap_len = 9, .len = 9, .ts = f->ts, .dir = IN};

		v = http2_protocol.feed(f->inst, &f->c, &ch);
	}
	assert_int_equal(v, PROTO_OPAQUE);
	assert_int_equal(i, 8);
	assert_int_equal(f->errors[H2_E_FRAME], 8);
}

/* curl --http2 on http://: an HTTP/1.1 request asking for h2c. The
 * server's 101 switches to frames, and stream 1 is that request; a server
 * that declines answers in HTTP/1.1, which is reported as such. */
static void test_h2c_upgrade(void **state)
{
	static const char req[] = "GET /items/9 HTTP/1.1\r\nHost: shop:8080\r\n"
				  "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
				  "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
	static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\n"
					"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	static const char *const r3[] = {":method", "GET", ":path", "/next", NULL};
	struct fx *f = *state;

	put(f, IN, req, sizeof(req) - 1);
	/* the head split across chunks (detection needs the Upgrade and
	 * HTTP2-Settings headers in the first) */
	flush(f, IN, 7, (size_t)(strstr(req, "HTTP2-Settings:") - req) + 20);
	assert_int_equal(f->nstart, 1);
	put(f, OUT, switching, sizeof(switching) - 1);
	frame(f, OUT, 4, 0, 0, NULL, 0); /* the server's SETTINGS, in the same write */
	flush(f, OUT, 4096, 1);
	client_start(f, IN);
	headers(f, IN, 3, true, r3);
	flush(f, IN, 4096, 24);
	headers(f, OUT, 1, false, resp_200);
	data(f, OUT, 1, true, "x", 1);
	headers(f, OUT, 3, true, resp_503);
	flush(f, OUT, 4096, 1);
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->done[0].x.path, "/items/9");
	assert_string_equal(f->done[0].x.host, "shop:8080");
	assert_int_equal(f->done[0].x.version, HTTP_V2);
	assert_int_equal(f->done[0].x.status, 200);
	assert_true(f->done[0].x.server);
	assert_string_equal(f->done[1].x.path, "/next");
	assert_string_equal(f->done[1].err, "503");
	for (int e = 0; e < H2_E_MAX; e++)
		assert_int_equal(f->errors[e], 0);
}

static void test_h2c_upgrade_declined(void **state)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
				  "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
	static const char plain[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	struct fx *f = *state;
	struct proto_chunk ch = {.data = (const uint8_t *)plain,
				 .cap_len = sizeof(plain) - 1,
				 .len = sizeof(plain) - 1,
				 .dir = OUT};

	put(f, IN, req, sizeof(req) - 1);
	flush(f, IN, 4096, 1);
	ch.ts = f->ts;
	assert_int_equal(http2_protocol.feed(f->inst, &f->c, &ch), PROTO_OPAQUE);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->done[0].x.version, HTTP_V1);
	assert_int_equal(f->done[0].x.status, 404);
	assert_string_equal(f->done[0].x.path, "/a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_detect, setup, teardown),
	    cmocka_unit_test(test_split_every_byte),
	    cmocka_unit_test_setup_teardown(test_split_each_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multiplexed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_continuation_padding_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_and_goaway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_reports_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_header_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_dynamic_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gaps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grpc, setup, teardown),
	    cmocka_unit_test(test_grpc_rules),
	    cmocka_unit_test_setup_teardown(test_not_h2_goes_opaque, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_h2c_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_h2c_upgrade_declined, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
