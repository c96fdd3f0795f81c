// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shim_decode.c - CMocka tests of user/intake/shim_decode.c: well-formed
 * PostgreSQL, Redis and hello records; every truncation of a valid record,
 * bad magic, version, type, lengths, kinds, error codes and times rejected;
 * unterminated and non-UTF-8 fields cleaned up; random garbage never crashes;
 * statement text exported only after opting in, and only sanitised.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "redtap/shim.h"
#include "shim_decode.h"

struct rec {
	struct rt_shim_op op;
	uint8_t text[RT_SHIM_TEXT_MAX];
};

static size_t mkpg(struct rec *r, uint8_t kind, const char *sql, uint8_t flags)
{
	size_t n = strlen(sql);

	memset(r, 0, sizeof(*r));
	r->op.hdr.magic = RT_SHIM_REC_MAGIC;
	r->op.hdr.version = RT_SHIM_REC_VERSION;
	r->op.hdr.type = RT_SHIM_REC_OP;
	r->op.hdr.pid = 42;
	r->op.hdr.tid = 43;
	r->op.start_ns = 1000;
	r->op.end_ns = 5000;
	r->op.conn_id = 0xabcdef;
	r->op.system = RT_SHIM_SYS_POSTGRESQL;
	r->op.kind = kind;
	r->op.flags = flags;
	r->op.server_port = 5432;
	strcpy((char *)r->op.namespace_, "shop");
	strcpy((char *)r->op.server_address, "10.0.0.5");
	memcpy(r->text, sql, n);
	r->op.text_len = (uint16_t)n;
	r->op.hdr.len = (uint32_t)(sizeof(r->op) + n);
	return r->op.hdr.len;
}

static void test_pg_record(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT * FROM users WHERE id = 7", 0);

	(void)state;
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_false(op.is_hello);
	assert_int_equal(op.pid, 42);
	assert_int_equal(op.tid, 43);
	assert_int_equal(op.start_ns, 1000);
	assert_int_equal(op.end_ns, 5000);
	assert_int_equal(op.conn_id, 0xabcdef);
	assert_string_equal(op.system, "postgresql");
	assert_string_equal(op.operation, "SELECT");
	assert_string_equal(op.query_summary, "SELECT users");
	assert_string_equal(op.namespace_, "shop");
	assert_string_equal(op.server_address, "10.0.0.5");
	assert_int_equal(op.server_port, 5432);
	assert_string_equal(op.error_type, "");
	assert_string_equal(op.query_text, ""); /* not opted in */

	/* a server error: error.type is the SQLSTATE */
	r.op.error = RT_SHIM_ERR_SERVER;
	strcpy((char *)r.op.status, "42P01");
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.error_type, "42P01");
	assert_string_equal(op.status_code, "42P01");
	r.op.error = RT_SHIM_ERR_EOF;
	r.op.status[0] = 0;
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.error_type, "connection_closed");
	assert_string_equal(op.status_code, "");
}

static void test_pg_kinds(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len;

	(void)state;
	len = mkpg(&r, RT_SHIM_KIND_PREPARE, "UPDATE t SET a = $1", 0);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.operation, "PREPARE");
	assert_string_equal(op.query_summary, "PREPARE UPDATE t");
	len = mkpg(&r, RT_SHIM_KIND_EXECUTE, "UPDATE t SET a = $1", 0);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.operation, "UPDATE");
	assert_string_equal(op.query_summary, "UPDATE t");
	len = mkpg(&r, RT_SHIM_KIND_EXECUTE, "stmt_17", RT_SHIM_F_TEXT_IS_NAME);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.operation, "EXECUTE");
	assert_string_equal(op.query_summary, "EXECUTE");
	len = mkpg(&r, RT_SHIM_KIND_DESCRIBE, "portal", RT_SHIM_F_TEXT_IS_NAME);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.operation, "DESCRIBE");
	len = mkpg(&r, RT_SHIM_KIND_FASTPATH, "", 0);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.operation, "FASTPATH");
	/* a truncated statement still gets a summary */
	len = mkpg(&r, RT_SHIM_KIND_QUERY, "INSERT INTO events (a, b) VALUES ('x",
		   RT_SHIM_F_TRUNCATED);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.query_summary, "INSERT events");
}

static void test_query_text_opt_in(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT * FROM t WHERE pw = 'secret'", 0);

	(void)state;
	shim_decode_set_query_text(true);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.query_text, "SELECT * FROM t WHERE pw = ?");
	shim_decode_set_query_text(false);
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.query_text, "");
}

