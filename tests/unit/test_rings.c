// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_rings.c - CMocka tests of how many ring buffers the capture makes
 * and how large (user/intake/rings.c): --ringbuf-size split among the
 * rings, each a power of two and at least RINGS_MIN_BYTES; one ring per
 * online CPU, at most RT_RINGS_MAX. (Their creation is tested on the real
 * object by tests/bpf/test_progs.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "redtap/event.h"
#include "rings.h"

static void test_size_split(void **state)
{
	(void)state;
	assert_int_equal(rings_size(8u << 20, 1), 8u << 20);
	assert_int_equal(rings_size(8u << 20, 2), 4u << 20);
	assert_int_equal(rings_size(8u << 20, 3), 2u << 20); /* 2.67 MiB down to 2 */
	assert_int_equal(rings_size(8u << 20, 16), 512u << 10);
	assert_int_equal(rings_size(1u << 30, 2), 512u << 20);
}

static void test_size_floor(void **state)
{
	(void)state;
	assert_int_equal(rings_size(64u << 10, 2), RINGS_MIN_BYTES);
	assert_int_equal(rings_size(128u << 10, 16), RINGS_MIN_BYTES);
	assert_int_equal(rings_size(256u << 10, 0), 256u << 10); /* no rings: one */
}

/* --ringbuf-size auto: 1 MiB a ring on one or two CPUs, 512 KiB from three
 * on, whatever the count. */
static void test_size_auto(void **state)
{
	(void)state;
	assert_int_equal(rings_size(0, 0), 1u << 20);
	assert_int_equal(rings_size(0, 1), 1u << 20);
	assert_int_equal(rings_size(0, 2), 1u << 20);
	assert_int_equal(rings_size(0, 3), 512u << 10);
	assert_int_equal(rings_size(0, 4), 512u << 10);
	assert_int_equal(rings_size(0, 16), 512u << 10);
}

static void test_count(void **state)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = rings_count();

	(void)state;
	assert_true(n >= 1 && n <= RT_RINGS_MAX);
	if (online > 0)
		assert_int_equal(n, online < RT_RINGS_MAX ? (unsigned)online : RT_RINGS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_split),
	    cmocka_unit_test(test_size_floor),
	    cmocka_unit_test(test_size_auto),
	    cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
