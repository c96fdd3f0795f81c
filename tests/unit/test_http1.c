// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_http1.c - unit tests for the incremental HTTP/1.x parser (user/proto/http1.c):
 * framing, pipelining, split and gapped input, interim and upgrade responses,
 * header extraction, sniffing, and a randomized robustness run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http1.h"

#define MAX_HEADS  8
#define MAX_EVENTS 64

/* A head as the tests keep it: every field, the strings copied out of the
 * stream (struct http1_head points into it) with their lengths. */
struct head_copy {
	bool is_request;
	enum http1_method method;
	char path[HTTP1_PATH_MAX];
	size_t path_len;
	bool path_truncated;
	int status;
	int version_minor;
	char host[HTTP1_HOST_MAX];
	size_t host_len;
	char traceparent[HTTP1_TRACEPARENT_MAX];
	size_t traceparent_len;
	char tracestate[HTTP1_TRACESTATE_MAX];
	size_t tracestate_len;
	uint64_t content_length;
	bool has_content_length, chunked, conn_close, expect_continue, upgrade, truncated;
	char captured[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_VALUE];
	size_t captured_len[HTTP1_CAPTURE_MAX];
};

/* Records callbacks: events is "H" (head), "T" (truncated head), "E" (end), "X" (error). */
struct rec {
	struct http1_stream s;
	char events[MAX_EVENTS + 1];
	size_t pos[MAX_EVENTS]; /* rec.at when each event happened */
	size_t nev;
	size_t at; /* set by feeders: index of the byte being fed */
	struct head_copy heads[MAX_HEADS];
	size_t nheads;
	const char *reason;
	unsigned flags;	     /* returned by on_head */
	bool opaque_in_head; /* on_head calls http1_stream_set_opaque() */
	bool checking;	     /* randomized run: check invariants instead of recording heads */
	int open;	     /* heads not yet ended (randomized run) */
};

static void add_event(struct rec *r, char ev)
{
	if (r->nev < MAX_EVENTS) {
		r->pos[r->nev] = r->at;
		r->events[r->nev++] = ev;
		r->events[r->nev] = '\0';
	}
}

/* Copies one head string, within the bounds http1.h promises. */
static void copy_str(char *dst, size_t size, const char *s, size_t len)
{
	assert_non_null(s);
	assert_true(len < size);
	assert_int_equal(http1_head_copy(dst, size, s, len), len);
	assert_memory_equal(dst, s, len);
	assert_int_equal(dst[len], '\0');
}

static void copy_head(struct head_copy *c, const struct http1_head *h)
{
	memset(c, 0, sizeof(*c));
	c->is_request = h->is_request;
	c->method = h->method;
	copy_str(c->path, sizeof(c->path), h->path, h->path_len);
	c->path_len = h->path_len;
	c->path_truncated = h->path_truncated;
	c->status = h->status;
	c->version_minor = h->version_minor;
	copy_str(c->host, sizeof(c->host), h->host, h->host_len);
	c->host_len = h->host_len;
	copy_str(c->traceparent, sizeof(c->traceparent), h->traceparent, h->traceparent_len);
	c->traceparent_len = h->traceparent_len;
	copy_str(c->tracestate, sizeof(c->tracestate), h->tracestate, h->tracestate_len);
	c->tracestate_len = h->tracestate_len;
	c->content_length = h->content_length;
	c->has_content_length = h->has_content_length;
	c->chunked = h->chunked;
	c->conn_close = h->conn_close;
	c->expect_continue = h->expect_continue;
	c->upgrade = h->upgrade;
	c->truncated = h->truncated;
	for (size_t i = 0; i < HTTP1_CAPTURE_MAX; i++) {
		copy_str(c->captured[i], sizeof(c->captured[i]), h->captured[i],
			 h->captured_len[i]);
		c->captured_len[i] = h->captured_len[i];
	}
}

/* Every field of two kept heads, one by one. */
static void assert_heads_equal(const struct head_copy *a, const struct head_copy *b)
{
	assert_int_equal(a->is_request, b->is_request);
	assert_int_equal(a->method, b->method);
	assert_int_equal(a->path_len, b->path_len);
	assert_memory_equal(a->path, b->path, sizeof(a->path));
	assert_int_equal(a->path_truncated, b->path_truncated);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->version_minor, b->version_minor);
	assert_int_equal(a->host_len, b->host_len);
	assert_memory_equal(a->host, b->host, sizeof(a->host));
	assert_int_equal(a->traceparent_len, b->traceparent_len);
	assert_memory_equal(a->traceparent, b->traceparent, sizeof(a->traceparent));
	assert_int_equal(a->tracestate_len, b->tracestate_len);
	assert_memory_equal(a->tracestate, b->tracestate, sizeof(a->tracestate));
	assert_int_equal(a->content_length, b->content_length);
	assert_int_equal(a->has_content_length, b->has_content_length);
	assert_int_equal(a->chunked, b->chunked);
	assert_int_equal(a->conn_close, b->conn_close);
	assert_int_equal(a->expect_continue, b->expect_continue);
	assert_int_equal(a->upgrade, b->upgrade);
	assert_int_equal(a->truncated, b->truncated);
	for (size_t i = 0; i < HTTP1_CAPTURE_MAX; i++) {
		assert_int_equal(a->captured_len[i], b->captured_len[i]);
		assert_memory_equal(a->captured[i], b->captured[i], sizeof(a->captured[i]));
	}
}

static void check_head(const struct rec *r, const struct head_copy *h)
{
	assert_true(h->traceparent_len == 0 || h->traceparent_len == 55);
	assert_int_equal(strlen(h->traceparent), h->traceparent_len);
	assert_true(h->version_minor == 0 || h->version_minor == 1);
	assert_true(h->method >= HTTP1_M_OTHER && h->method <= HTTP1_M_PATCH);
	if (h->is_request) {
		assert_int_equal(h->status, 0);
		assert_true(h->path[0] != '\0');
	} else {
		assert_true(h->status >= 100 && h->status <= 599);
		assert_true(h->status >= 200 || h->status == 101);
	}
	assert_null(r->reason); /* nothing after an error */
}

static unsigned on_head(void *ctx, const struct http1_head *h)
{
	struct rec *r = ctx;
	struct head_copy c;

	copy_head(&c, h);
	if (r->checking) {
		check_head(r, &c);
		assert_int_equal(r->open, 0); /* the previous message was ended */
		r->open++;
	}
	add_event(r, h->truncated ? 'T' : 'H');
	if (r->nheads < MAX_HEADS)
		r->heads[r->nheads++] = c;
	if (r->opaque_in_head)
		http1_stream_set_opaque(&r->s);
	return r->flags;
}

static void on_end(void *ctx)
{
	struct rec *r = ctx;

	if (r->checking) {
		assert_null(r->reason);
		assert_int_equal(r->open, 1);
		r->open--;
	}
	add_event(r, 'E');
}

