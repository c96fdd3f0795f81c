// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_linkage.c - which library serves the symbols that more than one of
 * the daemon's libraries define. libpg_query exports its bundled copy of
 * protobuf-c and a strnlen of its own (a byte loop); listed before the
 * system's libprotobuf-c and libc among an executable's libraries, it would
 * serve the OTLP encoders (built against libprotobuf-c's headers, whatever
 * protobuf-c version libpg_query bundles) and every strnlen call in the
 * process. The Makefile's LIBS puts libprotobuf-c and libc first; this
 * binary is linked with the same LIBS and uses all three libraries, as the
 * daemon does.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pg_query.h>
#include <protobuf-c/protobuf-c.h>

/* The file of the library the process's global lookup finds name in. */
static const char *provider(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);
	Dl_info info;

	assert_non_null(f);
	assert_int_not_equal(dladdr(f, &info), 0);
	assert_non_null(info.dli_fname);
	return info.dli_fname;
}

/* Both libraries in use here, so that the linker keeps them (as-needed). */
static void test_libraries_in_use(void **state)
{
	PgQueryParseResult r = pg_query_parse("SELECT 1");

	(void)state;
	assert_null(r.error);
	pg_query_free_parse_result(r);
	assert_non_null(protobuf_c_version());
}

static void test_protobuf_c_is_the_system_one(void **state)
{
	const char *lib = provider("protobuf_c_message_pack");

	(void)state;
	if (!strstr(lib, "libprotobuf-c"))
		fail_msg("protobuf_c_message_pack binds to %s, not to libprotobuf-c", lib);
	assert_string_equal(provider("protobuf_c_message_get_packed_size"), lib);
}

/* libc's, or a sanitizer runtime's that comes before every library. */
static void test_strnlen_not_pg_query(void **state)
{
	const char *lib = provider("strnlen");

	(void)state;
	if (strstr(lib, "pg_query"))
		fail_msg("strnlen binds to %s, not to libc's", lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libraries_in_use),
	    cmocka_unit_test(test_protobuf_c_is_the_system_one),
	    cmocka_unit_test(test_strnlen_not_pg_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
