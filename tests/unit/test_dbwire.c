// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_dbwire.c - unit tests for the PostgreSQL and Redis protocols of the
 * pipeline (user/proto/dbwire.c), driven with raw ring-buffer records: a
 * client's queries and commands become db_client_operation_duration series
 * with the shim's labels (SQLSTATE and Redis prefixes, aborted pipeline
 * statements), a database server's own connections go opaque, a process the
 * shim reports from is not counted twice, a line protocol that looks like
 * inline Redis goes opaque, HTTP still goes to HTTP, and parse errors are
 * counted by protocol and reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "dbwire.h"
#include "metrics.h"
#include "pipeline.h"
#include "procs.h"
#include "prom.h"
#include "promtext.h"
#include "records.h"
#include "redtap/shim.h"

#define MS   1000000ull
#define TGID 5151

struct fx {
	struct rec_world w;
	unsigned opaque_calls;
	char *text;
};

static int set_opaque(void *ctx, uint32_t tgid, uint32_t fd, uint64_t gen)
{
	struct fx *f = ctx;

	(void)tgid, (void)fd, (void)gen;
	f->opaque_calls++;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pipeline_opts o = {
	    .max_series = 100,
	    .max_conns = 16,
	    .hooks = {.set_opaque = set_opaque, .ctx = f},
	};

	assert_non_null(f);
	assert_int_equal(rec_world_open(&f->w, o), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rec_world_close(&f->w);
	free(f->text);
	free(f);
	return 0;
}

static const char *render(struct fx *f)
{
	return promtext_into(&f->text, f->w.reg, PROM_FMT_TEXT);
}

/* The count of the db series whose line holds every one of the label pairs. */
static long db_count(struct fx *f, const char *const *labels)
{
	const char *t = render(f), *line;
	long total = 0;

	for (line = t; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) : strlen(line);
		char buf[1024];
		bool all = true;

		if (strncmp(line, "db_client_operation_duration_seconds_count{", 43) ||
		    n >= sizeof(buf))
			continue;
		memcpy(buf, line, n);
		buf[n] = 0;
		for (const char *const *l = labels; *l && all; l++)
			all = strstr(buf, *l) != NULL;
		if (all)
			total += strtol(strrchr(buf, ' ') + 1, NULL, 10);
	}
	return total;
}

static struct rt_conn_id cid(uint32_t fd)
{
	return (struct rt_conn_id){.gen = 1, .tgid = TGID, .fd = fd};
}

static void open_client(struct fx *f, uint32_t fd, uint16_t port)
{
	struct rt_conn_id id = cid(fd);

	assert_int_equal(rec_open(f->w.pipe, &id, 1 * MS, rec_ep(127, 0, 0, 1, 40000),
				  rec_ep(127, 0, 0, 1, port), RT_ROLE_CLIENT),
			 0);
}

static void out(struct fx *f, uint32_t fd, uint64_t ts, const void *s, size_t n)
{
	struct rt_conn_id id = cid(fd);

	assert_int_equal(rec_data_n(f->w.pipe, &id, RT_DIR_EGRESS, ts, TGID + 1, s, n), 0);
}

static void in(struct fx *f, uint32_t fd, uint64_t ts, const void *s, size_t n)
{
	struct rt_conn_id id = cid(fd);

	assert_int_equal(rec_data_n(f->w.pipe, &id, RT_DIR_INGRESS, ts, TGID + 1, s, n), 0);
}

