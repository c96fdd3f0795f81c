// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_sqlsum.c - CMocka tests of user/proto/sqlsum.c: sanitising (every literal a
 * placeholder, PostgreSQL's lexical traps, $n kept, IN lists collapsed),
 * operation names and summaries from libpg_query and from the fallback
 * tokenizer, batches, truncated text, invalid UTF-8 and random garbage.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sqlsum.h"
#include "utf8.h"

static void expect_sanitized(const char *sql, const char *want)
{
	char out[512];

	sqlsum_sanitize(sql, strlen(sql), out, sizeof(out));
	assert_string_equal(out, want);
}

static struct sql_summary describe(const char *sql)
{
	struct sql_summary s;

	assert_int_equal(sqlsum_describe(sql, strlen(sql), false, &s), 0);
	return s;
}

static void expect_summary(const char *sql, const char *op, const char *summary)
{
	struct sql_summary s = describe(sql);

	assert_string_equal(s.operation, op);
	assert_string_equal(s.summary, summary);
}

/* Valid UTF-8 (utf8.h, tested in test_utf8.c) without control characters:
 * what sqlsum_utf8_fix() leaves. */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (; *p; p += n)
		if (*p < 0x20 || !(n = utf8_seq(p)))
			return false;
	return true;
}

static void test_plain_literals(void **state)
{
	(void)state;
	expect_sanitized("SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = 3.14e-2",
			 "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?");
	expect_sanitized("SELECT 'it''s', .5, 0x1F, 1_000", "SELECT ?, ?, ?, ?");
	/* standard_conforming_strings: a backslash does not escape in '' */
	expect_sanitized("SELECT 'a\\', 'b'", "SELECT ?, ?");
	expect_sanitized("SELECT t1.c2, a$b FROM t1", "SELECT t1.c2, a$b FROM t1");
	expect_sanitized("SELECT   x\n\t FROM\r\n t", "SELECT x FROM t");
}

static void test_escape_strings(void **state)
{
	(void)state;
	expect_sanitized("SELECT E'it\\'s', e'a\\\\', 'z'", "SELECT ?, ?, ?");
	expect_sanitized("SELECT U&'d\\0061t\\+000061' UESCAPE '!'", "SELECT ? UESCAPE ?");
	expect_sanitized("SELECT U&\"d\\0061t\" FROM t", "SELECT U&\"d\\0061t\" FROM t");
	expect_sanitized("SELECT B'1010', X'1F', N'nat'", "SELECT ?, ?, ?");
	expect_sanitized("SELECT \"it's a \"\"name\"\"\" FROM t",
			 "SELECT \"it's a \"\"name\"\"\" FROM t");
}

static void test_dollar_quotes(void **state)
{
	(void)state;
	expect_sanitized("SELECT $$it's; a 'test'$$, 1", "SELECT ?, ?");
	expect_sanitized("SELECT $body$ $$ nested; 'x' $body$ AS b", "SELECT ? AS b");
	expect_sanitized("SELECT $1, $23 FROM t WHERE a = $1",
			 "SELECT $1, $23 FROM t WHERE a = $1");
	/* unterminated: the rest is the literal */
	expect_sanitized("SELECT $q$ never ends", "SELECT ?");
	/* one statement, although the dollar quote holds a semicolon */
	expect_summary("DO $$BEGIN PERFORM 1; END$$", "DO", "DO");
}

static void test_comments_and_casts(void **state)
{
	(void)state;
	expect_sanitized("SELECT /* a /* nested 'x' */ still */ 1 -- tail 'y'\n+ 2",
			 "SELECT ? + ?");
	expect_sanitized("-- lead\nSELECT 1", "SELECT ?");
	expect_sanitized("SELECT '1'::int, x::text, CAST('2' AS int)",
			 "SELECT ?::int, x::text, CAST(? AS int)");
	expect_sanitized("SELECT /* unterminated", "SELECT");
}

static void test_in_lists(void **state)
{
	(void)state;
	expect_sanitized("SELECT * FROM t WHERE id IN (1, 2, 3) AND x IN ('a')",
			 "SELECT * FROM t WHERE id IN (?) AND x IN (?)");
	expect_sanitized("SELECT * FROM t WHERE id IN ($1, $2)",
			 "SELECT * FROM t WHERE id IN ($1, $2)");
	expect_sanitized("SELECT * FROM t WHERE id in(4,5)", "SELECT * FROM t WHERE id in(?)");
}

