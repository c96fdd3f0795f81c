// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pgwire.c - CMocka tests of user/proto/pgwire.c: start-up and SSL,
 * simple queries with several statements, the extended protocol with
 * pipelines and prepared statements, errors and what the server skips after
 * them, COPY, FunctionCall, messages that are not answers, split reads at
 * every byte, capture gaps, garbage, and detection against HTTP, TLS, RESP
 * and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pgwire.h"

/* ---- message builders -------------------------------------------------------------------- */

struct buf {
	uint8_t d[65536];
	size_t n;
	size_t mstart;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = {v >> 8, v & 0xff};

	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};

	put(b, x, 4);
}

static void putz(struct buf *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

/* type 0: untyped (start-up packet). */
static void begin(struct buf *b, char type)
{
	if (type)
		put8(b, (uint8_t)type);
	b->mstart = b->n;
	put32(b, 0);
}

static void end(struct buf *b)
{
	uint32_t l = (uint32_t)(b->n - b->mstart);

	b->d[b->mstart] = l >> 24;
	b->d[b->mstart + 1] = (l >> 16) & 0xff;
	b->d[b->mstart + 2] = (l >> 8) & 0xff;
	b->d[b->mstart + 3] = l & 0xff;
}

static void startup(struct buf *b, const char *user, const char *db)
{
	begin(b, 0);
	put32(b, 196608);
	putz(b, "user");
	putz(b, user);
	if (db) {
		putz(b, "database");
		putz(b, db);
	}
	putz(b, "application_name");
	putz(b, "test");
	put8(b, 0);
	end(b);
}

static void fe_str(struct buf *b, char type, const char *s)
{
	begin(b, type);
	putz(b, s);
	end(b);
}

static void empty(struct buf *b, char type)
{
	begin(b, type);
	end(b);
}

static void parse(struct buf *b, const char *name, const char *sql)
{
	begin(b, 'P');
	putz(b, name);
	putz(b, sql);
	put16(b, 0);
	end(b);
}

static void bind(struct buf *b, const char *portal, const char *stmt)
{
	begin(b, 'B');
	putz(b, portal);
	putz(b, stmt);
	put16(b, 0);
	put16(b, 1);
	put32(b, 2);
	put(b, "42", 2);
	put16(b, 0);
	end(b);
}

static void describe_(struct buf *b, char what, const char *name)
{
	begin(b, 'D');
	put8(b, (uint8_t)what);
	putz(b, name);
	end(b);
}

static void close_(struct buf *b, char what, const char *name)
{
	begin(b, 'C');
	put8(b, (uint8_t)what);
	putz(b, name);
	end(b);
}

static void execute(struct buf *b, const char *portal)
{
	begin(b, 'E');
	putz(b, portal);
	put32(b, 0);
	end(b);
}

static void ready(struct buf *b)
{
	begin(b, 'Z');
	put8(b, 'I');
	end(b);
}

static void auth_ok(struct buf *b)
{
	begin(b, 'R');
	put32(b, 0);
	end(b);
	begin(b, 'S');
	putz(b, "server_version");
	putz(b, "15.5");
	end(b);
	begin(b, 'K');
	put32(b, 1234);
	put32(b, 5678);
	end(b);
	ready(b);
}

static void row_desc(struct buf *b)
{
	begin(b, 'T');
	put16(b, 1);
	putz(b, "x");
	put32(b, 0);
	put16(b, 0);
	put32(b, 23);
	put16(b, 4);
	put32(b, 0xffffffff);
	put16(b, 0);
	end(b);
}

static void data_row(struct buf *b, size_t vlen)
{
	size_t i;

	begin(b, 'D');
	put16(b, 1);
	put32(b, (uint32_t)vlen);
	for (i = 0; i < vlen; i++)
		put8(b, 'a' + i % 26);
	end(b);
}

static void error(struct buf *b, const char *sqlstate)
{
	begin(b, 'E');
	put8(b, 'S');
	putz(b, "ERROR");
	put8(b, 'V');
	putz(b, "ERROR");
	put8(b, 'C');
	putz(b, sqlstate);
	put8(b, 'M');
	putz(b, "something went wrong");
	put8(b, 0);
	end(b);
}

static void notice(struct buf *b)
{
	begin(b, 'N');
	put8(b, 'S');
	putz(b, "NOTICE");
	put8(b, 'C');
	putz(b, "00000");
	put8(b, 0);
	end(b);
}

static void notification(struct buf *b)
{
	begin(b, 'A');
	put32(b, 99);
	putz(b, "chan");
	putz(b, "payload");
	end(b);
}

/* ---- recorder ---------------------------------------------------------------------------- */

#define OPS_MAX 256

struct rec {
	struct pgwire_op ops[OPS_MAX];
	char ns[OPS_MAX][64];
	int n;
	int errors[PGWIRE_E_MAX];
	int opaque;
};

static void on_op(void *ctx, const struct pgwire_op *op)
{
	struct rec *r = ctx;

	assert_true(r->n < OPS_MAX);
	assert_true(op->end_ns >= op->start_ns);
	r->ops[r->n] = *op;
	snprintf(r->ns[r->n], sizeof(r->ns[0]), "%s", op->namespace_);
	r->ops[r->n].namespace_ = r->ns[r->n];
	r->n++;
}

static void on_error(void *ctx, enum pgwire_error e)
{
	struct rec *r = ctx;

	assert_true((unsigned)e < PGWIRE_E_MAX);
	r->errors[e]++;
}

static void on_opaque(void *ctx)
{
	((struct rec *)ctx)->opaque++;
}

static const struct pgwire_callbacks cbs = {on_op, on_error, on_opaque};

static struct pgwire_conn *conn(struct rec *r)
{
	struct pgwire_conn *c;

	memset(r, 0, sizeof(*r));
	c = pgwire_new(&cbs, r);
	assert_non_null(c);
	return c;
}

static void fe(struct pgwire_conn *c, struct buf *b, uint64_t ts)
{
	pgwire_feed(c, PGWIRE_FRONTEND, b->d, b->n, b->n, ts);
	b->n = 0;
}

static void be(struct pgwire_conn *c, struct buf *b, uint64_t ts)
{
	pgwire_feed(c, PGWIRE_BACKEND, b->d, b->n, b->n, ts);
	b->n = 0;
}

static int total_errors(const struct rec *r)
{
	int i, n = 0;

	for (i = 0; i < PGWIRE_E_MAX; i++)
		n += r->errors[i];
	return n;
}

static void expect_op(const struct rec *r, int i, const char *op, enum pgwire_status st,
		      const char *sqlstate)
{
	assert_true(i < r->n);
	assert_string_equal(r->ops[i].operation, op);
	assert_int_equal(r->ops[i].status, st);
	assert_string_equal(r->ops[i].sqlstate, sqlstate);
}

/* Connection start-up as the server sees it, database "shop". */
static struct pgwire_conn *started(struct rec *r, struct buf *b)
{
	struct pgwire_conn *c = conn(r);

	startup(b, "alice", "shop");
	fe(c, b, 10);
	auth_ok(b);
	be(c, b, 20);
	assert_int_equal(r->n, 0);
	return c;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_detect(void **state)
{
	struct buf b = {0};
	uint8_t rnd[64];
	unsigned i, seed = 1;
	static const char *const not_pg[] = {
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	    "POST /api HTTP/1.1\r\n",
	    "PUT /x HTTP/1.1\r\n",
	    "DELETE /x HTTP/1.1\r\n",
	    "CONNECT a:1 HTTP/1.1\r\n",
	    "PATCH /x HTTP/1.1\r\n",
	    "HTTP/1.1 200 OK\r\n",
	    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	    "+OK\r\n",
	    "-ERR unknown\r\n",
	    "PING\r\n",
	    "SSH-2.0-OpenSSH_9.2\r\n",
	};
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};

	(void)state;
	startup(&b, "u", "d");
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_FRONTEND);
	assert_int_equal(pgwire_detect(b.d, 3), PGWIRE_DETECT_MORE);
	b.n = 0;
	begin(&b, 0);
	put32(&b, 80877103);
	end(&b);
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_FRONTEND);
	b.n = 0;
	fe_str(&b, 'Q', "SELECT 1");
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_FRONTEND);
	b.n = 0;
	parse(&b, "", "SELECT $1::int");
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_FRONTEND);
	b.n = 0;
	ready(&b);
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_BACKEND);
	b.n = 0;
	fe_str(&b, 'C', "SELECT 1");
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_BACKEND);
	b.n = 0;
	error(&b, "42P01");
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_BACKEND);
	b.n = 0;
	auth_ok(&b);
	assert_int_equal(pgwire_detect(b.d, b.n), PGWIRE_DETECT_BACKEND);

	for (i = 0; i < sizeof(not_pg) / sizeof(not_pg[0]); i++)
		assert_int_equal(pgwire_detect((const uint8_t *)not_pg[i], strlen(not_pg[i])),
				 PGWIRE_DETECT_NONE);
	assert_int_equal(pgwire_detect(tls, sizeof(tls)), PGWIRE_DETECT_NONE);
	/* random binary: never a confident match on a full 64-byte sample */
	for (i = 0; i < 20000; i++) {
		unsigned j;

		for (j = 0; j < sizeof(rnd); j++) {
			seed = seed * 1103515245 + 12345;
			rnd[j] = (uint8_t)(seed >> 16);
		}
		assert_int_not_equal(pgwire_detect(rnd, sizeof(rnd)), PGWIRE_DETECT_FRONTEND);
		assert_int_not_equal(pgwire_detect(rnd, sizeof(rnd)), PGWIRE_DETECT_BACKEND);
	}
}

