// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_httptrack.c - unit tests for HTTP/1.x exchange tracking
 * (user/proto/httptrack.c, the protocol http1_protocol) run through a
 * protocol set (user/proto/protocol.c) on synthetic chunks of a connection
 * held in a real conntab: role from the first request, keep-alive, pipelining,
 * the FIFO's bounds (per connection and for all) and its shrinking, typed
 * parse errors,
 * split and gapped chunks, unknown framing ended by the next request, by a
 * sweep or by the close, HEAD, 100-continue, CONNECT and 101, non-HTTP
 * connections, garbage mid-connection, and a randomized run. Every test
 * checks that each on_start is matched by exactly one on_done, in order, and
 * that what on_start wrote into the exchange (its trace context) reaches
 * on_done.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conntab.h"
#include "httptrack.h"
#include "protocol.h"
#include "route.h"

/* http1 is the only protocol of the set, so its connections carry this. */
#define CONN_PROTO_HTTP1 CONN_PROTO_FIRST

#define TGID  4321u
#define FD    7u
#define MAX_X 64
#define SEC   1000000000ull

#define IN  RT_DIR_INGRESS
#define OUT RT_DIR_EGRESS

/* A copy of an exchange as a callback saw it (error_type copied too). */
struct seen {
	struct http_exchange x;
	char err[32];
	bool has_err;
};

struct fx {
	struct conntab *tab;
	struct proto_set set;
	struct proto_sink sink;
	struct proto_env env;
	uint64_t errors[HTTP1_E_MAX]; /* parse errors by reason */
	uint64_t nerrors;
	bool many_conns; /* exchanges of several connections interleave */
	struct route_table *routes;
	struct rt_conn_id id;
	struct seen starts[MAX_X], dones[MAX_X];
	size_t nstart, ndone; /* recorded (capped at MAX_X) */
	size_t start_total, done_total;
	uint64_t starts_sig[4096]; /* start_ns of every on_start, to match on_done */
	uint32_t starts_tid[4096];
	bool starts_server[4096];
};

static void record(struct seen *s, const struct http_exchange *x)
{
	s->x = *x;
	s->has_err = x->error_type != NULL;
	snprintf(s->err, sizeof(s->err), "%s", x->error_type ? x->error_type : "");
	s->x.error_type = NULL;
}

/* The span id on_start writes into the exchange: its sequence number. */
static void stamp(struct trace_ctx *t, uint64_t k)
{
	memcpy(t->span_id, &k, sizeof(k));
	t->valid = true;
}

static void on_start(void *ctx, struct http_exchange *x)
{
	struct fx *f = ctx;

	assert_int_equal(x->end_ns, 0);
	assert_int_equal(x->status, 0);
	assert_null(x->error_type);
	assert_non_null(x->conn);
	assert_int_equal(x->tgid, x->conn->tgid);
	assert_false(x->trace.valid);
	if (f->start_total < 4096) {
		f->starts_sig[f->start_total] = x->start_ns;
		f->starts_tid[f->start_total] = x->tid;
		f->starts_server[f->start_total] = x->server;
	}
	stamp(&x->trace, f->start_total); /* on_start may fill the trace context */
	f->start_total++;
	if (f->nstart < MAX_X)
		record(&f->starts[f->nstart++], x);
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct fx *f = ctx;

	assert_non_null(x->conn);
	assert_int_equal(x->tgid, x->conn->tgid);
	assert_true(x->end_ns >= x->start_ns);
	if (x->status == 0) {
		assert_non_null(x->error_type);
		assert_string_equal(x->error_type, "connection_closed");
	}
	if (x->error_type && strcmp(x->error_type, "connection_closed") != 0) {
		/* a status code: 5xx for servers, 4xx or 5xx for clients */
		assert_int_equal(atoi(x->error_type), x->status);
		assert_true(x->status >= (x->server ? 500 : 400));
	}
	if (!x->error_type)
		assert_true(x->status < (x->server ? 500 : 400));
	if (!f->many_conns) {
		/* Exchanges end in the order they started (one connection at a
		 * time here), each exactly once, with what on_start wrote. */
		size_t k = f->done_total;
		struct trace_ctx want = {0};

		assert_true(k < f->start_total);
		stamp(&want, k);
		assert_memory_equal(x->trace.span_id, want.span_id, sizeof(want.span_id));
		assert_true(x->trace.valid);
		if (k < 4096) {
			assert_int_equal(x->start_ns, f->starts_sig[k]);
			assert_int_equal(x->tid, f->starts_tid[k]);
			assert_int_equal(x->server, f->starts_server[k]);
		}
	}
	f->done_total++;
	if (f->ndone < MAX_X)
		record(&f->dones[f->ndone++], x);
}

static void on_parse_error(void *ctx, const struct protocol *p, unsigned reason)
{
	struct fx *f = ctx;

	assert_ptr_equal(p, &http1_protocol);
	assert_true(reason < HTTP1_E_MAX);
	f->errors[reason]++;
	f->nerrors++;
}

static void on_close(void *ctx, struct conn *c, uint64_t ts)
{
	struct fx *f = ctx;

	proto_set_close(&f->set, c, ts);
	assert_null(c->proto_state);
}

/* (Re)makes the http1 instance with these routes. */
static void fx_protocols(struct fx *f, const struct route_table *routes)
{
	proto_set_release(&f->set);
	f->sink = (struct proto_sink){
	    .http_start = on_start,
	    .http_done = on_done,
	    .parse_error = on_parse_error,
	    .ctx = f,
	};
	f->env = (struct proto_env){.sink = &f->sink, .routes = routes};
	assert_int_equal(proto_set_add(&f->set, &http1_protocol, &f->env), 0);
}

