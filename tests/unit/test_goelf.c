// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_goelf.c - unit tests for the Go ELF inspector (user/intake/goelf.c):
 * the version parser and table, then three Go programs this test builds with
 * the installed Go toolchain (offline, GOPATH mode) - a pure-Go static build,
 * a stripped one (-ldflags '-s -w') and a cgo one - checked for version,
 * TLS mode, goid offset (DWARF against the table), symbols and .gopclntab
 * function bounds against the symbol table; a non-Go ELF file, garbage and
 * truncated images. Without a Go toolchain the binary-based tests are skipped.
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

static char dir[64];
static bool have_go;

static const char go_src[] = "package main\n"
			     "\n"
			     "import \"fmt\"\n"
			     "\n"
			     "//go:noinline\n"
			     "func work(n int) int { return n * 3 }\n"
			     "\n"
			     "func main() { fmt.Println(work(2)) }\n";

static const char cgo_src[] = "package main\n"
			      "\n"
			      "// int add(int a, int b) { return a + b; }\n"
			      "import \"C\"\n"
			      "import \"fmt\"\n"
			      "\n"
			      "//go:noinline\n"
			      "func work(n int) int { return n * 3 }\n"
			      "\n"
			      "func main() { fmt.Println(work(int(C.add(1, 2)))) }\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/redtap-goelf.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (system("command -v go >/dev/null 2>&1") != 0)
		return 0;
	if (gobuild_source(dir, "pure", go_src) || gobuild_source(dir, "cgo", cgo_src))
		return -1;
	have_go = gobuild(dir, "static", "pure/main.go", "", 0) == 0 &&
		  gobuild(dir, "stripped", "pure/main.go", "-ldflags '-s -w'", 0) == 0 &&
		  gobuild(dir, "withcgo", "cgo/main.go", "", 1) == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return gobuild_rmdir(dir);
}

static struct goelf *open_built(const char *name)
{
	char p[128];
	struct goelf *g;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	g = goelf_open(p);
	assert_non_null(g);
	return g;
}

static void test_version(void **state)
{
	unsigned a = 0, b = 0;

	(void)state;
	assert_int_equal(goelf_parse_version("go1.19.8", &a, &b), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 19);
	assert_int_equal(goelf_parse_version("go1.21rc2", &a, &b), 0);
	assert_int_equal(b, 21);
	assert_int_equal(goelf_parse_version("devel go1.22", &a, &b), -EINVAL);
	assert_int_equal(goelf_parse_version("go1", &a, &b), -EINVAL);
	assert_int_equal(goelf_parse_version("go", &a, &b), -EINVAL);
	assert_int_equal(goelf_parse_version("go1.x", &a, &b), -EINVAL);
	assert_int_equal(goelf_goid_offset_for(1, 16), 0);
	assert_int_equal(goelf_goid_offset_for(1, 19), 152);
	assert_int_equal(goelf_goid_offset_for(1, 22), 152);
	assert_int_equal(goelf_goid_offset_for(1, 23), 160);
	assert_int_equal(goelf_goid_offset_for(1, 24), 160);
	assert_int_equal(goelf_goid_offset_for(1, 25), 0);
	assert_int_equal(goelf_goid_offset_for(2, 0), 0);
}

/* Function bounds from .gopclntab equal the symbol table's. */
static void check_func_against_sym(struct goelf *g, const char *name)
{
	uint64_t entry, end, addr, size, off;

	assert_int_equal(goelf_func(g, name, &entry, &end), 0);
	assert_int_equal(goelf_sym(g, name, &addr, &size), 0);
	assert_int_equal(entry, addr);
	/* pclntab's end is the next function's entry: alignment padding too */
	assert_true(end >= addr + size && end - (addr + size) < 64);
	assert_int_equal(goelf_file_offset(g, entry, &off), 0);
	assert_true(off > 0 && off < entry);
}

static void test_static(void **state)
{
	const struct goelf_info *in;
	struct goelf *g;
	uint64_t a, b;

	(void)state;
	if (!have_go)
		skip();
	g = open_built("static");
	in = goelf_info(g);
	assert_true(in->is_go);
	assert_true(in->has_symtab);
	assert_true(in->has_dwarf);
	assert_true(in->has_pclntab);
	assert_false(in->external_tls);
	assert_int_equal(strncmp(in->version, "go1.", 4), 0);
	assert_int_equal(in->tls, GOELF_TLS_STATIC);
	assert_int_equal(in->g_tls_off, -8);
	/* DWARF says what the table says for this version (1.19 here: 152) */
	assert_int_equal(in->goid_src, GOELF_SRC_DWARF);
	assert_int_not_equal(in->goid_off, 0);
	if (goelf_goid_offset_for(in->major, in->minor))
		assert_int_equal(in->goid_off, goelf_goid_offset_for(in->major, in->minor));
	check_func_against_sym(g, "main.work");
	check_func_against_sym(g, "main.main");
	assert_int_equal(goelf_func(g, "main.nosuch", &a, &b), -ENOENT);
	assert_int_equal(goelf_sym(g, "main.nosuch", &a, &b), -ENOENT);
	goelf_free(g);
}