static void on_error(void *ctx, enum http1_error reason)
{
	struct rec *r = ctx;

	assert_true(reason < HTTP1_E_MAX);
	assert_null(r->reason); /* reported once */
	r->reason = http1_error_name(reason);
	add_event(r, 'X');
}

static const struct http1_callbacks rec_cb = {on_head, on_end, on_error};

static void rec_init(struct rec *r, enum http1_kind kind)
{
	memset(r, 0, sizeof(*r));
	http1_stream_init(&r->s, kind, &rec_cb, r);
}

static void feed_gap(struct rec *r, const char *str, uint64_t gap)
{
	size_t n = strlen(str);

	http1_stream_feed(&r->s, (const uint8_t *)str, n, n + gap);
	r->at += n;
}

static void feed(struct rec *r, const char *str)
{
	feed_gap(r, str, 0);
}

static void feed_bytewise(struct rec *r, const char *str, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		r->at = i;
		http1_stream_feed(&r->s, (const uint8_t *)str + i, 1, 1);
	}
}

static const char tp_valid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static const char post_then_get[] =
    "POST /submit?x=1 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "Content-Length: 11\r\n"
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "\r\n"
    "hello world"
    "GET /next HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "\r\n";

static const char chunked_then_404[] = "HTTP/1.1 200 OK\r\n"
				       "Transfer-Encoding: gzip, chunked\r\n"
				       "\r\n"
				       "5;name=val\r\n"
				       "hello\r\n"
				       "1A\r\n"
				       "abcdefghijklmnopqrstuvwxyz\r\n"
				       "0\r\n"
				       "X-Trailer: yes\r\n"
				       "\r\n"
				       "HTTP/1.1 404 Not Found\r\n"
				       "Content-Length: 3\r\n"
				       "\r\n"
				       "nop";

static void test_sizes_and_names(void **state)
{
	(void)state;
	assert_true(sizeof(struct http1_stream) < 700);
	assert_string_equal(http1_method_name(HTTP1_M_GET), "GET");
	assert_string_equal(http1_method_name(HTTP1_M_PATCH), "PATCH");
	assert_string_equal(http1_method_name(HTTP1_M_OPTIONS), "OPTIONS");
	assert_string_equal(http1_method_name(HTTP1_M_OTHER), "_OTHER");
	assert_string_equal(http1_method_name((enum http1_method)99), "_OTHER");
}

static void test_simple_get(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "GET /index.html?q=1 HTTP/1.1\r\nHOST:  Example.com:8080  \r\n"
		 "User-Agent: t\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_true(r.heads[0].is_request);
	assert_int_equal(r.heads[0].method, HTTP1_M_GET);
	assert_string_equal(r.heads[0].path, "/index.html?q=1");
	assert_false(r.heads[0].path_truncated);
	assert_int_equal(r.heads[0].version_minor, 1);
	assert_string_equal(r.heads[0].host, "Example.com:8080");
	assert_string_equal(r.heads[0].traceparent, "");
	assert_false(r.heads[0].has_content_length);
	assert_false(r.heads[0].conn_close);
	assert_false(r.heads[0].truncated);
	assert_false(http1_stream_busy(&r.s));
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_IDLE);
}

