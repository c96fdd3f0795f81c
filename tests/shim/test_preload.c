// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_preload.c - CMocka tests of the shim's internals, linked from the
 * preload/ objects (not the .so): the per-thread depth guard and kill
 * switch, the connection table and its FIFO with overflow, prepared
 * statement memory, Redis command parsing, hiredis layout detection (checked
 * against the real hiredis headers this is compiled with: 0.14 by default,
 * 1.x when the e2e test rebuilds it against hiredis 1), and a record going
 * through the shared-memory ring transport to shim_decode().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "conns.h"
#include "core.h"
#include "redis_layout.h"
#include "redis_parse.h"
#include "ring_write.h"
#include "shim_decode.h"
#include "shm_ring.h"
#include "transport.h"

/* ---- depth guard ---- */

static void *other_thread(void *arg)
{
	bool *entered = arg;

	*entered = shim_enter();
	shim_leave();
	return NULL;
}

static void test_guard_nesting(void **state)
{
	pthread_t t;
	bool other = false;

	(void)state;
	assert_true(shim_enter());  /* outermost: timed */
	assert_false(shim_enter()); /* PQexec -> PQsendQuery: not timed again */
	assert_false(shim_enter()); /* ... -> PQgetResult */
	/* another thread is not nested in ours */
	assert_int_equal(pthread_create(&t, NULL, other_thread, &other), 0);
	pthread_join(t, NULL);
	assert_true(other);
	shim_leave();
	shim_leave();
	assert_int_equal(shim_depth, 1);
	shim_leave();
	assert_int_equal(shim_depth, 0);
	assert_true(shim_enter());
	shim_leave();
}

static void test_guard_kill_switch(void **state)
{
	(void)state;
	__atomic_store_n(&shim_state, SHIM_OFF, __ATOMIC_RELEASE);
	assert_false(shim_enter());
	assert_int_equal(shim_depth, 1); /* still counted, so leave stays paired */
	shim_leave();
	__atomic_store_n(&shim_state, SHIM_ON, __ATOMIC_RELEASE);
	assert_true(shim_enter());
	shim_leave();
}

/* ---- connection table and FIFO ---- */

static void test_conn_table(void **state)
{
	static char objs[CONN_SLOTS + 8];
	struct conn *c, *again;
	int i, made = 0;

	(void)state;
	assert_null(conn_get(NULL, 1));
	c = conn_get(&objs[0], RT_SHIM_SYS_POSTGRESQL);
	assert_non_null(c);
	c->redis_db = 7;
	again = conn_get(&objs[0], RT_SHIM_SYS_POSTGRESQL);
	assert_ptr_equal(c, again);
	assert_int_equal(again->redis_db, 7);
	assert_ptr_equal(conn_find(&objs[0]), c);
	assert_null(conn_find(&objs[1]));
	conn_drop(&objs[0]);
	assert_null(conn_find(&objs[0]));
	/* fill the table: one more object than slots gets no entry */
	for (i = 0; i < CONN_SLOTS + 1; i++)
		made += conn_get(&objs[i], RT_SHIM_SYS_REDIS) != NULL;
	assert_int_equal(made, CONN_SLOTS);
	/* a fresh entry starts clean, even in a reused slot */
	conn_drop(&objs[3]);
	c = conn_get(&objs[CONN_SLOTS + 2], RT_SHIM_SYS_REDIS);
	assert_non_null(c);
	assert_int_equal(c->fifo_len, 0);
	assert_int_equal(c->redis_db, 0);
	for (i = 0; i < CONN_SLOTS + 8; i++)
		conn_drop(&objs[i]);
	assert_null(conn_find(&objs[CONN_SLOTS + 2]));
}

static void test_fifo_order_and_overflow(void **state)
{
	static char obj;
	struct conn *c = conn_get(&obj, RT_SHIM_SYS_POSTGRESQL);
	struct pend *p;
	int i;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < CONN_FIFO + 5; i++) {
		p = pend_push(c);
		if (i < CONN_FIFO - 1) {
			assert_non_null(p);
			p->start_ns = (uint64_t)i;
		} else {
			assert_null(p); /* folded into the SKIP entry */
		}
	}
	assert_int_equal(c->fifo_len, CONN_FIFO);
	for (i = 0; i < CONN_FIFO - 1; i++) {
		p = pend_head(c);
		assert_int_equal(p->type, PEND_OP);
		assert_int_equal(p->start_ns, (uint64_t)i);
		pend_pop(c);
	}
	p = pend_head(c);
	assert_int_equal(p->type, PEND_SKIP);
	assert_int_equal(p->skip_ops, 6);
	/* room again: a new op goes behind the SKIP entry, order kept */
	p = pend_push(c);
	assert_non_null(p);
	p->start_ns = 99;
	pend_pop(c);
	assert_int_equal(pend_head(c)->start_ns, 99);
	pend_pop(c);
	assert_null(pend_head(c));
	conn_drop(&obj);
}