static void test_stripped(void **state)
{
	const struct goelf_info *in;
	struct goelf *g, *full;
	uint64_t a, b, fa, fb;

	(void)state;
	if (!have_go)
		skip();
	g = open_built("stripped");
	in = goelf_info(g);
	assert_true(in->is_go);
	assert_false(in->has_symtab);
	assert_false(in->has_dwarf);
	assert_true(in->has_pclntab);
	assert_int_equal(in->tls, GOELF_TLS_STATIC);
	assert_int_equal(goelf_sym(g, "main.work", &a, &b), -ENOENT);
	/* no DWARF: the table, when it knows the version */
	if (goelf_goid_offset_for(in->major, in->minor)) {
		assert_int_equal(in->goid_src, GOELF_SRC_TABLE);
		assert_int_equal(in->goid_off, goelf_goid_offset_for(in->major, in->minor));
	} else {
		assert_int_equal(in->goid_src, GOELF_SRC_NONE);
		assert_int_equal(in->goid_off, 0);
	}
	/* pclntab survives stripping: main.work has the same size as unstripped */
	assert_int_equal(goelf_func(g, "main.work", &a, &b), 0);
	full = open_built("static");
	assert_int_equal(goelf_func(full, "main.work", &fa, &fb), 0);
	assert_int_equal(b - a, fb - fa);
	goelf_free(full);
	goelf_free(g);
}

static void test_cgo(void **state)
{
	const struct goelf_info *in;
	struct goelf *g;
	uint64_t a, b;

	(void)state;
	if (!have_go)
		skip();
	g = open_built("withcgo");
	in = goelf_info(g);
	assert_true(in->is_go);
	assert_true(in->external_tls);
	assert_int_equal(in->tls, GOELF_TLS_TLSG);
	assert_int_equal(goelf_sym(g, "runtime.tlsg", &a, &b), 0);
	/* only tlsg in the executable's TLS block: g right below tp */
	assert_int_equal(in->g_tls_off, -8);
	assert_int_equal(in->goid_src, GOELF_SRC_DWARF);
	check_func_against_sym(g, "main.work");
	goelf_free(g);
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Cut images and flipped bytes never crash, and cut ones lose what is gone. */
static void test_truncated(void **state)
{
	size_t len, cuts[] = {64, 4096, 65536, 1 << 20};
	char p[128];
	uint8_t *img;

	(void)state;
	if (!have_go)
		skip();
	snprintf(p, sizeof(p), "%s/stripped", dir);
	img = slurp(p, &len);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct goelf *g = goelf_open_mem(img, cuts[i] < len ? cuts[i] : len);
		uint64_t a, b;

		if (!g)
			continue;
		goelf_func(g, "main.work", &a, &b);
		goelf_free(g);
	}
	for (size_t off = 0; off < len; off += len / 97) {
		struct goelf *g;
		uint64_t a, b;

		img[off] ^= 0xff;
		g = goelf_open_mem(img, len);
		if (g) {
			goelf_func(g, "main.work", &a, &b);
			goelf_free(g);
		}
		img[off] ^= 0xff;
	}
	free(img);
}

static void test_not_go(void **state)
{
	static const uint8_t junk[128] = "not an ELF file at all";
	struct goelf *g;

	(void)state;
	g = goelf_open("/proc/self/exe");
	assert_non_null(g);
	assert_false(goelf_info(g)->is_go);
	assert_int_equal(goelf_info(g)->goid_off, 0);
	goelf_free(g);
	errno = 0;
	assert_null(goelf_open_mem(junk, sizeof(junk)));
	assert_int_equal(errno, ENOEXEC);
	assert_null(goelf_open("/nonexistent/redtap"));
	assert_null(goelf_open("/proc/self/status")); /* not a regular file of size */
	goelf_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),   cmocka_unit_test(test_static),
	    cmocka_unit_test(test_stripped),  cmocka_unit_test(test_cgo),
	    cmocka_unit_test(test_truncated), cmocka_unit_test(test_not_go),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