static void test_keepalive_sequence(void **state)
{
	struct rec q, p;

	(void)state;
	rec_init(&q, HTTP1_REQUESTS);
	rec_init(&p, HTTP1_RESPONSES);
	for (int i = 0; i < 3; i++) {
		feed(&q, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
		feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
		assert_true(http1_stream_busy(&p.s));
		feed(&p, "hello");
		assert_false(http1_stream_busy(&p.s));
	}
	assert_string_equal(q.events, "HEHEHE");
	assert_string_equal(p.events, "HEHEHE");
	assert_int_equal(p.heads[2].status, 200);
	assert_int_equal(p.heads[2].content_length, 5);
	assert_true(p.heads[2].has_content_length);
	assert_int_equal(http1_stream_close(&p.s), HTTP1_CLOSE_IDLE);
}

static void test_pipelined_requests(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "GET /1 HTTP/1.1\r\n\r\n"
		 "PUT /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
		 "\r\nDELETE /3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		 "HEAD /4 HTTP/1.0\r\n\r\n");
	assert_string_equal(r.events, "HEHEHEHE");
	assert_int_equal(r.heads[0].method, HTTP1_M_GET);
	assert_int_equal(r.heads[1].method, HTTP1_M_PUT);
	assert_int_equal(r.heads[1].content_length, 4);
	assert_int_equal(r.heads[2].method, HTTP1_M_DELETE);
	assert_string_equal(r.heads[2].path, "/3");
	assert_int_equal(r.heads[2].version_minor, 0);
	assert_false(r.heads[2].conn_close); /* 1.0 with keep-alive */
	assert_int_equal(r.heads[3].method, HTTP1_M_HEAD);
	assert_true(r.heads[3].conn_close); /* 1.0 without keep-alive */
}

/* Feeds msg whole, at every split point, and byte by byte: all must agree. */
static void check_all_splits(enum http1_kind kind, const char *msg, const char *events)
{
	size_t n = strlen(msg);
	struct rec ref, r;

	rec_init(&ref, kind);
	feed(&ref, msg);
	assert_string_equal(ref.events, events);

	for (size_t i = 0; i <= n; i++) {
		rec_init(&r, kind);
		http1_stream_feed(&r.s, (const uint8_t *)msg, i, i);
		http1_stream_feed(&r.s, (const uint8_t *)msg + i, n - i, n - i);
		assert_string_equal(r.events, events);
		assert_int_equal(r.nheads, ref.nheads);
		for (size_t k = 0; k < ref.nheads; k++)
			assert_heads_equal(&r.heads[k], &ref.heads[k]);
	}
	rec_init(&r, kind);
	feed_bytewise(&r, msg, n);
	assert_string_equal(r.events, events);
	assert_int_equal(r.nheads, ref.nheads);
	for (size_t k = 0; k < ref.nheads; k++)
		assert_heads_equal(&r.heads[k], &ref.heads[k]);
	assert_false(http1_stream_busy(&r.s));
}

static void test_split_request_with_body(void **state)
{
	struct rec r;
	const char *body;

	(void)state;
	check_all_splits(HTTP1_REQUESTS, post_then_get, "HEHE");

	/* Byte by byte, each event fires on the exact byte that completes it. */
	rec_init(&r, HTTP1_REQUESTS);
	feed_bytewise(&r, post_then_get, strlen(post_then_get));
	body = strstr(post_then_get, "hello world");
	assert_int_equal(r.pos[0], body - post_then_get - 1);
	assert_int_equal(r.pos[1], body - post_then_get + 10);
	assert_int_equal(r.pos[3], strlen(post_then_get) - 1);
	assert_int_equal(r.heads[0].method, HTTP1_M_POST);
	assert_string_equal(r.heads[0].path, "/submit?x=1");
	assert_string_equal(r.heads[0].traceparent, tp_valid);
	assert_string_equal(r.heads[1].path, "/next");
}

static void test_split_chunked_response(void **state)
{
	struct rec r;
	const char *second;

	(void)state;
	check_all_splits(HTTP1_RESPONSES, chunked_then_404, "HEHE");

	rec_init(&r, HTTP1_RESPONSES);
	feed_bytewise(&r, chunked_then_404, strlen(chunked_then_404));
	second = strstr(chunked_then_404, "HTTP/1.1 404");
	assert_int_equal(r.pos[1], second - chunked_then_404 - 1);
	assert_true(r.heads[0].chunked);
	assert_int_equal(r.heads[0].status, 200);
	assert_int_equal(r.heads[1].status, 404);
}

static void test_content_length(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n0123");
	assert_string_equal(r.events, "H");
	feed(&r, "45678");
	assert_string_equal(r.events, "H");
	feed(&r, "9HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HEHE");
	assert_int_equal(r.heads[0].content_length, 10);

	/* Repeated identical values are one value. */
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\ncontent-length:3\r\n\r\nabc");
	assert_string_equal(r.events, "HE");

	/* Conflicting, signed, empty or overflowing lengths are errors. */
	static const char *const bad[] = {
	    "Content-Length: 3\r\nContent-Length: 4\r\n",
	    "Content-Length: 3, 4\r\n",
	    "Content-Length: -1\r\n",
	    "Content-Length: 1 2\r\n",
	    "Content-Length:\r\n",
	    "Content-Length: 99999999999999999999\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rec_init(&r, HTTP1_REQUESTS);
		feed(&r, "POST / HTTP/1.1\r\n");
		feed(&r, bad[i]);
		feed(&r, "\r\n");
		assert_string_equal(r.events, "X");
		assert_true(strstr(r.reason, "content_length") != NULL);
	}
}

static void test_chunked_extensions_trailers(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n");
	assert_string_equal(r.events, "H");
	assert_true(r.heads[0].chunked);
	feed(&r, "000a; a=b ; c=\"d\"\r\n0123456789\r\n");
	feed(&r, "3\n");
	feed(&r, "abc\n");
	feed(&r, "0;last\r\nExpires: never\r\nX-Sum: 1\r\n");
	assert_string_equal(r.events, "H");
	assert_true(http1_stream_busy(&r.s));
	feed(&r, "\r\nGET /after HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "HEHE");
	assert_string_equal(r.heads[1].path, "/after");

	/* Bad chunk framing is an error. */
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX");
	assert_string_equal(r.events, "HX");
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	assert_string_equal(r.events, "HX");

	/* A request whose codings do not end in chunked cannot be framed. */
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
	assert_string_equal(r.events, "HX");
	/* A response like that is read until close. */
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz");
	assert_string_equal(r.events, "H");
	assert_false(r.heads[0].chunked);
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_COMPLETE);
	assert_string_equal(r.events, "HE");
}

static void test_expect_continue(void **state)
{
	struct rec q, p;

	(void)state;
	rec_init(&q, HTTP1_REQUESTS);
	rec_init(&p, HTTP1_RESPONSES);
	feed(&q, "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n");
	assert_string_equal(q.events, "H");
	assert_true(q.heads[0].expect_continue);
	feed(&p, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_string_equal(p.events, "");
	assert_false(http1_stream_busy(&p.s));
	feed(&q, "data");
	assert_string_equal(q.events, "HE");
	feed(&p, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
		 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_string_equal(p.events, "HE");
	assert_int_equal(p.heads[0].status, 200);
}

static void test_head_response_no_body(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	r.flags = HTTP1_F_NO_BODY;
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_int_equal(r.heads[0].content_length, 1000);
	r.flags = 0;
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	assert_string_equal(r.events, "HEHE");
}

static void test_204_304(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 204 No Content\r\n\r\n"
		 "HTTP/1.1 304 Not Modified\r\nContent-Length: 512\r\nETag: \"x\"\r\n\r\n"
		 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HEHEHE");
	assert_int_equal(r.heads[0].status, 204);
	assert_int_equal(r.heads[1].status, 304);
	assert_int_equal(r.heads[2].status, 200);
}

static void test_response_until_close(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nhello ");
	feed(&r, "HTTP/1.1 200 OK\r\n\r\n"); /* just body bytes */
	assert_string_equal(r.events, "H");
	assert_true(r.heads[0].conn_close);
	assert_int_equal(r.heads[0].version_minor, 0);
	assert_true(http1_stream_busy(&r.s));
	assert_false(http1_stream_framing_unknown(&r.s));
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_COMPLETE);
	assert_string_equal(r.events, "HE");
	assert_false(http1_stream_busy(&r.s));

	/* Response without a reason phrase, bare LF line ends. */
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 500\nConnection: close\n\nboom");
	assert_string_equal(r.events, "H");
	assert_int_equal(r.heads[0].status, 500);
	assert_true(r.heads[0].conn_close);
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_COMPLETE);
}

static void test_close_mid_message(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_INCOMPLETE);
	assert_string_equal(r.events, "H");
	assert_false(http1_stream_busy(&r.s));
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HHE");

	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "GET /x HTTP/1.1\r\nHost:");
	assert_true(http1_stream_busy(&r.s));
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_INCOMPLETE);
	assert_string_equal(r.events, "");

	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "\r\n");
	assert_false(http1_stream_busy(&r.s));
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_IDLE);
}

