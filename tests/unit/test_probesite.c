// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_probesite.c - unit tests for the cheapest-entry-probe finder
 * (user/intake/probesite.c) and the OpenSSL internal functions
 * (user/intake/sslsites.c): instruction kinds, endbr64 + push, plain push,
 * Go's stack checks (cmp / lea + cmp, jbe rel8 and rel32), forms that must
 * stay at offset 0, garbage and truncated bodies, the first call of a
 * function, and the real Debian libssl.so.3 (skipped when absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probesite.h"
#include "sslsites.h"

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define KIND(...)  probesite_kind(BYTES(__VA_ARGS__))

#define LIBSSL3	      "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#define LOOKALIKE     "tests/fuzz/corpus/probesite/mini-libssl.elf"
#define LOOKALIKE_CET "tests/fuzz/corpus/probesite/mini-libssl-cet.elf"

static uint32_t entry(const uint8_t *code, size_t len, enum probesite_kind *k)
{
	return probesite_entry(code, len, k);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(KIND(0x55), PROBESITE_PUSH);	      /* push %rbp */
	assert_int_equal(KIND(0x41, 0x55), PROBESITE_PUSH);   /* push %r13 */
	assert_int_equal(KIND(0x48, 0x55), PROBESITE_STEP);   /* REX.W push: not emulated */
	assert_int_equal(KIND(0x76, 0x10), PROBESITE_BRANCH); /* jbe rel8 */
	assert_int_equal(KIND(0x0f, 0x86, 1, 2, 3, 4), PROBESITE_BRANCH); /* jbe rel32 */
	assert_int_equal(KIND(0xe8, 1, 2, 3, 4), PROBESITE_BRANCH);	  /* call */
	assert_int_equal(KIND(0x66, 0xe8, 1, 2), PROBESITE_STEP);	  /* callw: refused */
	assert_int_equal(KIND(0x90), PROBESITE_NOP);
	assert_int_equal(KIND(0x0f, 0x1f, 0x44, 0x00, 0x00), PROBESITE_NOP);
	assert_int_equal(KIND(0x48, 0x83, 0xec, 0x18), PROBESITE_STEP); /* sub $0x18,%rsp */
	assert_int_equal(KIND(0xf3, 0x0f, 0x1e, 0xfa), PROBESITE_STEP); /* endbr64 */
	assert_int_equal(KIND(0x48, 0x89, 0xe5), PROBESITE_STEP);	/* mov %rsp,%rbp */
	assert_int_equal(KIND(0xc3), PROBESITE_STEP);			/* ret */
	assert_int_equal(KIND(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x06), PROBESITE_STEP); /* EVEX */
	assert_int_equal(KIND(0x0f, 0x86, 1, 2), PROBESITE_STEP);		    /* truncated */
	assert_int_equal(probesite_kind(NULL, 0), PROBESITE_STEP);
	assert_string_equal(probesite_name(PROBESITE_PUSH), "push");
	assert_string_equal(probesite_name(99), "unknown");
}

static void test_c_entries(void **state)
{
	enum probesite_kind k = PROBESITE_NOP;

	(void)state;
	/* endbr64; push %r13 */
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x55, 0x41, 0x54), &k), 4);
	assert_int_equal(k, PROBESITE_PUSH);
	/* endbr64; nop5 */
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x0f, 0x1f, 0x44, 0, 0), &k), 4);
	assert_int_equal(k, PROBESITE_NOP);
	/* plain push: already cheap */
	assert_int_equal(entry(BYTES(0x41, 0x56, 0x41, 0x55), &k), 0);
	assert_int_equal(k, PROBESITE_PUSH);
	/* endbr64; sub $8,%rsp: nothing better than the entry */
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x08), &k), 0);
	assert_int_equal(k, PROBESITE_STEP);
	/* sub $0x18,%rsp (SSL_read) */
	assert_int_equal(entry(BYTES(0x48, 0x83, 0xec, 0x18, 0x55), &k), 0);
	assert_int_equal(k, PROBESITE_STEP);
	/* endbr64 alone, truncated after it */
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e, 0xfa), &k), 0);
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e, 0xfa, 0x41), &k), 0);
	assert_int_equal(entry(BYTES(0xf3, 0x0f, 0x1e), NULL), 0);
	assert_int_equal(entry(NULL, 0, &k), 0);
	assert_int_equal(k, PROBESITE_STEP);
}