static struct fx *fx_new(const struct route_table *routes)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_protocols(f, routes);
	f->tab = conntab_new(64, on_close, f);
	assert_non_null(f->tab);
	f->id = (struct rt_conn_id){.gen = 1, .tgid = TGID, .fd = FD};
	return f;
}

static int setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conntab_free(f->tab); /* closes the connection: pending exchanges end */
	assert_int_equal(f->start_total, f->done_total);
	proto_set_release(&f->set);
	route_table_free(f->routes);
	free(f);
	return 0;
}

static struct conn *conn(struct fx *f)
{
	struct conn *c = conntab_get(f->tab, &f->id, true);

	assert_non_null(c);
	return c;
}

/* Feeds one chunk: cap bytes of data captured, len bytes moved. */
static void feed_cap(struct fx *f, uint8_t dir, uint64_t ts, uint32_t tid, const void *data,
		     size_t cap, uint64_t len)
{
	uint8_t *copy = malloc(cap ? cap : 1); /* exact size: ASan sees any overread */
	struct proto_chunk ch = {
	    .data = copy, .cap_len = cap, .len = len, .ts = ts, .tid = tid, .dir = dir};
	struct conn *c;

	assert_non_null(copy);
	if (cap)
		memcpy(copy, data, cap);
	c = conntab_get(f->tab, &f->id, true);
	assert_non_null(c);
	c->last_ts = ts;
	proto_set_feed(&f->set, c, &ch);
	free(copy);
}

static void feed_tid(struct fx *f, uint8_t dir, uint64_t ts, uint32_t tid, const char *s)
{
	feed_cap(f, dir, ts, tid, s, strlen(s), strlen(s));
}

static void feed(struct fx *f, uint8_t dir, uint64_t ts, const char *s)
{
	feed_tid(f, dir, ts, TGID + 1, s);
}

/* Feeds s in pieces of the given sizes (cycled), ts += 1 per piece; returns the last ts. */
static uint64_t feed_split(struct fx *f, uint8_t dir, uint64_t ts, const char *s,
			   const size_t *sizes, size_t nsizes)
{
	size_t len = strlen(s), off = 0, i = 0;

	while (off < len) {
		size_t n = sizes[i++ % nsizes];

		if (n > len - off)
			n = len - off;
		feed_cap(f, dir, ts, TGID + 1, s + off, n, n);
		off += n;
		ts++;
	}
	return ts - 1;
}

static void close_conn(struct fx *f, uint64_t ts)
{
	conntab_close(f->tab, &f->id, ts);
}

static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/* ---- roles ---- */

