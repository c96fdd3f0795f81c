// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tracer.c - unit tests for span building (user/signals/tracer.c): W3C
 * traceparent parsing; trace context at the start of server and client
 * exchanges and DB operations (new trace, remote parent with tracestate,
 * child of the serving thread, child of a local client across two
 * processes, no span for an instrumented client); span kinds, names,
 * statuses, attributes and unix times; tail sampling with an always_off
 * head sampler (errors, slow roots and critical routes keep the whole
 * trace, held children included, late spans follow the decision); the
 * memory bound under thousands of open traces, the 30 s sweep, the flush on
 * shutdown and the stats counters; the sampling.rule of kept roots, the
 * critical floor and header, adaptive rates for a route that starts
 * failing, the span budget, and request attributes from headers and
 * baggage entries on the request's spans; and a run of the daemon's pipeline on raw HTTP bytes.
 * Emitted spans are recorded by the emit callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "conntab.h"
#include "httptrack.h"
#include "pipeline.h"
#include "records.h"
#include "tracer.h"

#define SEC	1000000000ull
#define MS	1000000ull
#define KEEP	256 /* spans recorded in full */
#define SERVICE "svc"
#define EXE	"/usr/bin/app"

static const char TP[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
static const uint8_t TP_TRACE[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				     0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const uint8_t TP_PARENT[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
static const uint8_t ZERO[16];

struct fx {
	struct tracer *t;
	struct span *v; /* the first KEEP emitted spans */
	size_t n;	/* spans emitted */
	uint64_t *ids;	/* span id of every emitted span */
	size_t cap;
	uint64_t base;	    /* CLOCK_MONOTONIC at setup */
	void *scratch[2];   /* a test's buffers, freed by teardown even if it fails */
	struct rec_world w; /* test_from_http_bytes */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void on_emit(void *ctx, const struct span *s)
{
	struct fx *f = ctx;
	uint64_t id;

	if (f->n < KEEP)
		span_copy(&f->v[f->n], s);
	if (f->n == f->cap) {
		f->cap *= 2;
		f->ids = realloc(f->ids, f->cap * sizeof(*f->ids));
		assert_non_null(f->ids);
	}
	memcpy(&id, s->span_id, 8);
	f->ids[f->n++] = id;
}

static void fx_open(struct fx *f, const struct tracer_opts *o)
{
	tracer_free(f->t);
	f->t = tracer_new(o, on_emit, f);
	assert_non_null(f->t);
	f->n = 0;
}

/* A tracer whose head sampler is always_off (so only tail rules keep). */
static void fx_tail(struct fx *f, uint64_t slow_ns, char *const *routes, size_t nroutes)
{
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true},
	    .slow_ns = slow_ns,
	    .critical_routes = routes,
	    .ncritical = nroutes,
	};

	fx_open(f, &o);
}

static int setup(void **state)
{
	struct tracer_opts o = {.sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true}};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->v = calloc(KEEP, sizeof(*f->v));
	f->cap = 1 << 16;
	f->ids = malloc(f->cap * sizeof(*f->ids));
	assert_non_null(f->v);
	assert_non_null(f->ids);
	f->base = clock_ns(CLOCK_MONOTONIC);
	fx_open(f, &o);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rec_world_close(&f->w); /* reports to the tracer: free it first */
	tracer_free(f->t);
	free(f->v);
	free(f->ids);
	free(f->scratch[0]);
	free(f->scratch[1]);
	free(f);
	return 0;
}

/* --- building inputs --- */

static struct rt_endpoint ep(const char *ip4, uint16_t port)
{
	struct rt_endpoint e = {.port = port};

	e.addr[10] = 0xff;
	e.addr[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, ip4, e.addr + 12), 1);
	return e;
}

static struct conn conn_of(uint32_t tgid, const char *lip, uint16_t lport, const char *rip,
			   uint16_t rport)
{
	struct conn c = {.tgid = tgid};
	struct rt_endpoint l = ep(lip, lport), r = ep(rip, rport);

	conn_set_endpoints(&c, &l, &r, AF_INET);
	return c;
}

static void x_init(struct http_exchange *x, bool server, const struct conn *c, uint32_t tgid,
		   uint32_t tid, uint64_t start, enum http1_method m, const char *path,
		   const char *route)
{
	memset(x, 0, sizeof(*x));
	x->server = server;
	x->conn = c;
	x->tgid = tgid;
	x->tid = tid;
	x->start_ns = start;
	x->method = m;
	snprintf(x->path, sizeof(x->path), "%s", path);
	snprintf(x->route, sizeof(x->route), "%s", route ? route : "");
}

/* Ends x with status (0: no response) and error_type as httptrack sets
 * them, and reports it; returns tracer_http_done()'s answer. */
static bool x_done(struct fx *f, struct http_exchange *x, uint64_t end, int status,
		   const char *error_type)
{
	x->end_ns = end;
	x->status = status;
	x->error_type = error_type;
	return tracer_http_done(f->t, x, SERVICE, EXE);
}

static void db_init(struct db_op *op, uint32_t pid, uint32_t tid, uint64_t start, uint64_t end)
{
	memset(op, 0, sizeof(*op));
	op->pid = pid;
	op->tid = tid;
	op->start_ns = start;
	op->end_ns = end;
	op->system = "postgresql";
	snprintf(op->operation, sizeof(op->operation), "SELECT");
	snprintf(op->query_summary, sizeof(op->query_summary), "SELECT users");
}

static bool db(struct fx *f, uint32_t pid, uint32_t tid, uint64_t start, uint64_t end,
	       const char *error_type)
{
	struct db_op op;

	db_init(&op, pid, tid, start, end);
	if (error_type)
		snprintf(op.error_type, sizeof(op.error_type), "%s", error_type);
	return tracer_db_op(f->t, &op, SERVICE, EXE, NULL, NULL);
}

/* --- looking at outputs --- */

static const struct span *emitted(struct fx *f, const uint8_t span_id[8])
{
	for (size_t i = 0; i < f->n && i < KEEP; i++)
		if (memcmp(f->v[i].span_id, span_id, 8) == 0)
			return &f->v[i];
	fail_msg("span not emitted");
	return NULL;
}

static bool was_emitted(struct fx *f, const uint8_t span_id[8])
{
	uint64_t id;

	memcpy(&id, span_id, 8);
	for (size_t i = 0; i < f->n; i++)
		if (f->ids[i] == id)
			return true;
	return false;
}

static const struct span_attr *attr(const struct span *s, const char *key)
{
	for (size_t i = 0; i < s->nattrs; i++)
		if (strcmp(span_attr_key(&s->attrs[i]), key) == 0)
			return &s->attrs[i];
	return NULL;
}

static void attr_str(const struct span *s, const char *key, const char *val)
{
	const struct span_attr *a = attr(s, key);

	if (!a)
		fail_msg("no attribute %s", key);
	assert_false(a->is_int);
	assert_string_equal(span_attr_val(s, a), val);
}

static void attr_int(const struct span *s, const char *key, int64_t val)
{
	const struct span_attr *a = attr(s, key);

	if (!a)
		fail_msg("no attribute %s", key);
	assert_true(a->is_int);
	assert_int_equal(a->i, val);
}

static void no_attr(const struct span *s, const char *key)
{
	if (attr(s, key))
		fail_msg("unexpected attribute %s", key);
}

static void stats(struct fx *f, struct tracer_stats *st)
{
	tracer_stats(f->t, st);
	assert_int_equal(st->spans_emitted, f->n);
}

/* --- traceparent --- */

static bool parse(const char *tp, uint8_t trace[16], uint8_t span[8], bool *sampled)
{
	return tracer_parse_traceparent(tp, trace, span, sampled);
}

static bool parses(const char *tp)
{
	uint8_t trace[16], span[8];
	bool sampled;

	return parse(tp, trace, span, &sampled);
}

static void test_traceparent_valid(void **state)
{
	uint8_t trace[16], span[8];
	bool sampled = false;

	(void)state;
	assert_true(parse(TP, trace, span, &sampled));
	assert_memory_equal(trace, TP_TRACE, 16);
	assert_memory_equal(span, TP_PARENT, 8);
	assert_true(sampled);
	assert_true(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", trace, span,
			  &sampled));
	assert_false(sampled);
	/* only bit 0 is "sampled" */
	assert_true(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", trace, span,
			  &sampled));
	assert_false(sampled);
	assert_true(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", trace, span,
			  &sampled));
	assert_true(sampled);
	/* one non-zero byte is enough */
	assert_true(parses("00-00000000000000000000000000000001-0000000000000001-01"));
}