static void test_prepared_statements(void **state)
{
	static char obj;
	struct conn *c = conn_get(&obj, RT_SHIM_SYS_POSTGRESQL);
	char name[16];
	const struct stmt *s;
	int i;

	(void)state;
	stmt_put(c, "s1", "SELECT 1");
	stmt_put(c, "", "SELECT unnamed");
	s = stmt_get(c, "s1");
	assert_non_null(s);
	assert_int_equal(s->len, 8);
	assert_memory_equal(s->text, "SELECT 1", 8);
	stmt_put(c, "", "SELECT replaced");
	s = stmt_get(c, "");
	assert_memory_equal(s->text, "SELECT replaced", 15);
	assert_null(stmt_get(c, "nosuch"));
	for (i = 0; i < CONN_STMTS + 2; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		stmt_put(c, name, "SELECT 2");
	}
	assert_null(stmt_get(c, "s1")); /* the oldest were replaced */
	assert_non_null(stmt_get(c, "n9"));
	conn_drop(&obj);
}

/* ---- Redis command parsing ---- */

static void name_fmt(char *name, int *select, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redis_name_fmt(fmt, ap, name, select);
	va_end(ap);
}

static void test_redis_names(void **state)
{
	const char *argv[] = {"hset", "k", "f", "v"};
	const char *sel[] = {"SELECT", "12"};
	const size_t sellen[] = {6, 2};
	const char resp[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n";
	char name[REDIS_NAME_MAX];
	int db;

	(void)state;
	name_fmt(name, &db, "SET %s %s", "k", "v");
	assert_string_equal(name, "SET");
	assert_int_equal(db, REDIS_NOT_SELECT);
	name_fmt(name, &db, "%s %s", "get", "k");
	assert_string_equal(name, "GET");
	name_fmt(name, &db, "%b key", "incrby", (size_t)4);
	assert_string_equal(name, "INCR");
	name_fmt(name, &db, "  json.set x");
	assert_string_equal(name, "JSON.SET");
	name_fmt(name, &db, "SELECT %d", 3);
	assert_string_equal(name, "SELECT");
	assert_int_equal(db, 3);
	name_fmt(name, &db, "%s %lld", "SELECT", 9LL);
	assert_int_equal(db, 9);
	name_fmt(name, &db, "SELECT %s", "14");
	assert_int_equal(db, 14);
	name_fmt(name, &db, "SELECT 2");
	assert_int_equal(db, 2);
	name_fmt(name, &db, "SELECT %f", 1.0);
	assert_int_equal(db, REDIS_SELECT_UNKNOWN);
	name_fmt(name, &db, "%d x", 5); /* a conversion we do not follow */
	assert_string_equal(name, "");
	name_fmt(name, &db, "averyveryveryveryveryverylongcommandname");
	assert_int_equal(strlen(name), REDIS_NAME_MAX - 1);

	redis_name_argv(4, argv, NULL, name, &db);
	assert_string_equal(name, "HSET");
	redis_name_argv(2, sel, sellen, name, &db);
	assert_int_equal(db, 12);
	redis_name_argv(0, NULL, NULL, name, &db);
	assert_string_equal(name, "");

	redis_name_resp(resp, sizeof(resp) - 1, name, &db);
	assert_string_equal(name, "SELECT");
	assert_int_equal(db, 5);
	redis_name_resp("*1\r\n$4\r\nPI", 10, name, &db); /* truncated */
	assert_string_equal(name, "");
	redis_name_resp("*1\r\n$999999\r\nPING\r\n", 19, name, &db);
	assert_string_equal(name, "");
	redis_name_resp("ping\r\n", 6, name, &db);
	assert_string_equal(name, "PING");

	assert_true(redis_name_untimed("SUBSCRIBE"));
	assert_true(redis_name_untimed("MONITOR"));
	assert_false(redis_name_untimed("PUBLISH"));
}

static void test_redis_error_prefix(void **state)
{
	char out[16];

	(void)state;
	redis_error_prefix("WRONGTYPE Operation against a key", 33, out, sizeof(out));
	assert_string_equal(out, "WRONGTYPE");
	redis_error_prefix("ERR unknown command", 19, out, sizeof(out));
	assert_string_equal(out, "ERR");
	redis_error_prefix("NOAUTH", 6, out, sizeof(out));
	assert_string_equal(out, "NOAUTH");
	redis_error_prefix("lowercase message", 17, out, sizeof(out));
	assert_string_equal(out, "ERR");
	redis_error_prefix("ABCDEFGHIJKLMNOPQRSTUVWXYZ too long", 35, out, sizeof(out));
	assert_string_equal(out, "ERR");
	redis_error_prefix(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "ERR");
}

/* ---- hiredis layouts ---- */

static void test_redis_layout_detection(void **state)
{
	(void)state;
	assert_int_equal(redis_layout_from_symbols(true, true), REDIS_LAYOUT_V1);
	assert_int_equal(redis_layout_from_symbols(false, true), REDIS_LAYOUT_V0);
	assert_int_equal(redis_layout_from_symbols(false, false), REDIS_LAYOUT_OLD);
}

/* The mirror structs must match the hiredis this test is compiled against. */
static void test_redis_layout_offsets(void **state)
{
	enum redis_layout l = HIREDIS_MAJOR >= 1 ? REDIS_LAYOUT_V1 : REDIS_LAYOUT_V0;

	(void)state;
	assert_int_equal(redis_layout_offset(l, RF_CTX_ERR), offsetof(redisContext, err));
	assert_int_equal(redis_layout_offset(l, RF_CTX_FD), offsetof(redisContext, fd));
	assert_int_equal(redis_layout_offset(l, RF_CTX_FLAGS), offsetof(redisContext, flags));
	assert_int_equal(redis_layout_offset(l, RF_CTX_CONN_TYPE),
			 offsetof(redisContext, connection_type));
	assert_int_equal(redis_layout_offset(l, RF_CTX_TCP_HOST), offsetof(redisContext, tcp.host));
	assert_int_equal(redis_layout_offset(l, RF_CTX_TCP_PORT), offsetof(redisContext, tcp.port));
	assert_int_equal(redis_layout_offset(l, RF_CTX_UNIX_PATH),
			 offsetof(redisContext, unix_sock.path));
	assert_int_equal(redis_layout_offset(l, RF_REPLY_LEN), offsetof(redisReply, len));
	assert_int_equal(redis_layout_offset(l, RF_REPLY_STR), offsetof(redisReply, str));
	/* and the two layouts really differ where the versions do */
	assert_int_not_equal(redis_layout_offset(REDIS_LAYOUT_V0, RF_CTX_ERR),
			     redis_layout_offset(REDIS_LAYOUT_V1, RF_CTX_ERR));
	assert_int_not_equal(redis_layout_offset(REDIS_LAYOUT_V0, RF_REPLY_STR),
			     redis_layout_offset(REDIS_LAYOUT_V1, RF_REPLY_STR));
	assert_int_equal(REDIS_BLOCK, RH_BLOCK);
	assert_int_equal(REDIS_REPLY_ERROR, RH_REPLY_ERROR);
	assert_int_equal(REDIS_REPLY_STATUS, RH_REPLY_STATUS);
}

/* ---- through the ring to the decoder ---- */

struct got {
	int n;
	struct db_op op;
};

static void on_rec(void *ctx, const void *rec, size_t len)
{
	struct got *g = ctx;
	struct db_op op;

	if (shim_decode(rec, len, &op) == 0 && !op.is_hello) {
		g->op = op;
		g->n++;
	}
}

/* What a dead daemon leaves: a ring whose heartbeat stopped (and is gone). */
static void ring_kill(struct shm_ring *r, const char *path)
{
	uint64_t zero = 0;
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(
	    pwrite(fd, &zero, sizeof(zero), offsetof(struct rt_shim_ring_hdr, heartbeat_ns)),
	    sizeof(zero));
	close(fd);
	shm_ring_destroy(r);
}

/* Mappings of path in this process (an unlinked ring shows "(deleted)"). */
static int ring_mappings(const char *path)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, path) != NULL;
	fclose(f);
	return n;
}

