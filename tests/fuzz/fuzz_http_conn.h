/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz_http_conn.h - the driver the HTTP fuzz targets (fuzz_httptrack.c,
 * fuzz_http2.c) share: a proto_set of the given protocols, run as the
 * pipeline runs it, fed synthetic chunks in both directions of one
 * connection as the kernel side would deliver them.
 *
 * Input: records of [u8 flags][u16 cap_len][u16 unseen][u8 ts step][data];
 * flags bit 0 is the direction, bit 1 sweeps after the record, bit 2 closes
 * the connection after it (the next record opens a fresh one), bit 3 takes a
 * different thread id. Each record is an exact-size heap buffer. Checks that
 * every start is matched by exactly one done, the strings and gRPC fields
 * handed out, and that parse error reasons are in range.
 */
#ifndef REDTAP_FUZZ_HTTP_CONN_H
#define REDTAP_FUZZ_HTTP_CONN_H

#include <stdbool.h>

#include "fuzz.h"
#include "http2.h"
#include "httptrack.h"
#include "protocol.h"
#include "route.h"

struct fuzz_http_tally {
	long open; /* http_start not yet matched by http_done */
};

static void fuzz_http_check_str(const char *s, size_t n)
{
	fuzz_check(fuzz_has_nul(s, n));
}

static void fuzz_http_on_start(void *ctx, struct http_exchange *x)
{
	struct fuzz_http_tally *t = ctx;

	fuzz_http_check_str(x->path, sizeof(x->path));
	fuzz_http_check_str(x->host, sizeof(x->host));
	t->open++;
}

static void fuzz_http_on_done(void *ctx, const struct http_exchange *x)
{
	struct fuzz_http_tally *t = ctx;

	fuzz_http_check_str(x->route, sizeof(x->route));
	fuzz_http_check_str(x->path, sizeof(x->path));
	fuzz_http_check_str(x->traceparent, sizeof(x->traceparent));
	fuzz_http_check_str(x->tracestate, sizeof(x->tracestate));
	fuzz_check(x->status == 0 || (x->status >= 100 && x->status <= 599));
	fuzz_check(x->end_ns >= x->start_ns);
	fuzz_check(x->grpc_status >= -1 && x->grpc_status <= 999);
	fuzz_check(x->grpc_type <= GRPC_BIDI_STREAM);
	t->open--;
	fuzz_check(t->open >= 0);
}

static void fuzz_http_on_parse_error(void *ctx, const struct protocol *p, unsigned reason)
{
	(void)ctx;
	fuzz_check((p == &http1_protocol && reason < HTTP1_E_MAX) ||
		   (p == &http2_protocol && reason < H2_E_MAX));
}

static struct route_table *fuzz_http_routes(void)
{
	static struct route_table *rt;

	if (!rt) {
		rt = route_table_new();
		if (!rt || route_table_add(rt, "/users/{id}") || route_table_add(rt, "/static/*"))
			abort();
	}
	return rt;
}

static void fuzz_http_reset(struct conn *c, uint32_t gen)
{
	memset(c, 0, sizeof(*c));
	c->tgid = 4242;
	c->fd = 7;
	c->gen = gen;
}

/* Runs one input through a proto_set of protos[0..n); after the last
 * record the connection is closed and done(set) may check what is left. */
static int fuzz_http_run(const uint8_t *data, size_t size, const struct protocol *const *protos,
			 size_t n, void (*done)(struct proto_set *set))
{
	struct fuzz_in in = {data, size};
	struct fuzz_http_tally tally = {0};
	struct proto_sink sink = {
	    .http_start = fuzz_http_on_start,
	    .http_done = fuzz_http_on_done,
	    .parse_error = fuzz_http_on_parse_error,
	    .ctx = &tally,
	};
	struct proto_env env = {.sink = &sink, .routes = fuzz_http_routes()};
	struct proto_set set = {0};
	struct conn c;
	uint64_t ts = 1000000000ull;
	uint32_t gen = 1;

	for (size_t i = 0; i < n; i++)
		if (proto_set_add(&set, protos[i], &env))
			abort();
	fuzz_http_reset(&c, gen);
	while (in.left) {
		unsigned flags = fuzz_take_u(&in, 1);
		size_t cap = fuzz_take_u(&in, 2);
		uint64_t unseen = fuzz_take_u(&in, 2);
		uint8_t *copy;
		struct proto_chunk ch;

		ts += fuzz_take_u(&in, 1) * 1000000ull;
		copy = fuzz_take_copy(&in, &cap);
		ch = (struct proto_chunk){
		    .data = copy,
		    .cap_len = cap,
		    .len = cap + unseen,
		    .ts = ts,
		    .tid = flags & 8 ? 4243u : 4242u,
		    .dir = flags & 1 ? RT_DIR_EGRESS : RT_DIR_INGRESS,
		};
		proto_set_feed(&set, &c, &ch);
		free(copy);
		if (flags & 2)
			proto_set_sweep(&set, &c, ts + 60000000000ull);
		if (flags & 4) {
			proto_set_close(&set, &c, ts);
			fuzz_check(tally.open == 0);
			fuzz_check(c.proto_state == NULL);
			fuzz_http_reset(&c, ++gen);
		}
	}
	proto_set_close(&set, &c, ts + 1);
	fuzz_check(tally.open == 0);
	fuzz_check(c.proto_state == NULL);
	if (done)
		done(&set);
	proto_set_release(&set);
	return 0;
}

#endif
