// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_gotls.c - unit tests for the Go crypto/tls probe points
 * (user/intake/gotls.c): a Go program using crypto/tls, built by this test
 * with the installed toolchain (offline, GOPATH mode) plain and stripped
 * (-ldflags '-s -w': .gopclntab survives), gives both (*Conn) methods an
 * entry and return instructions whose bytes in the file are RET, the same
 * in both builds; a Go program without crypto/tls and a C program give
 * -ENOENT. Without a Go toolchain the binary-based tests are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gobuild.h"
#include "goelf.h"
#include "gotls.h"

static char dir[64];
static bool have_go;

static const char tls_src[] = "package main\n"
			      "\n"
			      "import (\n"
			      "\t\"crypto/tls\"\n"
			      "\t\"fmt\"\n"
			      "\t\"os\"\n"
			      ")\n"
			      "\n"
			      "func main() {\n"
			      "\tif len(os.Args) > 1 {\n"
			      "\t\tc, err := tls.Dial(\"tcp\", os.Args[1], nil)\n"
			      "\t\tif err == nil {\n"
			      "\t\t\tc.Write([]byte(\"x\"))\n"
			      "\t\t\tc.Read(make([]byte, 1))\n"
			      "\t\t}\n"
			      "\t}\n"
			      "\tfmt.Println(\"ok\")\n"
			      "}\n";

static const char plain_src[] = "package main\n"
				"\n"
				"import \"fmt\"\n"
				"\n"
				"func main() { fmt.Println(\"ok\") }\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/redtap-gotls.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
#if defined(__x86_64__)
	if (system("command -v go >/dev/null 2>&1") != 0)
		return 0;
	if (gobuild_source(dir, "tls", tls_src) || gobuild_source(dir, "plain", plain_src))
		return -1;
	have_go = gobuild(dir, "withtls", "tls/main.go", "", 0) == 0 &&
		  gobuild(dir, "stripped", "tls/main.go", "-ldflags '-s -w'", 0) == 0 &&
		  gobuild(dir, "notls", "plain/main.go", "", 0) == 0;
#endif
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return gobuild_rmdir(dir);
}

/* gotls_offsets() of the built executable name: its result. */
static int offsets_of(const char *name, struct gotls_offsets *o)
{
	char p[128];
	struct goelf *g;
	int rc;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	g = goelf_open(p);
	assert_non_null(g);
	rc = gotls_offsets(g, o);
	goelf_free(g);
	return rc;
}

static uint8_t byte_at(const char *name, uint64_t off)
{
	char p[128];
	uint8_t b = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fread(&b, 1, 1, f), 1);
	fclose(f);
	return b;
}

static void test_probe_points(void **state)
{
	struct gotls_offsets o, s;
	uint8_t b;

	(void)state;
	if (!have_go)
		skip();
	assert_int_equal(offsets_of("withtls", &o), 0);
	assert_int_equal(o.err, 0);
	for (unsigned f = 0; f < GOTLS_FUNCS; f++) {
		assert_true(o.entry[f] > 0);
#if defined(__x86_64__)
		/* on the jbe of the stack check (probesite.h), not the cmp */
		b = byte_at("withtls", o.entry[f]);
		assert_true(b == 0x76 || b == 0x0f);
#endif
		assert_in_range(o.nret[f], 1, GOTLS_RETS);
		for (uint32_t i = 0; i < o.nret[f]; i++) {
			assert_in_range(o.ret[f][i], o.entry[f] + 1, o.entry[f] + GOTLS_BODY_MAX);
			assert_true(i == 0 || o.ret[f][i] > o.ret[f][i - 1]);
			assert_int_equal(byte_at("withtls", o.ret[f][i]), 0xc3);
		}
	}
	assert_true(o.entry[GOTLS_READ] != o.entry[GOTLS_WRITE]);
	/* stripped: no symbols, no DWARF, the same code and the same points */
	assert_int_equal(offsets_of("stripped", &s), 0);
	assert_memory_equal(&o, &s, sizeof(o));
}

static void test_without_tls(void **state)
{
	struct gotls_offsets o;
	struct goelf *g;

	(void)state;
	g = goelf_open("/proc/self/exe");
	assert_non_null(g);
	assert_int_equal(gotls_offsets(g, &o), -ENOENT);
	assert_int_equal(o.nret[GOTLS_READ] + o.nret[GOTLS_WRITE], 0);
	goelf_free(g);
	if (!have_go)
		skip();
	assert_int_equal(offsets_of("notls", &o), -ENOENT);
	assert_int_equal(o.err, -ENOENT);
	assert_int_equal(o.entry[GOTLS_READ], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_points),
	    cmocka_unit_test(test_without_tls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
