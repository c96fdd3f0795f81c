// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_otlp_queue.c - unit tests for the span queue (user/export/otlp_queue.c):
 * FIFO order, oldest-first drops when full, compact copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otlp_queue.h"

static struct span *numbered(unsigned n)
{
	struct span *s = calloc(1, sizeof(*s)), *d;

	assert_non_null(s);
	span_init(s);
	s->span_id[7] = (uint8_t)n;
	span_attr_int(s, SC_SERVER_PORT, n);
	d = otlp_span_dup(s);
	free(s);
	assert_non_null(d);
	return d;
}

static void test_fifo_and_drop_oldest(void **state)
{
	struct otlp_queue *q = otlp_queue_new(3);
	struct span *out[8];
	size_t dropped = 0, n;

	(void)state;
	assert_non_null(q);
	for (unsigned i = 0; i < 5; i++)
		dropped += otlp_queue_push(q, numbered(i));
	assert_int_equal(dropped, 2);
	assert_int_equal(otlp_queue_len(q), 3);
	n = otlp_queue_pop(q, out, 2);
	assert_int_equal(n, 2);
	/* 0 and 1 were dropped: the oldest survivors come first */
	assert_int_equal(out[0]->span_id[7], 2);
	assert_int_equal(out[1]->span_id[7], 3);
	assert_int_equal(out[1]->attrs[0].i, 3);
	free(out[0]);
	free(out[1]);
	assert_int_equal(otlp_queue_push(q, numbered(5)), 0);
	assert_int_equal(otlp_queue_push(q, numbered(6)), 0);
	assert_int_equal(otlp_queue_push(q, numbered(7)), 1); /* drops 4 */
	n = otlp_queue_pop(q, out, 8);
	assert_int_equal(n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(out[i]->span_id[7], 5 + i);
		free(out[i]);
	}
	assert_int_equal(otlp_queue_len(q), 0);
	assert_int_equal(otlp_queue_pop(q, out, 8), 0);
	/* spans still queued are freed with the queue (ASan would see a leak) */
	otlp_queue_push(q, numbered(8));
	otlp_queue_free(q);
	otlp_queue_free(NULL);
	assert_null(otlp_queue_new(0));
}

static void test_compact_copy(void **state)
{
	struct span *s = calloc(1, sizeof(*s)), *d;

	(void)state;
	assert_non_null(s);
	memset(s->trace_id, 7, sizeof(s->trace_id));
	span_init(s);
	span_set(s, SPAN_NAME, "GET /");
	span_set(s, SPAN_EXE_NAME, "nginx");
	span_attr_str(s, SC_HTTP_ROUTE, "/users/{id}");
	span_attr_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 404);
	d = otlp_span_dup(s);
	assert_non_null(d);
	assert_memory_equal(d->trace_id, s->trace_id, sizeof(s->trace_id));
	assert_string_equal(span_get(d, SPAN_NAME), "GET /");
	assert_string_equal(span_get(d, SPAN_EXE_NAME), "nginx");
	assert_int_equal(d->nattrs, 2);
	assert_string_equal(span_attr_key(&d->attrs[0]), "http.route");
	assert_string_equal(span_attr_val(d, &d->attrs[0]), "/users/{id}");
	/* only the text in use is copied */
	assert_true(span_size(s) < sizeof(*s) / 2);
	assert_int_equal(d->attrs[1].i, 404);
	assert_true(d->attrs[1].is_int);
	free(d);

	/* a corrupt count is clamped to what the struct holds */
	s->nattrs = 200;
	d = otlp_span_dup(s);
	assert_non_null(d);
	assert_int_equal(d->nattrs, SPAN_ATTRS_MAX);
	free(d);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fifo_and_drop_oldest),
	    cmocka_unit_test(test_compact_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