static void test_go_entries(void **state)
{
	enum probesite_kind k = PROBESITE_STEP;

	(void)state;
	/* cmp 0x10(%r14),%rsp; jbe rel8 */
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0x76, 0x5a, 0x55), &k), 4);
	assert_int_equal(k, PROBESITE_BRANCH);
	/* cmp 0x10(%r14),%rsp; jbe rel32 */
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 1, 2, 0, 0), &k), 4);
	assert_int_equal(k, PROBESITE_BRANCH);
	/* lea -0x18(%rsp),%r12; cmp 0x10(%r14),%r12; jbe rel32 */
	assert_int_equal(entry(BYTES(0x4c, 0x8d, 0x64, 0x24, 0xe8, 0x4d, 0x3b, 0x66, 0x10, 0x0f,
				     0x86, 1, 2, 0, 0),
			       &k),
			 9);
	assert_int_equal(k, PROBESITE_BRANCH);
	/* lea -0x1a8(%rsp),%r12 (disp32); cmp; jbe rel8 */
	assert_int_equal(entry(BYTES(0x4c, 0x8d, 0xa4, 0x24, 0x58, 0xfe, 0xff, 0xff, 0x4d, 0x3b,
				     0x66, 0x10, 0x76, 0x20),
			       &k),
			 12);
	/* the check followed by a call or a jmp, or by a mov: stays at 0 */
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0xe8, 1, 2, 3, 4), &k), 0);
	assert_int_equal(k, PROBESITE_STEP);
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0xeb, 0x10), &k), 0);
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0x48, 0x89, 0xe5), &k), 0);
	/* lea without the cmp that belongs to it */
	assert_int_equal(entry(BYTES(0x4c, 0x8d, 0x64, 0x24, 0xe8, 0x76, 0x10), &k), 0);
	/* cmp against another offset (not stackguard0) */
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x18, 0x76, 0x10), &k), 0);
	/* truncated anywhere */
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 1), &k), 0);
	assert_int_equal(entry(BYTES(0x49, 0x3b, 0x66, 0x10), &k), 0);
	assert_int_equal(entry(BYTES(0x4c, 0x8d, 0x64, 0x24, 0xe8, 0x4d, 0x3b), &k), 0);
	assert_int_equal(entry(BYTES(0x4c, 0x8d, 0xa4, 0x24, 0x58), &k), 0);
	/* a frameless Go function starting with a push: 0, already cheap */
	assert_int_equal(entry(BYTES(0x55, 0x48, 0x89, 0xe5), &k), 0);
	assert_int_equal(k, PROBESITE_PUSH);
}

static void test_calls(void **state)
{
	int64_t t = 0;

	(void)state;
	/* SSL_read_ex: sub $8,%rsp; call -0x239 */
	assert_int_equal(
	    probesite_call(BYTES(0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff, 0xff, 0xc3), &t),
	    0);
	assert_int_equal(t, 4 + 5 - 0x239);
	/* SSL_read: sub; mov %fs:0x28,%rax; mov %rax,8(%rsp); xor; test; js;
	 * mov %rsp,%rcx; movslq; call -0x1c3 */
	assert_int_equal(probesite_call(BYTES(0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25,
					      0x28, 0, 0, 0, 0x48, 0x89, 0x44, 0x24, 0x08, 0x31,
					      0xc0, 0x85, 0xd2, 0x78, 0x2f, 0x48, 0x89, 0xe1, 0x48,
					      0x63, 0xd2, 0xe8, 0x3d, 0xfe, 0xff, 0xff),
					&t),
			 0);
	assert_int_equal(t, 0x1e + 5 - 0x1c3);
	/* a ret or a jmp before any call */
	assert_int_equal(probesite_call(BYTES(0x31, 0xc0, 0xc3, 0xe8, 1, 0, 0, 0), &t), -ENOENT);
	assert_int_equal(probesite_call(BYTES(0xe9, 1, 0, 0, 0, 0xe8, 1, 0, 0, 0), &t), -ENOENT);
	assert_int_equal(probesite_call(BYTES(0xf3, 0xc3, 0xe8, 1, 0, 0, 0), &t), -ENOENT);
	/* truncated call, garbage, nothing */
	assert_int_equal(probesite_call(BYTES(0x90, 0xe8, 1, 0), &t), -EINVAL);
	assert_int_equal(probesite_call(BYTES(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x06), &t), -ENOTSUP);
	assert_int_equal(probesite_call(NULL, 0, &t), -ENOENT);
	/* no call in the first PROBESITE_CALL_SCAN bytes */
	{
		uint8_t body[PROBESITE_CALL_SCAN + 5];

		memset(body, 0x90, sizeof(body));
		body[PROBESITE_CALL_SCAN] = 0xe8;
		assert_int_equal(probesite_call(body, sizeof(body), &t), -ENOENT);
		body[PROBESITE_CALL_SCAN] = 0x90;
		body[PROBESITE_CALL_SCAN - 1] = 0xe8;
		assert_int_equal(probesite_call(body, sizeof(body), &t), 0);
		assert_int_equal(t, PROBESITE_CALL_SCAN + 4 + (int64_t)0x90909090 - 0x100000000ll);
	}
}

/* sslsites_path() on path with names[0..n) into *s: false when the file
 * is absent. */
static bool sites_of(const char *path, const char *const *names, size_t n, struct sslsites *s)
{
	if (access(path, R_OK))
		return false;
	assert_int_equal(sslsites_path(path, names, n, s), 0);
	return true;
}

/* The first byte at file offset off of path. */
static uint8_t byte_at(const char *path, uint64_t off)
{
	uint8_t b = 0;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fread(&b, 1, 1, f), 1);
	fclose(f);
	return b;
}