static void test_simple_query(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "SELECT name FROM users WHERE id = 42");
	fe(c, &b, 100);
	row_desc(&b);
	data_row(&b, 5);
	fe_str(&b, 'C', "SELECT 1");
	ready(&b);
	be(c, &b, 250);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "SELECT", PGWIRE_OK, "");
	assert_string_equal(r.ops[0].summary, "SELECT users");
	assert_string_equal(r.ops[0].namespace_, "shop");
	assert_int_equal(r.ops[0].start_ns, 100);
	assert_int_equal(r.ops[0].end_ns, 250);
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_multi_statement(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "INSERT INTO a VALUES ('x;y'); SELECT 1 FROM b; UPDATE c SET v = 2");
	fe(c, &b, 100);
	fe_str(&b, 'C', "INSERT 0 1");
	be(c, &b, 110);
	row_desc(&b);
	data_row(&b, 1);
	fe_str(&b, 'C', "SELECT 1");
	be(c, &b, 130);
	fe_str(&b, 'C', "UPDATE 1");
	ready(&b);
	be(c, &b, 160);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "INSERT", PGWIRE_OK, "");
	expect_op(&r, 1, "SELECT", PGWIRE_OK, "");
	expect_op(&r, 2, "UPDATE", PGWIRE_OK, "");
	assert_string_equal(r.ops[0].summary, "INSERT a");
	assert_string_equal(r.ops[2].summary, "UPDATE c");
	/* each statement starts when the previous one ended */
	assert_int_equal(r.ops[0].start_ns, 100);
	assert_int_equal(r.ops[1].start_ns, 110);
	assert_int_equal(r.ops[1].end_ns, 130);
	assert_int_equal(r.ops[2].start_ns, 130);
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_multi_statement_error(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "SELECT 1; SELECT * FROM missing; DELETE FROM t");
	fe(c, &b, 100);
	fe_str(&b, 'C', "SELECT 1");
	error(&b, "42P01");
	ready(&b);
	be(c, &b, 120);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "SELECT", PGWIRE_OK, "");
	expect_op(&r, 1, "SELECT", PGWIRE_FAILED, "42P01");
	expect_op(&r, 2, "DELETE", PGWIRE_ABORTED, "");
	pgwire_free(c);
}