static void test_redis_and_hello(void **state)
{
	struct rec r;
	struct rt_shim_hello h;
	struct db_op op;
	size_t len = mkpg(&r, RT_SHIM_KIND_COMMAND, "", RT_SHIM_F_ASYNC);

	(void)state;
	r.op.system = RT_SHIM_SYS_REDIS;
	strcpy((char *)r.op.operation, "HGETALL");
	strcpy((char *)r.op.namespace_, "3");
	r.op.error = RT_SHIM_ERR_SERVER;
	strcpy((char *)r.op.status, "WRONGTYPE");
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_string_equal(op.system, "redis");
	assert_string_equal(op.operation, "HGETALL");
	assert_string_equal(op.query_summary, "HGETALL");
	assert_string_equal(op.namespace_, "3");
	assert_string_equal(op.error_type, "WRONGTYPE");
	assert_int_equal(op.flags, RT_SHIM_F_ASYNC);

	memset(&h, 0, sizeof(h));
	h.hdr.magic = RT_SHIM_REC_MAGIC;
	h.hdr.version = RT_SHIM_REC_VERSION;
	h.hdr.type = RT_SHIM_REC_HELLO;
	h.hdr.len = sizeof(h);
	h.hdr.pid = 7;
	h.sent = 10;
	h.dropped_full = 2;
	h.dropped_untracked = 3;
	h.ack_addr = 0x7f0012345678ull;
	strcpy((char *)h.service_name, "checkout");
	memcpy(h.comm, "0123456789abcdef", 16); /* no NUL in the field */
	assert_int_equal(shim_decode(&h, sizeof(h), &op), 0);
	assert_true(op.is_hello);
	assert_int_equal(op.pid, 7);
	assert_int_equal(op.shim_sent, 10);
	assert_int_equal(op.shim_dropped, 2);
	assert_int_equal(op.shim_untracked, 3);
	assert_int_equal(op.shim_ack_addr, 0x7f0012345678ull);
	assert_string_equal(op.service_name, "checkout");
	assert_string_equal(op.comm, "0123456789abcde");
	assert_int_equal(op.shim_ack_nonce, 0);
	h.ack_nonce = 0xfeedull;
	assert_int_equal(shim_decode(&h, sizeof(h), &op), 0);
	assert_int_equal(op.shim_ack_nonce, 0xfeedull);

	/* an older shim's hello ends before ack_nonce: decoded, never acked */
	h.hdr.len = RT_SHIM_HELLO_MIN;
	assert_int_equal(shim_decode(&h, RT_SHIM_HELLO_MIN, &op), 0);
	assert_true(op.is_hello);
	assert_int_equal(op.shim_ack_nonce, 0);
	h.hdr.len = sizeof(h) - 1;
	assert_int_equal(shim_decode(&h, sizeof(h), &op), 0);
	assert_int_equal(op.shim_ack_nonce, 0);
	h.hdr.len = RT_SHIM_HELLO_MIN - 1;
	assert_int_equal(shim_decode(&h, sizeof(h), &op), -EINVAL);
}

static void test_truncated(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT 1", 0), n;
	uint8_t *copy;

	(void)state;
	for (n = 0; n < len; n++) {
		/* exactly n bytes, on the heap: ASan catches any read past them */
		copy = malloc(n ? n : 1);
		memcpy(copy, &r, n);
		assert_int_equal(shim_decode(copy, n, &op), -EINVAL);
		assert_string_equal(op.operation, "");
		free(copy);
	}
	copy = malloc(len);
	memcpy(copy, &r, len);
	assert_int_equal(shim_decode(copy, len, &op), 0);
	free(copy);
	assert_int_equal(shim_decode(NULL, len, &op), -EINVAL);
	assert_int_equal(shim_decode(&r, len, NULL), -EINVAL);
}

