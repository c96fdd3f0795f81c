// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_span.c - unit tests for user/signals/span.[ch]: strings bounded one
 * by one and all together, attributes dropped past the array or the text
 * area, compact copies; and the memory the tracer's span pool takes (printed
 * for bench/BENCHMARKS.md, asserted against the 10.7 MB it used to take).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "span.h"
#include "tracer.h"

static void test_strings_bounded(void **state)
{
	struct span *s = malloc(sizeof(*s));
	char big[600];

	(void)state;
	assert_non_null(s);
	span_init(s);
	assert_string_equal(span_get(s, SPAN_NAME), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	span_set(s, SPAN_NAME, "GET /users/{id}");
	span_set(s, SPAN_TRACESTATE, big); /* one string: at most SPAN_VALUE_MAX */
	span_set(s, SPAN_SERVICE_NAME, NULL);
	assert_string_equal(span_get(s, SPAN_NAME), "GET /users/{id}");
	assert_int_equal(strlen(span_get(s, SPAN_TRACESTATE)), SPAN_VALUE_MAX);
	assert_string_equal(span_get(s, SPAN_SERVICE_NAME), "");

	/* all strings together: at most SPAN_TEXT_MAX, then attributes are dropped */
	span_attr_str(s, SC_URL_PATH, big);
	span_attr_str(s, SC_DB_QUERY_TEXT, big);
	span_attr_str(s, SC_ERROR_TYPE, big);	/* truncated to what is left */
	span_attr_int(s, SC_SERVER_PORT, 8080); /* integers need no text */
	span_attr_str(s, SC_HTTP_ROUTE, "/x");	/* no room left: dropped */
	span_attr_str(s, SC_HTTP_ROUTE, "");	/* an empty value needs none */
	assert_int_equal(s->text_len, SPAN_TEXT_MAX);
	assert_int_equal(s->nattrs, 5);
	assert_string_equal(span_attr_key(&s->attrs[0]), "url.path");
	assert_int_equal(strlen(span_attr_val(s, &s->attrs[1])), SPAN_VALUE_MAX);
	assert_int_equal(strlen(span_attr_val(s, &s->attrs[2])),
			 SPAN_TEXT_MAX - 1 - (16 + 3 * (SPAN_VALUE_MAX + 1)) - 1);
	assert_true(s->attrs[3].is_int);
	assert_int_equal(s->attrs[3].i, 8080);
	assert_string_equal(span_attr_val(s, &s->attrs[3]), "");
	assert_string_equal(span_attr_key(&s->attrs[4]), "http.route");
	assert_string_equal(span_attr_val(s, &s->attrs[4]), "");
	free(s);
}

static void test_attrs_bounded_and_copy(void **state)
{
	struct span s, *d;

	(void)state;
	span_init(&s);
	span_set(&s, SPAN_EXE_NAME, "nginx");
	for (int i = 0; i < SPAN_ATTRS_MAX + 2; i++)
		span_attr_str(&s, SC_NETWORK_PROTOCOL_NAME, "http");
	assert_int_equal(s.nattrs, SPAN_ATTRS_MAX);
	/* a copy takes only the text in use, and reads the same */
	assert_int_equal(span_size(&s), offsetof(struct span, text) + 1 + 6 + SPAN_ATTRS_MAX * 5);
	d = malloc(span_size(&s));
	assert_non_null(d);
	span_copy(d, &s);
	assert_string_equal(span_get(d, SPAN_EXE_NAME), "nginx");
	assert_string_equal(span_attr_val(d, &d->attrs[SPAN_ATTRS_MAX - 1]), "http");
	free(d);
}

/* The figure in bench/BENCHMARKS.md. */
static void test_pool_memory(void **state)
{
	size_t pool = TRACER_POOL_SPANS * sizeof(struct span);

	(void)state;
	print_message("sizeof(struct span) = %zu bytes (%zu before the text area); "
		      "span pool = %d x %zu = %zu bytes (%.2f MiB)\n",
		      sizeof(struct span), offsetof(struct span, text), TRACER_POOL_SPANS,
		      sizeof(struct span), pool, pool / 1048576.0);
	assert_true(sizeof(struct span) <= 1400); /* was 5,208 */
	assert_true(pool < 10665984 / 3);	  /* was 2,048 x 5,208 bytes */
	/* header + 18 attribute slots (13 HTTP, sampling.rule, 4 request attributes) */
	assert_true(offsetof(struct span, text) <= 368);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings_bounded),
	    cmocka_unit_test(test_attrs_bounded_and_copy),
	    cmocka_unit_test(test_pool_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