static void test_empty_query_and_notices(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "");
	fe(c, &b, 100);
	empty(&b, 'I');
	ready(&b);
	be(c, &b, 110);
	assert_int_equal(r.n, 0);
	/* notices, notifications and parameter changes answer nothing */
	fe_str(&b, 'Q', "LISTEN chan");
	fe(c, &b, 200);
	notice(&b);
	be(c, &b, 205);
	notification(&b);
	be(c, &b, 206);
	assert_int_equal(r.n, 0);
	fe_str(&b, 'C', "LISTEN");
	ready(&b);
	notification(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "LISTEN", PGWIRE_OK, "");
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_extended_unnamed(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	parse(&b, "", "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
	bind(&b, "", "");
	describe_(&b, 'P', "");
	execute(&b, "");
	empty(&b, 'S');
	fe(c, &b, 100);
	empty(&b, '1');
	empty(&b, '2');
	row_desc(&b);
	data_row(&b, 3);
	fe_str(&b, 'C', "SELECT 1");
	ready(&b);
	be(c, &b, 140);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "SELECT", PGWIRE_OK, "");
	assert_string_equal(r.ops[0].summary, "SELECT pgbench_accounts");
	assert_int_equal(r.ops[0].start_ns, 100);
	assert_int_equal(r.ops[0].end_ns, 140);
	assert_false(r.ops[0].prepared_unknown);
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

/* A pipeline: prepare, then three executes and a Sync, all sent before any answer. */
static void pipeline_requests(struct buf *b)
{
	parse(b, "s1", "UPDATE t SET v = v + $1");
	describe_(b, 'S', "s1");
	empty(b, 'S');
	bind(b, "", "s1");
	execute(b, "");
	parse(b, "", "INSERT INTO h VALUES ($1)");
	bind(b, "", "");
	execute(b, "");
	bind(b, "", "s1");
	execute(b, "");
	empty(b, 'S');
}

static void pipeline_answers(struct buf *b, const char *fail)
{
	empty(b, '1');
	begin(b, 't');
	put16(b, 0);
	end(b);
	empty(b, 'n');
	ready(b);
	empty(b, '2');
	fe_str(b, 'C', "UPDATE 1");
	empty(b, '1');
	empty(b, '2');
	if (fail) {
		error(b, fail);
	} else {
		fe_str(b, 'C', "INSERT 0 1");
		empty(b, '2');
		fe_str(b, 'C', "UPDATE 1");
	}
	ready(b);
}

static void test_pipeline(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	pipeline_requests(&b);
	fe(c, &b, 100);
	pipeline_answers(&b, NULL);
	be(c, &b, 200);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "UPDATE", PGWIRE_OK, "");
	expect_op(&r, 1, "INSERT", PGWIRE_OK, "");
	expect_op(&r, 2, "UPDATE", PGWIRE_OK, "");
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_pipeline_error_skips_to_sync(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	pipeline_requests(&b);
	fe(c, &b, 100);
	pipeline_answers(&b, "23505");
	be(c, &b, 200);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "UPDATE", PGWIRE_OK, "");
	expect_op(&r, 1, "INSERT", PGWIRE_FAILED, "23505");
	expect_op(&r, 2, "UPDATE", PGWIRE_ABORTED, "");
	/* the next group is back to normal */
	bind(&b, "", "s1");
	execute(&b, "");
	empty(&b, 'S');
	fe(c, &b, 300);
	empty(&b, '2');
	fe_str(&b, 'C', "UPDATE 1");
	ready(&b);
	be(c, &b, 310);
	assert_int_equal(r.n, 4);
	expect_op(&r, 3, "UPDATE", PGWIRE_OK, "");
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_parse_error_fails_execute(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	parse(&b, "", "SELEC oops FROM t");
	bind(&b, "", "");
	execute(&b, "");
	empty(&b, 'S');
	fe(c, &b, 100);
	error(&b, "42601");
	ready(&b);
	be(c, &b, 110);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ops[0].status, PGWIRE_FAILED);
	assert_string_equal(r.ops[0].sqlstate, "42601");
	assert_int_equal(r.ops[0].end_ns, 110);
	/* a failing prepare with no Execute is one failed operation too */
	parse(&b, "bad", "SELECT * FROM nowhere");
	empty(&b, 'S');
	fe(c, &b, 200);
	error(&b, "42P01");
	ready(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 1, "SELECT", PGWIRE_FAILED, "42P01");
	pgwire_free(c);
}