static void test_traceparent_invalid(void **state)
{
	(void)state;
	/* uppercase hex anywhere */
	assert_false(parses("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
	assert_false(parses("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	/* version ff */
	assert_false(parses("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	/* all-zero ids */
	assert_false(parses("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
	/* lengths */
	assert_false(parses(""));
	assert_false(parses("00"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01"));
	assert_false(parses("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	/* version 00 is exactly 55 characters */
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-010"));
	/* dashes */
	assert_false(parses("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"));
	assert_false(parses("004bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"));
	/* not hex */
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01"));
	assert_false(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"));
	assert_false(parses("00- bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	assert_false(parses("zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

static void test_traceparent_future_version(void **state)
{
	uint8_t trace[16], span[8];
	bool sampled = false;

	(void)state;
	assert_true(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", trace, span,
			  &sampled));
	assert_true(sampled);
	assert_true(parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever",
			  trace, span, &sampled));
	assert_memory_equal(trace, TP_TRACE, 16);
	assert_memory_equal(span, TP_PARENT, 8);
	assert_true(sampled);
	assert_true(parses("fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-"));
	/* a future version still needs its first four fields right */
	assert_false(parses("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
	assert_false(parses("01-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01-x"));
	assert_false(parses("01-00000000000000000000000000000000-00f067aa0ba902b7-01-x"));
}

/* W3C: for a higher version, the flags are followed by the end of the
 * value or a dash; anything else is invalid. */
static void test_traceparent_future_version_needs_dash(void **state)
{
	(void)state;
	assert_false(parses("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
	assert_false(parses("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0100"));
}

/* --- trace context and parenting --- */

static void test_server_new_trace_root(void **state)
{
	struct fx *f = *state;
	struct conn c = conn_of(100, "10.0.0.2", 80, "10.0.0.9", 5555);
	struct http_exchange x, y;
	const struct span *s;

	x_init(&x, true, &c, 100, 101, f->base, HTTP1_M_GET, "/users/42", "/users/{id}");
	tracer_http_start(f->t, &x);
	assert_true(x.trace.valid);
	assert_true(x.trace.sampled);
	assert_false(x.trace.remote_parent);
	assert_memory_not_equal(x.trace.trace_id, ZERO, 16);
	assert_memory_not_equal(x.trace.span_id, ZERO, 8);
	assert_memory_equal(x.trace.parent_id, ZERO, 8);

	/* every trace gets its own ids */
	x_init(&y, true, &c, 100, 102, f->base, HTTP1_M_GET, "/", "/");
	tracer_http_start(f->t, &y);
	assert_memory_not_equal(x.trace.trace_id, y.trace.trace_id, 16);
	assert_memory_not_equal(x.trace.span_id, y.trace.span_id, 8);

	assert_true(x_done(f, &x, f->base + 2 * MS, 200, NULL));
	assert_int_equal(f->n, 1); /* a root is decided (and emitted) when it ends */
	s = emitted(f, x.trace.span_id);
	assert_memory_equal(s->trace_id, x.trace.trace_id, 16);
	assert_memory_equal(s->parent_span_id, ZERO, 8);
	assert_int_equal(s->kind, SPAN_KIND_SERVER);
	assert_int_equal(s->status, SPAN_STATUS_UNSET);
	assert_int_equal(s->sampled, 1);
	assert_int_equal(s->pid, 100);
	assert_string_equal(span_get(s, SPAN_NAME), "GET /users/{id}");
	assert_string_equal(span_get(s, SPAN_SERVICE_NAME), SERVICE);
	assert_string_equal(span_get(s, SPAN_EXE_NAME), EXE);
	assert_string_equal(span_get(s, SPAN_TRACESTATE), "");
}

static void test_server_continues_traceparent(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	const struct span *s;

	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_POST, "/orders", "/orders");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", TP);
	snprintf(x.tracestate, sizeof(x.tracestate), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	tracer_http_start(f->t, &x);
	assert_true(x.trace.valid);
	assert_true(x.trace.remote_parent);
	assert_true(x.trace.sampled);
	assert_memory_equal(x.trace.trace_id, TP_TRACE, 16);
	assert_memory_equal(x.trace.parent_id, TP_PARENT, 8);
	assert_memory_not_equal(x.trace.span_id, TP_PARENT, 8);

	/* a remote parent makes it this node's local root: decided at its end */
	assert_true(x_done(f, &x, f->base + MS, 201, NULL));
	assert_int_equal(f->n, 1);
	s = emitted(f, x.trace.span_id);
	assert_memory_equal(s->trace_id, TP_TRACE, 16);
	assert_memory_equal(s->parent_span_id, TP_PARENT, 8);
	assert_string_equal(span_get(s, SPAN_TRACESTATE),
			    "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
	assert_string_equal(span_get(s, SPAN_NAME), "POST /orders");
}

/* A tracestate without a valid traceparent belongs to no trace: a new root drops it. */
static void test_tracestate_needs_traceparent(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	const struct span *s;

	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", "00-garbage");
	snprintf(x.tracestate, sizeof(x.tracestate), "%s", "vendor=forged");
	tracer_http_start(f->t, &x);
	assert_false(x.trace.remote_parent);
	assert_true(x_done(f, &x, f->base + MS, 200, NULL));
	s = emitted(f, x.trace.span_id);
	assert_non_null(s);
	assert_string_equal(span_get(s, SPAN_TRACESTATE), "");
}

/* parentbased: an unsampled caller is followed unless the trace fails. */
static void test_server_unsampled_parent(void **state)
{
	static const char tp00[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
	static const char tp00b[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
	struct fx *f = *state;
	struct http_exchange x;
	struct tracer_stats st;

	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", tp00);
	tracer_http_start(f->t, &x);
	assert_true(x.trace.valid);
	assert_false(x.trace.sampled);
	assert_false(x_done(f, &x, f->base + MS, 200, NULL));
	assert_int_equal(f->n, 0);

	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", tp00b);
	tracer_http_start(f->t, &x);
	assert_false(x.trace.sampled);
	assert_true(x_done(f, &x, f->base + MS, 503, "503"));
	assert_int_equal(f->n, 1);
	assert_int_equal(emitted(f, x.trace.span_id)->sampled, 0);
	stats(f, &st);
	assert_int_equal(st.traces_kept, 1);
	assert_int_equal(st.traces_dropped, 1);

	/* the other way round: a sampled caller wins over always_off */
	fx_tail(f, 0, NULL, 0);
	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", TP);
	tracer_http_start(f->t, &x);
	assert_true(x.trace.sampled);
	assert_true(x_done(f, &x, f->base + MS, 200, NULL));
	assert_int_equal(f->n, 1);
}

static void test_client_child_of_server(void **state)
{
	struct fx *f = *state;
	struct conn in = conn_of(100, "10.0.0.2", 80, "10.0.0.9", 5555);
	struct conn out = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	struct http_exchange srv, cli, other;
	const struct span *s;

	x_init(&srv, true, &in, 100, 101, f->base, HTTP1_M_GET, "/users/42", "/users/{id}");
	snprintf(srv.tracestate, sizeof(srv.tracestate), "k=v");
	snprintf(srv.traceparent, sizeof(srv.traceparent), "%s", TP);
	tracer_http_start(f->t, &srv);

	x_init(&cli, false, &out, 100, 101, f->base + 1 * MS, HTTP1_M_GET, "/profile", NULL);
	tracer_http_start(f->t, &cli);
	assert_true(cli.trace.valid);
	assert_false(cli.trace.remote_parent);
	assert_true(cli.trace.sampled);
	assert_memory_equal(cli.trace.trace_id, TP_TRACE, 16);
	assert_memory_equal(cli.trace.parent_id, srv.trace.span_id, 8);

	/* another thread of the same process is not serving this request */
	x_init(&other, false, &out, 100, 102, f->base + 1 * MS, HTTP1_M_GET, "/x", NULL);
	tracer_http_start(f->t, &other);
	assert_memory_not_equal(other.trace.trace_id, TP_TRACE, 16);
	assert_memory_equal(other.trace.parent_id, ZERO, 8);

	/* held until the local root ends, though head-sampled */
	assert_true(x_done(f, &cli, f->base + 3 * MS, 200, NULL));
	assert_int_equal(f->n, 0);
	assert_true(x_done(f, &srv, f->base + 4 * MS, 200, NULL));
	assert_int_equal(f->n, 2);
	s = emitted(f, cli.trace.span_id);
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	assert_memory_equal(s->trace_id, TP_TRACE, 16);
	assert_memory_equal(s->parent_span_id, srv.trace.span_id, 8);
	emitted(f, srv.trace.span_id);

	/* once the server exchange ended, the thread serves nothing */
	x_init(&cli, false, &out, 100, 101, f->base + 5 * MS, HTTP1_M_GET, "/later", NULL);
	tracer_http_start(f->t, &cli);
	assert_memory_not_equal(cli.trace.trace_id, TP_TRACE, 16);
	assert_memory_equal(cli.trace.parent_id, ZERO, 8);
	assert_true(x_done(f, &cli, f->base + 6 * MS, 200, NULL));
	assert_int_equal(f->n, 3); /* a root of its own: emitted at once */
	x_done(f, &other, f->base + 6 * MS, 200, NULL);
}

static void test_db_child_of_server(void **state)
{
	struct fx *f = *state;
	struct conn in = conn_of(100, "10.0.0.2", 80, "10.0.0.9", 5555);
	struct http_exchange srv;
	struct db_op op;
	uint8_t trace[16], span[8];
	const struct span *s;

	x_init(&srv, true, &in, 100, 101, f->base, HTTP1_M_GET, "/users/42", "/users/{id}");
	tracer_http_start(f->t, &srv);
	db_init(&op, 100, 101, f->base + 1 * MS, f->base + 2 * MS);
	snprintf(op.namespace_, sizeof(op.namespace_), "shop");
	snprintf(op.server_address, sizeof(op.server_address), "db.local");
	op.server_port = 5432;
	snprintf(op.status_code, sizeof(op.status_code), "00000");
	memset(trace, 0, sizeof(trace));
	memset(span, 0, sizeof(span));
	assert_true(tracer_db_op(f->t, &op, SERVICE, EXE, trace, span));
	assert_memory_equal(trace, srv.trace.trace_id, 16);
	assert_memory_not_equal(span, ZERO, 8);
	assert_memory_not_equal(span, srv.trace.span_id, 8);
	assert_int_equal(f->n, 0);
	x_done(f, &srv, f->base + 3 * MS, 200, NULL);
	assert_int_equal(f->n, 2);

	s = emitted(f, span);
	assert_memory_equal(s->trace_id, srv.trace.trace_id, 16);
	assert_memory_equal(s->parent_span_id, srv.trace.span_id, 8);
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	assert_int_equal(s->status, SPAN_STATUS_UNSET);
	assert_int_equal(s->pid, 100);
	assert_string_equal(span_get(s, SPAN_NAME), "SELECT users");
	attr_str(s, "db.system.name", "postgresql");
	attr_str(s, "db.namespace", "shop");
	attr_str(s, "db.operation.name", "SELECT");
	attr_str(s, "db.query.summary", "SELECT users");
	attr_str(s, "server.address", "db.local");
	attr_int(s, "server.port", 5432);
	attr_str(s, "db.response.status_code", "00000");
	no_attr(s, "error.type");
	no_attr(s, "db.query.text");
	assert_int_equal(s->end_unix_ns - s->start_unix_ns, 1 * MS);
}

static void test_db_without_server(void **state)
{
	struct fx *f = *state;
	struct db_op op;
	uint8_t trace[16], span[8];
	const struct span *s;

	/* no request served by that thread: a root of its own */
	db_init(&op, 200, 201, f->base, f->base + MS);
	op.system = "redis";
	snprintf(op.operation, sizeof(op.operation), "GET");
	op.query_summary[0] = '\0';
	snprintf(op.error_type, sizeof(op.error_type), "WRONGTYPE");
	snprintf(op.status_code, sizeof(op.status_code), "WRONGTYPE");
	snprintf(op.query_text, sizeof(op.query_text), "GET ?");
	assert_true(tracer_db_op(f->t, &op, SERVICE, NULL, trace, span));
	assert_int_equal(f->n, 1);
	s = emitted(f, span);
	assert_memory_equal(s->trace_id, trace, 16);
	assert_memory_equal(s->parent_span_id, ZERO, 8);
	assert_string_equal(span_get(s, SPAN_NAME), "GET"); /* no summary: the operation */
	assert_int_equal(s->status, SPAN_STATUS_ERROR);
	attr_str(s, "error.type", "WRONGTYPE");
	attr_str(s, "db.system.name", "redis");
	attr_str(s, "db.query.text", "GET ?");
	no_attr(s, "db.query.summary");
	no_attr(s, "db.namespace");
	no_attr(s, "server.port");
	assert_string_equal(span_get(s, SPAN_EXE_NAME), "");

	/* neither summary nor operation: the system */
	db_init(&op, 200, 201, f->base, f->base + MS);
	op.operation[0] = '\0';
	op.query_summary[0] = '\0';
	assert_true(tracer_db_op(f->t, &op, SERVICE, EXE, NULL, span));
	assert_string_equal(span_get(emitted(f, span), SPAN_NAME), "postgresql");
}

/* A -> B on this node: A serves a request, calls B over HTTP; B serves it
 * and queries a database. One trace, four levels. */
static void test_local_link(void **state)
{
	struct fx *f = *state;
	struct conn a_in = conn_of(100, "10.0.0.1", 8000, "10.0.0.9", 5555);
	struct conn a_out = conn_of(100, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn b_in = conn_of(200, "10.0.0.2", 80, "10.0.0.1", 1111);
	struct http_exchange a_srv, a_cli, b_srv;
	uint8_t db_span[8];
	struct db_op op;
	const struct span *s;

	x_init(&a_srv, true, &a_in, 100, 101, f->base, HTTP1_M_GET, "/front", "/front");
	tracer_http_start(f->t, &a_srv);
	x_init(&a_cli, false, &a_out, 100, 101, f->base + 1 * MS, HTTP1_M_GET, "/back", NULL);
	tracer_http_start(f->t, &a_cli);
	x_init(&b_srv, true, &b_in, 200, 201, f->base + 2 * MS, HTTP1_M_GET, "/back", "/back");
	tracer_http_start(f->t, &b_srv);
	assert_memory_equal(b_srv.trace.trace_id, a_srv.trace.trace_id, 16);
	assert_memory_equal(b_srv.trace.parent_id, a_cli.trace.span_id, 8);
	assert_true(b_srv.trace.sampled);

	db_init(&op, 200, 201, f->base + 3 * MS, f->base + 4 * MS);
	assert_true(tracer_db_op(f->t, &op, SERVICE, EXE, NULL, db_span));
	x_done(f, &b_srv, f->base + 5 * MS, 200, NULL);
	x_done(f, &a_cli, f->base + 6 * MS, 200, NULL);
	assert_int_equal(f->n, 0); /* all held for A's root */
	x_done(f, &a_srv, f->base + 7 * MS, 200, NULL);
	assert_int_equal(f->n, 4);

	s = emitted(f, b_srv.trace.span_id);
	assert_memory_equal(s->trace_id, a_srv.trace.trace_id, 16);
	assert_memory_equal(s->parent_span_id, a_cli.trace.span_id, 8);
	assert_int_equal(s->kind, SPAN_KIND_SERVER);
	assert_int_equal(s->pid, 200);
	s = emitted(f, db_span);
	assert_memory_equal(s->trace_id, a_srv.trace.trace_id, 16);
	assert_memory_equal(s->parent_span_id, b_srv.trace.span_id, 8);
	s = emitted(f, a_cli.trace.span_id);
	assert_memory_equal(s->parent_span_id, a_srv.trace.span_id, 8);
	assert_memory_equal(emitted(f, a_srv.trace.span_id)->parent_span_id, ZERO, 8);
}

/* A client with no parent of its own is the root; the peer's server span
 * ends first and is held for it. */
static void test_local_link_client_root(void **state)
{
	struct fx *f = *state;
	struct conn a_out = conn_of(100, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn b_in = conn_of(200, "10.0.0.2", 80, "10.0.0.1", 1111);
	struct http_exchange a_cli, b_srv;

	x_init(&a_cli, false, &a_out, 100, 101, f->base, HTTP1_M_GET, "/back", NULL);
	tracer_http_start(f->t, &a_cli);
	assert_memory_equal(a_cli.trace.parent_id, ZERO, 8);
	x_init(&b_srv, true, &b_in, 200, 201, f->base + 1 * MS, HTTP1_M_GET, "/back", "/back");
	tracer_http_start(f->t, &b_srv);
	assert_memory_equal(b_srv.trace.trace_id, a_cli.trace.trace_id, 16);
	assert_memory_equal(b_srv.trace.parent_id, a_cli.trace.span_id, 8);
	assert_false(b_srv.trace.remote_parent);
	assert_true(x_done(f, &b_srv, f->base + 2 * MS, 200, NULL));
	assert_int_equal(f->n, 0);
	assert_true(x_done(f, &a_cli, f->base + 3 * MS, 200, NULL));
	assert_int_equal(f->n, 2);
	assert_memory_equal(emitted(f, b_srv.trace.span_id)->parent_span_id, a_cli.trace.span_id,
			    8);
}

static void test_local_link_needs_same_conn(void **state)
{
	struct fx *f = *state;
	struct conn a_out = conn_of(100, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn other_port = conn_of(200, "10.0.0.2", 80, "10.0.0.1", 1112);
	struct conn other_host = conn_of(200, "10.0.0.2", 80, "10.0.0.5", 1111);
	struct conn not_swapped = conn_of(200, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn no_ep = {.tgid = 200};
	const struct conn *cases[] = {&other_port, &other_host, &not_swapped, &no_ep, NULL};
	struct http_exchange a_cli, b_srv;

	x_init(&a_cli, false, &a_out, 100, 101, f->base, HTTP1_M_GET, "/back", NULL);
	tracer_http_start(f->t, &a_cli);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x_init(&b_srv, true, cases[i], 200, 201, f->base + MS, HTTP1_M_GET, "/", "/");
		tracer_http_start(f->t, &b_srv);
		assert_memory_not_equal(b_srv.trace.trace_id, a_cli.trace.trace_id, 16);
		assert_memory_equal(b_srv.trace.parent_id, ZERO, 8);
		x_done(f, &b_srv, f->base + 2 * MS, 200, NULL);
	}
	assert_int_equal(f->n, sizeof(cases) / sizeof(cases[0]));
	x_done(f, &a_cli, f->base + 3 * MS, 200, NULL);
}

/* The link lives as long as the client exchange: once A's call is over,
 * a later connection from the same port (another process, a client that
 * is not traced) is not its child. */
static void test_local_link_ends_with_client(void **state)
{
	struct fx *f = *state;
	struct conn a_out = conn_of(100, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn b_in = conn_of(200, "10.0.0.2", 80, "10.0.0.1", 1111);
	struct http_exchange a_cli, b_srv;

	x_init(&a_cli, false, &a_out, 100, 101, f->base, HTTP1_M_GET, "/back", NULL);
	tracer_http_start(f->t, &a_cli);
	x_init(&b_srv, true, &b_in, 200, 201, f->base + 1 * MS, HTTP1_M_GET, "/back", "/back");
	tracer_http_start(f->t, &b_srv);
	x_done(f, &b_srv, f->base + 2 * MS, 200, NULL);
	x_done(f, &a_cli, f->base + 3 * MS, 200, NULL);
	assert_int_equal(f->n, 2);

	x_init(&b_srv, true, &b_in, 200, 201, f->base + 60 * SEC, HTTP1_M_GET, "/back", "/back");
	tracer_http_start(f->t, &b_srv);
	assert_memory_not_equal(b_srv.trace.trace_id, a_cli.trace.trace_id, 16);
	assert_memory_equal(b_srv.trace.parent_id, ZERO, 8);
	assert_true(x_done(f, &b_srv, f->base + 60 * SEC + MS, 200, NULL));
	assert_int_equal(f->n, 3);
}

/* An instrumented client already has its span: no duplicate, no link. */
static void test_client_with_traceparent(void **state)
{
	struct fx *f = *state;
	struct conn in = conn_of(100, "10.0.0.1", 8000, "10.0.0.9", 5555);
	struct conn a_out = conn_of(100, "10.0.0.1", 1111, "10.0.0.2", 80);
	struct conn b_in = conn_of(200, "10.0.0.2", 80, "10.0.0.1", 1111);
	struct http_exchange srv, cli, b_srv;

	x_init(&srv, true, &in, 100, 101, f->base, HTTP1_M_GET, "/front", "/front");
	tracer_http_start(f->t, &srv);
	x_init(&cli, false, &a_out, 100, 101, f->base + MS, HTTP1_M_GET, "/back", NULL);
	snprintf(cli.traceparent, sizeof(cli.traceparent), "%s", TP);
	tracer_http_start(f->t, &cli);
	assert_false(cli.trace.valid);
	/* the peer continues the header's trace, not ours */
	x_init(&b_srv, true, &b_in, 200, 201, f->base + 2 * MS, HTTP1_M_GET, "/back", "/back");
	snprintf(b_srv.traceparent, sizeof(b_srv.traceparent), "%s", TP);
	tracer_http_start(f->t, &b_srv);
	assert_memory_equal(b_srv.trace.trace_id, TP_TRACE, 16);
	assert_memory_equal(b_srv.trace.parent_id, TP_PARENT, 8);
	assert_true(b_srv.trace.remote_parent);
	assert_true(x_done(f, &b_srv, f->base + 3 * MS, 200, NULL));
	assert_int_equal(f->n, 1);
	assert_false(x_done(f, &cli, f->base + 4 * MS, 200, NULL));
	assert_int_equal(f->n, 1);
	x_done(f, &srv, f->base + 5 * MS, 200, NULL);
	assert_int_equal(f->n, 2); /* srv and b_srv only */
	emitted(f, srv.trace.span_id);
	emitted(f, b_srv.trace.span_id);
}

/* --- names, kinds, statuses, attributes, times --- */

static void test_names(void **state)
{
	struct fx *f = *state;
	struct http_exchange x;
	const struct span *s;

	x_init(&x, true, NULL, 1, 1, f->base, HTTP1_M_OTHER, "/x", "/x");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	assert_string_equal(span_get(s, SPAN_NAME), "HTTP");
	attr_str(s, "http.request.method", "_OTHER");

	x_init(&x, true, NULL, 1, 1, f->base, HTTP1_M_DELETE, "/x", NULL);
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 204, NULL);
	s = emitted(f, x.trace.span_id);
	assert_string_equal(span_get(s, SPAN_NAME), "DELETE"); /* no route: the method alone */
	no_attr(s, "http.route");

	x_init(&x, false, NULL, 1, 1, f->base, HTTP1_M_PUT, "/items/7", "/items/{id}");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	assert_string_equal(span_get(s, SPAN_NAME), "PUT"); /* clients: the method */
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	attr_str(s, "url.template", "/items/{id}");

	x_init(&x, false, NULL, 1, 1, f->base, HTTP1_M_OTHER, "/", NULL);
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	assert_string_equal(span_get(emitted(f, x.trace.span_id), SPAN_NAME), "HTTP");
}

static void test_server_attributes(void **state)
{
	struct fx *f = *state;
	struct conn c = conn_of(100, "10.0.0.2", 8443, "192.168.1.7", 51234);
	struct http_exchange x;
	const struct span *s;

	x_init(&x, true, &c, 100, 101, f->base, HTTP1_M_GET, "/users/42?debug=1#top",
	       "/users/{id}");
	snprintf(x.host, sizeof(x.host), "shop.example:8443");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	attr_str(s, "http.request.method", "GET");
	attr_str(s, "url.path", "/users/42");
	attr_str(s, "http.route", "/users/{id}");
	attr_int(s, "http.response.status_code", 200);
	attr_str(s, "server.address", "shop.example");
	attr_int(s, "server.port", 8443);
	attr_str(s, "client.address", "192.168.1.7");
	attr_str(s, "network.peer.address", "192.168.1.7");
	attr_int(s, "network.peer.port", 51234);
	attr_str(s, "url.scheme", "http");
	no_attr(s, "error.type");
	no_attr(s, "url.template");
	assert_int_equal(s->status, SPAN_STATUS_UNSET);

	/* plaintext from the TLS probes: https */
	c.tls = 1;
	x_init(&x, true, &c, 100, 101, f->base, HTTP1_M_GET, "/users/42", "/users/{id}");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	attr_str(emitted(f, x.trace.span_id), "url.scheme", "https");

	/* no endpoints, no Host: none of the address attributes */
	x_init(&x, true, NULL, 100, 101, f->base, HTTP1_M_GET, "/a#frag", "/a");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	attr_str(s, "url.path", "/a");
	no_attr(s, "server.address");
	no_attr(s, "server.port");
	no_attr(s, "client.address");
	no_attr(s, "network.peer.address");
}

/* gRPC calls are RPC spans: "service/method", rpc.* attributes, the
 * status from grpc-status; HTTP/2 exchanges say their version. */
static void test_grpc_and_http2_spans(void **state)
{
	struct fx *f = *state;
	struct conn c = conn_of(100, "10.0.0.2", 50051, "10.0.0.9", 40000);
	struct http_exchange x;
	const struct span *s;

	x_init(&x, true, &c, 100, 101, f->base, HTTP1_M_POST, "/shop.v1.Catalog/GetItem",
	       "/shop.v1.Catalog/GetItem");
	x.version = HTTP_V2;
	x.grpc = true;
	x.grpc_status = 14;
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, "UNAVAILABLE");
	s = emitted(f, x.trace.span_id);
	assert_string_equal(span_get(s, SPAN_NAME), "shop.v1.Catalog/GetItem");
	attr_str(s, "rpc.system", "grpc");
	attr_str(s, "rpc.service", "shop.v1.Catalog");
	attr_str(s, "rpc.method", "GetItem");
	attr_int(s, "rpc.grpc.status_code", 14);
	attr_str(s, "error.type", "UNAVAILABLE");
	no_attr(s, "http.route"); /* rpc.service and rpc.method say it */
	assert_int_equal(s->status, SPAN_STATUS_ERROR);

	x_init(&x, false, &c, 100, 101, f->base, HTTP1_M_GET, "/a", "/a");
	x.version = HTTP_V2;
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	assert_string_equal(span_get(s, SPAN_NAME), "GET");
	attr_str(s, "network.protocol.version", "2");
	no_attr(s, "rpc.system");
}

static void test_client_attributes(void **state)
{
	struct fx *f = *state;
	struct conn c = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	struct http_exchange x;
	const struct span *s;

	x_init(&x, false, &c, 100, 101, f->base, HTTP1_M_POST, "/v1/items?x=1", NULL);
	snprintf(x.host, sizeof(x.host), "api.internal:8080");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 201, NULL);
	s = emitted(f, x.trace.span_id);
	attr_str(s, "http.request.method", "POST");
	attr_str(s, "server.address", "api.internal");
	attr_int(s, "server.port", 8080);
	attr_str(s, "network.peer.address", "10.0.0.3");
	attr_int(s, "network.peer.port", 8080);
	attr_int(s, "http.response.status_code", 201);
	no_attr(s, "client.address");
	no_attr(s, "http.route");

	attr_str(s, "url.scheme", "http");

	/* no Host: server.address is the peer's address; over TLS: https */
	c.tls = 1;
	x_init(&x, false, &c, 100, 101, f->base, HTTP1_M_GET, "/", NULL);
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, 200, NULL);
	attr_str(emitted(f, x.trace.span_id), "server.address", "10.0.0.3");
	attr_str(emitted(f, x.trace.span_id), "url.scheme", "https");
}

static const struct span *one(struct fx *f, bool server, int status, const char *error_type)
{
	struct http_exchange x;

	x_init(&x, server, NULL, 1, 1, f->base, HTTP1_M_GET, "/", "/");
	tracer_http_start(f->t, &x);
	x_done(f, &x, f->base + MS, status, error_type);
	return emitted(f, x.trace.span_id);
}

/* error_type as httptrack sets it: 5xx for servers, 4xx and 5xx for
 * clients, "connection_closed" without a response. */
static void test_statuses(void **state)
{
	struct fx *f = *state;
	const struct span *s;

	s = one(f, true, 500, "500");
	assert_int_equal(s->status, SPAN_STATUS_ERROR);
	attr_str(s, "error.type", "500");
	attr_int(s, "http.response.status_code", 500);
	s = one(f, true, 404, NULL);
	assert_int_equal(s->status, SPAN_STATUS_UNSET);
	no_attr(s, "error.type");
	s = one(f, false, 404, "404");
	assert_int_equal(s->status, SPAN_STATUS_ERROR);
	attr_str(s, "error.type", "404");
	s = one(f, false, 302, NULL);
	assert_int_equal(s->status, SPAN_STATUS_UNSET);
	s = one(f, true, 0, "connection_closed");
	assert_int_equal(s->status, SPAN_STATUS_ERROR);
	attr_str(s, "error.type", "connection_closed");
	no_attr(s, "http.response.status_code");
}

static void test_times(void **state)
{
	struct fx *f = *state;
	uint64_t real = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
	struct http_exchange x;
	struct db_op op;
	uint8_t span[8];
	const struct span *s;

	x_init(&x, true, NULL, 1, 1, mono, HTTP1_M_GET, "/", "/");
	tracer_http_start(f->t, &x);
	x_done(f, &x, mono + 5 * MS, 200, NULL);
	s = emitted(f, x.trace.span_id);
	assert_true(s->start_unix_ns > real - SEC && s->start_unix_ns < real + SEC);
	assert_int_equal(s->end_unix_ns - s->start_unix_ns, 5 * MS);

	/* an end before the start is clamped to the start */
	db_init(&op, 1, 77, mono + MS, mono);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, span);
	s = emitted(f, span);
	assert_int_equal(s->end_unix_ns, s->start_unix_ns);
	assert_true(s->start_unix_ns > real - SEC && s->start_unix_ns < real + SEC);
}

/* --- tail sampling (head: always_off) --- */

/* A server root on tid with children: a DB op and a client call. */
struct tree {
	struct conn in, out;
	struct http_exchange srv, cli;
	uint8_t db_span[8];
};

static void tree_children(struct fx *f, struct tree *t, uint32_t tid, const char *route,
			  const char *db_err, int cli_status, const char *cli_err)
{
	struct db_op op;

	t->in = conn_of(100, "10.0.0.2", 80, "10.0.0.9", 5555);
	t->out = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	x_init(&t->srv, true, &t->in, 100, tid, f->base, HTTP1_M_GET, route, route);
	tracer_http_start(f->t, &t->srv);
	db_init(&op, 100, tid, f->base + 1 * MS, f->base + 2 * MS);
	if (db_err)
		snprintf(op.error_type, sizeof(op.error_type), "%s", db_err);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, t->db_span);
	x_init(&t->cli, false, &t->out, 100, tid, f->base + 3 * MS, HTTP1_M_GET, "/x", NULL);
	tracer_http_start(f->t, &t->cli);
	x_done(f, &t->cli, f->base + 4 * MS, cli_status, cli_err);
}

static void expect_tree(struct fx *f, struct tree *t, bool kept)
{
	assert_int_equal(was_emitted(f, t->srv.trace.span_id), kept);
	assert_int_equal(was_emitted(f, t->cli.trace.span_id), kept);
	assert_int_equal(was_emitted(f, t->db_span), kept);
}

static void test_tail_error_keeps_trace(void **state)
{
	struct fx *f = *state;
	struct tracer_stats st;
	struct tree t;

	fx_tail(f, 0, NULL, 0);
	/* a child failed */
	tree_children(f, &t, 11, "/a", NULL, 503, "503");
	assert_false(t.srv.trace.sampled);
	assert_int_equal(f->n, 0);
	assert_true(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	assert_int_equal(f->n, 3);
	expect_tree(f, &t, true);
	assert_int_equal(emitted(f, t.cli.trace.span_id)->sampled, 0);

	/* the DB op failed */
	tree_children(f, &t, 12, "/b", "42P01", 200, NULL);
	assert_true(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	assert_int_equal(f->n, 6);
	expect_tree(f, &t, true);

	/* the root failed */
	tree_children(f, &t, 13, "/c", NULL, 200, NULL);
	assert_int_equal(f->n, 6);
	assert_true(x_done(f, &t.srv, f->base + 5 * MS, 500, "500"));
	assert_int_equal(f->n, 9);
	expect_tree(f, &t, true);

	stats(f, &st);
	assert_int_equal(st.traces_kept, 3);
	assert_int_equal(st.traces_dropped, 0);
	assert_int_equal(st.early_decisions, 0);
}

static void test_tail_no_error_drops(void **state)
{
	struct fx *f = *state;
	struct tracer_stats st;
	struct tree t;

	fx_tail(f, 0, NULL, 0);
	tree_children(f, &t, 11, "/a", NULL, 200, NULL);
	assert_false(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	assert_int_equal(f->n, 0);
	/* a lone DB op without error is a root of its own, dropped too */
	assert_false(db(f, 1, 999, f->base, f->base + MS, NULL));
	assert_true(db(f, 1, 999, f->base, f->base + MS, "23505"));
	assert_int_equal(f->n, 1);
	stats(f, &st);
	assert_int_equal(st.traces_kept, 1);
	assert_int_equal(st.traces_dropped, 2);
}

static void test_tail_slow_root(void **state)
{
	struct fx *f = *state;
	struct tree t;

	fx_tail(f, 100 * MS, NULL, 0);
	tree_children(f, &t, 11, "/a", NULL, 200, NULL);
	assert_false(x_done(f, &t.srv, f->base + 99 * MS, 200, NULL));
	expect_tree(f, &t, false);
	tree_children(f, &t, 12, "/a", NULL, 200, NULL);
	assert_true(x_done(f, &t.srv, f->base + 100 * MS, 200, NULL));
	expect_tree(f, &t, true);
	assert_int_equal(f->n, 3);
	/* a slow child does not make the trace slow */
	tree_children(f, &t, 13, "/a", NULL, 200, NULL);
	t.cli.start_ns = f->base;
	assert_false(x_done(f, &t.srv, f->base + 10 * MS, 200, NULL));
	assert_int_equal(f->n, 3);
}

static void test_slow_list_parse(void **state)
{
	const char *routes = "unchanged";
	uint64_t ns = 7;

	(void)state;
	assert_int_equal(tracer_parse_slow(NULL, &ns, &routes), 0);
	assert_int_equal(ns, 7);
	assert_null(routes);
	assert_int_equal(tracer_parse_slow("250", &ns, &routes), 0);
	assert_int_equal(ns, 250 * MS);
	assert_null(routes);
	assert_int_equal(tracer_parse_slow("1000,/checkout=50,/a/{id}=5", &ns, &routes), 0);
	assert_int_equal(ns, 1000 * MS);
	assert_string_equal(routes, "/checkout=50,/a/{id}=5");
	assert_int_equal(tracer_parse_slow("/only=3", &ns, &routes), 0);
	assert_string_equal(routes, "/only=3");
	assert_int_equal(tracer_parse_slow("fast", &ns, &routes), -EINVAL);
	assert_int_equal(tracer_parse_slow("10,checkout=5", &ns, &routes), -EINVAL);
	assert_int_equal(tracer_parse_slow("10,/x=", &ns, &routes), -EINVAL);
	assert_int_equal(tracer_parse_slow("10,/x=5ms", &ns, &routes), -EINVAL);
	assert_int_equal(tracer_parse_slow("-1", &ns, &routes), -EINVAL);
}

static void test_tail_slow_per_route(void **state)
{
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true},
	    .slow_ns = 1000 * MS,
	    .slow_routes = "/a=100",
	};
	struct tree t;

	fx_open(f, &o);
	/* /a has its own 100 ms threshold */
	tree_children(f, &t, 21, "/a", NULL, 200, NULL);
	assert_true(x_done(f, &t.srv, f->base + 150 * MS, 200, NULL));
	expect_tree(f, &t, true);
	/* other routes keep the default of 1 s */
	tree_children(f, &t, 22, "/b", NULL, 200, NULL);
	assert_false(x_done(f, &t.srv, f->base + 150 * MS, 200, NULL));
	expect_tree(f, &t, false);
}

static void test_tail_critical_route(void **state)
{
	struct fx *f = *state;
	char r1[] = "/checkout", r2[] = "/pay/{id}";
	char *routes[] = {r1, r2};
	struct tree t;

	fx_tail(f, 0, routes, 2);
	strcpy(r1, "/nothing!"); /* the tracer kept its own copy */
	tree_children(f, &t, 11, "/checkout", NULL, 200, NULL);
	assert_true(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	expect_tree(f, &t, true);
	tree_children(f, &t, 12, "/pay/{id}", NULL, 200, NULL);
	assert_true(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	expect_tree(f, &t, true);
	tree_children(f, &t, 13, "/checkout/x", NULL, 200, NULL);
	assert_false(x_done(f, &t.srv, f->base + 5 * MS, 200, NULL));
	expect_tree(f, &t, false);
	assert_int_equal(f->n, 6);
}

/* One remote trace can reach this node several times (a caller's fan-out
 * or retries): each request is a local root of its own. A failing one is
 * kept although an earlier one of the same trace was dropped. */
static void test_tail_second_local_root(void **state)
{
	static const char tp1[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-00";
	static const char tp2[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-2222222222222222-00";
	struct fx *f = *state;
	struct http_exchange a, b;

	fx_tail(f, 0, NULL, 0);
	x_init(&a, true, NULL, 100, 11, f->base, HTTP1_M_GET, "/users/{id}", "/users/{id}");
	snprintf(a.traceparent, sizeof(a.traceparent), "%s", tp1);
	tracer_http_start(f->t, &a);
	assert_false(x_done(f, &a, f->base + MS, 200, NULL));
	assert_int_equal(f->n, 0);

	x_init(&b, true, NULL, 100, 11, f->base + 2 * MS, HTTP1_M_GET, "/orders", "/orders");
	snprintf(b.traceparent, sizeof(b.traceparent), "%s", tp2);
	tracer_http_start(f->t, &b);
	assert_memory_equal(b.trace.trace_id, a.trace.trace_id, 16);
	assert_true(x_done(f, &b, f->base + 3 * MS, 500, "500"));
	assert_int_equal(f->n, 1);
	attr_str(emitted(f, b.trace.span_id), "error.type", "500");
}

/* A client call that ends after its root follows the root's decision. */
static void test_tail_late_child_follows(void **state)
{
	struct fx *f = *state;
	struct conn out = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	struct http_exchange srv, cli;

	fx_tail(f, 0, NULL, 0);
	x_init(&srv, true, NULL, 100, 11, f->base, HTTP1_M_GET, "/a", "/a");
	tracer_http_start(f->t, &srv);
	x_init(&cli, false, &out, 100, 11, f->base + MS, HTTP1_M_GET, "/x", NULL);
	tracer_http_start(f->t, &cli);
	assert_true(x_done(f, &srv, f->base + 2 * MS, 500, "500"));
	assert_int_equal(f->n, 1);
	assert_true(x_done(f, &cli, f->base + 3 * MS, 200, NULL));
	assert_int_equal(f->n, 2);
	assert_memory_equal(emitted(f, cli.trace.span_id)->parent_span_id, srv.trace.span_id, 8);

	x_init(&srv, true, NULL, 100, 12, f->base, HTTP1_M_GET, "/a", "/a");
	tracer_http_start(f->t, &srv);
	x_init(&cli, false, &out, 100, 12, f->base + MS, HTTP1_M_GET, "/x", NULL);
	tracer_http_start(f->t, &cli);
	assert_false(x_done(f, &srv, f->base + 2 * MS, 200, NULL));
	/* dropped already, even though this late child failed */
	assert_false(x_done(f, &cli, f->base + 3 * MS, 500, "500"));
	assert_int_equal(f->n, 2);
}

/* Open traces whose root never ends: nothing is emitted before the sweep,
 * then head-sampled and failed traces are kept, the rest dropped. */
static void test_sweep_stale(void **state)
{
	static const char tp01[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	struct fx *f = *state;
	struct http_exchange a, b, c;
	struct tracer_stats st;

	fx_tail(f, 0, NULL, 0);
	x_init(&a, true, NULL, 100, 21, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(a.traceparent, sizeof(a.traceparent), "%s", tp01);
	tracer_http_start(f->t, &a);
	assert_true(a.trace.sampled);
	x_init(&b, true, NULL, 100, 22, f->base, HTTP1_M_GET, "/b", "/b");
	tracer_http_start(f->t, &b);
	x_init(&c, true, NULL, 100, 23, f->base, HTTP1_M_GET, "/c", "/c");
	tracer_http_start(f->t, &c);
	assert_true(db(f, 100, 21, f->base, f->base + MS, NULL)); /* head-sampled */
	assert_false(db(f, 100, 22, f->base, f->base + MS, "08006"));
	assert_false(db(f, 100, 22, f->base, f->base + MS, NULL));
	assert_false(db(f, 100, 23, f->base, f->base + MS, NULL));

	tracer_sweep(f->t, f->base + MS + 29 * SEC);
	stats(f, &st);
	assert_int_equal(st.traces_kept + st.traces_dropped, 0);
	assert_int_equal(f->n, 0);
	tracer_sweep(f->t, f->base + MS + 31 * SEC);
	stats(f, &st);
	assert_int_equal(st.traces_kept, 2);
	assert_int_equal(st.traces_dropped, 1);
	assert_int_equal(f->n, 3);
	/* a root that ends after all follows the decision */
	assert_true(x_done(f, &a, f->base + 32 * SEC, 200, NULL));
	assert_false(x_done(f, &c, f->base + 32 * SEC, 200, NULL));
	assert_int_equal(f->n, 4);
	stats(f, &st);
	assert_int_equal(st.traces_kept + st.traces_dropped, 3);
}

/* A server request of route at now; status 500 makes it fail. Returns
 * whether its trace was kept. */
static bool request(struct fx *f, uint32_t tid, const char *route, int status, uint64_t now,
		    struct http_exchange *x)
{
	x_init(x, true, NULL, 100, tid, now, HTTP1_M_GET, route, route);
	tracer_http_start(f->t, x);
	return x_done(f, x, now + MS, status, status >= 500 ? "500" : NULL);
}

/* The kept root says which rule kept it. */
static void test_sampling_rule_attr(void **state)
{
	static const char tp01[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	struct fx *f = *state;
	char r[] = "/checkout";
	char *routes[] = {r};
	struct http_exchange x;

	fx_tail(f, 100 * MS, routes, 1);
	assert_true(request(f, 1, "/a", 500, f->base, &x));
	attr_str(emitted(f, x.trace.span_id), "sampling.rule", "error");
	x_init(&x, true, NULL, 100, 2, f->base, HTTP1_M_GET, "/a", "/a");
	tracer_http_start(f->t, &x);
	assert_true(x_done(f, &x, f->base + 200 * MS, 200, NULL));
	attr_str(emitted(f, x.trace.span_id), "sampling.rule", "slow");
	x_init(&x, true, NULL, 100, 3, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.traceparent, sizeof(x.traceparent), "%s", tp01);
	tracer_http_start(f->t, &x);
	assert_true(x_done(f, &x, f->base + MS, 200, NULL));
	attr_str(emitted(f, x.trace.span_id), "sampling.rule", "head");
	assert_true(request(f, 4, "/checkout", 200, f->base, &x));
	attr_str(emitted(f, x.trace.span_id), "sampling.rule", "critical");
	assert_int_equal(f->n, 4);
}

/* Critical routes keep at least their floor rate: 20 % of 2000 traces. */
static void test_critical_floor(void **state)
{
	struct fx *f = *state;
	char r[] = "/checkout";
	char *routes[] = {r};
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true},
	    .critical_routes = routes,
	    .ncritical = 1,
	    .critical_floor = 0.2,
	};
	struct http_exchange x;
	int kept = 0;

	fx_open(f, &o);
	for (int i = 0; i < 2000; i++)
		kept += request(f, (uint32_t)i, "/checkout", 200, f->base + (uint64_t)i * MS, &x);
	assert_in_range(kept, 300, 500);
	assert_int_equal(f->n, kept);
	attr_str(&f->v[0], "sampling.rule", "critical");
	assert_false(request(f, 1, "/other", 200, f->base, &x));
}

/* 1 % head sampling is off here (always_off). /pay starts failing 10 % of
 * its requests: within seconds, its successful traces are kept too, marked
 * adaptive.error_ratio; /ok, healthy, stays at nothing. */
static void test_adaptive_failing_route(void **state)
{
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true},
	    .error_ratio = 0.005,
	};
	/* the sampler's slots are whole seconds of the clock: a second of
	 * this test must not straddle two of them */
	uint64_t t0 = (f->base / SEC + 1) * SEC;
	struct http_exchange x;
	int ok_pay = 0, ok_other = 0;

	fx_open(f, &o);
	for (int sec = 0; sec < 12; sec++) {
		for (int i = 0; i < 20; i++) {
			uint64_t now = t0 + (uint64_t)sec * SEC + (uint64_t)i * MS;
			bool kept = request(f, 7, "/pay", i < 2 ? 500 : 200, now, &x);

			if (i >= 2 && sec >= 9) {
				assert_true(kept); /* at 1 by now */
				ok_pay++;
				attr_str(emitted(f, x.trace.span_id), "sampling.rule",
					 "adaptive.error_ratio");
			} else if (i >= 2 && sec == 0) {
				assert_false(kept);
			}
			ok_other += request(f, 8, "/ok", 200, now, &x);
		}
	}
	assert_int_equal(ok_pay, 3 * 18);
	assert_int_equal(ok_other, 0);
}

/* The node's span budget: 10 spans a second; a trace of a root and one
 * held child takes 2. Drops are counted. */
static void test_budget(void **state)
{
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true},
	    .budget = 10,
	};
	struct tracer_stats st;
	struct http_exchange x;
	int kept = 0;

	fx_open(f, &o);
	for (int i = 0; i < 20; i++) {
		x_init(&x, true, NULL, 100, 5, f->base, HTTP1_M_GET, "/a", "/a");
		tracer_http_start(f->t, &x);
		db(f, 100, 5, f->base, f->base + MS, NULL);
		kept += x_done(f, &x, f->base + 2 * MS, 200, NULL);
	}
	assert_int_equal(kept, 5);
	assert_int_equal(f->n, 10);
	stats(f, &st);
	assert_int_equal(st.budget_traces, 15);
	assert_int_equal(st.budget_spans, 30);
	assert_int_equal(st.traces_kept, 5);
	assert_int_equal(st.traces_dropped, 15);
	/* a second later, room again */
	assert_true(request(f, 6, "/a", 200, f->base + 2 * SEC, &x));
}

/* traces.header_attributes: the captured request headers are attributes of
 * the server span and of the client and DB spans made while serving it. */
static void test_request_attrs(void **state)
{
	const char *keys[] = {"tenant", "channel"};
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true},
	    .nrequest_attrs = 2,
	};
	struct conn out = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	struct http_exchange srv, cli;
	uint8_t db_span[8];
	struct db_op op;

	assert_int_equal(semconv_set_request_keys(keys, 2), 0);
	fx_open(f, &o);
	x_init(&srv, true, NULL, 100, 41, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(srv.captured[0], sizeof(srv.captured[0]), "acme");
	tracer_http_start(f->t, &srv);
	db_init(&op, 100, 41, f->base + MS, f->base + 2 * MS);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, db_span);
	x_init(&cli, false, &out, 100, 41, f->base + 3 * MS, HTTP1_M_GET, "/x", NULL);
	snprintf(cli.captured[1], sizeof(cli.captured[1]), "ignored: the request's win");
	tracer_http_start(f->t, &cli);
	x_done(f, &cli, f->base + 4 * MS, 200, NULL);
	x_done(f, &srv, f->base + 5 * MS, 200, NULL);
	assert_int_equal(f->n, 3);
	attr_str(emitted(f, srv.trace.span_id), "tenant", "acme");
	no_attr(emitted(f, srv.trace.span_id), "channel");
	attr_str(emitted(f, db_span), "tenant", "acme");
	attr_str(emitted(f, cli.trace.span_id), "tenant", "acme");
	no_attr(emitted(f, cli.trace.span_id), "channel");
	/* a DB op outside any request has none */
	db_init(&op, 100, 42, f->base, f->base + MS);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, db_span);
	no_attr(emitted(f, db_span), "tenant");
	assert_int_equal(semconv_set_request_keys(NULL, 0), 0);
}

static void test_header_attrs_parse(void **state)
{
	char h[HTTP1_CAPTURE_MAX][HTTP1_CAPTURE_NAME + 1];
	char k[HTTP1_CAPTURE_MAX][SEMCONV_REQUEST_KEY_MAX + 1];
	size_t n = 9;

	(void)state;
	assert_int_equal(tracer_parse_header_attrs("", h, k, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tracer_parse_header_attrs("X-Tenant-ID=tenant,X-Biz-ID=biz.id", h, k, &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[1], "X-Biz-ID");
	assert_string_equal(k[1], "biz.id");
	assert_int_equal(tracer_parse_header_attrs("a=1,b=2,c=3,d=4", NULL, NULL, &n), 0);
	assert_int_equal(tracer_parse_header_attrs("a=1,b=2,c=3,d=4,e=5", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("X-Tenant-ID", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("X-Tenant-ID=", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("=tenant", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("X Y=tenant", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("X=ten ant", h, k, &n), -EINVAL);
	assert_int_equal(tracer_parse_header_attrs("X-A-Header-Name-Too-Long=k", h, k, &n),
			 -EINVAL);
}

/* traces.baggage_attributes: entries of the captured baggage header become
 * request attributes after the header ones, on the request's spans too. */
static void test_baggage_attrs(void **state)
{
	const char *keys[] = {"tenant", "channel"};
	const char *bag_keys[] = {"ch"};
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_ON, .parent_based = true},
	    .nrequest_attrs = 2,
	    .nbaggage = 1,
	    .baggage_keys = bag_keys,
	    .baggage_header = 1,
	};
	struct http_exchange srv;
	uint8_t db_span[8];
	struct db_op op;
	char v[HTTP1_CAPTURE_VALUE];

	assert_int_equal(semconv_set_request_keys(keys, 2), 0);
	fx_open(f, &o);
	x_init(&srv, true, NULL, 100, 61, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(srv.captured[0], sizeof(srv.captured[0]), "acme");
	snprintf(srv.captured[1], sizeof(srv.captured[1]), "x=1, ch = web%%20app;p=1 ,y");
	tracer_http_start(f->t, &srv);
	db_init(&op, 100, 61, f->base + MS, f->base + 2 * MS);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, db_span);
	x_done(f, &srv, f->base + 5 * MS, 200, NULL);
	attr_str(emitted(f, srv.trace.span_id), "tenant", "acme");
	attr_str(emitted(f, srv.trace.span_id), "channel", "web app");
	attr_str(emitted(f, db_span), "channel", "web app");
	assert_int_equal(semconv_set_request_keys(NULL, 0), 0);

	assert_true(tracer_baggage_get("a=1,b=2", "b", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_false(tracer_baggage_get("ab=1,b", "b", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_false(tracer_baggage_get("a=1", "ab", v, sizeof(v)));
	assert_false(tracer_baggage_get("", "a", v, sizeof(v)));
	assert_true(tracer_baggage_get("a=%41%zz%4", "a", v, sizeof(v)));
	assert_string_equal(v, "A%zz%4");
	assert_true(tracer_baggage_get("a=0123456789", "a", v, 5));
	assert_string_equal(v, "0123");
}

/* A request whose captured header has the critical value is kept as a
 * critical route's would be (floor 1 here); another value is not. */
static void test_critical_header(void **state)
{
	struct fx *f = *state;
	struct tracer_opts o = {
	    .sampler = {.root = SAMPLER_ALWAYS_OFF, .parent_based = true},
	    .critical_value = "high",
	    .critical_header = 2,
	};
	char h[HTTP1_CAPTURE_NAME + 1], v[HTTP1_CAPTURE_VALUE];
	struct http_exchange x;

	fx_open(f, &o);
	x_init(&x, true, NULL, 100, 51, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.captured[2], sizeof(x.captured[2]), "high");
	tracer_http_start(f->t, &x);
	assert_true(x_done(f, &x, f->base + MS, 200, NULL));
	attr_str(emitted(f, x.trace.span_id), "sampling.rule", "critical");
	x_init(&x, true, NULL, 100, 52, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(x.captured[2], sizeof(x.captured[2]), "highest");
	tracer_http_start(f->t, &x);
	assert_false(x_done(f, &x, f->base + MS, 200, NULL));
	assert_false(request(f, 53, "/a", 200, f->base, &x));

	assert_int_equal(tracer_parse_critical_header("X-Priority=high", h, v), 0);
	assert_string_equal(h, "X-Priority");
	assert_string_equal(v, "high");
	assert_int_equal(tracer_parse_critical_header("", h, v), 0);
	assert_string_equal(h, "");
	assert_int_equal(tracer_parse_critical_header("X-Priority", h, v), -EINVAL);
	assert_int_equal(tracer_parse_critical_header("X-Priority=", h, v), -EINVAL);
	assert_int_equal(tracer_parse_critical_header("X-Priority=a b", h, v), -EINVAL);
	assert_int_equal(tracer_parse_critical_header("X Priority=a", NULL, NULL), -EINVAL);
}

/* On shutdown, spans held for a tail decision get the decision the sweep
 * would give them (head-sampled or failed: kept) instead of being lost;
 * a late span of a flushed trace follows its decision. */
static void test_flush_on_shutdown(void **state)
{
	static const char tp01[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	struct fx *f = *state;
	struct http_exchange a, b, c;
	struct tracer_stats st;

	fx_tail(f, 0, NULL, 0);
	x_init(&a, true, NULL, 100, 31, f->base, HTTP1_M_GET, "/a", "/a");
	snprintf(a.traceparent, sizeof(a.traceparent), "%s", tp01);
	tracer_http_start(f->t, &a);
	x_init(&b, true, NULL, 100, 32, f->base, HTTP1_M_GET, "/b", "/b");
	tracer_http_start(f->t, &b);
	x_init(&c, true, NULL, 100, 33, f->base, HTTP1_M_GET, "/c", "/c");
	tracer_http_start(f->t, &c);
	assert_true(db(f, 100, 31, f->base, f->base + MS, NULL));
	assert_true(db(f, 100, 31, f->base, f->base + MS, NULL));
	assert_false(db(f, 100, 32, f->base, f->base + MS, "08006"));
	assert_false(db(f, 100, 33, f->base, f->base + MS, NULL));
	assert_int_equal(f->n, 0);

	/* a second into their life: the sweep leaves them, the flush does not */
	tracer_sweep(f->t, f->base + SEC);
	assert_int_equal(f->n, 0);
	tracer_flush(f->t);
	assert_int_equal(f->n, 3);
	stats(f, &st);
	assert_int_equal(st.traces_kept, 2);
	assert_int_equal(st.traces_dropped, 1);
	tracer_flush(f->t); /* nothing left */
	assert_int_equal(f->n, 3);
	assert_true(x_done(f, &b, f->base + 2 * SEC, 200, NULL));
	assert_false(x_done(f, &c, f->base + 2 * SEC, 200, NULL));
	assert_int_equal(f->n, 4);
	tracer_flush(NULL);
}

/* A well-spread 64-bit value of i (for trace ids of callers). */
static uint64_t mix(uint64_t i)
{
	uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Thousands of open traces whose roots never end: the memory does not
 * grow, the oldest traces are decided early as the sweep would, and the
 * sweep decides the rest; every trace is counted exactly once. Each
 * trace has 3 children; every tenth fails in its last child, every tenth
 * (others) is head-sampled by its caller. */
static void test_buffer_bound(void **state)
{
	enum { N = 5000 };
	struct fx *f = *state;
	struct http_exchange *x = f->scratch[0] = calloc(N, sizeof(*x));
	size_t want_traces = 0;
	struct tracer_stats st;
	uint64_t t = f->base;
#ifndef __SANITIZE_ADDRESS__
	struct mallinfo2 m0, m1;
#endif

	assert_non_null(x);
	fx_tail(f, 0, NULL, 0);
#ifndef __SANITIZE_ADDRESS__
	m0 = mallinfo2();
#endif
	for (uint32_t i = 0; i < N; i++) {
		uint32_t tid = 1000 + i;

		x_init(&x[i], true, NULL, 100, tid, t, HTTP1_M_GET, "/a", "/a");
		if (i % 10 == 5)
			snprintf(x[i].traceparent, sizeof(x[i].traceparent),
				 "00-%016llx%016llx-00f067aa0ba902b7-01",
				 (unsigned long long)mix(i), (unsigned long long)mix(i + N));
		tracer_http_start(f->t, &x[i]);
		db(f, 100, tid, t, t + 1, NULL);
		db(f, 100, tid, t + 1, t + 2, NULL);
		db(f, 100, tid, t + 2, t + 3, i % 10 == 0 ? "57014" : NULL);
		if (i % 10 == 0 || i % 10 == 5)
			want_traces++;
		t += 1000;
	}
#ifndef __SANITIZE_ADDRESS__
	m1 = mallinfo2();
	assert_true(m1.uordblks < m0.uordblks + 64 * 1024);
#endif
	stats(f, &st);
	assert_true(st.early_decisions > 0);
	assert_true(st.traces_kept + st.traces_dropped < N);

	tracer_sweep(f->t, t + 31 * SEC);
	stats(f, &st);
	assert_int_equal(st.traces_kept + st.traces_dropped, N);
	assert_int_equal(st.traces_kept, want_traces);
	assert_int_equal(f->n, 3 * want_traces);
	/* and the tracer still works normally */
	{
		struct tree tr;

		tree_children(f, &tr, 20000, "/z", NULL, 404, "404");
		assert_true(x_done(f, &tr.srv, f->base + 5 * MS, 200, NULL));
		expect_tree(f, &tr, true);
	}
}

/* The span buffer is full of older, undecided traces: a new trace's
 * spans must still be held until its root ends (the oldest trace is the
 * one decided early), so a failing root keeps its children. */
static void test_full_buffer_new_trace(void **state)
{
	enum { CHILDREN = 4, MAX_OLD = 16000 };
	struct fx *f = *state;
	struct http_exchange srv;
	struct tracer_stats st = {0};
	uint8_t child[8];
	struct db_op op;
	uint64_t t = f->base;
	uint32_t i;

	/* Old traces of 4 held spans each until the buffer is full (the
	 * first early decision); it stays full after it. */
	fx_tail(f, 0, NULL, 0);
	for (i = 0; i < MAX_OLD && !st.early_decisions; i++) {
		struct http_exchange x;

		x_init(&x, true, NULL, 100, 1000 + i, t, HTTP1_M_GET, "/a", "/a");
		tracer_http_start(f->t, &x);
		for (int k = 0; k < CHILDREN; k++)
			db(f, 100, 1000 + i, t, t + 1, NULL);
		t += 1000;
		stats(f, &st);
	}
	assert_true(i < MAX_OLD);
	assert_int_equal(f->n, 0);

	x_init(&srv, true, NULL, 100, 1000 + MAX_OLD, t, HTTP1_M_GET, "/new", "/new");
	tracer_http_start(f->t, &srv);
	db_init(&op, 100, 1000 + MAX_OLD, t, t + 1);
	tracer_db_op(f->t, &op, SERVICE, EXE, NULL, child);
	assert_true(x_done(f, &srv, t + 2, 500, "500"));
	assert_int_equal(f->n, 2);
	emitted(f, srv.trace.span_id);
	emitted(f, child);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random load with always_on over a buffer that is often full: every
 * span is emitted, exactly once, whatever is decided early. */
static void test_every_span_once(void **state)
{
	enum { SLOTS = 1200, OPS = 300000 };
	struct fx *f = *state;
	struct http_exchange *x = f->scratch[0] = calloc(SLOTS, sizeof(*x));
	bool *open = f->scratch[1] = calloc(SLOTS, sizeof(*open));
	uint64_t seed = 0x9e3779b97f4a7c15ull, t = f->base, made = 0;
	struct tracer_stats st;

	assert_non_null(x);
	assert_non_null(open);
	for (int i = 0; i < OPS; i++) {
		uint32_t k = (uint32_t)(rnd(&seed) % SLOTS), r = (uint32_t)(rnd(&seed) % 100);

		t += 1000;
		if (!open[k] && r < 30) {
			x_init(&x[k], true, NULL, 100, 1 + k, t, HTTP1_M_GET, "/", "/");
			tracer_http_start(f->t, &x[k]);
			open[k] = true;
		} else if (open[k] && r < 95) {
			db(f, 100, 1 + k, t, t + 1, NULL);
			made++;
		} else if (open[k]) {
			x_done(f, &x[k], t, 200, NULL);
			open[k] = false;
			made++;
		}
	}
	for (uint32_t k = 0; k < SLOTS; k++) {
		if (open[k]) {
			x_done(f, &x[k], t, 200, NULL);
			made++;
		}
	}
	tracer_sweep(f->t, t + 31 * SEC);
	stats(f, &st);
	assert_true(st.early_decisions > 0);
	qsort(f->ids, f->n, sizeof(*f->ids), cmp_u64);
	for (size_t i = 1; i < f->n; i++)
		assert_true(f->ids[i] != f->ids[i - 1]);
	assert_int_equal(f->n, made);
}

/* --- end to end from HTTP bytes, through the daemon's pipeline --- */

/* Connection fd of process 100 opens with the endpoints of c. */
static void e2e_open(struct fx *f, uint32_t fd, uint64_t ts, const struct conn *c)
{
	struct rt_conn_id id = {.gen = 1, .tgid = 100, .fd = fd};

	assert_int_equal(rec_open(f->w.pipe, &id, ts, c->local, c->remote, RT_ROLE_UNKNOWN), 0);
}

static void e2e_feed(struct fx *f, uint32_t fd, uint8_t dir, uint64_t ts, uint32_t tid,
		     const char *s)
{
	struct rt_conn_id id = {.gen = 1, .tgid = 100, .fd = fd};

	assert_int_equal(rec_data(f->w.pipe, &id, dir, ts, tid, s), 0);
}

static void test_from_http_bytes(void **state)
{
	struct fx *f = *state;
	struct conn in = conn_of(100, "10.0.0.2", 80, "10.0.0.9", 5555);
	struct conn out = conn_of(100, "10.0.0.2", 40000, "10.0.0.3", 8080);
	struct pipeline_opts o = {.max_series = 100, .max_conns = 16};
	struct rt_conn_id in_id = {.gen = 1, .tgid = 100, .fd = 3};
	uint64_t t = f->base;
	const struct span *srv = NULL, *cli = NULL, *srv2 = NULL;

	fx_tail(f, 0, NULL, 0);
	o.tracer = f->t;
	assert_int_equal(rec_world_open(&f->w, o), 0);
	e2e_open(f, 3, t, &in);
	e2e_open(f, 4, t, &out);

	e2e_feed(f, 3, RT_DIR_INGRESS, t, 7,
		 "GET /users/42?x=1 HTTP/1.1\r\nHost: shop:80\r\n"
		 "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n"
		 "tracestate: a=b\r\n\r\n");
	e2e_feed(f, 4, RT_DIR_EGRESS, t + 1 * MS, 7,
		 "GET /profile HTTP/1.1\r\nHost: api:8080\r\n\r\n");
	e2e_feed(f, 4, RT_DIR_INGRESS, t + 2 * MS, 7,
		 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->n, 0);
	e2e_feed(f, 3, RT_DIR_EGRESS, t + 3 * MS, 7,
		 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	/* the client's 404 is an error: the unsampled trace is kept whole */
	assert_int_equal(f->n, 2);
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].kind == SPAN_KIND_SERVER)
			srv = &f->v[i];
		else
			cli = &f->v[i];
	}
	assert_non_null(srv);
	assert_non_null(cli);
	assert_memory_equal(srv->trace_id, TP_TRACE, 16);
	assert_memory_equal(srv->parent_span_id, TP_PARENT, 8);
	assert_string_equal(span_get(srv, SPAN_TRACESTATE), "a=b");
	assert_int_equal(srv->sampled, 0);
	assert_int_equal(srv->status, SPAN_STATUS_UNSET);
	assert_string_equal(span_get(srv, SPAN_NAME), "GET /users/{id}");
	attr_str(srv, "url.path", "/users/42");
	attr_str(srv, "server.address", "shop");
	assert_memory_equal(cli->trace_id, TP_TRACE, 16);
	assert_memory_equal(cli->parent_span_id, srv->span_id, 8);
	assert_int_equal(cli->status, SPAN_STATUS_ERROR);
	attr_str(cli, "error.type", "404");
	assert_int_equal(srv->end_unix_ns - srv->start_unix_ns, 3 * MS);

	/* a server 404 is no error (dropped); a server 503 is */
	e2e_feed(f, 3, RT_DIR_INGRESS, t + 4 * MS, 7, "GET /missing HTTP/1.1\r\n\r\n");
	e2e_feed(f, 3, RT_DIR_EGRESS, t + 5 * MS, 7,
		 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->n, 2);
	e2e_feed(f, 3, RT_DIR_INGRESS, t + 6 * MS, 7, "GET /boom HTTP/1.1\r\n\r\n");
	e2e_feed(f, 3, RT_DIR_EGRESS, t + 7 * MS, 7,
		 "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->n, 3);
	srv2 = &f->v[2];
	assert_int_equal(srv2->status, SPAN_STATUS_ERROR);
	attr_str(srv2, "error.type", "503");
	attr_int(srv2, "http.response.status_code", 503);

	/* a request cut by the close: connection_closed */
	e2e_feed(f, 3, RT_DIR_INGRESS, t + 8 * MS, 7, "GET /cut HTTP/1.1\r\n\r\n");
	assert_int_equal(rec_close(f->w.pipe, &in_id, t + 9 * MS), 0);
	assert_int_equal(f->n, 4);
	attr_str(&f->v[3], "error.type", "connection_closed");
}

static void test_free_null(void **state)
{
	(void)state;
	tracer_free(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traceparent_valid),
	    cmocka_unit_test(test_traceparent_invalid),
	    cmocka_unit_test(test_traceparent_future_version),
	    cmocka_unit_test(test_traceparent_future_version_needs_dash),
	    T(test_server_new_trace_root),
	    T(test_server_continues_traceparent),
	    T(test_tracestate_needs_traceparent),
	    T(test_server_unsampled_parent),
	    T(test_client_child_of_server),
	    T(test_db_child_of_server),
	    T(test_db_without_server),
	    T(test_local_link),
	    T(test_local_link_client_root),
	    T(test_local_link_needs_same_conn),
	    T(test_local_link_ends_with_client),
	    T(test_client_with_traceparent),
	    T(test_names),
	    T(test_server_attributes),
	    T(test_grpc_and_http2_spans),
	    T(test_client_attributes),
	    T(test_statuses),
	    T(test_times),
	    T(test_tail_error_keeps_trace),
	    T(test_tail_no_error_drops),
	    T(test_tail_slow_root),
	    cmocka_unit_test(test_slow_list_parse),
	    T(test_tail_slow_per_route),
	    T(test_tail_critical_route),
	    T(test_tail_second_local_root),
	    T(test_tail_late_child_follows),
	    T(test_sweep_stale),
	    T(test_flush_on_shutdown),
	    T(test_sampling_rule_attr),
	    T(test_critical_floor),
	    T(test_adaptive_failing_route),
	    T(test_budget),
	    T(test_request_attrs),
	    T(test_critical_header),
	    T(test_baggage_attrs),
	    cmocka_unit_test(test_header_attrs_parse),
	    T(test_buffer_bound),
	    T(test_full_buffer_new_trace),
	    T(test_every_span_once),
	    T(test_from_http_bytes),
	    cmocka_unit_test(test_free_null),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
