// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_resp.c - CMocka tests of user/proto/resp.c: commands as arrays and
 * inline, pipelines, errors and their prefixes, MULTI/EXEC/DISCARD/WATCH,
 * SELECT, pub/sub in RESP2 and RESP3 (no phantom operations), HELLO 3 and
 * every RESP3 type, blocking commands, split reads at every byte, capture
 * gaps, garbage, and detection against HTTP, TLS, PostgreSQL and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resp.h"

#define OPS_MAX 256

struct rec {
	struct resp_op ops[OPS_MAX];
	char ns[OPS_MAX][8];
	int n;
	int errors[RESP_E_MAX];
};

static void on_op(void *ctx, const struct resp_op *op)
{
	struct rec *r = ctx;

	assert_true(r->n < OPS_MAX);
	assert_true(op->end_ns >= op->start_ns);
	assert_non_null(op->operation);
	r->ops[r->n] = *op;
	snprintf(r->ns[r->n], sizeof(r->ns[0]), "%s", op->namespace_);
	r->ops[r->n].namespace_ = r->ns[r->n];
	r->n++;
}

static void on_error(void *ctx, enum resp_error e)
{
	struct rec *r = ctx;

	assert_true((unsigned)e < RESP_E_MAX);
	r->errors[e]++;
}

static const struct resp_callbacks cbs = {on_op, on_error};

static struct resp_conn *conn(struct rec *r, bool from_start)
{
	struct resp_conn *c;

	memset(r, 0, sizeof(*r));
	c = resp_new(&cbs, r, from_start);
	assert_non_null(c);
	return c;
}

static void cli(struct resp_conn *c, const char *s, uint64_t ts)
{
	resp_feed(c, RESP_CLIENT, (const uint8_t *)s, strlen(s), strlen(s), ts);
}

static void srv(struct resp_conn *c, const char *s, uint64_t ts)
{
	resp_feed(c, RESP_SERVER, (const uint8_t *)s, strlen(s), strlen(s), ts);
}

static int total_errors(const struct rec *r)
{
	int i, n = 0;

	for (i = 0; i < RESP_E_MAX; i++)
		n += r->errors[i];
	return n;
}

static void expect_op(const struct rec *r, int i, const char *op, enum resp_status st,
		      const char *err)
{
	assert_true(i < r->n);
	assert_string_equal(r->ops[i].operation, op);
	assert_int_equal(r->ops[i].status, st);
	assert_string_equal(r->ops[i].error, err);
}

#define SET_A "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
#define GET_A "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"