static void test_gap_in_body(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_RESPONSES);
	/* 1000-byte body: 10 bytes seen, 490 unseen, 0 seen + 400 unseen, then the tail. */
	feed_gap(&r, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789", 490);
	http1_stream_feed(&r.s, NULL, 0, 400);
	assert_string_equal(r.events, "H");
	feed(&r, "0123456789012345678901234567890123456789012345678901234567890123456789"
		 "012345678901234567890123456789");
	assert_string_equal(r.events, "HE");
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n");
	http1_stream_feed(&r.s, NULL, 0, 300); /* the body exactly */
	assert_string_equal(r.events, "HEHE");
	feed(&r, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_string_equal(r.events, "HEHEHE");

	/* A gap longer than the body hides the next head: wait for a start line. */
	rec_init(&r, HTTP1_RESPONSES);
	feed_gap(&r, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 150);
	assert_string_equal(r.events, "HE");
	assert_false(http1_stream_busy(&r.s));
	feed(&r, "tail of the hidden response");
	assert_string_equal(r.events, "HE");
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HEHE");

	/* A message that starts in a gap at a boundary is skipped, not an error. */
	rec_init(&r, HTTP1_REQUESTS);
	feed_gap(&r, "GET /1 HTTP/1.1\r\n\r\n", 300);
	assert_string_equal(r.events, "HE");
	assert_false(http1_stream_busy(&r.s));
	feed(&r, "rest of the unseen request\r\n\r\n");
	assert_string_equal(r.events, "HE");
	feed(&r, "GET /3 HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "HEHE");
	assert_string_equal(r.heads[1].path, "/3");

	/* Gaps inside chunk data are exact too. */
	rec_init(&r, HTTP1_RESPONSES);
	feed_gap(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nab", 254);
	feed(&r, "\r\n2\r\nxy\r\n0\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_false(http1_stream_framing_unknown(&r.s));

	/* A gap over a chunk-size line loses the framing. */
	rec_init(&r, HTTP1_RESPONSES);
	feed_gap(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n", 40);
	assert_string_equal(r.events, "H");
	assert_true(http1_stream_framing_unknown(&r.s));
	feed(&r, "0\r\n\r\n");
	assert_string_equal(r.events, "H");
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HEHE");
}

static void test_gap_in_head(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_REQUESTS);
	feed_gap(&r, "POST /api/items HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nUser-Ag", 300);
	assert_string_equal(r.events, "T");
	assert_true(r.heads[0].truncated);
	assert_string_equal(r.heads[0].path, "/api/items");
	assert_false(r.heads[0].path_truncated);
	assert_string_equal(r.heads[0].host, "shop");
	assert_true(http1_stream_framing_unknown(&r.s));
	assert_true(http1_stream_busy(&r.s));
	feed(&r, "more body bytes, GET / HTTP/1.1 not at the start");
	assert_string_equal(r.events, "T");
	/* A chunk beginning with a request line ends it and starts the next. */
	feed(&r, "GET /b HTTP/1.1\r\nHost: sh");
	assert_string_equal(r.events, "TE");
	feed_gap(&r, "op2\r\n", 100);
	assert_string_equal(r.events, "TET");
	assert_string_equal(r.heads[1].host, "shop2");
	/* The caller can end it too. */
	http1_stream_end_unknown(&r.s);
	assert_string_equal(r.events, "TETE");
	assert_false(http1_stream_framing_unknown(&r.s));
	http1_stream_end_unknown(&r.s); /* no-op now */
	assert_string_equal(r.events, "TETE");
	feed(&r, "GET /c HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "TETEHE");
	feed_gap(&r, "POST /d HTTP/1.1\r\n", 5000);
	feed(&r, "\r\nGET /e HTTP/1.1\r\n\r\n"); /* CRLF after a body, then a request */
	assert_string_equal(r.events, "TETEHETEHE");
	assert_string_equal(r.heads[4].path, "/e");

	/* A header cut by the gap is not reported. */
	rec_init(&r, HTTP1_REQUESTS);
	feed_gap(&r, "GET / HTTP/1.1\r\nHost: exam", 10);
	assert_string_equal(r.events, "T");
	assert_string_equal(r.heads[0].host, "");
	assert_int_equal(http1_stream_close(&r.s), HTTP1_CLOSE_COMPLETE);
	assert_string_equal(r.events, "TE");

	/* Gap inside the path: truncated path. */
	rec_init(&r, HTTP1_REQUESTS);
	feed_gap(&r, "GET /very/long/pa", 1000);
	assert_string_equal(r.events, "T");
	assert_string_equal(r.heads[0].path, "/very/long/pa");
	assert_true(r.heads[0].path_truncated);
	assert_int_equal(r.heads[0].method, HTTP1_M_GET);

	/* Gap before a target prefix, or in the status line: a lost message
	 * (pipelined past the capture prefix), no error; the next start line
	 * resyncs. */
	rec_init(&r, HTTP1_REQUESTS);
	feed_gap(&r, "GE", 1000);
	assert_string_equal(r.events, "");
	assert_true(http1_stream_out_of_sync(&r.s));
	feed(&r, "GET /f HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_false(http1_stream_out_of_sync(&r.s));
	rec_init(&r, HTTP1_RESPONSES);
	feed_gap(&r, "HTTP/1.1 20", 1000);
	assert_string_equal(r.events, "");
	assert_true(http1_stream_out_of_sync(&r.s));

	/* Responses resync on "HTTP/1."; a truncated 100 Continue is silent. */
	rec_init(&r, HTTP1_RESPONSES);
	feed_gap(&r, "HTTP/1.1 100 Continue\r\nX-A", 5);
	assert_string_equal(r.events, "");
	feed_gap(&r, "HTTP/1.1 200 OK\r\nServer: x\r\n", 2000);
	assert_string_equal(r.events, "T");
	assert_int_equal(r.heads[0].status, 200);
	feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "TEHE");
}

static void test_upgrade_and_tunnel(void **state)
{
	struct rec q, p;

	(void)state;
	rec_init(&q, HTTP1_REQUESTS);
	rec_init(&p, HTTP1_RESPONSES);
	feed(&q, "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
		 "Upgrade: websocket\r\n\r\n");
	assert_string_equal(q.events, "HE");
	assert_true(q.heads[0].upgrade);
	feed(&p, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
	assert_string_equal(p.events, "HE");
	assert_int_equal(p.heads[0].status, 101);
	http1_stream_set_opaque(&q.s);
	feed(&q, "\x81\x85garbage");
	feed(&p, "\x01\x02 not http");
	assert_string_equal(q.events, "HE");
	assert_string_equal(p.events, "HE");
	assert_false(http1_stream_busy(&p.s));

	/* CONNECT: the caller flags the 2xx response as a tunnel. */
	rec_init(&p, HTTP1_RESPONSES);
	p.flags = HTTP1_F_TUNNEL;
	feed(&p, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00");
	assert_string_equal(p.events, "HE");
	feed(&p, "HTTP/1.1 200 OK\r\n\r\n");
	assert_string_equal(p.events, "HE");

	/* on_head may make its own stream opaque. */
	rec_init(&p, HTTP1_RESPONSES);
	p.opaque_in_head = true;
	feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n\r\n");
	assert_string_equal(p.events, "H");
	assert_false(http1_stream_busy(&p.s));
}

static void test_garbage(void **state)
{
	static const char *const req_bad[] = {
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    "get / HTTP/1.1\r\n\r\n",
	    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	    "GET /\r\n\r\n",
	    "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
	    "GET / HTTP/1.1\r\n: novalue\r\n\r\n",
	    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\rX",
	    "GET  / HTTP/1.1\r\n\r\n",
	    "ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n\r\n",
	};
	static const char *const resp_bad[] = {
	    "HTTP/2 200\r\n\r\n",	"HTTP/1.1 99 Low\r\n\r\n",  "HTTP/1.1 600 High\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "-ERR redis\r\n",
	};
	struct rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(req_bad) / sizeof(req_bad[0]); i++) {
		rec_init(&r, HTTP1_REQUESTS);
		feed(&r, req_bad[i]);
		assert_string_equal(r.events, "X");
		assert_false(http1_stream_busy(&r.s));
		feed(&r, "GET / HTTP/1.1\r\n\r\n"); /* ignored after the error */
		assert_string_equal(r.events, "X");
	}
	for (size_t i = 0; i < sizeof(resp_bad) / sizeof(resp_bad[0]); i++) {
		rec_init(&r, HTTP1_RESPONSES);
		feed(&r, resp_bad[i]);
		assert_string_equal(r.events, "X");
	}
	/* A response on a request stream is garbage too. */
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "HTTP/1.1 200 OK\r\n\r\n");
	assert_string_equal(r.events, "X");
}

static void test_huge_head(void **state)
{
	struct rec r;
	char *big = malloc(70000);

	(void)state;
	assert_non_null(big);
	/* One 10 KB header line is fine and does not disturb the framing. */
	memset(big, 'a', 10000);
	big[10000] = '\0';
	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nX-Long: ");
	feed(&r, big);
	feed(&r, "\r\nHost: after-long\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No\r\n\r\n");
	assert_string_equal(r.events, "HEHE");
	assert_string_equal(r.heads[0].host, "after-long");

	/* A head larger than the limit is an error, in one chunk or many. */
	for (int i = 0; i < 2; i++) {
		rec_init(&r, HTTP1_REQUESTS);
		feed(&r, "GET / HTTP/1.1\r\n");
		for (int j = 0; j < 7; j++) {
			if (i) {
				feed(&r, "X-Pad: ");
				feed(&r, big);
				feed(&r, "\r\n");
			} else {
				for (int k = 0; k < 1000; k++)
					feed(&r, "X-Pad-Header-Name: 0123456789\r\n");
			}
		}
		assert_string_equal(r.events, "X");
		assert_string_equal(r.reason, "head_too_large");
	}
	/* A huge path is truncated to what fits. */
	memset(big, 'p', 60000);
	big[0] = '/';
	big[60000] = '\0';
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "GET ");
	feed(&r, big);
	feed(&r, " HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_int_equal(strlen(r.heads[0].path), HTTP1_PATH_MAX - 1);
	assert_true(r.heads[0].path_truncated);
	free(big);
}

/*
 * The states parsed a run at a time (method, target, version, header names,
 * kept values, list tokens) give the same heads wherever a chunk ends, and
 * the head limit holds to the byte when a run reaches it.
 */
static void test_runs_split_anywhere(void **state)
{
	static const char *const names[] = {"x-tenant-id"};
	static const char req[] =
	    "PATCH /a/b?c=d HTTP/1.1\r\nHOST: \t Example.COM:8080 \t\r\n"
	    "Traceparent:  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \r\n"
	    "tracestate: a=1 \r\nTracestate:  b=2\r\nX-Tenant-Id:   acme  corp \r\n"
	    "X-A-Header-Name-Longer-Than-Twenty: 1\r\n"
	    "Connection: Keep-Alive;q=1 ; x, CLOSE\r\nTransfer-Encoding: gzip, chunked\r\n"
	    "\r\n3\r\nabc\r\n0\r\n\r\n";
	static const char resp[] = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
				   "Content-Length: 2\r\n\r\nok";
	const struct {
		enum http1_kind kind;
		const char *msg;
	} cases[] = {{HTTP1_REQUESTS, req}, {HTTP1_RESPONSES, resp}};
	struct rec whole, r;
	size_t n, pad;
	char *big;

	(void)state;
	assert_int_equal(http1_capture_set(names, 1), 0);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		n = strlen(cases[c].msg);
		rec_init(&whole, cases[c].kind);
		feed(&whole, cases[c].msg);
		assert_string_equal(whole.events, "HE");
		for (size_t i = 1; i < n; i++) {
			rec_init(&r, cases[c].kind);
			http1_stream_feed(&r.s, (const uint8_t *)cases[c].msg, i, i);
			http1_stream_feed(&r.s, (const uint8_t *)cases[c].msg + i, n - i, n - i);
			assert_string_equal(r.events, "HE");
			assert_memory_equal(&r.heads[0], &whole.heads[0], sizeof(whole.heads[0]));
		}
	}
	assert_string_equal(whole.heads[0].host, "");
	assert_string_equal(whole.heads[0].captured[0], "");
	rec_init(&whole, HTTP1_REQUESTS);
	feed(&whole, req);
	assert_int_equal(whole.heads[0].method, HTTP1_M_PATCH);
	assert_string_equal(whole.heads[0].path, "/a/b?c=d");
	assert_string_equal(whole.heads[0].host, "Example.COM:8080");
	assert_string_equal(whole.heads[0].traceparent, tp_valid);
	assert_string_equal(whole.heads[0].tracestate, "a=1,b=2");
	assert_string_equal(whole.heads[0].captured[0], "acme  corp");
	assert_true(whole.heads[0].conn_close);
	assert_true(whole.heads[0].chunked);
	assert_int_equal(http1_capture_set(NULL, 0), 0);

	/* A head of exactly HTTP1_HEAD_LIMIT bytes passes; one more is too large. */
	big = malloc(HTTP1_HEAD_LIMIT + 1);
	assert_non_null(big);
	for (int extra = 0; extra < 2; extra++) {
		pad = HTTP1_HEAD_LIMIT - strlen("GET / HTTP/1.1\r\nHost: \r\n\r\n") + extra;
		memset(big, 'h', pad);
		big[pad] = '\0';
		rec_init(&r, HTTP1_REQUESTS);
		feed(&r, "GET / HTTP/1.1\r\nHost: ");
		feed(&r, big);
		feed(&r, "\r\n\r\n");
		assert_string_equal(r.events, extra ? "X" : "HE");
	}
	free(big);
}

/*
 * Targets, header names and list tokens are scanned 16 bytes at a time
 * where 16 can be read: a byte that ends the run (or does not) at any place
 * in the first three blocks of a long target, name or list gives what the
 * byte path gives
 * (fed a byte at a time, every run is one byte), and a stray error or an
 * early stop would differ from it.
 */
static void test_runs_wide_stops(void **state)
{
	/* a space, DEL, a colon, NUL, a tab, CR, obs-text, list separators, '/' and a letter */
	static const unsigned char odd[] = {' ',  0x7f, ':', 0,	  '\t', '\r',
					    0x80, 0xff, ',', ';', '/',	'q'};
	static const char *const around[3][2] = {
	    {"GET /", " HTTP/1.1\r\nHost: h\r\n\r\n"},	     /* a target */
	    {"GET /x HTTP/1.1\r\n", ": 1\r\n\r\n"},	     /* a header name */
	    {"GET /x HTTP/1.1\r\nConnection: ", "\r\n\r\n"}, /* list tokens */
	};
	char msg[128];
	struct rec whole, bytes;

	(void)state;
	for (size_t o = 0; o < sizeof(odd); o++) {
		for (size_t at = 0; at < 48; at++) {
			for (int w = 0; w < 3; w++) {
				size_t a = strlen(around[w][0]), b = strlen(around[w][1]),
				       n = a + 48 + b;

				memcpy(msg, around[w][0], a);
				memset(msg + a, "tn,"[w], 48);
				/* tokens: "close" just before the byte, "x" after it */
				if (w == 2 && at >= 5 && at < 47) {
					memcpy(msg + a + at - 5, "close", 5);
					msg[a + at + 1] = 'x';
				}
				msg[a + at] = (char)odd[o];
				memcpy(msg + a + 48, around[w][1], b);
				rec_init(&whole, HTTP1_REQUESTS);
				http1_stream_feed(&whole.s, (const uint8_t *)msg, n, n);
				rec_init(&bytes, HTTP1_REQUESTS);
				feed_bytewise(&bytes, msg, n);
				assert_string_equal(whole.events, bytes.events);
				assert_int_equal(whole.nheads, bytes.nheads);
				for (size_t k = 0; k < whole.nheads; k++)
					assert_heads_equal(&whole.heads[k], &bytes.heads[k]);
				if (odd[o] == 'q' || odd[o] == '/' || odd[o] >= 0x80 || w == 2)
					assert_string_equal(whole.events, "HE"); /* not a stop */
				/* "close" is a token of its own only where the byte ends it */
				if (w == 2 && at >= 5 && at < 47)
					assert_int_equal(whole.heads[0].conn_close,
							 strchr(", ;\t\r", odd[o]) && odd[o]);
			}
		}
	}
}

/*
 * Header lines whose name no extracted or captured header can have are
 * skipped whole; names that only share a length and a first letter with
 * one are not taken for it; case never matters; the filter follows
 * http1_capture_set(); and every split point gives the same heads.
 */
static void test_header_name_filter(void **state)
{
	static const char *const names[] = {"X-Tenant-Id", "a-twenty-byte-name-x"};
	static const char req[] = "GET / HTTP/1.1\r\nHose: h\r\nHOST: right\r\n"
				  "Connectiom: close\r\nx-tenant-iD: t1\r\n"
				  "A-Twenty-Byte-Name-Xy: no\r\nA-TWENTY-BYTE-NAME-X: yes\r\n"
				  "Content-Lengtx: 9\r\nCONTENT-length: 2\r\n\r\nab";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Lengtx: 9\r\n"
				   "cOnTeNt-LeNgTh: 3\r\nconnectioN: Close\r\n\r\nabc";
	struct rec whole, r;
	size_t n = strlen(req);

	(void)state;
	assert_int_equal(http1_capture_set(names, 2), 0);
	rec_init(&whole, HTTP1_REQUESTS);
	feed(&whole, req);
	assert_string_equal(whole.events, "HE");
	assert_string_equal(whole.heads[0].host, "right");
	assert_false(whole.heads[0].conn_close);
	assert_int_equal(whole.heads[0].content_length, 2);
	assert_string_equal(whole.heads[0].captured[0], "t1");
	assert_string_equal(whole.heads[0].captured[1], "yes");
	for (size_t i = 1; i < n; i++) {
		rec_init(&r, HTTP1_REQUESTS);
		http1_stream_feed(&r.s, (const uint8_t *)req, i, i);
		http1_stream_feed(&r.s, (const uint8_t *)req + i, n - i, n - i);
		assert_string_equal(r.events, "HE");
		assert_memory_equal(&r.heads[0], &whole.heads[0], sizeof(whole.heads[0]));
	}

	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, resp);
	assert_string_equal(r.events, "HE");
	assert_int_equal(r.heads[0].content_length, 3);
	assert_true(r.heads[0].conn_close);

	/* no longer captured: the same request keeps nothing */
	assert_int_equal(http1_capture_set(NULL, 0), 0);
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, req);
	assert_string_equal(r.events, "HE");
	assert_string_equal(r.heads[0].captured[0], "");
	assert_string_equal(r.heads[0].captured[1], "");
}

static void test_unknown_method(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "PROPFIND /dav HTTP/1.1\r\n\r\nM-SEARCH * HTTP/1.1\r\n\r\n"
		 "OPTIONS * HTTP/1.1\r\n\r\nPATCH /p HTTP/1.1\r\n\r\nGETS /x HTTP/1.1\r\n\r\n");
	assert_string_equal(r.events, "HEHEHEHEHE");
	assert_int_equal(r.heads[0].method, HTTP1_M_OTHER);
	assert_string_equal(http1_method_name(r.heads[0].method), "_OTHER");
	assert_int_equal(r.heads[1].method, HTTP1_M_OTHER);
	assert_string_equal(r.heads[1].path, "*");
	assert_int_equal(r.heads[2].method, HTTP1_M_OPTIONS);
	assert_int_equal(r.heads[3].method, HTTP1_M_PATCH);
	assert_int_equal(r.heads[4].method, HTTP1_M_OTHER);
}

static enum http1_detect detect(const char *s)
{
	return http1_detect((const uint8_t *)s, strlen(s));
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(detect(""), HTTP1_DETECT_MORE);
	assert_int_equal(http1_detect(NULL, 0), HTTP1_DETECT_MORE);
	assert_int_equal(detect("G"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("GET"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("GET "), HTTP1_DETECT_MORE);
	assert_int_equal(detect("GET /"), HTTP1_DETECT_REQUEST);
	assert_int_equal(detect("GET /index.html HTTP/1.1\r\n"), HTTP1_DETECT_REQUEST);
	assert_int_equal(detect("OPTIONS * HTTP/1.1\r\n"), HTTP1_DETECT_REQUEST);
	assert_int_equal(detect("CONNECT example.com:443 HTTP/1.1\r\n"), HTTP1_DETECT_REQUEST);
	assert_int_equal(detect("PROPFIND /x HTTP/1.1\r\n"), HTTP1_DETECT_REQUEST);
	assert_int_equal(detect("PROPFIND /x HT"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("PROPFIND /x"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("PROPFIND "), HTTP1_DETECT_MORE);
	assert_int_equal(detect("PROPFIND /x HTTP/1.1"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("PROPFIND /x\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("GET / HTTP/2.0\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("get / HTTP/1.1\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("GET\t/"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("HTTP/1.1 200 OK\r\n"), HTTP1_DETECT_RESPONSE);
	assert_int_equal(detect("HTTP/1.0 404"), HTTP1_DETECT_RESPONSE);
	assert_int_equal(detect("HTTP/1.1 2"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("HTTP/"), HTTP1_DETECT_MORE);
	assert_int_equal(detect("HTTP/1.1 999 X"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("HTTP/2 200\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("*3\r\n$3\r\nSET\r\n"), HTTP1_DETECT_NONE);
	assert_int_equal(detect("\x16\x03\x01"), HTTP1_DETECT_NONE);
	assert_int_equal(http1_detect((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8),
			 HTTP1_DETECT_NONE); /* Postgres SSLRequest */
}

static void head_with(const char *headers, struct head_copy *out)
{
	struct rec r;

	rec_init(&r, HTTP1_REQUESTS);
	feed(&r, "GET / HTTP/1.1\r\n");
	feed(&r, headers);
	feed(&r, "\r\n");
	assert_string_equal(r.events, "HE");
	*out = r.heads[0];
}

/* Configured request headers are captured, bounded: the first of a name
 * wins, values are trimmed and cut at 63 bytes, responses capture nothing,
 * and byte-by-byte feeding gives the same. */
static void test_captured_headers(void **state)
{
	static const char *const names[] = {"X-Tenant-ID", "x-channel", "baggage"};
	static const char req[] =
	    "GET / HTTP/1.1\r\nX-TENANT-id:  acme \r\nX-Channel: web\r\n"
	    "x-tenant-id: other\r\nbaggage: "
	    "k=0123456789012345678901234567890123456789012345678901234567890123456789"
	    "\r\n\r\n";
	const char *too_many[HTTP1_CAPTURE_MAX + 1] = {"a", "b", "c", "d", "e"};
	const char *too_long[] = {"x-a-header-name-too-long"};
	struct head_copy h;
	struct rec r;

	(void)state;
	assert_int_equal(http1_capture_set(too_many, HTTP1_CAPTURE_MAX + 1), -EINVAL);
	assert_int_equal(http1_capture_set(too_long, 1), -EINVAL);
	assert_int_equal(http1_capture_set(names, 3), 0);
	head_with("x-tenant-id:  acme \r\nX-Channel: web\r\nX-Tenant-Id: other\r\n", &h);
	assert_string_equal(h.captured[0], "acme");
	assert_string_equal(h.captured[1], "web");
	assert_string_equal(h.captured[2], "");
	head_with("X-Other: 1\r\n", &h);
	assert_string_equal(h.captured[0], "");

	rec_init(&r, HTTP1_REQUESTS);
	feed_bytewise(&r, req, strlen(req));
	assert_string_equal(r.events, "HE");
	assert_string_equal(r.heads[0].captured[0], "acme");
	assert_string_equal(r.heads[0].captured[1], "web");
	assert_int_equal(strlen(r.heads[0].captured[2]), HTTP1_CAPTURE_VALUE - 1);
	assert_memory_equal(r.heads[0].captured[2], "k=0123", 6);

	rec_init(&r, HTTP1_RESPONSES);
	feed(&r, "HTTP/1.1 200 OK\r\nX-Tenant-ID: acme\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_string_equal(r.heads[0].captured[0], "");

	/* only letters fold ('^' | 0x20 is '~'), also in a name compared a word at a time */
	{
		static const char *const odd[] = {"x~a", "a-long-name~1", "ab"};

		assert_int_equal(http1_capture_set(odd, 3), 0);
		head_with("X^A: no\r\nA-LONG-NAME^1: no\r\nAB: yes\r\n", &h);
		assert_string_equal(h.captured[0], "");
		assert_string_equal(h.captured[1], "");
		assert_string_equal(h.captured[2], "yes");
		head_with("X~A: 1\r\nA-Long-Name~1: 2\r\n", &h);
		assert_string_equal(h.captured[0], "1");
		assert_string_equal(h.captured[1], "2");
	}

	assert_int_equal(http1_capture_set(NULL, 0), 0);
	head_with("X-Tenant-ID: acme\r\n", &h);
	assert_string_equal(h.captured[0], "");
}

static void test_traceparent_tracestate(void **state)
{
	static const char *const invalid[] = {
	    "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01\r\n",
	    "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01\r\n",
	    "traceparent: ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
	    "traceparent: 0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-\r\n",
	    "traceparent: 00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
	    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 x\r\n",
	    "traceparent: \r\n",
	    ("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"),
	};
	struct head_copy h;

	(void)state;
	head_with("TraceParent:  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \r\n"
		  "tracestate: congo=t61rcWkgMzE\r\n"
		  "X-Other: 1\r\n"
		  "Tracestate: rojo=00f067aa0ba902b7\r\n",
		  &h);
	assert_string_equal(h.traceparent, tp_valid);
	assert_string_equal(h.tracestate, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		head_with(invalid[i], &h);
		assert_string_equal(h.traceparent, "");
	}

	/* A long tracestate is truncated; Host still fits after the longest path. */
	char ts[400 + 32], path[300 + 40];

	strcpy(ts, "tracestate: ");
	memset(ts + 12, 'v', 400);
	strcpy(ts + 412, "\r\nHost: h\r\n");
	head_with(ts, &h);
	assert_true(strlen(h.tracestate) > 0 && strlen(h.tracestate) < HTTP1_TRACESTATE_MAX);
	assert_string_equal(h.host, "h");

	struct rec r;

	rec_init(&r, HTTP1_REQUESTS);
	strcpy(path, "GET /");
	memset(path + 5, 'x', 300);
	strcpy(path + 305, " HTTP/1.1\r\n");
	feed(&r, path);
	feed(&r, "Host: ");
	memset(path, 'h', 200);
	path[200] = '\0';
	feed(&r, path);
	feed(&r, "\r\ntracestate: a=b\r\n\r\n");
	assert_string_equal(r.events, "HE");
	assert_int_equal(strlen(r.heads[0].host), HTTP1_HOST_MAX - 1);
	assert_int_equal(strlen(r.heads[0].path), HTTP1_PATH_MAX - 1);
	assert_string_equal(r.heads[0].tracestate, "a=b");
}

static void test_connection_headers(void **state)
{
	struct head_copy h;

	(void)state;
	head_with("Connection: keep-alive, Close\r\n", &h);
	assert_true(h.conn_close);
	head_with("Connection: upgrade\r\nUpgrade: h2c\r\n", &h);
	assert_false(h.conn_close);
	assert_true(h.upgrade);
	head_with("Connection: closed\r\nExpect: 100-continue-not\r\n", &h);
	assert_false(h.conn_close);
	assert_false(h.expect_continue);
	head_with("X-Very-Long-Header-Name-Content-Length: zzz\r\n"
		  "Content-Lengthy: zzz\r\n"
		  " folded continuation: x\r\n",
		  &h);
	assert_false(h.has_content_length);
}

/* xorshift64*: deterministic pseudo-random numbers for the robustness run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (rng_state * 0x2545f4914f6cdd1dull) % n : 0;
}

static const char *const corpus_req[] = {
    post_then_get,
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    "OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "PROPFIND /dav HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
    "CONNECT db:5432 HTTP/1.1\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"
    "00f067aa0ba902b7-01\r\ntracestate: a=b\r\n\r\n",
};

static const char *const corpus_resp[] = {
    chunked_then_404,
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x01x",
    "HTTP/1.0 200 OK\r\n\r\nuntil close",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz"
    "\r\n0\r\n\r\n",
};

#define FUZZ_BUF 4096

static size_t build_input(uint8_t *buf, enum http1_kind kind, bool *pristine)
{
	const char *const *corpus = kind == HTTP1_REQUESTS ? corpus_req : corpus_resp;
	size_t ncorpus = kind == HTTP1_REQUESTS ? sizeof(corpus_req) / sizeof(corpus_req[0])
						: sizeof(corpus_resp) / sizeof(corpus_resp[0]);
	size_t n = 0, mutations;

	if (rnd(10) == 0) { /* pure noise */
		n = rnd(FUZZ_BUF);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd(256);
		*pristine = false;
		return n;
	}
	for (uint64_t k = 1 + rnd(4); k; k--) {
		const char *m = corpus[rnd(ncorpus)];
		size_t len = strlen(m);

		if (n + len > FUZZ_BUF / 2)
			break;
		memcpy(buf + n, m, len);
		n += len;
	}
	mutations = rnd(3) ? rnd(6) : 0;
	*pristine = mutations == 0;
	for (size_t i = 0; i < mutations && n > 0; i++) {
		size_t at = rnd(n);
		static const char interesting[] = "\r\n :;,0123456789abcdefHTTP/1.";

		switch (rnd(4)) {
		case 0:
			buf[at] = (uint8_t)rnd(256);
			break;
		case 1:
			buf[at] = (uint8_t)interesting[rnd(sizeof(interesting) - 1)];
			break;
		case 2: /* delete a range */
		{
			size_t len = rnd(n - at) + 1;

			memmove(buf + at, buf + at + len, n - at - len);
			n -= len;
		} break;
		default: /* duplicate a range */
		{
			size_t len = rnd(n - at) + 1;

			if (n + len > FUZZ_BUF)
				break;
			memmove(buf + at + len, buf + at, n - at);
			n += len;
		} break;
		}
	}
	return n;
}

/*
 * Feeds buf at random split points. With gaps, some chunks have an unseen tail:
 * those bytes of buf are skipped, or the gap runs past the end of buf.
 */
static void feed_randomly(struct rec *r, const uint8_t *buf, size_t n, bool gaps)
{
	size_t i = 0;

	while (i < n) {
		size_t cap = 1 + rnd(rnd(2) ? 8 : 300);
		uint64_t gap = 0;

		if (cap > n - i)
			cap = n - i;
		if (gaps && rnd(4) == 0)
			gap = rnd(3) ? rnd(300) : rnd(100000);
		r->flags = rnd(8) == 0 ? (unsigned)rnd(4) : 0;
		http1_stream_feed(&r->s, buf + i, cap, cap + gap);
		i += cap;
		i += gap < n - i ? gap : n - i;
		if (gaps && rnd(16) == 0 && http1_stream_framing_unknown(&r->s)) {
			http1_stream_end_unknown(&r->s);
			assert_false(http1_stream_framing_unknown(&r->s));
		}
		if (rnd(64) == 0)
			http1_stream_feed(&r->s, NULL, 0, rnd(1000));
	}
}

static void test_random_robustness(void **state)
{
	static uint8_t buf[FUZZ_BUF];
	struct rec r, ref;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		enum http1_kind kind = rnd(2) ? HTTP1_REQUESTS : HTTP1_RESPONSES;
		bool pristine, gaps = rnd(2);
		size_t n = build_input(buf, kind, &pristine);
		enum http1_close_result cr;
		int open;

		rec_init(&r, kind);
		r.checking = true;
		feed_randomly(&r, buf, n, gaps);
		open = r.open;
		bool busy = http1_stream_busy(&r.s);

		cr = http1_stream_close(&r.s);
		if (cr == HTTP1_CLOSE_COMPLETE)
			assert_int_equal(r.open, 0);
		if (cr == HTTP1_CLOSE_INCOMPLETE)
			assert_true(busy);
		else if (cr == HTTP1_CLOSE_IDLE)
			assert_int_equal(r.open, open);
		assert_false(http1_stream_busy(&r.s));

		/* Without gaps and mutations, the split points and flags must not matter. */
		if (pristine && !gaps) {
			rec_init(&ref, kind);
			http1_stream_feed(&ref.s, buf, n, n);
			rec_init(&r, kind);
			for (size_t i = 0; i < n;) {
				size_t len = 1 + rnd(40);

				len = len > n - i ? n - i : len;
				http1_stream_feed(&r.s, buf + i, len, len);
				i += len;
			}
			assert_string_equal(r.events, ref.events);
			assert_null(ref.reason);
		}
	}
}

/* Each way to fail has its own reason, named as the metric label shows it. */
static void test_error_reasons(void **state)
{
	static const struct {
		enum http1_kind kind;
		const char *text;
		const char *reason;
	} cases[] = {
	    {HTTP1_REQUESTS, "\x01\x02\xff garbage\r\n\r\n", "bad_request_line"},
	    {HTTP1_REQUESTS, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", "bad_header"},
	    {HTTP1_RESPONSES, "HTTP/9.9 OK\r\n\r\n", "bad_status_line"},
	    {HTTP1_RESPONSES, "HTTP/1.1 999 What\r\n\r\n", "bad_status_code"},
	    {HTTP1_RESPONSES, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	     "bad_chunk_size"},
	};
	struct rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec_init(&r, cases[i].kind);
		feed(&r, cases[i].text);
		assert_non_null(r.reason);
		assert_string_equal(r.reason, cases[i].reason);
	}
	/* every reason has a distinct name; out of range is "unknown" */
	for (unsigned e = 0; e < HTTP1_E_MAX; e++) {
		assert_string_not_equal(http1_error_name(e), "unknown");
		for (unsigned f = 0; f < e; f++)
			assert_string_not_equal(http1_error_name(e), http1_error_name(f));
	}
	assert_string_equal(http1_error_name(HTTP1_E_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes_and_names),
	    cmocka_unit_test(test_simple_get),
	    cmocka_unit_test(test_keepalive_sequence),
	    cmocka_unit_test(test_pipelined_requests),
	    cmocka_unit_test(test_split_request_with_body),
	    cmocka_unit_test(test_split_chunked_response),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_chunked_extensions_trailers),
	    cmocka_unit_test(test_expect_continue),
	    cmocka_unit_test(test_head_response_no_body),
	    cmocka_unit_test(test_204_304),
	    cmocka_unit_test(test_response_until_close),
	    cmocka_unit_test(test_close_mid_message),
	    cmocka_unit_test(test_gap_in_body),
	    cmocka_unit_test(test_gap_in_head),
	    cmocka_unit_test(test_upgrade_and_tunnel),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_error_reasons),
	    cmocka_unit_test(test_huge_head),
	    cmocka_unit_test(test_runs_split_anywhere),
	    cmocka_unit_test(test_runs_wide_stops),
	    cmocka_unit_test(test_header_name_filter),
	    cmocka_unit_test(test_unknown_method),
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_traceparent_tracestate),
	    cmocka_unit_test(test_captured_headers),
	    cmocka_unit_test(test_connection_headers),
	    cmocka_unit_test(test_random_robustness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