static void test_summaries_parsed(void **state)
{
	struct sql_summary s;

	(void)state;
	expect_summary("SELECT * FROM users WHERE id = 1", "SELECT", "SELECT users");
	expect_summary("select a.x from public.users a join \"Order Items\" b on a.id = b.uid",
		       "SELECT", "SELECT public.users Order Items");
	expect_summary("INSERT INTO orders (a) SELECT x FROM items", "INSERT",
		       "INSERT orders SELECT items");
	expect_summary("insert into h (tid) values (1)", "INSERT", "INSERT h");
	expect_summary("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
		       "UPDATE", "UPDATE pgbench_accounts");
	expect_summary("DELETE FROM sessions WHERE expires < now()", "DELETE", "DELETE sessions");
	expect_summary("WITH t AS (SELECT * FROM a) DELETE FROM b USING t WHERE b.id = t.id",
		       "DELETE", "DELETE b t SELECT a");
	expect_summary("SELECT * FROM a WHERE x IN (SELECT y FROM b)", "SELECT", "SELECT a b");
	expect_summary("CREATE TABLE foo (id int)", "CREATE", "CREATE foo");
	expect_summary("COPY t1 FROM STDIN", "COPY", "COPY t1");
	expect_summary("TRUNCATE a, b", "TRUNCATE", "TRUNCATE a b");
	expect_summary("BEGIN", "BEGIN", "BEGIN");
	expect_summary("SELECT 1", "SELECT", "SELECT");
	s = describe("SELECT * FROM users");
	assert_true(s.parsed);
}

static void test_batches(void **state)
{
	(void)state;
	expect_summary("BEGIN; UPDATE t SET a = 1; COMMIT", "BATCH", "BEGIN UPDATE t COMMIT");
	expect_summary("SELECT 1; SELECT * FROM x;", "BATCH SELECT", "SELECT SELECT x");
}

static void test_fallback(void **state)
{
	const char *cut =
	    "SELECT * FROM users u JOIN orders o ON o.uid = u.id WHERE name = 'unterm";
	struct sql_summary s;

	(void)state;
	/* truncated text: the parser is not tried, the tokenizer does it */
	assert_int_equal(sqlsum_describe(cut, strlen(cut), true, &s), 0);
	assert_false(s.parsed);
	assert_string_equal(s.operation, "SELECT");
	assert_string_equal(s.summary, "SELECT users orders");
	assert_string_equal(s.sanitized,
			    "SELECT * FROM users u JOIN orders o ON o.uid = u.id WHERE name = ?");
	sqlsum_fallback("SELECT EXTRACT(YEAR FROM ts) FROM events FOR UPDATE", 51, &s);
	assert_string_equal(s.summary, "SELECT events");
	sqlsum_fallback("UPDATE ONLY t SET a = 1 WHERE b IN (SELECT c FROM d)", 52, &s);
	assert_string_equal(s.summary, "UPDATE t SELECT d");
	sqlsum_fallback("with x as (select 1) insert into y select * from x", 50, &s);
	assert_string_equal(s.operation, "INSERT");
	sqlsum_fallback("SELECT * FROM generate_series(1, 3)", 35, &s);
	assert_string_equal(s.summary, "SELECT");
	sqlsum_fallback("copy t from stdin", 17, &s);
	assert_string_equal(s.summary, "COPY t");
	/* another dialect: no parse, still a summary */
	s = describe("SELECT TOP 5 * FROM [dbo].[users]");
	assert_string_equal(s.operation, "SELECT");
}

static void test_bad_input(void **state)
{
	struct sql_summary s;
	char buf[300];
	unsigned seed = 12345;
	int i, j, n;

	(void)state;
	assert_int_equal(sqlsum_describe(NULL, 3, false, &s), -EINVAL);
	assert_int_equal(sqlsum_describe("x", 1, false, NULL), -EINVAL);
	s = describe("");
	assert_string_equal(s.operation, "");
	assert_string_equal(s.summary, "");
	s = describe("SELECT \xff\xfe AS \"\xc3\" FROM t\xe2\x82");
	assert_true(valid_utf8(s.sanitized));
	assert_true(valid_utf8(s.summary));
	assert_string_equal(s.operation, "SELECT");
	/* text after a NUL byte is ignored */
	assert_int_equal(sqlsum_describe("SELECT 1\0DROP TABLE x", 21, false, &s), 0);
	assert_string_equal(s.operation, "SELECT");
	for (i = 0; i < 3000; i++) {
		n = (int)(rand_r(&seed) % sizeof(buf));
		for (j = 0; j < n; j++) {
			/* bias towards SQL's special characters */
			static const char special[] = "'\"$-/*;()E&U:, \\\n0aZ";

			buf[j] = (char)(rand_r(&seed) % 3
					    ? special[rand_r(&seed) % (sizeof(special) - 1)]
					    : rand_r(&seed) % 256);
		}
		assert_int_equal(sqlsum_describe(buf, (size_t)n, i & 1, &s), 0);
		assert_true(strlen(s.sanitized) < sizeof(s.sanitized));
		assert_true(valid_utf8(s.sanitized));
		assert_true(valid_utf8(s.summary));
		assert_true(valid_utf8(s.operation));
	}
}