static void test_bad_fields(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len;

	(void)state;
#define EXPECT_BAD(mutation)                                                                       \
	do {                                                                                       \
		len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT 1", 0);                                 \
		mutation;                                                                          \
		assert_int_equal(shim_decode(&r, len, &op), -EINVAL);                              \
	} while (0)
	EXPECT_BAD(r.op.hdr.magic ^= 1);
	EXPECT_BAD(r.op.hdr.version = 99);
	EXPECT_BAD(r.op.hdr.type = 77);
	EXPECT_BAD(r.op.hdr.len = (uint32_t)len + 1);
	EXPECT_BAD(r.op.hdr.len = 3);
	EXPECT_BAD(r.op.text_len = RT_SHIM_TEXT_MAX + 1);
	EXPECT_BAD(r.op.text_len = 9);
	EXPECT_BAD(r.op.kind = 0);
	EXPECT_BAD(r.op.kind = RT_SHIM_KIND_MAX);
	EXPECT_BAD(r.op.error = RT_SHIM_ERR_MAX);
	EXPECT_BAD(r.op.system = 9);
	EXPECT_BAD(r.op.end_ns = 10);
	EXPECT_BAD(len = 16);
#undef EXPECT_BAD
}

static void test_dirty_strings(void **state)
{
	struct rec r;
	struct db_op op;
	size_t len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT \xff FROM t", 0);

	(void)state;
	memset(r.op.namespace_, 'A', sizeof(r.op.namespace_));		/* no NUL at all */
	memset(r.op.server_address, 0xc3, sizeof(r.op.server_address)); /* broken UTF-8 */
	memset(r.op.status, '\n', sizeof(r.op.status));
	assert_int_equal(shim_decode(&r, len, &op), 0);
	assert_int_equal(strlen(op.namespace_), sizeof(op.namespace_) - 1);
	assert_int_equal(strspn(op.server_address, "?"), strlen(op.server_address));
	assert_int_equal(strspn(op.status_code, " "), strlen(op.status_code));
	assert_string_equal(op.query_summary, "SELECT t");
}

static void test_garbage(void **state)
{
	uint8_t buf[RT_SHIM_REC_MAX + 16];
	struct rec r;
	struct db_op op;
	unsigned seed = 99;
	size_t len, i, n;
	int k, ok = 0;

	(void)state;
	for (k = 0; k < 20000; k++) {
		n = rand_r(&seed) % sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		if (k % 2) {
			/* a valid header with random fields behind it */
			len = mkpg(&r, RT_SHIM_KIND_QUERY, "SELECT 1", 0);
			memcpy(buf, &r, len < n ? len : n);
			for (i = sizeof(r.op.hdr); i < n && i < len; i++)
				if (rand_r(&seed) % 4 == 0)
					buf[i] = (uint8_t)rand_r(&seed);
		}
		if (shim_decode(buf, n, &op) == 0) {
			ok++;
			assert_true(strlen(op.operation) < sizeof(op.operation));
			assert_true(strlen(op.server_address) < sizeof(op.server_address));
			assert_true(strlen(op.query_summary) < sizeof(op.query_summary));
		} else {
			assert_string_equal(op.system, "");
		}
	}
	assert_true(ok > 0);
	assert_string_equal(shim_error_type_name(RT_SHIM_ERR_ABORTED), "pipeline_aborted");
	assert_string_equal(shim_error_type_name(200), "_OTHER");
}

/* shim.uids / shim.cgroups: syntax, and who passes once set. */
static void test_reporters(void **state)
{
	char root[] = "/tmp/redtap-cg-XXXXXX", dir[64];
	uint64_t before = shim_reporters_rejected();
	struct stat st;

	(void)state;
	assert_int_equal(shim_reporters_check("", false), 0);
	assert_int_equal(shim_reporters_check("any", true), 0);
	assert_int_equal(shim_reporters_check("0, 1000,65534", false), 0);
	assert_int_equal(shim_reporters_check("0,,1", false), -EINVAL);
	assert_int_equal(shim_reporters_check("-1", false), -EINVAL);
	assert_int_equal(shim_reporters_check("12x", false), -EINVAL);
	assert_int_equal(shim_reporters_check("4294967295", false), -EINVAL);
	assert_int_equal(shim_reporters_check("/system.slice/a.service", true), 0);
	assert_int_equal(shim_reporters_check("relative", true), -EINVAL);
	assert_int_equal(shim_reporters_check("/a/../b", true), -EINVAL);
	assert_int_equal(shim_reporters_check("/..", true), -EINVAL);
	assert_int_equal(shim_reporters_check("/", true), 0);

	/* nothing set: everyone passes, nothing counted */
	assert_int_equal(shim_reporters_set(NULL, NULL, NULL), 0);
	assert_true(shim_reporter_ok(12345, 99));
	assert_int_equal(shim_reporters_rejected(), before);

	assert_int_equal(shim_reporters_set("0,1000", "", NULL), 0);
	assert_true(shim_reporter_ok(1000, 1));
	assert_true(shim_reporter_ok(0, 2));
	assert_false(shim_reporter_ok(65534, 1));
	assert_int_equal(shim_reporters_rejected(), before + 1);

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/app", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(shim_reporters_set("", "/app", root), 0);
	assert_true(shim_reporter_ok(7, (uint64_t)st.st_ino));
	assert_false(shim_reporter_ok(7, (uint64_t)st.st_ino + 1));
	assert_int_equal(shim_reporters_set("7", "/app", root), 0);
	assert_false(shim_reporter_ok(8, (uint64_t)st.st_ino)); /* both must hold */
	assert_true(shim_reporter_ok(7, (uint64_t)st.st_ino));
	assert_int_equal(shim_reporters_set("", "/missing", root), -ENOENT);
	assert_true(shim_reporter_ok(8, 1)); /* a failed set restricts nothing */
	assert_int_equal(shim_reporters_rejected(), before + 3);
	rmdir(dir);
	rmdir(root);
	assert_int_equal(shim_reporters_set(NULL, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pg_record),	      cmocka_unit_test(test_pg_kinds),
	    cmocka_unit_test(test_query_text_opt_in), cmocka_unit_test(test_redis_and_hello),
	    cmocka_unit_test(test_truncated),	      cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_dirty_strings),     cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_reporters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