static void test_server_role(void **state)
{
	struct fx *f = *state;
	struct conn *c = conn(f);
	const struct http_exchange *x;

	c->role_hint = RT_ROLE_CLIENT; /* the kernel's hint must not matter */
	feed_tid(f, IN, 1000, 11,
		 "GET /users/42?x=1 HTTP/1.1\r\nHost: a.example:8080\r\n"
		 "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
		 "tracestate: congo=t61rcWkgMzE\r\n\r\n");
	assert_int_equal(c->proto, CONN_PROTO_HTTP1);
	assert_non_null(c->proto_state);
	assert_int_equal(f->nstart, 1);
	assert_int_equal(f->ndone, 0);
	x = &f->starts[0].x;
	assert_true(x->server);
	assert_int_equal(x->tgid, TGID);
	assert_int_equal(x->tid, 11);
	assert_int_equal(x->start_ns, 1000);
	assert_int_equal(x->end_ns, 0);
	assert_int_equal(x->method, HTTP1_M_GET);
	assert_string_equal(x->path, "/users/42?x=1");
	assert_string_equal(x->route, "/users/{id}");
	assert_string_equal(x->host, "a.example:8080");
	assert_string_equal(x->traceparent, tp);
	assert_string_equal(x->tracestate, "congo=t61rcWkgMzE");
	assert_ptr_equal(x->conn, c);

	feed_tid(f, OUT, 1500, 12, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(f->ndone, 1);
	x = &f->dones[0].x;
	assert_true(x->server);
	assert_int_equal(x->tid, 11); /* the thread that read the request */
	assert_int_equal(x->start_ns, 1000);
	assert_int_equal(x->end_ns, 1500);
	assert_int_equal(x->status, 200);
	assert_false(f->dones[0].has_err);
	assert_string_equal(x->route, "/users/{id}");
	assert_string_equal(x->traceparent, tp);
	assert_int_equal(f->done_total, 1);
	assert_int_equal(f->nerrors, 0);
}

static void test_client_role(void **state)
{
	struct fx *f = *state;
	struct conn *c = conn(f);
	const struct http_exchange *x;

	c->role_hint = RT_ROLE_SERVER; /* wrong hint: the protocol decides */
	feed_tid(f, OUT, 100, 5,
		 "POST /api/v1/orders HTTP/1.1\r\nHost: shop\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(c->proto, CONN_PROTO_HTTP1);
	assert_int_equal(f->nstart, 1);
	assert_false(f->starts[0].x.server);
	assert_int_equal(f->starts[0].x.tid, 5);
	assert_int_equal(f->starts[0].x.start_ns, 100);
	feed_tid(f, IN, 300, 6, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	x = &f->dones[0].x;
	assert_false(x->server);
	assert_int_equal(x->tid, 5); /* the thread that wrote the request */
	assert_int_equal(x->method, HTTP1_M_POST);
	assert_string_equal(x->route, "/api/v1/orders");
	assert_string_equal(x->host, "shop");
	assert_int_equal(x->start_ns, 100);
	assert_int_equal(x->end_ns, 300);
	assert_int_equal(x->status, 201);
	assert_false(f->dones[0].has_err);
}

static void test_route_table_used(void **state)
{
	struct fx *f = *state;

	f->routes = route_table_new();
	assert_non_null(f->routes);
	assert_int_equal(route_table_add(f->routes, "/shop/{name}/items"), 0);
	fx_protocols(f, f->routes);

	feed(f, IN, 1, "GET /shop/bob/items?page=2 HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nstart, 1);
	assert_string_equal(f->starts[0].x.route, "/shop/{name}/items");
	assert_string_equal(f->starts[0].x.path, "/shop/bob/items?page=2");
}

/* ---- keep-alive and error rules ---- */

static void test_keepalive_server(void **state)
{
	struct fx *f = *state;
	static const int status[] = {200, 404, 503, 301};
	char buf[256];

	for (int i = 0; i < 4; i++) {
		uint64_t t = 1000 * (uint64_t)(i + 1);

		snprintf(buf, sizeof(buf), "GET /item/%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
		feed(f, IN, t, buf);
		assert_int_equal(f->nstart, (size_t)i + 1);
		assert_int_equal(f->ndone, (size_t)i);
		snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 4\r\n\r\nbody",
			 status[i]);
		feed(f, OUT, t + 10 + (uint64_t)i, buf);
		assert_int_equal(f->ndone, (size_t)i + 1);
		assert_int_equal(f->dones[i].x.status, status[i]);
		assert_int_equal(f->dones[i].x.start_ns, t);
		assert_int_equal(f->dones[i].x.end_ns, t + 10 + (uint64_t)i);
		snprintf(buf, sizeof(buf), "/item/%d", i);
		assert_string_equal(f->dones[i].x.path, buf);
	}
	/* Servers fail on 5xx only. */
	assert_false(f->dones[0].has_err);
	assert_false(f->dones[1].has_err);
	assert_true(f->dones[2].has_err);
	assert_string_equal(f->dones[2].err, "503");
	assert_false(f->dones[3].has_err);
	assert_int_equal(f->done_total, 4);
}

static void test_keepalive_client_errors(void **state)
{
	struct fx *f = *state;
	static const int status[] = {200, 404, 500, 302, 499};
	char buf[128];

	for (int i = 0; i < 5; i++) {
		uint64_t t = 100 * (uint64_t)(i + 1);

		feed(f, OUT, t, "DELETE /x HTTP/1.1\r\n\r\n");
		snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", status[i]);
		feed(f, IN, t + 50, buf);
		assert_int_equal(f->ndone, (size_t)i + 1);
		assert_false(f->dones[i].x.server);
		assert_int_equal(f->dones[i].x.method, HTTP1_M_DELETE);
	}
	/* Clients fail on 4xx too. */
	assert_false(f->dones[0].has_err);
	assert_string_equal(f->dones[1].err, "404");
	assert_string_equal(f->dones[2].err, "500");
	assert_false(f->dones[3].has_err);
	assert_string_equal(f->dones[4].err, "499");
	assert_int_equal(f->nstart, 5);
}

/* ---- pipelining ---- */

static void test_pipelined_one_chunk(void **state)
{
	struct fx *f = *state;

	feed_tid(f, IN, 10, 77,
		 "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
		 "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
		 "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(f->nstart, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->starts[i].x.start_ns, 10);
		assert_int_equal(f->starts[i].x.tid, 77);
	}
	assert_int_equal(f->ndone, 0);
	feed(f, OUT, 20,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
	     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	     "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxx\r\n0\r\n\r\n");
	assert_int_equal(f->ndone, 3);
	assert_string_equal(f->dones[0].x.path, "/a");
	assert_int_equal(f->dones[0].x.status, 200);
	assert_string_equal(f->dones[1].x.path, "/b");
	assert_int_equal(f->dones[1].x.method, HTTP1_M_POST);
	assert_int_equal(f->dones[1].x.status, 404);
	assert_false(f->dones[1].has_err);
	assert_string_equal(f->dones[2].x.path, "/c");
	assert_int_equal(f->dones[2].x.status, 500);
	assert_string_equal(f->dones[2].err, "500");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->dones[i].x.start_ns, 10);
		assert_int_equal(f->dones[i].x.end_ns, 20);
	}
}

static void test_pipelined_responses_across_chunks(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 10, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
	/* Response 1 whole and half of 2's head; then the rest of 2 and 3's head; then 3's body. */
	feed(f, IN, 30, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Cr");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.end_ns, 30);
	feed(f, IN, 31,
	     "eated\r\nContent-Length: 0\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: "
	     "5\r\n\r\nab");
	assert_int_equal(f->ndone, 2);
	assert_int_equal(f->dones[1].x.status, 201);
	assert_int_equal(f->dones[1].x.end_ns, 31);
	feed(f, IN, 32, "cde");
	assert_int_equal(f->ndone, 3);
	assert_int_equal(f->dones[2].x.status, 202);
	assert_string_equal(f->dones[2].x.path, "/3");
	assert_int_equal(f->dones[2].x.start_ns, 10);
	assert_int_equal(f->dones[2].x.end_ns, 32);
}

static void test_fifo_overflow(void **state)
{
	struct fx *f = *state;
	char buf[17 * 32] = "";

	/* 17 pipelined requests: one more than the FIFO keeps. */
	for (int i = 0; i < 17; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "GET /p%d HTTP/1.1\r\n\r\n",
			 i);
	feed(f, IN, 10, buf);
	assert_int_equal(f->nstart, 17);
	assert_int_equal(f->ndone, 1); /* the oldest was given up */
	assert_string_equal(f->dones[0].x.path, "/p0");
	assert_string_equal(f->dones[0].err, "connection_closed");
	assert_int_equal(f->nerrors, 1);
	assert_int_equal(f->errors[HTTP1_E_PIPELINE_OVERFLOW], 1);
	close_conn(f, 99);
	assert_int_equal(f->ndone, 17);
	assert_string_equal(f->dones[16].x.path, "/p16");
	assert_int_equal(f->dones[16].x.end_ns, 99);
}

/* A FIFO that grew for a burst gives its memory back once drained. */
static void test_fifo_shrinks_when_drained(void **state)
{
	struct fx *f = *state;
	const void *inst = f->set.inst[0];
	char buf[16 * 32] = "";

	for (int i = 0; i < 8; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "GET /b%d HTTP/1.1\r\n\r\n",
			 i);
	feed(f, IN, 10, buf);
	assert_int_equal(f->nstart, 8);
	assert_int_equal(http1_fifo_allocated(inst), 8);
	for (int i = 0; i < 7; i++)
		feed(f, OUT, 20 + (uint64_t)i, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(http1_fifo_allocated(inst), 8); /* one still pending */
	feed(f, OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 8);
	assert_int_equal(http1_fifo_allocated(inst), 0);
	assert_int_equal(f->nerrors, 0);
	/* and it grows again for the next burst, and is freed at close */
	feed(f, IN, 40, buf);
	assert_int_equal(http1_fifo_allocated(inst), 8);
	close_conn(f, 50);
	assert_int_equal(http1_fifo_allocated(inst), 0);
	assert_int_equal(f->ndone, 16);
}

/* All connections together allocate at most HTTP_FIFO_BUDGET entries;
 * beyond, pipelined requests are dropped oldest first and counted. */
static void test_fifo_budget(void **state)
{
	struct fx *f = *state;
	const void *inst = f->set.inst[0];
	const unsigned full = HTTP_FIFO_BUDGET / HTTP_FIFO_MAX;
	char buf[HTTP_FIFO_MAX * 32] = "";

	f->many_conns = true;
	conntab_free(f->tab);
	f->tab = conntab_new(full + 8, on_close, f);
	assert_non_null(f->tab);
	for (int i = 0; i < HTTP_FIFO_MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "GET /q%d HTTP/1.1\r\n\r\n",
			 i);
	for (unsigned k = 0; k < full; k++) {
		f->id.fd = 100 + k;
		feed(f, IN, 10, buf);
	}
	assert_int_equal(http1_fifo_allocated(inst), HTTP_FIFO_BUDGET);
	assert_int_equal(f->nerrors, 0);
	/* one more connection pipelining: only its inline entry is left */
	f->id.fd = 100 + full;
	feed(f, IN, 20, "GET /x1 HTTP/1.1\r\n\r\nGET /x2 HTTP/1.1\r\n\r\n");
	assert_int_equal(http1_fifo_allocated(inst), HTTP_FIFO_BUDGET);
	assert_int_equal(f->errors[HTTP1_E_PIPELINE_OVERFLOW], 1);
	assert_int_equal(f->done_total, 1); /* /x1, given up */
	conntab_free(f->tab);
	f->tab = conntab_new(64, on_close, f);
	assert_non_null(f->tab);
	assert_int_equal(http1_fifo_allocated(inst), 0);
	assert_int_equal(f->done_total, f->start_total);
}

/* ---- split and gapped chunks ---- */

static void test_response_split_many_chunks(void **state)
{
	struct fx *f = *state;
	static const size_t sizes[] = {1, 2, 3, 5, 8, 13};
	char resp[512];
	uint64_t last;

	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n%0100d",
		 7);
	feed(f, OUT, 5, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	/* All but the last byte: no exchange may end yet. */
	resp[strlen(resp) - 1] = '\0';
	last = feed_split(f, IN, 100, resp, sizes, 6);
	assert_int_equal(f->ndone, 0);
	feed(f, IN, last + 7, "7");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 200);
	assert_int_equal(f->dones[0].x.start_ns, 5);
	assert_int_equal(f->dones[0].x.end_ns, last + 7);
}

static void test_chunked_response_bytewise(void **state)
{
	struct fx *f = *state;
	static const size_t one = 1;
	static const char resp[] = "HTTP/1.1 207 Multi\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
	uint64_t last;

	feed(f, IN, 5, "GET /chunks HTTP/1.1\r\n\r\n");
	last = feed_split(f, OUT, 100, resp, &one, 1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 207);
	assert_int_equal(f->dones[0].x.end_ns, last);
	assert_int_equal(last, 100 + strlen(resp) - 1);
}

static void test_gap_in_response_body(void **state)
{
	struct fx *f = *state;
	char head[128], filler[256];
	size_t hl;
	uint64_t rest;

	memset(filler, 'x', sizeof(filler));
	hl = (size_t)snprintf(head, sizeof(head),
			      "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n");
	memcpy(filler, head, hl);
	feed(f, OUT, 1, "GET /download HTTP/1.1\r\n\r\n");
	/* 4096 bytes moved, 256 captured: the head and the start of the body. */
	feed_cap(f, IN, 10, 1, filler, 256, 4096);
	memset(filler, 'x', sizeof(filler));
	feed_cap(f, IN, 11, 1, filler, 100, 4096);
	rest = 10000 - (4096 - hl) - 4096;
	feed_cap(f, IN, 12, 1, filler, 50, rest - 1);
	assert_int_equal(f->ndone, 0);	      /* one body byte still to come */
	feed_cap(f, IN, 13, 1, filler, 0, 1); /* nothing captured, one byte moved */
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 200);
	assert_int_equal(f->dones[0].x.end_ns, 13);

	/* Still in sync: the next exchange parses normally. */
	feed(f, OUT, 20, "GET /next HTTP/1.1\r\n\r\n");
	feed(f, IN, 21, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[1].x.path, "/next");
	assert_int_equal(f->dones[1].x.status, 404);
	assert_int_equal(f->dones[1].x.start_ns, 20);
	assert_int_equal(f->dones[1].x.end_ns, 21);
	assert_int_equal(f->nerrors, 0);
}

static void test_gap_in_request_body(void **state)
{
	struct fx *f = *state;
	char req[256];
	size_t hl;

	/* A server reads a 1 MB upload of which 200 bytes were captured per read. */
	hl = (size_t)snprintf(req, sizeof(req),
			      "PUT /blob HTTP/1.1\r\nHost: s\r\nContent-Length: 1000000\r\n\r\n");
	memset(req + hl, 'u', sizeof(req) - hl);
	feed_cap(f, IN, 10, 3, req, 200, 500000);
	feed_cap(f, IN, 11, 4, req + hl, 200, 500000 + hl);
	assert_int_equal(f->nstart, 1);
	assert_int_equal(f->starts[0].x.method, HTTP1_M_PUT);
	feed(f, OUT, 12, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 204);
	/* The body was accounted exactly: the next request is recognised. */
	feed(f, IN, 20, "GET /after HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nstart, 2);
	assert_string_equal(f->starts[1].x.path, "/after");
	feed(f, OUT, 21, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_int_equal(f->dones[1].x.end_ns, 21);
}

/* ---- unknown framing ---- */

static const char trunc_head[] = "HTTP/1.1 200 OK\r\nContent-Le";

static void test_truncated_head_ends_at_next_request(void **state)
{
	struct fx *f = *state;
	char filler[64];

	memset(filler, 'z', sizeof(filler));
	feed(f, IN, 10, "GET /first HTTP/1.1\r\n\r\n");
	feed_cap(f, OUT, 20, 1, trunc_head, sizeof(trunc_head) - 1, 3000);
	feed_cap(f, OUT, 21, 1, filler, sizeof(filler), 3000);
	assert_int_equal(f->ndone, 0); /* framing unknown: not over yet */
	feed(f, IN, 40, "GET /second HTTP/1.1\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->dones[0].x.path, "/first");
	assert_int_equal(f->dones[0].x.status, 200);
	assert_false(f->dones[0].has_err);
	assert_int_equal(f->dones[0].x.start_ns, 10);
	assert_int_equal(f->dones[0].x.end_ns, 21); /* the last response chunk */
	feed(f, OUT, 50, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[1].x.path, "/second");
	assert_int_equal(f->dones[1].x.status, 204);
	assert_int_equal(f->dones[1].x.end_ns, 50);
}

/*
 * Pipelined requests, and the first response's head truncated: that response
 * ends when the second one starts (a resync on "HTTP/1."), and its end is the
 * ts of its own last chunk, not that of the chunk carrying the next response.
 */
static void test_truncated_head_pipelined(void **state)
{
	struct fx *f = *state;
	char filler[64];

	memset(filler, 'z', sizeof(filler));
	feed(f, OUT, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	feed_cap(f, IN, 20, 1, trunc_head, sizeof(trunc_head) - 1, 3000);
	feed_cap(f, IN, 21, 1, filler, sizeof(filler), 3000);
	assert_int_equal(f->ndone, 0);
	feed(f, IN, 30, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[0].x.path, "/a");
	assert_int_equal(f->dones[0].x.status, 200);
	assert_string_equal(f->dones[1].x.path, "/b");
	assert_int_equal(f->dones[1].x.status, 503);
	assert_int_equal(f->dones[1].x.end_ns, 30);
	assert_int_equal(f->dones[0].x.end_ns, 21);
}

static void test_sweep_ends_unknown_framing(void **state)
{
	struct fx *f = *state;
	struct conn *c;
	char filler[32];

	memset(filler, 'q', sizeof(filler));
	feed(f, IN, 1 * SEC, "GET /stream HTTP/1.1\r\n\r\n");
	c = conn(f);
	proto_set_sweep(&f->set, c, 5 * SEC); /* known framing so far: nothing to sweep */
	assert_int_equal(f->ndone, 0);
	feed_cap(f, OUT, 2 * SEC, 1, trunc_head, sizeof(trunc_head) - 1, 9000);
	feed_cap(f, OUT, 2 * SEC + SEC / 2, 1, filler, sizeof(filler), 9000);
	proto_set_sweep(&f->set, c, 2 * SEC + SEC / 2 + SEC - 1); /* quiet for just under 1 s */
	assert_int_equal(f->ndone, 0);
	proto_set_sweep(&f->set, c, 2 * SEC + SEC / 2 + SEC);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 200);
	assert_int_equal(f->dones[0].x.start_ns, 1 * SEC);
	assert_int_equal(f->dones[0].x.end_ns, 2 * SEC + SEC / 2);
	proto_set_sweep(&f->set, c, 100 * SEC); /* already ended */
	assert_int_equal(f->ndone, 1);

	/* The connection goes on. */
	feed(f, IN, 101 * SEC, "GET /again HTTP/1.1\r\n\r\n");
	feed(f, OUT, 102 * SEC, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_int_equal(f->dones[1].x.end_ns, 102 * SEC);
}

static void test_sweep_ignores_close_delimited(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 1 * SEC, "GET / HTTP/1.0\r\n\r\n");
	feed(f, IN, 2 * SEC, "HTTP/1.0 200 OK\r\n\r\nstreaming");
	proto_set_sweep(&f->set, conn(f), 50 * SEC);
	assert_int_equal(f->ndone, 0); /* its end is the close, not silence */
	close_conn(f, 60 * SEC);
	assert_int_equal(f->ndone, 1);
}

/* ---- close ---- */

static void test_close_with_pending_requests(void **state)
{
	struct fx *f = *state;

	feed(f, IN, 10, "GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nstart, 2);
	close_conn(f, 99);
	assert_int_equal(f->ndone, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->dones[i].x.status, 0);
		assert_string_equal(f->dones[i].err, "connection_closed");
		assert_int_equal(f->dones[i].x.start_ns, 10);
		assert_int_equal(f->dones[i].x.end_ns, 99);
	}
	assert_string_equal(f->dones[0].x.path, "/one");
	assert_string_equal(f->dones[1].x.path, "/two");
	assert_int_equal(conntab_count(f->tab), 0);
}

static void test_close_mid_response_body(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 10, "GET /cut HTTP/1.1\r\n\r\n");
	feed(f, IN, 20, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part");
	assert_int_equal(f->ndone, 0);
	close_conn(f, 30);
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->dones[0].err, "connection_closed");
	assert_int_equal(f->dones[0].x.end_ns, 30);
}

static void test_close_delimited_response(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 10, "GET /legacy HTTP/1.0\r\nHost: old\r\n\r\n");
	feed(f, IN, 20, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
	feed(f, IN, 25, "...</html>");
	assert_int_equal(f->ndone, 0);
	close_conn(f, 90);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 200);
	assert_false(f->dones[0].has_err);
	assert_int_equal(f->dones[0].x.start_ns, 10);
	assert_int_equal(f->dones[0].x.end_ns, 25); /* last response bytes */
}

static void test_fd_reuse_ends_old_exchanges(void **state)
{
	struct fx *f = *state;

	feed(f, IN, 10, "GET /old HTTP/1.1\r\n\r\n");
	f->id.gen++; /* the fd now holds another socket */
	feed(f, IN, 20, "GET /new HTTP/1.1\r\n\r\n");
	assert_int_equal(f->nstart, 2);
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->dones[0].x.path, "/old");
	assert_string_equal(f->dones[0].err, "connection_closed");
	assert_int_equal(f->dones[0].x.end_ns, 10); /* closed without a ts: never before start */
	feed(f, OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[1].x.path, "/new");
	assert_int_equal(f->dones[1].x.status, 200);
}

/* ---- special responses ---- */

static void test_head_response(void **state)
{
	struct fx *f = *state;

	feed(f, IN, 10, "HEAD /file.iso HTTP/1.1\r\n\r\n");
	feed(f, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 1234567\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.method, HTTP1_M_HEAD);
	assert_int_equal(f->dones[0].x.end_ns, 20);
	feed(f, IN, 30, "GET /next HTTP/1.1\r\n\r\n");
	feed(f, OUT, 40, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[1].x.path, "/next");
	assert_int_equal(f->dones[1].x.start_ns, 30);
	assert_int_equal(f->dones[1].x.end_ns, 40);
}

static void test_100_continue(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 10,
	     "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
	     "5\r\n\r\n");
	feed(f, IN, 20, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(f->ndone, 0); /* interim: the exchange goes on */
	feed(f, OUT, 30, "hello");
	feed(f, IN, 40, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 201);
	assert_int_equal(f->dones[0].x.start_ns, 10);
	assert_int_equal(f->dones[0].x.end_ns, 40);
	feed(f, OUT, 50, "GET /x HTTP/1.1\r\n\r\n");
	feed(f, IN, 60,
	     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_int_equal(f->dones[1].x.status, 200);
}

static void test_connect_tunnel(void **state)
{
	struct fx *f = *state;
	static const char tls[] = "\x16\x03\x01\x00\x05hello\x17\x03\x03\x00\x02zz";

	feed(f, OUT, 10, "CONNECT db.internal:443 HTTP/1.1\r\nHost: db.internal:443\r\n\r\n");
	feed(f, IN, 20, "HTTP/1.1 200 Connection Established\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.method, HTTP1_M_CONNECT);
	assert_string_equal(f->dones[0].x.route, ""); /* an authority is not a route */
	feed_cap(f, OUT, 30, 1, tls, sizeof(tls) - 1, sizeof(tls) - 1);
	feed_cap(f, IN, 31, 1, tls, sizeof(tls) - 1, sizeof(tls) - 1);
	feed(f, OUT, 32, "GET /inside-tunnel HTTP/1.1\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->nerrors, 0);
	close_conn(f, 40);
	assert_int_equal(f->ndone, 1); /* tunnelled bytes are not exchanges */
}

static void test_upgrade_101(void **state)
{
	struct fx *f = *state;
	static const char ws[] = "\x81\x05hello\x88\x00";

	feed(f, IN, 10,
	     "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	feed(f, OUT, 20, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.status, 101);
	assert_false(f->dones[0].has_err);
	feed_cap(f, IN, 30, 1, ws, sizeof(ws) - 1, sizeof(ws) - 1);
	feed_cap(f, OUT, 31, 1, ws, sizeof(ws) - 1, sizeof(ws) - 1);
	assert_int_equal(f->nstart, 1);
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->nerrors, 0);
}

/* ---- not HTTP, or not any more ---- */

static void test_non_http_becomes_opaque(void **state)
{
	struct fx *f = *state;
	static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	struct conn *c = conn(f);
	int chunks = 0;

	while (c->proto != CONN_PROTO_OPAQUE && chunks < 100) {
		feed_cap(f, chunks % 2 ? OUT : IN, (uint64_t)chunks, 1, tls_hello,
			 sizeof(tls_hello) - 1, 512);
		chunks++;
	}
	assert_int_equal(c->proto, CONN_PROTO_OPAQUE);
	assert_true(chunks <= 8); /* given up after a few chunks */
	assert_null(c->proto_state);
	/* Whatever comes next is ignored, even HTTP. */
	feed(f, IN, 200, "GET / HTTP/1.1\r\n\r\n");
	feed(f, OUT, 201, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->nstart, 0);
	assert_int_equal(f->ndone, 0);
	assert_int_equal(f->done_total, 0);
	assert_int_equal(f->nerrors, 0);
}

static void test_redis_and_postgres_are_not_http(void **state)
{
	struct fx *f = *state;
	static const char pg_ssl[] = {0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f};

	for (int i = 0; i < 10; i++) {
		feed(f, OUT, 10 * (uint64_t)i, "*1\r\n$4\r\nPING\r\n");
		feed(f, IN, 10 * (uint64_t)i + 1, "+PONG\r\n");
	}
	assert_int_equal(conn(f)->proto, CONN_PROTO_OPAQUE);
	f->id.gen++;
	for (int i = 0; i < 10; i++)
		feed_cap(f, OUT, 200 + (uint64_t)i, 1, pg_ssl, sizeof(pg_ssl), sizeof(pg_ssl));
	assert_int_equal(conn(f)->proto, CONN_PROTO_OPAQUE);
	assert_int_equal(f->ndone, 0);
	assert_int_equal(f->nerrors, 0);
}

static void test_joined_mid_exchange(void **state)
{
	struct fx *f = *state;
	struct conn *c = conn(f);

	/* The agent started during a response: wait for a request. */
	feed(f, IN, 10, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(c->proto, CONN_PROTO_UNKNOWN);
	assert_int_equal(f->ndone, 0);
	feed(f, OUT, 20, "GET /x HTTP/1.1\r\n\r\n");
	assert_int_equal(c->proto, CONN_PROTO_HTTP1);
	feed(f, IN, 30, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(f->ndone, 1);
	assert_false(f->dones[0].x.server);
	assert_int_equal(f->dones[0].x.end_ns, 30);
}

static void test_garbage_mid_connection(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "\x01\x02\xff garbage \r\n\r\n";

	feed(f, IN, 10, "GET /ok HTTP/1.1\r\n\r\n");
	feed(f, OUT, 11, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	feed_cap(f, IN, 20, 1, junk, sizeof(junk) - 1, sizeof(junk) - 1);
	assert_int_equal(f->nerrors, 1);
	assert_int_equal(f->errors[HTTP1_E_REQUEST_LINE], 1);
	/* nothing pending: the connection is handed back as opaque */
	assert_int_equal(conn(f)->proto, CONN_PROTO_OPAQUE);
	feed(f, IN, 30, "GET /later HTTP/1.1\r\n\r\n");
	feed(f, OUT, 31, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, f->nstart); /* nothing left half-open */
	close_conn(f, 40);
	assert_int_equal(f->done_total, f->start_total);
}

static void test_garbage_in_response_with_pending(void **state)
{
	struct fx *f = *state;

	feed(f, IN, 10, "GET /pending HTTP/1.1\r\n\r\n");
	feed(f, OUT, 20, "HTTP/9.9 OK\r\n\r\n");
	assert_int_equal(f->nerrors, 1);
	assert_int_equal(f->errors[HTTP1_E_STATUS_LINE], 1);
	/* a request is pending: still tracked until the close ends it */
	assert_int_equal(conn(f)->proto, CONN_PROTO_HTTP1);
	feed(f, OUT, 21, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); /* ignored */
	assert_int_equal(f->ndone, 0);
	close_conn(f, 50);
	assert_int_equal(f->ndone, 1);
	assert_string_equal(f->dones[0].err, "connection_closed");
	assert_int_equal(f->dones[0].x.end_ns, 50);
}

static void test_orphan_response(void **state)
{
	struct fx *f = *state;

	feed(f, OUT, 10, "GET /a HTTP/1.1\r\n\r\n");
	feed(f, IN, 20,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"); /* a second, unasked */
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->errors[HTTP1_E_UNPAIRED_RESPONSE], 1);
	feed(f, OUT, 30, "GET /b HTTP/1.1\r\n\r\n");
	feed(f, IN, 40, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 2);
	assert_string_equal(f->dones[1].x.path, "/b");
	assert_int_equal(f->dones[1].x.status, 202);
}

/*
 * start_ns is documented as "first request bytes": a request head that
 * arrives in two reads starts at the first one.
 */
static void test_request_head_split_starts_at_first_bytes(void **state)
{
	struct fx *f = *state;

	feed_tid(f, IN, 100, 9, "GET /slow HTTP/1.1\r\nHo");
	assert_int_equal(f->nstart, 0);
	feed_tid(f, IN, 150, 9, "st: x\r\n\r\n");
	assert_int_equal(f->nstart, 1);
	feed(f, OUT, 200, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->ndone, 1);
	assert_int_equal(f->dones[0].x.start_ns, 100);
	assert_int_equal(f->dones[0].x.end_ns, 200);
}

/* ---- randomized robustness ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const frag_req[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD /h HTTP/1.1\r\n\r\n",
    "POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
    "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "GET /old HTTP/1.0\r\n\r\n",
    "CONNECT h:1 HTTP/1.1\r\n\r\n",
    "GET /up HTTP/1.1\r\nUpgrade: x\r\n\r\n",
    "POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
};

static const char *const frag_resp[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 500 E\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 404 N\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 101 Switching\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\nuntil close",
    "HTTP/1.1 204 No\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
};

static void random_chunk(struct fx *f, uint64_t ts)
{
	char buf[512];
	size_t n = 0, cap;
	uint64_t len;
	uint8_t dir = (uint8_t)rnd(2);
	int pieces = 1 + (int)rnd(3);

	for (int i = 0; i < pieces; i++) {
		const char *s;
		size_t l;

		switch (rnd(8)) {
		case 0:
			l = 1 + rnd(40);
			if (l > sizeof(buf) - n)
				l = sizeof(buf) - n;
			for (size_t k = 0; k < l; k++)
				buf[n + k] = (char)rnd(256);
			n += l;
			continue;
		case 1:
		case 2:
		case 3:
			s = (dir == OUT) == (rnd(4) != 0) ? frag_req[rnd(8)] : frag_resp[rnd(8)];
			break;
		default:
			s = dir == IN ? frag_req[rnd(8)] : frag_resp[rnd(8)];
			break;
		}
		l = strlen(s);
		if (l > sizeof(buf) - n)
			break;
		memcpy(buf + n, s, l);
		n += l;
	}
	/* Cut the chunk somewhere, sometimes with a gap after the captured part. */
	cap = n ? rnd((uint32_t)n + 1) : 0;
	if (rnd(3))
		cap = n;
	len = cap + (rnd(5) == 0 ? rnd(5000) : 0);
	feed_cap(f, dir, ts, 1 + rnd(4), buf, cap, len);
}

static void test_randomized_on_start_matched(void **state)
{
	struct fx *f = *state;
	uint64_t ts = 1;

	for (int conn_no = 0; conn_no < 3000; conn_no++) {
		int nchunks = 1 + (int)rnd(12);

		/* Start the connection with a request most of the time. */
		if (rnd(4))
			feed(f, rnd(2) ? IN : OUT, ts++, frag_req[rnd(8)]);
		for (int i = 0; i < nchunks; i++) {
			random_chunk(f, ts);
			ts += 1 + rnd(3) * SEC / 2;
			if (rnd(10) == 0)
				proto_set_sweep(&f->set, conn(f), ts);
		}
		if (rnd(2)) {
			close_conn(f, rnd(3) ? ts : 0);
			assert_int_equal(conntab_count(f->tab), 0);
			assert_int_equal(f->start_total, f->done_total);
		}
		f->id.gen++; /* else the next record's fd reuse closes it */
	}
	conntab_free(f->tab);
	f->tab = conntab_new(64, on_close, f);
	assert_true(f->start_total > 100);
	assert_true(f->done_total > 100);
	assert_int_equal(f->start_total, f->done_total);
	assert_int_equal(f->done_total, f->done_total);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_server_role),
	    T(test_client_role),
	    T(test_route_table_used),
	    T(test_keepalive_server),
	    T(test_keepalive_client_errors),
	    T(test_pipelined_one_chunk),
	    T(test_pipelined_responses_across_chunks),
	    T(test_fifo_shrinks_when_drained),
	    T(test_fifo_budget),
	    T(test_fifo_overflow),
	    T(test_response_split_many_chunks),
	    T(test_chunked_response_bytewise),
	    T(test_gap_in_response_body),
	    T(test_gap_in_request_body),
	    T(test_truncated_head_ends_at_next_request),
	    T(test_truncated_head_pipelined),
	    T(test_sweep_ends_unknown_framing),
	    T(test_sweep_ignores_close_delimited),
	    T(test_close_with_pending_requests),
	    T(test_close_mid_response_body),
	    T(test_close_delimited_response),
	    T(test_fd_reuse_ends_old_exchanges),
	    T(test_head_response),
	    T(test_100_continue),
	    T(test_connect_tunnel),
	    T(test_upgrade_101),
	    T(test_non_http_becomes_opaque),
	    T(test_redis_and_postgres_are_not_http),
	    T(test_joined_mid_exchange),
	    T(test_garbage_mid_connection),
	    T(test_garbage_in_response_with_pending),
	    T(test_orphan_response),
	    T(test_request_head_split_starts_at_first_bytes),
	    T(test_randomized_on_start_matched),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
