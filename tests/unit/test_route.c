// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_route.c - unit tests for the route normaliser (user/proto/route.c): target
 * forms, identifier heuristics, user patterns and their order, limits, and
 * hostile input.
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

#include <cmocka.h>

#include "route.h"

/* Normalises target with table t and checks the result and the returned length. */
static void check(const struct route_table *t, const char *target, const char *want)
{
	char out[ROUTE_MAX_LEN + 1];
	size_t n;

	memset(out, 'X', sizeof(out));
	n = route_normalize(t, target, out, sizeof(out));
	if (strcmp(out, want) != 0)
		print_error("target \"%s\": got \"%s\", want \"%s\"\n", target ? target : "(null)",
			    out, want);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_target_forms(void **state)
{
	(void)state;
	check(NULL, "", "/");
	check(NULL, NULL, "/");
	check(NULL, "/", "/");
	check(NULL, "*", "*");
	check(NULL, "*?x", "*");
	check(NULL, "?a=1", "/");
	check(NULL, "#frag", "/");
	check(NULL, "/search?q=hello+world&page=2", "/search");
	check(NULL, "/a/b#section-2", "/a/b");
	check(NULL, "/a?x=/b/c#d", "/a");
	check(NULL, "http://example.com:8080/api/v1/users?x=1", "/api/v1/users");
	check(NULL, "HTTPS://user:pw@example.com/orders/42", "/orders/{id}");
	check(NULL, "http://example.com", "/");
	check(NULL, "http://example.com?x=/y", "/");
	check(NULL, "http://example.com/", "/");
	check(NULL, "coap+tcp://h/x", "/x");
	check(NULL, "users/42", "/users/{id}");
	check(NULL, "/a//b/", "/a//b/");
	check(NULL, "/users/", "/users/");
}

static void test_identifiers(void **state)
{
	(void)state;
	check(NULL, "/users/42", "/users/{id}");
	check(NULL, "/users/0/friends/123456789012345678901234567890", "/users/{id}/friends/{id}");
	check(NULL, "/items/550e8400-e29b-41d4-a716-446655440000", "/items/{id}");
	check(NULL, "/items/550E8400-E29B-41D4-A716-446655440000/x", "/items/{id}/x");
	check(NULL, "/commits/3f2a9c1b", "/commits/{id}");
	check(NULL, "/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commits/{id}");
	check(NULL, "/blob/abcdefabcdefabcdef", "/blob/{id}");
	check(NULL, "/s/dGhpcyBpcyBhIHRva2Vu", "/s/{id}");   /* base64url */
	check(NULL, "/s/eyJhbGciOiJIUzI1NiJ9", "/s/{id}");   /* JWT header */
	check(NULL, "/s/QmFzZUVuY29kaW5nVGVzdA", "/s/{id}"); /* random case */
	check(NULL, "/s/aZ_k-3Lm9PqR7sT2uV", "/s/{id}");
	check(NULL, "/day/2024-01-15", "/day/{id}");
	check(NULL, "/at/2024-01-15T10:00:00Z", "/at/{id}");
	check(NULL, "/v/1.2.3", "/v/{id}");
	check(NULL, "/ip/10.0.0.1", "/ip/{id}");
	check(NULL, "/n/1,234/-5/1.5e3/+3/0x1f", "/n/{id}/{id}/{id}/{id}/{id}");
	check(NULL, "/f/clip.mp4/x.7z/inf/nan", "/f/clip.mp4/x.7z/inf/nan");
	check(NULL, "/u/john.doe@example.com", "/u/{id}");
	check(NULL, "/@john/posts", "/{id}/posts");
	check(NULL, "/search/hello%20world", "/search/{id}");
	check(NULL, "/f/%E2%9C%93", "/f/{id}");
	check(NULL, "/users/12345.json", "/users/{id}.json");
	check(NULL, "/img/3f2a9c1b4e.png", "/img/{id}.png");
	check(NULL, "/blog/my-post-about-http2-and-http3", "/blog/{id}");
}

static void test_words_stay(void **state)
{
	(void)state;
	check(NULL, "/api/v1/users", "/api/v1/users");
	check(NULL, "/index.html", "/index.html");
	check(NULL, "/v2/health", "/v2/health");
	check(NULL, "/.well-known/openid-configuration", "/.well-known/openid-configuration");
	check(NULL, "/oauth2-authorization/getUserProfileSettings",
	      "/oauth2-authorization/getUserProfileSettings");
	check(NULL, "/XMLHttpRequestHandler", "/XMLHttpRequestHandler");
	check(NULL, "/deadbeef/2fa/robots.txt/favicon.ico", "/deadbeef/2fa/robots.txt/favicon.ico");
	check(NULL, "/v1.2/~user/a-b_c", "/v1.2/~user/a-b_c");
	check(NULL, "/caf\xc3\xa9/men\xc3\xbc", "/caf\xc3\xa9/men\xc3\xbc");
}

static void test_patterns(void **state)
{
	struct route_table *t = route_table_new();

	(void)state;
	assert_non_null(t);
	assert_int_equal(route_table_add(t, "/users/{id}/orders/{order}"), 0);
	assert_int_equal(route_table_add(t, "/static/*"), 0);
	assert_int_equal(route_table_add(t, "/files/{name}.txt"), 0);
	assert_int_equal(route_table_add(t, "/accounts/{acct}"), 0);

	/* a pattern is written as itself, even where the heuristic would differ */
	check(t, "/users/42/orders/7", "/users/{id}/orders/{order}");
	check(t, "/users/me/orders/latest?x=1", "/users/{id}/orders/{order}");
	check(t, "http://h:1/accounts/alice", "/accounts/{acct}");
	/* whole-path match only; an empty segment does not fill a placeholder */
	check(t, "/users/42/orders/7/items", "/users/{id}/orders/{id}/items");
	check(t, "/users/42/orders/", "/users/{id}/orders/");
	check(t, "/accounts/alice/", "/accounts/alice/");
	check(t, "/accounts", "/accounts");
	/* the final '*' takes one or more remaining segments */
	check(t, "/static/", "/static/*");
	check(t, "/static/css/site.css", "/static/*");
	check(t, "/static/a/b/c/d/e/f/g/h/i/j/k", "/static/*");
	check(t, "/static", "/static");
	check(t, "/staticx/1", "/staticx/{id}");
	/* a placeholder inside a segment takes at least one byte */
	check(t, "/files/report.txt", "/files/{name}.txt");
	check(t, "/files/.txt", "/files/.txt");
	check(t, "/files/report.csv", "/files/report.csv");
	check(t, "/files/a.txt.txt", "/files/{name}.txt");
	route_table_free(t);
}

/* Placeholders must not make matching exponential on a long hostile segment. */
static void test_pattern_cost(void **state)
{
	struct route_table *t = route_table_new();
	static char target[64 * 1024];
	struct timespec t0, t1;

	(void)state;
	assert_non_null(t);
	assert_int_equal(route_table_add(t, "/{a}{b}{c}{d}{e}{f}{g}{h}x{i}y"), 0);
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) / 2] = 'x';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	check(t, target, "/{id}");
	target[sizeof(target) - 2] = 'y';
	check(t, target, "/{a}{b}{c}{d}{e}{f}{g}{h}x{i}y");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(route_table_add(t, "/a{x}b{y}c"), 0);
	check(t, "/aXbYc", "/a{x}b{y}c");
	check(t, "/abbbc", "/a{x}b{y}c");
	check(t, "/abc", "/abc");
	check(t, "/aXbc", "/aXbc");
	route_table_free(t);
}