static void test_prepared_before_attach(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = conn(&r);

	(void)state;
	/* no start-up seen: we attached to a running connection */
	bind(&b, "", "stmtcache_abc");
	execute(&b, "");
	empty(&b, 'S');
	fe(c, &b, 100);
	empty(&b, '2');
	fe_str(&b, 'C', "SELECT 3");
	ready(&b);
	be(c, &b, 120);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "", PGWIRE_OK, "");
	assert_true(r.ops[0].prepared_unknown);
	assert_string_equal(r.ops[0].namespace_, "");
	pgwire_free(c);
}

static void test_statement_lru_never_wrong(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < PGWIRE_STMTS_MAX + 8; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		parse(&b, name, i % 2 ? "DELETE FROM a" : "INSERT INTO a VALUES (1)");
	}
	empty(&b, 'S');
	fe(c, &b, 100);
	for (i = 0; i < PGWIRE_STMTS_MAX + 8; i++)
		empty(&b, '1');
	ready(&b);
	be(c, &b, 110);
	/* s0 was evicted: unknown; the newest is known */
	bind(&b, "", "s0");
	execute(&b, "");
	snprintf(name, sizeof(name), "s%d", PGWIRE_STMTS_MAX + 7);
	bind(&b, "", name);
	execute(&b, "");
	close_(&b, 'S', name);
	bind(&b, "", name); /* closed: unknown now */
	execute(&b, "");
	empty(&b, 'S');
	fe(c, &b, 200);
	empty(&b, '2');
	fe_str(&b, 'C', "INSERT 0 1");
	empty(&b, '2');
	fe_str(&b, 'C', "DELETE 0");
	empty(&b, '3');
	empty(&b, '2');
	fe_str(&b, 'C', "DELETE 0");
	ready(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 3);
	expect_op(&r, 0, "", PGWIRE_OK, "");
	assert_true(r.ops[0].prepared_unknown);
	expect_op(&r, 1, "DELETE", PGWIRE_OK, "");
	expect_op(&r, 2, "", PGWIRE_OK, "");
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

