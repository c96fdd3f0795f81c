// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_kfeatures.c - unit tests for user/intake/kfeatures.c: kernel
 * releases as distributions spell them, compared with a major.minor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kfeatures.h"

static void test_release_at_least(void **state)
{
	(void)state;
	assert_true(kfeatures_release_at_least("6.18.44-fc-v1300", 6, 17));
	assert_true(kfeatures_release_at_least("6.17", 6, 17));
	assert_true(kfeatures_release_at_least("6.17.0-rc3", 6, 17));
	assert_true(kfeatures_release_at_least("7.0.1", 6, 17));
	assert_true(kfeatures_release_at_least("10.2", 6, 17));
	assert_false(kfeatures_release_at_least("6.16.12-amd64", 6, 17));
	assert_false(kfeatures_release_at_least("6.1.0-28-amd64", 6, 17)); /* Debian 12 */
	assert_false(kfeatures_release_at_least("5.15.0-91-generic", 6, 17));
	assert_false(kfeatures_release_at_least("5.99", 6, 17));
	assert_false(kfeatures_release_at_least("6.9", 6, 17)); /* 9 < 17, not "6.9" > "6.17" */
}

static void test_release_malformed(void **state)
{
	(void)state;
	assert_false(kfeatures_release_at_least(NULL, 6, 17));
	assert_false(kfeatures_release_at_least("", 6, 17));
	assert_false(kfeatures_release_at_least("linux-6.18", 6, 17));
	assert_false(kfeatures_release_at_least("6", 6, 17));
	assert_false(kfeatures_release_at_least("6.", 6, 17));
	assert_false(kfeatures_release_at_least("6-18", 6, 17));
	assert_false(kfeatures_release_at_least("-6.18", 6, 17));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_release_at_least),
	    cmocka_unit_test(test_release_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