static void test_long_and_cached(void **state)
{
	size_t big = 200000;
	char *q = malloc(big + 64);
	struct sql_summary a, b;

	(void)state;
	if (!q)
		abort(); /* also tells the compiler q is valid below */
	strcpy(q, "SELECT '");
	memset(q + 8, 'x', big);
	strcpy(q + 8 + big, "' FROM bigtable");
	assert_int_equal(sqlsum_describe(q, strlen(q), false, &a), 0);
	assert_string_equal(a.summary, "SELECT bigtable");
	assert_string_equal(a.sanitized, "SELECT ? FROM bigtable");
	free(q);
	a = describe("SELECT * FROM cached_t WHERE a = 1");
	b = describe("SELECT * FROM cached_t WHERE a = 1");
	assert_memory_equal(&a, &b, sizeof(a));
	/* same text, but truncated: another cache entry, not parsed */
	assert_int_equal(sqlsum_describe("SELECT * FROM cached_t WHERE a = 1", 34, true, &b), 0);
	assert_false(b.parsed);
	assert_string_equal(b.summary, "SELECT cached_t");
}

/*
 * A text that is its own sanitised form is looked up as it comes, before
 * it is sanitised: the answer must be the one the sanitised key gives,
 * cold or warm, and a text whose sanitised form is not a fixed point must
 * not borrow another text's entry. "\x01SELECT 1 FROM fp_t" sanitises to
 * " SELECT ? FROM fp_t" (the control byte a space), which sanitises in turn
 * to "SELECT ? FROM fp_t": described as it is, that text must say so.
 */
static void test_cached_as_sent(void **state)
{
	static const char *const texts[] = {
	    "SELECT name FROM as_sent_t WHERE id = $1",
	    "UPDATE as_sent_t SET n = n + $1 WHERE id = $2",
	    "SELECT name FROM as_sent_t WHERE id = 7",
	    "select   name from as_sent_t where id = $1 -- a comment",
	};
	struct sql_summary cold, warm, raw;
	char want[sizeof(cold.sanitized)];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = texts[i];

		assert_int_equal(sqlsum_describe(t, strlen(t), false, &cold), 0);
		assert_int_equal(sqlsum_describe(t, strlen(t), false, &warm), 0);
		assert_memory_equal(&cold, &warm, sizeof(cold));
		sqlsum_sanitize(t, strlen(t), want, sizeof(want));
		assert_string_equal(cold.sanitized, want);
		/* the sanitised text, sent as it is: the same entry */
		assert_int_equal(sqlsum_describe(want, strlen(want), false, &raw), 0);
		assert_memory_equal(&cold, &raw, sizeof(cold));
	}

	assert_int_equal(sqlsum_describe("\x01SELECT 1 FROM fp_t", 21, false, &cold), 0);
	assert_string_equal(cold.sanitized, " SELECT ? FROM fp_t");
	assert_int_equal(sqlsum_describe(" SELECT ? FROM fp_t", 19, false, &raw), 0);
	assert_string_equal(raw.sanitized, "SELECT ? FROM fp_t");
	assert_string_equal(raw.summary, "SELECT fp_t");
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Texts a hostile process can send: each one must come back, and quickly. */
static void test_hostile_bounded(void **state)
{
	static const char *const texts[] = {
	    "SELECT 1 FROM a JOIN \"\"", /* used to loop forever in word_has() */
	    "SELECT 1 FROM \"\" JOIN \"\" JOIN \"\"",
	    "UPDATE \"\" SET a = 1",
	    "INSERT INTO \"\".\"\" VALUES (1)",
	    "SELECT 1 FROM a JOIN \"\" JOIN b JOIN \"\"",
	};
	size_t big = 2 * SQLSUM_TEXT_MAX, i;
	char *q = malloc(big + 1);
	struct sql_summary s;
	double t0;

	(void)state;
	if (!q)
		abort();
	alarm(20); /* a loop that does not end fails the test instead of hanging it */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		s = describe(texts[i]);
		assert_true(s.operation[0] != 0);
	}
	s = describe("SELECT 1 FROM a JOIN \"\"");
	assert_string_equal(s.summary, "SELECT a");
	sqlsum_fallback("SELECT 1 FROM a JOIN \"\"", 24, &s);
	assert_string_equal(s.summary, "SELECT a");

	/* deep nesting, huge texts, unclosed quotes and comments: bounded work */
	t0 = mono_s();
	memset(q, '(', big);
	memcpy(q, "SELECT ", 7);
	q[big] = 0;
	assert_int_equal(sqlsum_describe(q, big, false, &s), 0);
	assert_false(s.parsed); /* nested too deep for the parser */
	for (i = 0; i + 2 < big; i += 2)
		memcpy(q + i, "$a", 2);
	assert_int_equal(sqlsum_describe(q, big, false, &s), 0);
	memset(q, '/', big);
	for (i = 1; i < big; i += 2)
		q[i] = '*';
	assert_int_equal(sqlsum_describe(q, big, false, &s), 0);
	for (i = 0; i + 6 < big; i += 6)
		memcpy(q + i, "JOIN \"", 6);
	assert_int_equal(sqlsum_describe(q, big, false, &s), 0);
	memcpy(q, "SELECT 1 FROM t WHERE a IN (", 28);
	for (i = 28; i + 2 < big; i += 2)
		memcpy(q + i, "1,", 2);
	assert_int_equal(sqlsum_describe(q, big, false, &s), 0);
	assert_false(s.parsed); /* too long for the parser */
	assert_string_equal(s.summary, "SELECT t");
	assert_true(mono_s() - t0 < 5.0);
	alarm(0);
	free(q);
}

