// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_httptrack.c - fuzz target for the HTTP exchange tracker
 * (user/proto/httptrack.c) fed synthetic rt_data_event records in both
 * directions of one connection, as the kernel side would deliver them.
 *
 * Input: records of [u8 flags][u16 cap_len][u16 unseen][u8 ts step][data];
 * flags bit 0 is the direction, bit 1 sweeps after the record, bit 2 closes
 * the connection after it (the next record opens a fresh one), bit 3 takes a
 * different thread id. Each record is an exact-size heap buffer. Checks that
 * every on_start is matched by exactly one on_done, and the strings handed out.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "httptrack.h"
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
	t->open--;
	fuzz_check(t->open >= 0);
}

static const struct httptrack_callbacks cbs = {
    .on_start = on_start,
    .on_done = on_done,
};

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
	struct httptrack *h;
	struct conn c;
	uint64_t ts = 1000000000ull;
	uint32_t gen = 1;

	h = httptrack_new(routes(), &cbs, &tally);
	if (!h)
		abort();
	memset(&c, 0, sizeof(c));
	c.tgid = 4242;
	c.fd = 7;
	c.gen = gen;
	while (in.left) {
		unsigned flags = fuzz_take_u(&in, 1);
		size_t cap = fuzz_take_u(&in, 2);
		uint64_t unseen = fuzz_take_u(&in, 2);
		const uint8_t *p;
		struct rt_data_event *ev;

		ts += fuzz_take_u(&in, 1) * 1000000ull;
		p = fuzz_take(&in, &cap);
		ev = malloc(sizeof(*ev) + cap);
		if (!ev)
			abort();
		memset(ev, 0, sizeof(*ev));
		ev->hdr.ts = ts;
		ev->hdr.pid_tgid = (uint64_t)c.tgid << 32 | (flags & 8 ? 4243u : 4242u);
		ev->hdr.len = (uint32_t)(sizeof(*ev) + cap);
		ev->hdr.type = RT_EV_DATA;
		ev->hdr.version = RT_EVENT_VERSION;
		ev->conn.tgid = c.tgid;
		ev->conn.fd = c.fd;
		ev->conn.gen = gen;
		ev->len = cap + unseen;
		ev->cap_len = (uint32_t)cap;
		ev->dir = flags & 1 ? RT_DIR_EGRESS : RT_DIR_INGRESS;
		memcpy(ev->data, p, cap);
		httptrack_data(h, &c, ev);
		free(ev);
		if (flags & 2)
			httptrack_sweep(h, &c, ts + 60000000000ull);
		if (flags & 4) {
			httptrack_close(h, &c, ts);
			fuzz_check(tally.open == 0);
			fuzz_check(c.proto_state == NULL);
			memset(&c, 0, sizeof(c));
			c.tgid = 4242;
			c.fd = 7;
			c.gen = ++gen;
		}
	}
	httptrack_close(h, &c, ts + 1);
	fuzz_check(tally.open == 0);
	fuzz_check(c.proto_state == NULL);
	httptrack_free(h);
	return 0;
}