/* The real libssl.so.3: both pairs resolve to push-first internal
 * functions, each reached from both wrappers (checked by objdump when
 * written: ssl_read_internal at 0x35290, ssl_write_internal at 0x355a0 in
 * Debian 12's 3.0.x; the addresses move with updates, so the test checks
 * the properties instead). */
static void test_libssl3(void **state)
{
	struct sslsites s;

	(void)state;
	if (!sites_of(LIBSSL3, NULL, 0, &s)) {
		skip();
		return;
	}
	for (unsigned p = 0; p < SSLSITES_PAIRS; p++) {
		uint8_t b = byte_at(LIBSSL3, s.pair[p].file_off);

		assert_int_equal(s.pair[p].err, 0);
		assert_int_equal(s.pair[p].kind, PROBESITE_PUSH);
		assert_true(s.pair[p].addr != 0);
		assert_true(b == 0x41 || (b >= 0x50 && b <= 0x57)); /* push, in the file */
		/* libssl's .text is loaded at its file offset */
		assert_true(s.pair[p].file_off >= s.pair[p].addr - 0x1000 &&
			    s.pair[p].file_off <= s.pair[p].addr + 0x1000);
	}
	assert_true(s.pair[SSLSITES_READ].addr != s.pair[SSLSITES_WRITE].addr);
}

/* A small libssl look-alike built by gcc 12 -O2 (the fuzz seed): SSL_read
 * tests its length before the frame, the internal functions push first. */
static void test_lookalike(void **state)
{
	struct sslsites s;

	(void)state;
	if (!sites_of(LOOKALIKE, NULL, 0, &s)) {
		skip();
		return;
	}
	assert_int_equal(s.pair[SSLSITES_READ].err, 0);
	assert_int_equal(s.pair[SSLSITES_READ].addr, 0x1020);
	assert_int_equal(s.pair[SSLSITES_READ].file_off, 0x1020);
	assert_int_equal(s.pair[SSLSITES_READ].kind, PROBESITE_PUSH);
	assert_int_equal(s.pair[SSLSITES_WRITE].err, 0);
	assert_true(s.pair[SSLSITES_WRITE].addr > 0x1020);
}

/* The same built with -fcf-protection=full: every exported function starts
 * with endbr64 (gcc leaves it out of the static ones). The symbols probed
 * by name get past it when a push follows (SSL_do_handshake,
 * SSL_shutdown), not when a test does (SSL_read). */
static void test_lookalike_cet(void **state)
{
	static const char *const syms[] = {"SSL_read", "SSL_do_handshake", "SSL_shutdown",
					   "SSL_peek"};
	struct sslsites s;

	(void)state;
	if (!sites_of(LOOKALIKE_CET, syms, 4, &s)) {
		skip();
		return;
	}
	assert_int_equal(s.pair[SSLSITES_READ].err, 0);
	assert_int_equal(s.pair[SSLSITES_WRITE].err, 0);
	assert_int_equal(s.pair[SSLSITES_READ].kind, PROBESITE_PUSH);
	assert_int_equal(s.skip[0], 0);
	assert_int_equal(s.skip[1], 4);
	assert_int_equal(s.skip[2], 4);
	assert_int_equal(s.skip[3], 0); /* not in the file */
	assert_int_equal(byte_at(LOOKALIKE_CET, 0x11f0 + s.skip[1]), 0x55);
}

static const char *const names[SSLSITES_MAX_NAMES + 1] = {"SSL_read", "main"};

static void test_not_libssl(void **state)
{
	struct sslsites s;
	uint8_t junk[256];

	(void)state;
	memset(junk, 0x7f, sizeof(junk));
	assert_int_equal(sslsites_image(junk, sizeof(junk), NULL, 0, &s), -ENOEXEC);
	assert_int_equal(s.pair[SSLSITES_READ].err, -ENOENT);
	assert_int_equal(sslsites_path("/nonexistent/libssl.so.3", NULL, 0, &s), -ENOENT);
	assert_int_equal(sslsites_path("/dev/null", NULL, 0, &s), -ENOEXEC);
	assert_int_equal(sslsites_path(LOOKALIKE, names, SSLSITES_MAX_NAMES + 1, &s), -EINVAL);
	/* an ELF file without OpenSSL: the test program itself */
	assert_int_equal(sslsites_path("/proc/self/exe", names, 2, &s), 0);
	assert_int_equal(s.skip[0], 0);
	assert_int_equal(s.pair[SSLSITES_READ].err, -ENOENT);
	assert_int_equal(s.pair[SSLSITES_WRITE].err, -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),	  cmocka_unit_test(test_c_entries),
	    cmocka_unit_test(test_go_entries),	  cmocka_unit_test(test_calls),
	    cmocka_unit_test(test_libssl3),	  cmocka_unit_test(test_lookalike),
	    cmocka_unit_test(test_lookalike_cet), cmocka_unit_test(test_not_libssl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
