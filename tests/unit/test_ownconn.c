// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_ownconn.c - the agent's own connections (user/proto/ownconn.c) and
 * how the pipeline leaves them out: the 4-tuple must match both ends
 * (IPv4 and IPv6), bad addresses are refused, the table keeps the last
 * OWNCONN_MAX connections; a selected collector's connection from the
 * agent's socket yields no exchange, is counted as redtap_connections_own
 * and stops the kernel's copying once, unless own_traffic is set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ownconn.h"
#include "records.h"

#define TGID 777

/* An IPv6 endpoint: ::1 or 2001:db8::n */
static struct rt_endpoint ep6(uint8_t last, bool loopback, uint16_t port)
{
	struct rt_endpoint e = {.port = port};

	if (!loopback) {
		e.addr[0] = 0x20;
		e.addr[1] = 0x01;
		e.addr[2] = 0x0d;
		e.addr[3] = 0xb8;
	}
	e.addr[15] = last;
	return e;
}

static void test_match_both_ends(void **state)
{
	struct rt_endpoint coll = rec_ep(127, 0, 0, 1, 4318), agent = rec_ep(127, 0, 0, 1, 51000);

	(void)state;
	ownconn_reset();
	assert_false(ownconn_match(&coll, &agent));
	assert_int_equal(ownconn_add("127.0.0.1", 51000, "127.0.0.1", 4318), 0);
	assert_true(ownconn_match(&coll, &agent));
	/* the agent's side seen from the agent, or one end only: no */
	assert_false(ownconn_match(&agent, &coll));
	agent.port = 51001;
	assert_false(ownconn_match(&coll, &agent));
	agent = rec_ep(10, 0, 0, 2, 51000);
	assert_false(ownconn_match(&coll, &agent));
	/* IPv6 */
	coll = ep6(1, true, 4318);
	agent = ep6(1, true, 52000);
	assert_false(ownconn_match(&coll, &agent));
	assert_int_equal(ownconn_add("::1", 52000, "::1", 4318), 0);
	assert_true(ownconn_match(&coll, &agent));
	coll = ep6(7, false, 4318);
	assert_false(ownconn_match(&coll, &agent));
	/* refused */
	assert_int_equal(ownconn_add("localhost", 1, "::1", 2), -EINVAL);
	assert_int_equal(ownconn_add("127.0.0.1", 0, "::1", 2), -EINVAL);
	assert_int_equal(ownconn_add("127.0.0.1", 1, "::1", 65536), -EINVAL);
	assert_int_equal(ownconn_add(NULL, 1, "::1", 2), -EINVAL);
}

static void test_bounded(void **state)
{
	struct rt_endpoint coll = rec_ep(127, 0, 0, 1, 4318), agent = rec_ep(127, 0, 0, 1, 20000);

	(void)state;
	ownconn_reset();
	for (int i = 0; i <= OWNCONN_MAX; i++) {
		assert_int_equal(ownconn_add("127.0.0.1", 20000 + i, "127.0.0.1", 4318), 0);
		/* a reused connection takes no new place */
		assert_int_equal(ownconn_add("127.0.0.1", 20000 + i, "127.0.0.1", 4318), 0);
	}
	assert_false(ownconn_match(&coll, &agent)); /* the oldest went */
	agent.port = 20001;
	assert_true(ownconn_match(&coll, &agent));
	agent.port = (uint16_t)(20000 + OWNCONN_MAX);
	assert_true(ownconn_match(&coll, &agent));
}

struct fx {
	struct rec_world w;
	unsigned opaque_calls;
};

static int set_opaque(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct fx *f = ctx;

	(void)tgid;
	(void)fd;
	(void)gen;
	f->opaque_calls++;
	return 0;
}

/* A selected collector receives two exports on the agent's connection
 * and one request from someone else. */
static void collector(bool own_traffic, uint64_t *exchanges, uint64_t *own, unsigned *opaque)
{
	static const char req[] =
	    "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct fx f = {0};
	struct pipeline_opts o = {.max_series = 100,
				  .max_conns = 16,
				  .own_traffic = own_traffic,
				  .hooks = {.set_opaque = set_opaque, .ctx = &f}};
	struct rt_conn_id agent = {.gen = 1, .tgid = TGID, .fd = 5};
	struct rt_conn_id other = {.gen = 1, .tgid = TGID, .fd = 6};
	struct pipeline_stats st;

	ownconn_reset();
	assert_int_equal(rec_world_open(&f.w, o), 0);
	assert_int_equal(rec_open(f.w.pipe, &agent, 1, rec_ep(127, 0, 0, 1, 4318),
				  rec_ep(127, 0, 0, 1, 53000), RT_ROLE_SERVER),
			 0);
	assert_int_equal(rec_open(f.w.pipe, &other, 1, rec_ep(127, 0, 0, 1, 4318),
				  rec_ep(127, 0, 0, 1, 53001), RT_ROLE_SERVER),
			 0);
	/* published after the accept, before the first byte is sent */
	assert_int_equal(ownconn_add("127.0.0.1", 53000, "127.0.0.1", 4318), 0);
	for (int i = 0; i < 2; i++) {
		rec_data(f.w.pipe, &agent, RT_DIR_INGRESS, 10 + i * 10, TGID, req);
		rec_data(f.w.pipe, &agent, RT_DIR_EGRESS, 11 + i * 10, TGID, resp);
	}
	rec_data(f.w.pipe, &other, RT_DIR_INGRESS, 30, TGID, req);
	rec_data(f.w.pipe, &other, RT_DIR_EGRESS, 31, TGID, resp);
	pipeline_stats(f.w.pipe, &st);
	*exchanges = st.exchanges;
	*own = st.conn_own;
	*opaque = f.opaque_calls;
	rec_world_close(&f.w);
}

static void test_pipeline_leaves_own_out(void **state)
{
	uint64_t exchanges, own;
	unsigned opaque;

	(void)state;
	collector(false, &exchanges, &own, &opaque);
	assert_int_equal(exchanges, 1); /* the other client's only */
	assert_int_equal(own, 1);
	assert_int_equal(opaque, 1); /* the kernel stops copying it, once */
	collector(true, &exchanges, &own, &opaque);
	assert_int_equal(exchanges, 3);
	assert_int_equal(own, 0);
	assert_int_equal(opaque, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_both_ends),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_pipeline_leaves_own_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