static void test_detect(void **state)
{
	static const char *const client[] = {SET_A, "*1\r\n$4\r\nping\r\n", "PING\r\n",
					     "set k v\r\n"};
	static const char *const server[] = {"+OK\r\n",
					     "-ERR unknown command\r\n",
					     ":42\r\n",
					     "$5\r\nhello\r\n",
					     "*2\r\n:1\r\n:2\r\n",
					     "%1\r\n+a\r\n:1\r\n",
					     "$-1\r\n",
					     "#t\r\n"};
	static const char *const neither[] = {
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "POST /api HTTP/1.1\r\n",
	    "HTTP/1.1 200 OK\r\n",
	    "DELETE /x HTTP/1.1\r\n",
	    "SSH-2.0-OpenSSH_9.2\r\n",
	    "*2\r\n$3\r\nFOO\r\n$1\r\na\r\n", /* an array reply, not a command... */
	    "+\r\n",
	    "-err lower\r\n",
	    ":12a\r\n",
	};
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
	static const uint8_t pg[] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
	static const uint8_t pgq[] = {'Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0};
	uint8_t rnd[64];
	unsigned i, seed = 3;

	(void)state;
	for (i = 0; i < sizeof(client) / sizeof(client[0]); i++)
		assert_int_equal(resp_detect((const uint8_t *)client[i], strlen(client[i])),
				 RESP_DETECT_CLIENT);
	for (i = 0; i < sizeof(server) / sizeof(server[0]); i++)
		assert_int_equal(resp_detect((const uint8_t *)server[i], strlen(server[i])),
				 RESP_DETECT_SERVER);
	/* the array of an unknown command is taken for a reply: only index 5 */
	for (i = 0; i < sizeof(neither) / sizeof(neither[0]); i++) {
		enum resp_detect d = resp_detect((const uint8_t *)neither[i], strlen(neither[i]));

		if (i == 5)
			assert_int_equal(d, RESP_DETECT_SERVER);
		else
			assert_int_equal(d, RESP_DETECT_NONE);
	}
	assert_int_equal(resp_detect((const uint8_t *)"*3\r\n$3\r\nSE", 10), RESP_DETECT_MORE);
	assert_int_equal(resp_detect((const uint8_t *)"PIN", 3), RESP_DETECT_MORE);
	assert_int_equal(resp_detect(tls, sizeof(tls)), RESP_DETECT_NONE);
	assert_int_equal(resp_detect(pg, sizeof(pg)), RESP_DETECT_NONE);
	assert_int_equal(resp_detect(pgq, sizeof(pgq)), RESP_DETECT_NONE);
	for (i = 0; i < 20000; i++) {
		unsigned j;
		enum resp_detect d;

		for (j = 0; j < sizeof(rnd); j++) {
			seed = seed * 1103515245 + 12345;
			rnd[j] = (uint8_t)(seed >> 16);
		}
		d = resp_detect(rnd, sizeof(rnd));
		assert_true(d == RESP_DETECT_NONE || d == RESP_DETECT_MORE);
	}
}

static void test_get_set(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, SET_A, 100);
	srv(c, "+OK\r\n", 150);
	cli(c, "*2\r\n$3\r\nget\r\n$1\r\na\r\n", 200);
	srv(c, "$1\r\n1\r\n", 210);
	cli(c, "*2\r\n$10\r\nFROBNICATE\r\n$1\r\na\r\n", 300);
	srv(c, "-ERR unknown command 'FROBNICATE'\r\n", 310);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "SET", RESP_OK, "");
	assert_int_equal(r.ops[0].start_ns, 100);
	assert_int_equal(r.ops[0].end_ns, 150);
	assert_string_equal(r.ops[0].namespace_, "0");
	expect_op(&r, 1, "GET", RESP_OK, "");
	expect_op(&r, 2, "_OTHER", RESP_FAILED, "ERR");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_pipeline(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[4096] = "";
	int i;

	(void)state;
	for (i = 0; i < 16; i++)
		strcat(buf, i == 5 ? "*2\r\n$4\r\nLPOP\r\n$1\r\na\r\n" : GET_A);
	cli(c, buf, 100);
	buf[0] = 0;
	for (i = 0; i < 16; i++)
		strcat(buf, i == 5 ? "-WRONGTYPE Operation against a key holding the wrong kind\r\n"
				   : "$1\r\n1\r\n");
	srv(c, buf, 200);
	assert_int_equal(r.n, 16);
	for (i = 0; i < 16; i++)
		if (i == 5)
			expect_op(&r, i, "LPOP", RESP_FAILED, "WRONGTYPE");
		else
			expect_op(&r, i, "GET", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_multi_exec(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, "*1\r\n$5\r\nMULTI\r\n", 100);
	srv(c, "+OK\r\n", 101);
	cli(c, SET_A, 102);
	srv(c, "+QUEUED\r\n", 103);
	cli(c, "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n", 104);
	srv(c, "+QUEUED\r\n", 105);
	assert_int_equal(r.n, 1); /* QUEUED is no completion */
	cli(c, "*1\r\n$4\r\nEXEC\r\n", 106);
	srv(c, "*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n", 110);
	assert_int_equal(r.n, 4);
	expect_op(&r, 0, "MULTI", RESP_OK, "");
	expect_op(&r, 1, "SET", RESP_OK, "");
	assert_int_equal(r.ops[1].start_ns, 102);
	assert_int_equal(r.ops[1].end_ns, 110);
	expect_op(&r, 2, "INCR", RESP_FAILED, "ERR");
	expect_op(&r, 3, "EXEC", RESP_OK, "");

	/* DISCARD: nothing ran */
	cli(c, "*1\r\n$5\r\nMULTI\r\n" SET_A "*1\r\n$7\r\nDISCARD\r\n", 200);
	srv(c, "+OK\r\n+QUEUED\r\n+OK\r\n", 210);
	assert_int_equal(r.n, 7);
	expect_op(&r, 5, "SET", RESP_ABORTED, "");
	expect_op(&r, 6, "DISCARD", RESP_OK, "");

	/* an error at queue time: EXECABORT */
	cli(c, "*1\r\n$5\r\nMULTI\r\n*1\r\n$3\r\nXYZ\r\n" SET_A "*1\r\n$4\r\nEXEC\r\n", 300);
	srv(c, "+OK\r\n-ERR unknown command\r\n+QUEUED\r\n-EXECABORT Transaction discarded\r\n",
	    310);
	assert_int_equal(r.n, 11);
	expect_op(&r, 8, "_OTHER", RESP_FAILED, "ERR");
	expect_op(&r, 9, "SET", RESP_ABORTED, "");
	expect_op(&r, 10, "EXEC", RESP_FAILED, "EXECABORT");

	/* WATCH made EXEC return nil */
	cli(c, "*1\r\n$5\r\nMULTI\r\n" SET_A "*1\r\n$4\r\nEXEC\r\n", 400);
	srv(c, "+OK\r\n+QUEUED\r\n*-1\r\n", 410);
	assert_int_equal(r.n, 14);
	expect_op(&r, 12, "SET", RESP_ABORTED, "");
	expect_op(&r, 13, "EXEC", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_select(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, false);

	(void)state;
	cli(c, GET_A, 1);
	srv(c, "$-1\r\n", 2);
	assert_string_equal(r.ops[0].namespace_, ""); /* attached late: unknown */
	cli(c, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", 3);
	srv(c, "+OK\r\n", 4);
	cli(c, "*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n", 5);
	srv(c, "-ERR DB index is out of range\r\n", 6);
	cli(c, GET_A, 7);
	srv(c, "$-1\r\n", 8);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.ops[1].namespace_, "3");
	expect_op(&r, 2, "SELECT", RESP_FAILED, "ERR");
	assert_string_equal(r.ops[3].namespace_, "3");
	resp_free(c);
}

static void test_pubsub_resp2(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n", 100);
	srv(c, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 101);
	srv(c, "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n", 102);
	srv(c, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n", 103);
	srv(c, "*4\r\n$8\r\npmessage\r\n$2\r\nb*\r\n$1\r\nb\r\n$2\r\nyo\r\n", 104);
	srv(c, "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$7\r\nmessage\r\n", 105);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "SUBSCRIBE", RESP_OK, "");
	assert_int_equal(r.ops[0].end_ns, 101);
	cli(c, "*1\r\n$4\r\nPING\r\n", 200);
	srv(c, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n", 201);
	srv(c, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", 202);
	cli(c, "*1\r\n$11\r\nUNSUBSCRIBE\r\n", 300);
	srv(c, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n", 301);
	srv(c, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n", 302);
	assert_int_equal(r.n, 3);
	expect_op(&r, 1, "PING", RESP_OK, "");
	assert_int_equal(r.ops[1].end_ns, 202);
	expect_op(&r, 2, "UNSUBSCRIBE", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_resp3(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", 100);
	srv(c, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n", 101);
	cli(c, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n", 102);
	srv(c, ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 103);
	cli(c, "*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n", 104);
	/* a push between a command and its reply, then the reply with an attribute */
	srv(c, ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n", 105);
	srv(c, "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n", 106);
	srv(c,
	    "%2\r\n+f\r\n~2\r\n#t\r\n_\r\n+g\r\n(3492890328409238509324850943850943825024385\r\n",
	    107);
	cli(c, "*1\r\n$4\r\nINFO\r\n*1\r\n$3\r\nBAD\r\n*1\r\n$4\r\nTIME\r\n", 108);
	srv(c, "=15\r\ntxt:Some string\r\n!21\r\nSYNTAX invalid syntax\r\n*2\r\n:1\r\n:2\r\n", 109);
	assert_int_equal(r.n, 6);
	expect_op(&r, 0, "HELLO", RESP_OK, "");
	expect_op(&r, 1, "SUBSCRIBE", RESP_OK, "");
	expect_op(&r, 2, "HGETALL", RESP_OK, "");
	assert_int_equal(r.ops[2].end_ns, 107);
	expect_op(&r, 3, "INFO", RESP_OK, "");
	expect_op(&r, 4, "_OTHER", RESP_FAILED, "SYNTAX");
	expect_op(&r, 5, "TIME", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_blocking_and_inline(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n", 1000);
	srv(c, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n", 51000);
	cli(c, "PING\r\n", 60000);
	srv(c, "+PONG\r\n", 60001);
	cli(c, "set k v\r\n\r\nGET k\n", 60002);
	srv(c, "+OK\r\n$1\r\nv\r\n", 60003);
	assert_int_equal(r.n, 4);
	expect_op(&r, 0, "BLPOP", RESP_OK, "");
	assert_int_equal(r.ops[0].end_ns - r.ops[0].start_ns, 50000);
	expect_op(&r, 1, "PING", RESP_OK, "");
	expect_op(&r, 2, "SET", RESP_OK, "");
	expect_op(&r, 3, "GET", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_split_every_byte(void **state)
{
	static const char req[] = "*1\r\n$5\r\nMULTI\r\n" SET_A GET_A "*1\r\n$4\r\nEXEC\r\n" GET_A
				  "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n" GET_A;
	static const char ans[] = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n1\r\n"
				  "-MOVED 3999 127.0.0.1:6381\r\n+OK\r\n$3\r\nabc\r\n";
	struct rec whole, bytes;
	struct resp_conn *c;
	size_t i;
	int k;

	(void)state;
	c = conn(&whole, true);
	cli(c, req, 1);
	srv(c, ans, 2);
	resp_free(c);
	assert_int_equal(whole.n, 7);
	expect_op(&whole, 4, "GET", RESP_FAILED, "MOVED");
	assert_string_equal(whole.ops[6].namespace_, "2");

	c = conn(&bytes, true);
	for (i = 0; i < strlen(req); i++)
		resp_feed(c, RESP_CLIENT, (const uint8_t *)req + i, 1, 1, 1);
	for (i = 0; i < strlen(ans); i++)
		resp_feed(c, RESP_SERVER, (const uint8_t *)ans + i, 1, 1, 2);
	resp_free(c);
	assert_int_equal(bytes.n, whole.n);
	for (k = 0; k < whole.n; k++) {
		assert_string_equal(bytes.ops[k].operation, whole.ops[k].operation);
		assert_int_equal(bytes.ops[k].status, whole.ops[k].status);
		assert_string_equal(bytes.ops[k].error, whole.ops[k].error);
		assert_string_equal(bytes.ops[k].namespace_, whole.ops[k].namespace_);
	}
	assert_int_equal(total_errors(&whole) + total_errors(&bytes), 0);
}

static void test_gap_in_bulk(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	static char big[20000];

	(void)state;
	cli(c, GET_A, 100);
	snprintf(big, sizeof(big), "$10000\r\n");
	memset(big + 8, 'x', 10000);
	memcpy(big + 10008, "\r\n", 3);
	/* a 64-byte capture of the value; the rest, the CRLF included, unseen */
	resp_feed(c, RESP_SERVER, (const uint8_t *)big, 64, 10010, 110);
	cli(c, SET_A, 200);
	srv(c, "+OK\r\n", 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 0, "GET", RESP_OK, "");
	assert_int_equal(r.ops[0].end_ns, 110);
	expect_op(&r, 1, "SET", RESP_OK, "");
	assert_int_equal(total_errors(&r), 0);
	resp_free(c);
}

static void test_gap_hides_replies(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[8192] = "*500\r\n";
	int i;

	(void)state;
	cli(c, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n", 100);
	for (i = 0; i < 500; i++)
		strcat(buf, ":1\r\n");
	resp_feed(c, RESP_SERVER, (const uint8_t *)buf, 100, strlen(buf), 110);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.errors[RESP_E_GAP], 1);
	cli(c, GET_A, 200); /* the client sends again: LRANGE was answered */
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "LRANGE", RESP_UNKNOWN, "");
	assert_int_equal(r.ops[0].end_ns, 110);
	srv(c, "$1\r\n1\r\n", 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 1, "GET", RESP_OK, "");
	resp_free(c);
}

/* n pipelined copies of cmd in buf (size 8192) */
static size_t pipeline(char *buf, const char *cmd, int n)
{
	buf[0] = 0;
	while (n--)
		strcat(buf, cmd);
	return strlen(buf);
}

/*
 * A pipelined write longer than the capture: the commands in the prefix keep
 * their names, each reply beyond them answers one the gap hid (the replies are
 * the ground truth): the count is exact, the hidden names unknown.
 */
static void test_client_gap(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[8192];
	size_t len;
	int i;

	(void)state;
	len = pipeline(buf, SET_A, 16); /* 29 bytes each: 3 whole in the first 100 */
	resp_feed(c, RESP_CLIENT, (const uint8_t *)buf, 100, len, 100);
	assert_int_equal(r.errors[RESP_E_GAP], 1);
	assert_int_equal(r.n, 0);
	pipeline(buf, "+OK\r\n", 15);
	strcat(buf, "-OOM no memory\r\n");
	srv(c, buf, 110);
	assert_int_equal(r.n, 16);
	for (i = 0; i < 3; i++)
		expect_op(&r, i, "SET", RESP_OK, "");
	for (i = 3; i < 15; i++) {
		expect_op(&r, i, "", RESP_OK, "");
		assert_int_equal(r.ops[i].start_ns, 100);
		assert_int_equal(r.ops[i].end_ns, 110);
	}
	expect_op(&r, 15, "", RESP_FAILED, "OOM");
	cli(c, GET_A, 200);
	srv(c, "$1\r\n1\r\n", 210);
	assert_int_equal(r.n, 17);
	expect_op(&r, 16, "GET", RESP_OK, "");
	assert_int_equal(r.errors[RESP_E_UNEXPECTED], 0);
	assert_int_equal(r.errors[RESP_E_OPS_LOST], 0);
	resp_free(c);
}

/* The replies arrive over several reads, split anywhere: the same count. */
static void test_client_gap_split_replies(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[8192];
	size_t len, i;

	(void)state;
	len = pipeline(buf, GET_A, 64);
	resp_feed(c, RESP_CLIENT, (const uint8_t *)buf, 256, len, 100);
	len = pipeline(buf, "$1\r\n1\r\n", 64);
	for (i = 0; i < len; i += 5)
		resp_feed(c, RESP_SERVER, (const uint8_t *)buf + i, len - i < 5 ? len - i : 5,
			  len - i < 5 ? len - i : 5, 110 + i);
	assert_int_equal(r.n, 64);
	expect_op(&r, 0, "GET", RESP_OK, "");
	expect_op(&r, 63, "", RESP_OK, "");
	assert_int_equal(total_errors(&r), 1); /* the gap */
	resp_free(c);
}

/*
 * Both sides lose framing: the replies the capture hid answered an unknown
 * number of hidden commands. Nothing is invented; the loss is counted.
 */
static void test_client_gap_reply_gap(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[8192];
	size_t len;

	(void)state;
	len = pipeline(buf, SET_A, 64);
	resp_feed(c, RESP_CLIENT, (const uint8_t *)buf, 100, len, 100);
	len = pipeline(buf, "+OK\r\n", 64);
	resp_feed(c, RESP_SERVER, (const uint8_t *)buf, 100, len, 110);
	assert_int_equal(r.errors[RESP_E_GAP], 2);
	assert_int_equal(r.errors[RESP_E_OPS_LOST], 1);
	assert_int_equal(r.n, 20); /* 3 named + 17 hidden, all seen in the first 100 bytes */
	cli(c, GET_A, 200);
	srv(c, "$1\r\n1\r\n", 210);
	assert_int_equal(r.n, 21);
	expect_op(&r, 20, "GET", RESP_OK, "");
	resp_free(c);
}

/*
 * A client that sends again before the replies to what the gap hid arrived:
 * the rest of the old queue cannot be matched any more; it is dropped and
 * counted, and the new commands are matched from their own replies on.
 */
static void test_client_gap_no_wait(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	char buf[8192];
	size_t len;

	(void)state;
	len = pipeline(buf, SET_A, 16);
	resp_feed(c, RESP_CLIENT, (const uint8_t *)buf, 100, len, 100);
	srv(c, "+OK\r\n", 110);
	assert_int_equal(r.n, 1);
	cli(c, GET_A, 200);
	assert_int_equal(r.errors[RESP_E_OPS_LOST], 1);
	srv(c, "$1\r\n1\r\n", 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 1, "GET", RESP_OK, "");
	resp_free(c);
}

/* Garbage (not a gap) on the client side still drops the queue: nothing to match. */
static void test_client_garbage_drops_queue(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, SET_A, 100);
	cli(c, "*x\r\n", 101);
	assert_int_equal(r.errors[RESP_E_BAD_LENGTH], 1);
	assert_int_equal(r.errors[RESP_E_OPS_LOST], 1);
	srv(c, "+OK\r\n+OK\r\n", 110);
	assert_int_equal(r.n, 0);
	resp_free(c);
}

static void test_close_pending(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);

	(void)state;
	cli(c, "*1\r\n$5\r\nMULTI\r\n" SET_A "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n", 1);
	srv(c, "+OK\r\n+QUEUED\r\n", 2);
	resp_close(c, 9);
	assert_int_equal(r.n, 3);
	expect_op(&r, 1, "SET", RESP_CLOSED, "");
	expect_op(&r, 2, "BLPOP", RESP_CLOSED, "");
	assert_int_equal(r.ops[2].end_ns, 9);
	resp_free(c);
	resp_free(NULL);
}

static void test_garbage(void **state)
{
	struct rec r;
	struct resp_conn *c = conn(&r, true);
	uint8_t rnd[2048];
	unsigned seed = 11, i, j;

	(void)state;
	for (i = 0; i < 300; i++) {
		for (j = 0; j < sizeof(rnd); j++) {
			seed = seed * 1103515245 + 12345;
			rnd[j] = (uint8_t)(seed >> 16);
		}
		resp_feed(c, i % 2 ? RESP_SERVER : RESP_CLIENT, rnd, 1 + seed % sizeof(rnd),
			  sizeof(rnd) * 2, i);
	}
	resp_close(c, 1000);
	assert_int_equal(r.n, 0);
	assert_true(total_errors(&r) > 0);
	resp_free(c);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(resp_command_name("get", 3), "GET");
	assert_string_equal(resp_command_name("zrangebyscore", 13), "ZRANGEBYSCORE");
	assert_string_equal(resp_command_name("EVAL_RO", 7), "EVAL_RO");
	assert_string_equal(resp_command_name("GETX", 4), "_OTHER");
	assert_string_equal(resp_command_name("user:42", 7), "_OTHER");
	assert_string_equal(resp_command_name("", 0), "_OTHER");
	assert_string_equal(resp_error_name(RESP_E_GAP), "gap");
	assert_string_equal(resp_error_name(RESP_E_MAX), "unknown");
	assert_string_equal(resp_status_name(RESP_ABORTED), "aborted");
	for (int i = 0; i < RESP_E_MAX; i++)
		assert_non_null(resp_error_name(i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_get_set),
	    cmocka_unit_test(test_pipeline),
	    cmocka_unit_test(test_multi_exec),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_pubsub_resp2),
	    cmocka_unit_test(test_resp3),
	    cmocka_unit_test(test_blocking_and_inline),
	    cmocka_unit_test(test_split_every_byte),
	    cmocka_unit_test(test_gap_in_bulk),
	    cmocka_unit_test(test_gap_hides_replies),
	    cmocka_unit_test(test_client_gap),
	    cmocka_unit_test(test_client_gap_split_replies),
	    cmocka_unit_test(test_client_gap_reply_gap),
	    cmocka_unit_test(test_client_gap_no_wait),
	    cmocka_unit_test(test_client_garbage_drops_queue),
	    cmocka_unit_test(test_close_pending),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