/* The same conversation fed whole, then one byte per read: the same operations. */
static void test_split_every_byte(void **state)
{
	static struct buf req, ans, b;
	struct rec whole, bytes;
	struct pgwire_conn *c;
	size_t i;
	int k;

	(void)state;
	startup(&req, "bob", "db1");
	pipeline_requests(&req);
	fe_str(&req, 'Q', "SELECT 1; SELECT 2");
	auth_ok(&ans);
	pipeline_answers(&ans, "40001");
	fe_str(&ans, 'C', "SELECT 1");
	fe_str(&ans, 'C', "SELECT 1");
	ready(&ans);

	c = conn(&whole);
	pgwire_feed(c, PGWIRE_FRONTEND, req.d, req.n, req.n, 1);
	pgwire_feed(c, PGWIRE_BACKEND, ans.d, ans.n, ans.n, 2);
	pgwire_free(c);
	assert_int_equal(whole.n, 5);

	c = conn(&bytes);
	for (i = 0; i < req.n; i++)
		pgwire_feed(c, PGWIRE_FRONTEND, req.d + i, 1, 1, 1);
	for (i = 0; i < ans.n; i++)
		pgwire_feed(c, PGWIRE_BACKEND, ans.d + i, 1, 1, 2);
	pgwire_free(c);
	assert_int_equal(bytes.n, whole.n);
	for (k = 0; k < whole.n; k++) {
		assert_string_equal(bytes.ops[k].operation, whole.ops[k].operation);
		assert_int_equal(bytes.ops[k].status, whole.ops[k].status);
		assert_string_equal(bytes.ops[k].sqlstate, whole.ops[k].sqlstate);
		assert_string_equal(bytes.ops[k].namespace_, "db1");
	}
	expect_op(&whole, 1, "INSERT", PGWIRE_FAILED, "40001");
	assert_int_equal(total_errors(&whole) + total_errors(&bytes), 0);
	(void)b;
}

