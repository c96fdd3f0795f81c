// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http2.c - fuzz target for HTTP/2 and gRPC (user/proto/http2.c,
 * http2_protocol with nghttp2's HPACK inflater, run by a proto_set ahead of
 * http1_protocol as the pipeline does) fed synthetic chunks in both
 * directions of one connection, as the kernel side would deliver them.
 *
 * Input: records of [u8 flags][u16 cap_len][u16 unseen][u8 ts step][data];
 * flags bit 0 is the direction, bit 1 sweeps after the record, bit 2 closes
 * the connection after it (the next record opens a fresh one), bit 3 takes a
 * different thread id. Each record is an exact-size heap buffer. Checks that
 * every start is matched by exactly one done, the strings handed out, the
 * gRPC fields, that parse error reasons are in range, and that no stream
 * entry outlives its connection. Seeds in corpus/http2/ start with the
 * connection preface.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "http2.h"
#include "httptrack.h"
#include "protocol.h"
#include "route.h"

struct tally {
	long open; /* on_start not yet matched by on_done */
};

static void check_str(const char *s, size_t n)
{
	fuzz_check(fuzz_has_nul(s, n));
}

static void on_start(void *ctx, struct http_exchange *x)
{
	struct tally *t = ctx;

	check_str(x->path, sizeof(x->path));
	check_str(x->host, sizeof(x->host));
	t->open++;
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct tally *t = ctx;

	check_str(x->route, sizeof(x->route));
	check_str(x->path, sizeof(x->path));
	check_str(x->traceparent, sizeof(x->traceparent));
	check_str(x->tracestate, sizeof(x->tracestate));
	fuzz_check(x->status == 0 || (x->status >= 100 && x->status <= 599));
	fuzz_check(x->end_ns >= x->start_ns);
	fuzz_check(x->grpc_status >= -1 && x->grpc_status <= 999);
	fuzz_check(x->grpc_type <= GRPC_BIDI_STREAM);
	t->open--;
	fuzz_check(t->open >= 0);
}

static void on_parse_error(void *ctx, const struct protocol *p, unsigned reason)
{
	(void)ctx;
	fuzz_check((p == &http1_protocol && reason < HTTP1_E_MAX) ||
		   (p == &http2_protocol && reason < H2_E_MAX));
}

static struct route_table *routes(void)
{
	static struct route_table *rt;

	if (!rt) {
		rt = route_table_new();
		if (!rt || route_table_add(rt, "/users/{id}") || route_table_add(rt, "/static/*"))
			abort();
	}
	return rt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct tally tally = {0};
	struct proto_sink sink = {
	    .http_start = on_start,
	    .http_done = on_done,
	    .parse_error = on_parse_error,
	    .ctx = &tally,
	};
	struct proto_env env = {.sink = &sink, .routes = routes()};
	struct proto_set set = {0};
	struct conn c;
	uint64_t ts = 1000000000ull;
	uint32_t gen = 1;

	if (proto_set_add(&set, &http2_protocol, &env) ||
	    proto_set_add(&set, &http1_protocol, &env))
		abort();
	memset(&c, 0, sizeof(c));
	c.tgid = 4242;
	c.fd = 7;
	c.gen = gen;
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
			memset(&c, 0, sizeof(c));
			c.tgid = 4242;
			c.fd = 7;
			c.gen = ++gen;
		}
	}
	proto_set_close(&set, &c, ts + 1);
	fuzz_check(tally.open == 0);
	fuzz_check(c.proto_state == NULL);
	fuzz_check(http2_streams_allocated(set.inst[0]) == 0);
	proto_set_release(&set);
	return 0;
}
