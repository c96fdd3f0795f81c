// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tlslibs.c - TLS stacks in mapped shared libraries
 * (user/intake/tlslibs.c) on real files: which names are read, a file read
 * once however many processes map it (by its maps identity), every waiting
 * process told of its stack, a file without a stack telling nobody, a file
 * that could not be read forgotten and read when mapped again.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlslibs.h"

#define CALLS_MAX 8

static struct {
	uint32_t tgid;
	unsigned stack;
} calls[CALLS_MAX];
static unsigned ncalls;

static void told(void *ctx, uint32_t tgid, unsigned stack)
{
	(void)ctx;
	assert_true(ncalls < CALLS_MAX);
	calls[ncalls].tgid = tgid;
	calls[ncalls].stack = stack;
	ncalls++;
}

static char dir[64];

/* An ELF file without section headers (searched whole) holding text. */
static void write_lib(const char *name, const char *text)
{
	char path[128];
	Elf64_Ehdr eh;
	int fd;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_DYN;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &eh, sizeof(eh)), (ssize_t)sizeof(eh));
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct tlstrack_lib lib_of(const char *name, uint64_t ino)
{
	struct tlstrack_lib lib = {.dev_major = 0xfe, .dev_minor = 1, .ino = ino};

	snprintf(lib.path, sizeof(lib.path), "%s/%s", dir, name);
	return lib;
}

static void flush(struct tlslibs *l)
{
	tlslibs_drain(l);
	ncalls = 0;
	tlslibs_flush(l, told, NULL);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tlslibs.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void test_candidates(void **state)
{
	(void)state;
	assert_true(tlslibs_candidate("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
	assert_true(tlslibs_candidate("/x/cygrpc.cpython-311-x86_64-linux-gnu.so"));
	assert_true(tlslibs_candidate("/x/libssl-1a2b3c4d.so.1.1")); /* a wheel's, not probed */
	assert_true(tlslibs_candidate("/x/node_modules/addon/build/Release/addon.node"));
	assert_true(tlslibs_candidate("/x/libfoo.so"));
	assert_false(tlslibs_candidate("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
	assert_false(tlslibs_candidate("/usr/bin/python3.11"));
	assert_false(tlslibs_candidate("/x/notaso.sock"));
	assert_false(tlslibs_candidate("/x/.so"));
	assert_false(tlslibs_candidate("/x/lib.sox"));
	assert_false(tlslibs_candidate("/x/.node"));
}

static void test_read_once(void **state)
{
	struct tlslibs *l = tlslibs_new();
	struct tlstrack_lib boring, plain;
	uint32_t me = (uint32_t)getpid();

	(void)state;
	assert_non_null(l);
	write_lib("libboring.so", "x OpenSSL 1.1.1 (compatible; BoringSSL) x");
	write_lib("libplain.so.1", "nothing to see");
	boring = lib_of("libboring.so", 100);
	plain = lib_of("libplain.so.1", 101);
	/* reached through /proc/TGID/root: this process's for all of them */
	tlslibs_mapped(l, me, &boring);
	tlslibs_mapped(l, me, &boring); /* the same process again: told once */
	tlslibs_mapped(l, me, &plain);
	flush(l);
	assert_int_equal(ncalls, 1);
	assert_int_equal(calls[0].tgid, me);
	assert_int_equal(calls[0].stack, TLSSCAN_BORINGSSL);
	assert_int_equal(tlslibs_stats(l)->files, 2);
	assert_int_equal(tlslibs_stats(l)->found, 1);

	/* another process mapping the same file (same identity, whatever its
	 * path): not read again, told at the next flush */
	boring.ino = 100;
	snprintf(boring.path, sizeof(boring.path), "/nonexistent/libboring.so");
	tlslibs_mapped(l, me, &boring);
	tlslibs_mapped(l, me, &plain);
	flush(l);
	assert_int_equal(ncalls, 1);
	assert_int_equal(calls[0].stack, TLSSCAN_BORINGSSL);
	assert_int_equal(tlslibs_stats(l)->files, 2);
	flush(l);
	assert_int_equal(ncalls, 0); /* nobody waits any more */
	tlslibs_free(l);
}

static void test_unreadable_retried(void **state)
{
	struct tlslibs *l = tlslibs_new();
	struct tlstrack_lib lib;
	uint32_t me = (uint32_t)getpid();

	(void)state;
	lib = lib_of("librust.so", 200);
	tlslibs_mapped(l, me, &lib); /* not there yet */
	flush(l);
	assert_int_equal(ncalls, 0);
	assert_int_equal(tlslibs_stats(l)->read_err, 1);
	assert_int_equal(tlslibs_stats(l)->files, 0);
	write_lib("librust.so", "/cargo/registry/src/rustls-0.21.0/src/conn.rs");
	tlslibs_mapped(l, me, &lib);
	flush(l);
	assert_int_equal(ncalls, 1);
	assert_int_equal(calls[0].stack, TLSSCAN_RUSTLS);
	assert_int_equal(tlslibs_stats(l)->files, 1);
	tlslibs_free(l);
	tlslibs_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_candidates),
	    cmocka_unit_test_setup_teardown(test_read_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_retried, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