/* PostgreSQL messages, built as in test_pgwire.c but smaller. */
struct buf {
	uint8_t d[1024];
	size_t n, m;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return; /* p may be NULL then: memcpy must not see it */
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void begin(struct buf *b, char t)
{
	if (t)
		put(b, &t, 1);
	b->m = b->n;
	put(b, "\0\0\0\0", 4);
}

static void end(struct buf *b)
{
	uint32_t l = (uint32_t)(b->n - b->m);

	b->d[b->m] = l >> 24;
	b->d[b->m + 1] = l >> 16;
	b->d[b->m + 2] = l >> 8;
	b->d[b->m + 3] = l & 0xff;
}

static void msg(struct buf *b, char t, const void *body, size_t n)
{
	begin(b, t);
	put(b, body, n);
	end(b);
}

static void msgz(struct buf *b, char t, const char *s)
{
	msg(b, t, s, strlen(s) + 1);
}

static void pg_client_session(struct fx *f, uint32_t fd)
{
	static const char startup[] = "\0\3\0\0user\0app\0database\0shop\0\0";
	static const char err[] = "SERROR\0C23505\0Mduplicate key\0";
	struct buf b = {0};

	open_client(f, fd, 5432);
	begin(&b, 0);
	put(&b, startup, sizeof(startup) - 1);
	end(&b);
	out(f, fd, 2 * MS, b.d, b.n);
	b.n = 0;
	msg(&b, 'R', "\0\0\0\0", 4);
	msg(&b, 'Z', "I", 1);
	in(f, fd, 3 * MS, b.d, b.n);
	b.n = 0;
	msgz(&b, 'Q', "SELECT name FROM users WHERE id = 7");
	out(f, fd, 4 * MS, b.d, b.n);
	b.n = 0;
	msgz(&b, 'C', "SELECT 1");
	msg(&b, 'Z', "I", 1);
	in(f, fd, 6 * MS, b.d, b.n);
	/* a pipeline: the first insert fails, the second is skipped by the server */
	b.n = 0;
	msg(&b, 'P', "\0INSERT INTO orders VALUES ($1)\0\0\0", 35);
	msg(&b, 'B', "\0\0\0\0\0\0\0\0", 8);
	msg(&b, 'E', "\0\0\0\0\0", 5);
	msg(&b, 'B', "\0\0\0\0\0\0\0\0", 8);
	msg(&b, 'E', "\0\0\0\0\0", 5);
	msg(&b, 'S', NULL, 0);
	out(f, fd, 10 * MS, b.d, b.n);
	b.n = 0;
	msg(&b, '1', NULL, 0);
	msg(&b, '2', NULL, 0);
	msg(&b, 'E', err, sizeof(err));
	msg(&b, 'Z', "I", 1);
	in(f, fd, 12 * MS, b.d, b.n);
}

static void test_postgres_client(void **state)
{
	struct fx *f = *state;
	static const char *const sel[] = {"db_system_name=\"postgresql\"",
					  "db_operation_name=\"SELECT\"",
					  "db_namespace=\"shop\"",
					  "server_address=\"127.0.0.1\"",
					  "server_port=\"5432\"",
					  "error_type=\"\"",
					  NULL};
	static const char *const failed[] = {"db_operation_name=\"INSERT\"", "error_type=\"23505\"",
					     "db_response_status_code=\"23505\"", NULL};
	static const char *const aborted[] = {"db_operation_name=\"INSERT\"",
					      "error_type=\"pipeline_aborted\"", NULL};
	static const char *const any[] = {"db_system_name=\"postgresql\"", NULL};

	pg_client_session(f, 5);
	assert_int_equal(db_count(f, sel), 1);
	assert_int_equal(db_count(f, failed), 1);
	assert_int_equal(db_count(f, aborted), 1);
	assert_int_equal(db_count(f, any), 3);
	assert_int_equal(f->opaque_calls, 0);
}

static void test_redis_client(void **state)
{
	struct fx *f = *state;
	static const char cmds[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
				   "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
				   "*2\r\n$4\r\nLPOP\r\n$1\r\nk\r\n";
	static const char replies[] = "+OK\r\n$1\r\nv\r\n-WRONGTYPE wrong kind\r\n";
	static const char *const get[] = {"db_system_name=\"redis\"", "db_operation_name=\"GET\"",
					  "db_namespace=\"0\"", "server_port=\"6379\"", NULL};
	static const char *const wrong[] = {"db_operation_name=\"LPOP\"",
					    "error_type=\"WRONGTYPE\"",
					    "db_response_status_code=\"WRONGTYPE\"", NULL};
	static const char *const any[] = {"db_system_name=\"redis\"", NULL};

	open_client(f, 6, 6379);
	out(f, 6, 2 * MS, cmds, sizeof(cmds) - 1);
	in(f, 6, 3 * MS, replies, sizeof(replies) - 1);
	assert_int_equal(db_count(f, get), 1);
	assert_int_equal(db_count(f, wrong), 1);
	assert_int_equal(db_count(f, any), 3);
}

/* The selected process is the server: its connections are not parsed. */
static void test_server_side_goes_opaque(void **state)
{
	struct fx *f = *state;
	static const char *const any[] = {"db_system_name=", NULL};

	open_client(f, 7, 6379);
	in(f, 7, 2 * MS, "*1\r\n$4\r\nPING\r\n", 14);
	out(f, 7, 3 * MS, "+PONG\r\n", 7);
	assert_int_equal(f->opaque_calls, 1);
	assert_int_equal(db_count(f, any), 0);
}

/* A process the shim reports from: the wire parser stands down. */
static void test_shim_covered_not_counted_twice(void **state)
{
	struct fx *f = *state;
	struct rt_shim_hello h;
	static const char *const any[] = {"db_system_name=\"postgresql\"", NULL};

	memset(&h, 0, sizeof(h));
	h.hdr.magic = RT_SHIM_REC_MAGIC;
	h.hdr.version = RT_SHIM_REC_VERSION;
	h.hdr.type = RT_SHIM_REC_HELLO;
	h.hdr.len = sizeof(h);
	h.hdr.pid = TGID;
	pipeline_ring_record(f->w.pipe, &h, sizeof(h));
	pg_client_session(f, 8);
	assert_int_equal(db_count(f, any), 0);
	assert_int_equal(f->opaque_calls, 1);
}

static void test_parse_errors_and_http(void **state)
{
	struct fx *f = *state;
	struct pipeline_stats st;
	static const char bad[] = "Q\0\0\0\x0dSELECT 1\0"
				  "\x01\x02\x03\x04\x05\x06\x07\x08";
	bool found = false;

	open_client(f, 9, 5432);
	out(f, 9, 2 * MS, bad, sizeof(bad) - 1);
	open_client(f, 10, 80);
	out(f, 10, 2 * MS, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
	in(f, 10, 3 * MS, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
	pipeline_stats(f->w.pipe, &st);
	assert_int_equal(st.exchanges, 1);
	for (size_t i = 0; i < st.nparse_errors; i++)
		if (!strcmp(st.parse_errors[i].protocol, "postgresql") &&
		    !strcmp(st.parse_errors[i].reason, "bad_type"))
			found = st.parse_errors[i].total == 1;
	assert_true(found);
}

/* A line protocol that looks like inline Redis commands goes opaque at its first answer. */
static void test_lookalike_goes_opaque(void **state)
{
	struct fx *f = *state;
	static const char *const any[] = {"db_system_name=", NULL};

	open_client(f, 11, 7000);
	out(f, 11, 2 * MS, "PING 1 some payload that is not http\r\n", 38);
	in(f, 11, 3 * MS, "PING 1 some payload that is not http\r\n", 38);
	out(f, 11, 4 * MS, "PING 2 some payload that is not http\r\n", 38);
	in(f, 11, 5 * MS, "PING 2 some payload that is not http\r\n", 38);
	assert_int_equal(f->opaque_calls, 1);
	assert_int_equal(db_count(f, any), 0);
}

static void test_cover_set(void **state)
{
	struct dbwire_cover *s = dbwire_cover_new();
	uint32_t i;

	(void)state;
	assert_non_null(s);
	for (i = 1; i <= DBWIRE_COVER_MAX; i++)
		assert_int_equal(dbwire_cover_set(s, i * 7, true), 0);
	assert_int_equal(dbwire_cover_set(s, 3, true), -ENOSPC);
	assert_false(dbwire_cover_has(s, 3));
	for (i = 1; i <= DBWIRE_COVER_MAX; i += 2)
		assert_int_equal(dbwire_cover_set(s, i * 7, false), 0);
	for (i = 1; i <= DBWIRE_COVER_MAX; i++)
		assert_true(dbwire_cover_has(s, i * 7) == !(i & 1));
	assert_int_equal(dbwire_cover_set(s, 3, true), 0);
	assert_true(dbwire_cover_has(s, 3));
	assert_false(dbwire_cover_has(s, 0));
	dbwire_cover_free(s);
	dbwire_cover_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_postgres_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redis_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_side_goes_opaque, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shim_covered_not_counted_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_errors_and_http, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookalike_goes_opaque, setup, teardown),
	    cmocka_unit_test(test_cover_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