static void emit_one(const void *conn)
{
	struct shim_wire w;

	shim_op_init(&w, RT_SHIM_SYS_REDIS, RT_SHIM_KIND_COMMAND, conn);
	w.u.op.start_ns = shim_now();
	w.u.op.end_ns = w.u.op.start_ns + 1000;
	shim_strlcpy(w.u.op.operation, sizeof(w.u.op.operation), "GET");
	shim_emit(&w);
}

/* A daemon restarted 20 times (more than the shim's map slots): the shim
 * follows every new ring, and rings of dead daemons are unmapped. */
static void test_transport_ring_restarts(void **state)
{
	char path[64];
	struct got g;

	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/redtap-test-restart-%d", (int)getpid());
	transport_init(path, "ring");
	for (int i = 0; i < 20; i++) {
		struct shm_ring *r = shm_ring_create(path, 1 << 16);

		assert_non_null(r);
		transport_ready(shim_now()); /* notices the dead ring, lets go of it */
		transport_probe(shim_now());
		assert_true(transport_ready(shim_now()));
		memset(&g, 0, sizeof(g));
		emit_one(&g);
		assert_int_equal(shm_ring_drain(r, on_rec, &g), 2); /* hello, op */
		assert_int_equal(g.n, 1);
		assert_true(ring_mappings(path) <= 3); /* this one, the daemon's, one dying */
		ring_kill(r, path);
	}
	transport_ready(shim_now());
	transport_init("/nonexistent/ring", "ring");
	transport_probe(shim_now());
	assert_int_equal(ring_mappings(path), 0);
}