static void test_pattern_order(void **state)
{
	struct route_table *a = route_table_new(), *b = route_table_new();

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(route_table_add(a, "/users/me"), 0);
	assert_int_equal(route_table_add(a, "/users/{id}"), 0);
	assert_int_equal(route_table_add(b, "/users/{id}"), 0);
	assert_int_equal(route_table_add(b, "/users/me"), 0);
	check(a, "/users/me", "/users/me");
	check(a, "/users/7", "/users/{id}");
	check(b, "/users/me", "/users/{id}");

	/* a catch-all added first wins over everything */
	assert_int_equal(route_table_add(b, "/x/{a}{b}"), 0);
	check(b, "/x/ab", "/x/{a}{b}");
	check(b, "/x/a", "/x/a");
	route_table_free(a);
	a = route_table_new();
	assert_non_null(a);
	assert_int_equal(route_table_add(a, "/*"), 0);
	assert_int_equal(route_table_add(a, "/users/{id}"), 0);
	check(a, "/users/1", "/*");
	check(a, "/", "/*");
	check(a, "*", "*");
	route_table_free(a);
	route_table_free(b);
}

static void test_malformed_patterns(void **state)
{
	static const char *const bad[] = {
	    "",	      "users", "users/{id}", "/a/{id", "/a/id}",  "/a/{}", "/a/{{x}}", "/a/{x/y}",
	    "/a/*/b", "/a*",   "/a/b*",	     "/a/*b",  "/a/{x*}", "/*/",   "/a?b",     "/a#b",
	    "/a b",   "/a\tb", "/a\x01",     "/**",    "//*x",	  "/a/}{", "*",
	};
	struct route_table *t = route_table_new();
	char long_pattern[ROUTE_MAX_LEN + 2];

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (route_table_add(t, bad[i]) != -EINVAL)
			print_error("pattern \"%s\" was accepted\n", bad[i]);
		assert_int_equal(route_table_add(t, bad[i]), -EINVAL);
	}
	assert_int_equal(route_table_add(t, NULL), -EINVAL);
	assert_int_equal(route_table_add(NULL, "/a"), -EINVAL);

	memset(long_pattern, 'a', sizeof(long_pattern));
	long_pattern[0] = '/';
	long_pattern[ROUTE_MAX_LEN + 1] = '\0';
	assert_int_equal(route_table_add(t, long_pattern), -EINVAL);
	long_pattern[ROUTE_MAX_LEN] = '\0';
	assert_int_equal(route_table_add(t, long_pattern), 0);

	/* good ones around the edges */
	assert_int_equal(route_table_add(t, "/"), 0);
	assert_int_equal(route_table_add(t, "/*"), 0);
	assert_int_equal(route_table_add(t, "/a/{x}-{y}/*"), 0);
	/* rejected patterns never match */
	check(t, "/a/b/c", "/*");
	route_table_free(t);
	route_table_free(NULL);
}

