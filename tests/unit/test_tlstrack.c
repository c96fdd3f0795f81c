// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tlstrack.c - the /proc/PID/maps parser of the OpenSSL probes
 * (user/intake/tlstrack.c): libssl files are taken with their device and
 * inode, whatever the version suffix; anonymous and special mappings,
 * other libraries, deleted files, relative or over-long paths and
 * malformed lines are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tlstrack.h"

static bool parse(const char *line, struct tlstrack_lib *lib)
{
	return tlstrack_maps_line(line, strlen(line), lib);
}

static void test_libssl_taken(void **state)
{
	struct tlstrack_lib lib;

	(void)state;
	assert_true(parse("7f43d578e000-7f43d57ac000 r--p 00000000 fd:01 1312345    "
			  "       /usr/lib/x86_64-linux-gnu/libssl.so.3\n",
			  &lib));
	assert_int_equal(lib.dev_major, 0xfd);
	assert_int_equal(lib.dev_minor, 1);
	assert_int_equal(lib.ino, 1312345);
	assert_string_equal(lib.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_true(parse("7f0-7f1 r-xp 00022000 103:02 99 /lib/libssl.so.1.1", &lib));
	assert_int_equal(lib.dev_major, 0x103);
	assert_string_equal(lib.path, "/lib/libssl.so.1.1");
	/* a path with spaces is kept whole */
	assert_true(parse("7f0-7f1 r-xp 0 08:01 7 /opt/my app/libssl.so.3\n", &lib));
	assert_string_equal(lib.path, "/opt/my app/libssl.so.3");
}

static void test_others_refused(void **state)
{
	struct tlstrack_lib lib;
	char longline[400];

	(void)state;
	assert_false(parse("7ffd1b5e0000-7ffd1b601000 rw-p 00000000 00:00 0    [stack]", &lib));
	assert_false(
	    parse("7f0-7f1 r-xp 0 fd:01 5 /usr/lib/x86_64-linux-gnu/libcrypto.so.3", &lib));
	assert_false(parse("7f0-7f1 r-xp 0 fd:01 5 /usr/lib/libssl.so.3 (deleted)", &lib));
	assert_false(parse("7f0-7f1 r-xp 0 fd:01 5 libssl.so.3", &lib));
	assert_false(parse("7f0-7f1 r-xp 0 fd:01 0 /usr/lib/libssl.so.3", &lib));
	assert_false(parse("7f0-7f1 r-xp 0 fd:01 5 /usr/lib/notlibssl.so.3", &lib));
	assert_false(parse("garbage", &lib));
	assert_false(parse("", &lib));
	/* a path that does not fit the field */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, "7f0-7f1 r-xp 0 fd:01 5 /", 24);
	memcpy(longline + sizeof(longline) - 13, "/libssl.so.3", 13);
	assert_false(parse(longline, &lib));
	/* a line longer than the parser's buffer */
	assert_false(tlstrack_maps_line(longline, 4096, &lib));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libssl_taken),
	    cmocka_unit_test(test_others_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