/* A reader without reply functions returns the reply type as the "reply":
 * the shim must neither dereference nor free it. */
static void test_redis_null_fn_replies(void **state)
{
	redisReader *rd = redisReaderCreateWithFunctions(NULL);
	void *reply = NULL;
	char status[16] = "x";

	(void)state;
	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, "-WRONGTYPE no\r\n+OK\r\n:5\r\n", 25), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	assert_true((uintptr_t)reply == REDIS_REPLY_ERROR);
	assert_false(redis_reply_is_object(reply));
	assert_int_equal(redis_reply_type(reply), RH_REPLY_ERROR);
	assert_true(redis_reply_error(reply, status, sizeof(status)));
	assert_string_equal(status, "");
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	assert_int_equal(redis_reply_type(reply), RH_REPLY_STATUS);
	assert_false(redis_reply_ok(reply)); /* cannot tell: no contents */
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	assert_int_equal(redis_reply_type(reply), REDIS_REPLY_INTEGER);
	assert_false(redis_reply_error(reply, status, sizeof(status)));
	assert_true(redis_reply_is_object(&reply));
	redisReaderFree(rd);
}

static void test_transport_ring(void **state)
{
	char path[64];
	struct shm_ring *r;
	struct shim_wire w;
	struct got g = {0};

	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/redtap-test-preload-%d", (int)getpid());
	r = shm_ring_create(path, 1 << 16);
	assert_non_null(r);
	transport_init(path, "ring");
	transport_probe(shim_now());
	assert_true(transport_ready(shim_now()));
	shim_op_init(&w, RT_SHIM_SYS_REDIS, RT_SHIM_KIND_COMMAND, &g);
	w.u.op.start_ns = shim_now();
	w.u.op.end_ns = w.u.op.start_ns + 1000;
	shim_strlcpy(w.u.op.operation, sizeof(w.u.op.operation), "HGETALL");
	shim_strlcpy(w.u.op.namespace_, sizeof(w.u.op.namespace_), "4");
	shim_emit(&w);
	assert_int_equal(shm_ring_drain(r, on_rec, &g), 2); /* the hello, then the op */
	assert_int_equal(g.n, 1);
	assert_string_equal(g.op.system, "redis");
	assert_string_equal(g.op.operation, "HGETALL");
	assert_string_equal(g.op.namespace_, "4");
	assert_int_equal(g.op.pid, (uint32_t)getpid());
	assert_int_equal(g.op.end_ns - g.op.start_ns, 1000);
	ring_kill(r, path);
	transport_init("/nonexistent/ring", "ring");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guard_nesting),
	    cmocka_unit_test(test_guard_kill_switch),
	    cmocka_unit_test(test_conn_table),
	    cmocka_unit_test(test_fifo_order_and_overflow),
	    cmocka_unit_test(test_prepared_statements),
	    cmocka_unit_test(test_redis_names),
	    cmocka_unit_test(test_redis_error_prefix),
	    cmocka_unit_test(test_redis_layout_detection),
	    cmocka_unit_test(test_redis_layout_offsets),
	    cmocka_unit_test(test_transport_ring),
	    cmocka_unit_test(test_transport_ring_restarts),
	    cmocka_unit_test(test_redis_null_fn_replies),
	};

	setenv("REDTAP_SHIM_TRANSPORT", "off", 1);
	shim_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