/* A large answer of which only a prefix is captured per read: skipped by length. */
static void test_gap_in_body(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);
	size_t split;

	(void)state;
	fe_str(&b, 'Q', "SELECT * FROM big");
	fe(c, &b, 100);
	row_desc(&b);
	data_row(&b, 30000);
	split = b.n - 20000; /* a read ends inside the data row */
	/* first read: 256 bytes captured of `split` */
	pgwire_feed(c, PGWIRE_BACKEND, b.d, 256, split, 110);
	/* second read: the rest of the row, command complete, ready; 100 captured */
	memmove(b.d, b.d + split, b.n - split);
	b.n -= split;
	data_row(&b, 10);
	fe_str(&b, 'C', "SELECT 2");
	ready(&b);
	/* the second read's capture holds only row bytes, the gap hides nothing it needs
	 * to frame: feed whole for the tail */
	pgwire_feed(c, PGWIRE_BACKEND, b.d, 100, 20000, 120);
	pgwire_feed(c, PGWIRE_BACKEND, b.d + 20000, b.n - 20000, b.n - 20000, 130);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "SELECT", PGWIRE_OK, "");
	assert_int_equal(r.ops[0].end_ns, 130);
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

/* A gap hides the end of an answer: its outcome is unknown, the next query is exact. */
static void test_gap_hides_end(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "SELECT * FROM big");
	fe(c, &b, 100);
	row_desc(&b);
	data_row(&b, 100);
	data_row(&b, 100);
	fe_str(&b, 'C', "SELECT 2");
	ready(&b);
	pgwire_feed(c, PGWIRE_BACKEND, b.d, 150, b.n, 110); /* C and Z unseen */
	b.n = 0;
	assert_int_equal(r.n, 0);
	assert_int_equal(r.errors[PGWIRE_E_GAP], 1);
	fe_str(&b, 'Q', "DELETE FROM t WHERE id = 7");
	fe(c, &b, 200);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "SELECT", PGWIRE_UNKNOWN, "");
	assert_int_equal(r.ops[0].end_ns, 110);
	fe_str(&b, 'C', "DELETE 1");
	ready(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 1, "DELETE", PGWIRE_OK, "");
	assert_int_equal(r.ops[1].start_ns, 200);
	pgwire_free(c);
}

/* A gap in the frontend hides a request: nothing is invented, sync comes back. */
static void test_frontend_gap(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "SELECT 1");
	fe_str(&b, 'Q', "SELECT 2");
	pgwire_feed(c, PGWIRE_FRONTEND, b.d, 3, b.n, 100); /* only 3 bytes seen */
	b.n = 0;
	assert_int_equal(r.errors[PGWIRE_E_GAP], 1);
	fe_str(&b, 'C', "SELECT 1");
	ready(&b);
	fe_str(&b, 'C', "SELECT 1");
	ready(&b);
	be(c, &b, 110);
	assert_int_equal(r.n, 0);
	fe_str(&b, 'Q', "UPDATE x SET y = 1");
	fe(c, &b, 200);
	fe_str(&b, 'C', "UPDATE 1");
	ready(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "UPDATE", PGWIRE_OK, "");
	pgwire_free(c);
}

static void test_ssl(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = conn(&r);
	uint8_t yes = 'S', no = 'N';

	(void)state;
	begin(&b, 0);
	put32(&b, 80877103);
	end(&b);
	fe(c, &b, 1);
	pgwire_feed(c, PGWIRE_BACKEND, &no, 1, 1, 2);
	startup(&b, "u", NULL);
	fe(c, &b, 3);
	auth_ok(&b);
	be(c, &b, 4);
	fe_str(&b, 'Q', "COMMIT");
	fe(c, &b, 5);
	fe_str(&b, 'C', "COMMIT");
	ready(&b);
	be(c, &b, 6);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ops[0].namespace_, "u"); /* no database: the user's name */
	assert_false(pgwire_opaque(c));
	pgwire_free(c);

	c = conn(&r);
	begin(&b, 0);
	put32(&b, 80877103);
	end(&b);
	fe(c, &b, 1);
	pgwire_feed(c, PGWIRE_BACKEND, &yes, 1, 1, 2);
	assert_true(pgwire_opaque(c));
	assert_int_equal(r.opaque, 1);
	b.n = 0;
	put(&b, "\x16\x03\x01\x00\x05hello", 10);
	fe(c, &b, 3);
	assert_int_equal(r.n, 0);
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_copy_both_ways(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	fe_str(&b, 'Q', "COPY t FROM STDIN");
	fe(c, &b, 100);
	begin(&b, 'G');
	put8(&b, 0);
	put16(&b, 0);
	end(&b);
	be(c, &b, 101);
	begin(&b, 'd');
	put(&b, "1\tx\n2\ty\n", 8);
	end(&b);
	empty(&b, 'c');
	fe(c, &b, 102);
	fe_str(&b, 'C', "COPY 2");
	ready(&b);
	be(c, &b, 110);
	fe_str(&b, 'Q', "COPY t TO STDOUT");
	fe(c, &b, 200);
	begin(&b, 'H');
	put8(&b, 0);
	put16(&b, 0);
	end(&b);
	begin(&b, 'd');
	put(&b, "1\tx\n", 4);
	end(&b);
	empty(&b, 'c');
	fe_str(&b, 'C', "COPY 1");
	ready(&b);
	be(c, &b, 210);
	assert_int_equal(r.n, 2);
	expect_op(&r, 0, "COPY", PGWIRE_OK, "");
	expect_op(&r, 1, "COPY", PGWIRE_OK, "");
	assert_int_equal(total_errors(&r), 0);
	pgwire_free(c);
}