/* The parser's time is budgeted: past it, texts get the tokenizer's summary. */
static void test_parse_budget(void **state)
{
	uint64_t skipped = sqlsum_parse_skipped();
	struct sql_summary s;
	char q[1024];
	double t0;
	int parsed = 0;

	(void)state;
	sqlsum_set_parse_budget(0);
	s = describe("SELECT * FROM budget_t WHERE a = 1");
	assert_false(s.parsed);
	assert_string_equal(s.summary, "SELECT budget_t");
	assert_int_equal(sqlsum_parse_skipped(), skipped + 1);
	/* a skipped text is not cached: with budget again, the parser sees it */
	sqlsum_set_parse_budget(SQLSUM_PARSE_BUDGET_NS);
	s = describe("SELECT * FROM budget_t WHERE a = 1");
	assert_true(s.parsed);

	/* texts that differ only in their literals share a cache entry: with no
	 * budget left, another value still gets the parser's summary */
	s = describe("SELECT abalance FROM shape_t WHERE aid = 1");
	assert_true(s.parsed);
	sqlsum_set_parse_budget(0);
	s = describe("SELECT abalance FROM shape_t WHERE aid = 98765");
	assert_true(s.parsed);
	assert_string_equal(s.summary, "SELECT shape_t");
	assert_string_equal(s.sanitized, "SELECT abalance FROM shape_t WHERE aid = ?");
	s = describe("SELECT abalance FROM shape_t WHERE aid = 'x'");
	assert_true(s.parsed);
	s = describe("SELECT abalance FROM shape_t WHERE bid = 1"); /* another shape */
	assert_false(s.parsed);
	sqlsum_set_parse_budget(SQLSUM_PARSE_BUDGET_NS);

	/* costly texts (long expression chains): 5 ms per second of parsing at most */
	sqlsum_set_parse_budget(5000000);
	t0 = mono_s();
	for (int k = 0; k < 200; k++) {
		size_t n = (size_t)snprintf(q, sizeof(q), "SELECT %d", k);

		while (n + 3 < sizeof(q))
			n += (size_t)snprintf(q + n, sizeof(q) - n, "+1");
		parsed += sqlsum_describe(q, n, false, &s) == 0 && s.parsed;
		assert_string_equal(s.operation, "SELECT");
	}
	print_message("200 costly texts: %d parsed, %.1f ms\n", parsed, (mono_s() - t0) * 1e3);
	assert_true(parsed < 200);
	assert_true(sqlsum_parse_skipped() > skipped + 1);
	sqlsum_set_parse_budget(SQLSUM_PARSE_BUDGET_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_literals),  cmocka_unit_test(test_escape_strings),
	    cmocka_unit_test(test_dollar_quotes),   cmocka_unit_test(test_comments_and_casts),
	    cmocka_unit_test(test_in_lists),	    cmocka_unit_test(test_summaries_parsed),
	    cmocka_unit_test(test_batches),	    cmocka_unit_test(test_fallback),
	    cmocka_unit_test(test_bad_input),	    cmocka_unit_test(test_long_and_cached),
	    cmocka_unit_test(test_hostile_bounded), cmocka_unit_test(test_parse_budget),
	    cmocka_unit_test(test_cached_as_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