static void test_many_segments(void **state)
{
	char target[8192];
	size_t len = 0;

	(void)state;
	check(NULL, "/a/b/c/d/e/f/g/h", "/a/b/c/d/e/f/g/h");
	check(NULL, "/a/b/c/d/e/f/g/h/", "/a/b/c/d/e/f/g/h/*");
	check(NULL, "/a/b/c/d/e/f/g/h/i/j", "/a/b/c/d/e/f/g/h/*");
	check(NULL, "/1/2/3/4/5/6/7/8/9", "/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/*");
	check(NULL, "//////////////", "/////////*");

	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(target + len, sizeof(target) - len, "/s%d", i);
	check(NULL, target, "/s0/s1/s2/s3/s4/s5/s6/s7/*");
}

static void test_long_paths(void **state)
{
	char target[8192], seg[64];
	char out[ROUTE_MAX_LEN + 1];
	size_t n;

	(void)state;
	/* a segment over 64 bytes is never a route word */
	memset(target, 'x', 300);
	target[0] = '/';
	strcpy(target + 300, "/tail");
	check(NULL, target, "/{id}/tail");

	/* words of 60 bytes: two fit in 127 characters, the third gives way to "*" */
	memset(seg, 'w', 60);
	seg[60] = '\0';
	snprintf(target, sizeof(target), "/%s/%s/%s", seg, seg, seg);
	n = route_normalize(NULL, target, out, sizeof(out));
	assert_true(n <= ROUTE_MAX_LEN);
	assert_int_equal(n, strlen(out));
	assert_int_equal(n, 1 + 60 + 1 + 60 + 2);
	assert_memory_equal(out + n - 2, "/*", 2);
	assert_memory_equal(out, target, 122);

	/* the "*" replaces the last kept segment when there is no room for it */
	memset(seg, 'w', 62);
	seg[62] = '\0';
	snprintf(target, sizeof(target), "/%s/%s/x", seg, seg);
	n = route_normalize(NULL, target, out, sizeof(out));
	assert_int_equal(n, 1 + 62 + 2);
	assert_memory_equal(out + 63, "/*", 3);

	/* a long query is irrelevant */
	memset(target, 'q', sizeof(target) - 1);
	memcpy(target, "/a?", 3);
	target[sizeof(target) - 1] = '\0';
	check(NULL, target, "/a");
}