static void test_function_call_and_close(void **state)
{
	struct buf b = {0};
	struct rec r;
	struct pgwire_conn *c = started(&r, &b);

	(void)state;
	begin(&b, 'F');
	put32(&b, 952);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, 0);
	end(&b);
	fe(c, &b, 100);
	begin(&b, 'V');
	put32(&b, 0xffffffff);
	end(&b);
	ready(&b);
	be(c, &b, 105);
	assert_int_equal(r.n, 1);
	expect_op(&r, 0, "FUNCTION CALL", PGWIRE_OK, "");
	/* a query still waiting when the connection closes */
	fe_str(&b, 'Q', "SELECT pg_sleep(10)");
	fe(c, &b, 200);
	pgwire_close(c, 300);
	assert_int_equal(r.n, 2);
	expect_op(&r, 1, "SELECT", PGWIRE_CLOSED, "");
	assert_int_equal(r.ops[1].end_ns, 300);
	pgwire_free(c);
}

static void test_garbage(void **state)
{
	struct rec r;
	struct pgwire_conn *c = conn(&r);
	uint8_t rnd[4096];
	unsigned seed = 7, i, j;

	(void)state;
	for (i = 0; i < 200; i++) {
		for (j = 0; j < sizeof(rnd); j++) {
			seed = seed * 1103515245 + 12345;
			rnd[j] = (uint8_t)(seed >> 16);
		}
		pgwire_feed(c, i % 2 ? PGWIRE_BACKEND : PGWIRE_FRONTEND, rnd,
			    1 + seed % sizeof(rnd), sizeof(rnd) * 2, i);
	}
	pgwire_close(c, 1000);
	assert_int_equal(r.n, 0);
	assert_true(total_errors(&r) > 0);
	pgwire_free(c);
	pgwire_free(NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pgwire_error_name(PGWIRE_E_GAP), "gap");
	assert_string_equal(pgwire_error_name(PGWIRE_E_BAD_TYPE), "bad_type");
	assert_string_equal(pgwire_error_name(PGWIRE_E_MAX), "unknown");
	assert_string_equal(pgwire_status_name(PGWIRE_ABORTED), "aborted");
	for (int i = 0; i < PGWIRE_E_MAX; i++)
		assert_non_null(pgwire_error_name(i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_simple_query),
	    cmocka_unit_test(test_multi_statement),
	    cmocka_unit_test(test_multi_statement_error),
	    cmocka_unit_test(test_empty_query_and_notices),
	    cmocka_unit_test(test_extended_unnamed),
	    cmocka_unit_test(test_pipeline),
	    cmocka_unit_test(test_pipeline_error_skips_to_sync),
	    cmocka_unit_test(test_parse_error_fails_execute),
	    cmocka_unit_test(test_prepared_before_attach),
	    cmocka_unit_test(test_statement_lru_never_wrong),
	    cmocka_unit_test(test_split_every_byte),
	    cmocka_unit_test(test_gap_in_body),
	    cmocka_unit_test(test_gap_hides_end),
	    cmocka_unit_test(test_frontend_gap),
	    cmocka_unit_test(test_ssl),
	    cmocka_unit_test(test_copy_both_ways),
	    cmocka_unit_test(test_function_call_and_close),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