static void test_small_output(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'X', sizeof(out));
	assert_int_equal(route_normalize(NULL, "/users/42", out, 2), 1);
	assert_string_equal(out, "/");
	assert_int_equal(out[2], 'X');
	assert_int_equal(route_normalize(NULL, "/users/42", out, 5), 4);
	assert_string_equal(out, "/use");
	assert_int_equal(route_normalize(NULL, "/users/42", out, 1), 0);
	assert_string_equal(out, "");
	out[0] = 'X';
	assert_int_equal(route_normalize(NULL, "/users/42", out, 0), 0);
	assert_int_equal(out[0], 'X');
	assert_int_equal(route_normalize(NULL, "/users/42", NULL, 10), 0);
}

static void test_weird_bytes(void **state)
{
	char target[512], out[ROUTE_MAX_LEN + 1];

	(void)state;
	check(NULL, "/a/\x01\x02/b", "/a/{id}/b");
	check(NULL, "/a/x\xffy/b", "/a/{id}/b");
	check(NULL, "/a/\xc3/b", "/a/{id}/b");	       /* truncated UTF-8 */
	check(NULL, "/a/\xc0\xaf/b", "/a/{id}/b");     /* overlong '/' */
	check(NULL, "/a/\xed\xa0\x80/b", "/a/{id}/b"); /* surrogate */
	check(NULL, "/a/\x7f/b", "/a/{id}/b");
	check(NULL, "/a\r\n/b", "/{id}/b");
	check(NULL, "/{id}/{}", "/{id}/{}");
	check(NULL, "/%", "/%");
	check(NULL, "/%zz/%4", "/%zz/%4");

	/* every byte value in every position: never crashes, always bounded */
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(rand() % (sizeof(target) - 1)), n;

		for (size_t i = 0; i < len; i++)
			target[i] = (char)(1 + rand() % 255);
		target[len] = '\0';
		n = route_normalize(NULL, target, out, sizeof(out));
		assert_int_equal(n, strlen(out));
		assert_true(n >= 1 && n <= ROUTE_MAX_LEN);
		assert_true(out[0] == '/' || (n == 1 && out[0] == '*'));
	}
}

/* route_table_has(): only the configured patterns themselves, so 404s can be told apart. */
static void test_table_has(void **state)
{
	struct route_table *t = route_table_new();
	char out[ROUTE_MAX_LEN + 1];

	(void)state;
	assert_non_null(t);
	assert_int_equal(route_table_add(t, "/users/{id}"), 0);
	assert_true(route_table_has(t, "/users/{id}"));
	route_normalize(t, "/users/42", out, sizeof(out));
	assert_true(route_table_has(t, out));
	route_normalize(t, "/orders/42", out, sizeof(out));
	assert_string_equal(out, "/orders/{id}");
	assert_false(route_table_has(t, out)); /* normalised, not configured */
	assert_false(route_table_has(t, "/users"));
	assert_false(route_table_has(t, NULL));
	assert_false(route_table_has(NULL, "/users/{id}"));
	route_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target_forms),       cmocka_unit_test(test_identifiers),
	    cmocka_unit_test(test_words_stay),	       cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_pattern_cost),       cmocka_unit_test(test_pattern_order),
	    cmocka_unit_test(test_malformed_patterns), cmocka_unit_test(test_many_segments),
	    cmocka_unit_test(test_long_paths),	       cmocka_unit_test(test_small_output),
	    cmocka_unit_test(test_weird_bytes),	       cmocka_unit_test(test_table_has),
	};

	srand(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
