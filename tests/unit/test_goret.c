// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_goret.c - unit tests for the return-instruction finder
 * (user/intake/goret.c): x86-64 instruction lengths of the forms Go emits
 * (checked against binutils objdump on a whole Go 1.19 binary while it was
 * written), 0xc3 bytes inside immediates, displacements and rel32 that
 * must not be taken for RET, VEX, refusals (EVEX, invalid opcodes,
 * truncated bodies), the bounds of the result array and arm64 words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "goret.h"

#define LEN(...)                                                                                   \
	goret_x86_len((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_lengths(void **state)
{
	(void)state;
	assert_int_equal(LEN(0xc3), 1);				   /* ret */
	assert_int_equal(LEN(0xc2, 0x08, 0x00), 3);		   /* ret imm16 */
	assert_int_equal(LEN(0x49, 0x3b, 0x66, 0x10), 4);	   /* cmp 0x10(%r14),%rsp */
	assert_int_equal(LEN(0x0f, 0x86, 1, 2, 3, 4), 6);	   /* jbe rel32 */
	assert_int_equal(LEN(0x48, 0x81, 0xec, 0xe8, 0, 0, 0), 7); /* sub $0xe8,%rsp */
	assert_int_equal(LEN(0x48, 0x8d, 0x05, 1, 2, 3, 4), 7);	   /* lea rip+disp32 */
	assert_int_equal(LEN(0x48, 0x8b, 0x44, 0x24, 0x08), 5);	   /* mov 8(%rsp),%rax */
	assert_int_equal(LEN(0x48, 0x8b, 0x84, 0x24, 1, 2, 3, 4), 8);
	assert_int_equal(LEN(0x8b, 0x04, 0x25, 1, 2, 3, 4), 7);	       /* SIB without base */
	assert_int_equal(LEN(0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8), 10); /* movabs imm64 */
	assert_int_equal(LEN(0xb8, 1, 2, 3, 4), 5);
	assert_int_equal(LEN(0x66, 0xb8, 1, 2), 4);
	assert_int_equal(LEN(0xf6, 0x40, 0x10, 0x01), 4);	      /* testb $1,0x10(%rax) */
	assert_int_equal(LEN(0xf7, 0xd8), 2);			      /* neg %eax: no imm */
	assert_int_equal(LEN(0xf7, 0xc1, 1, 2, 3, 4), 6);	      /* test $imm32,%ecx */
	assert_int_equal(LEN(0xf0, 0x0f, 0xb1, 0x0a), 4);	      /* lock cmpxchg */
	assert_int_equal(LEN(0x44, 0x0f, 0x11, 0x7c, 0x24, 0x20), 6); /* movups %xmm15 */
	assert_int_equal(LEN(0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08), 6); /* palignr imm8 */
	assert_int_equal(LEN(0x66, 0x0f, 0x38, 0x00, 0xc1), 5);	      /* pshufb */
	assert_int_equal(LEN(0x0f, 0x1f, 0x44, 0x00, 0x00), 5);	      /* nopl */
	assert_int_equal(LEN(0xc5, 0xfe, 0x6f, 0x06), 4);	      /* vmovdqu (%rsi) */
	assert_int_equal(LEN(0xc4, 0xe3, 0x7d, 0x18, 0xc1, 0x01), 6); /* vinsertf128 imm8 */
	assert_int_equal(LEN(0xc5, 0xf8, 0x77), 3);		      /* vzeroupper */
	assert_int_equal(LEN(0xa1, 1, 2, 3, 4, 5, 6, 7, 8), 9);	      /* movabs moffs */
	assert_int_equal(LEN(0xc8, 1, 2, 3), 4);		      /* enter */
	assert_int_equal(LEN(0xcc), 1);
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(LEN(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x06), -ENOTSUP); /* EVEX */
	assert_int_equal(LEN(0x06), -ENOTSUP);				     /* push %es */
	assert_int_equal(LEN(0x0f, 0x0f, 0xc1, 0x9e), -ENOTSUP);	     /* 3DNow! */
	assert_int_equal(LEN(0x48, 0x66, 0x90), -ENOTSUP);		     /* prefix after REX */
	assert_int_equal(LEN(0x48, 0xc5, 0xf8, 0x77), -ENOTSUP);
	assert_int_equal(LEN(0x48, 0x8b, 0x84, 0x24, 1, 2), -EINVAL); /* truncated disp */
	assert_int_equal(LEN(0x66, 0x66), -EINVAL);
	assert_int_equal(goret_x86_len((const uint8_t[]){0x0f}, 1), -EINVAL);
	assert_int_equal(goret_x86_len((const uint8_t[]){0xc3}, 0), -EINVAL);
	/* 15 prefixes: longer than any instruction */
	assert_int_equal(LEN(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			     0x66, 0x66, 0x66, 0x90),
			 -EINVAL);
}

static void test_find(void **state)
{
	/* c3 bytes in an imm32, a disp8, a rel32 and an imm64, then 2 RETs */
	static const uint8_t body[] = {
	    0xb8, 0xc3, 0xc3, 0xc3, 0xc3,			     /* mov $0xc3c3c3c3,%eax */
	    0x48, 0x8b, 0x43, 0xc3,				     /* mov -0x3d(%rbx),%rax */
	    0x0f, 0x84, 0xc3, 0x00, 0x00, 0x00,			     /* je rel32 */
	    0x48, 0xb9, 0xc3, 0,    0,	  0,	0,    0,    0, 0xc3, /* movabs */
	    0x48, 0x83, 0xc4, 0x10,				     /* add $0x10,%rsp */
	    0x5d,						     /* pop %rbp */
	    0xc3,						     /* ret: 30 */
	    0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,			     /* nopw */
	    0xf3, 0xc3,						     /* rep ret: 37 */
	    0xe8, 0xc3, 0xc3, 0xc3, 0xc3, 0xeb, 0xc3, 0xcc,	     /* call, jmp, int3 */
	};
	uint32_t offs[4];

	(void)state;
	assert_int_equal(goret_find(GORET_X86_64, body, sizeof(body), offs, 4), 2);
	assert_int_equal(offs[0], 30);
	assert_int_equal(offs[1], 37);
	assert_int_equal(goret_find(GORET_X86_64, body, sizeof(body), offs, 1), -E2BIG);
	assert_int_equal(goret_find(GORET_X86_64, body, 30, offs, 4), -ENOENT);
	/* ending in the middle of the movabs */
	assert_int_equal(goret_find(GORET_X86_64, body, 20, offs, 4), -EINVAL);
	assert_int_equal(
	    goret_find(GORET_X86_64, (const uint8_t[]){0xc3, 0x62, 0, 0, 0, 0, 0}, 7, offs, 4),
	    -ENOTSUP);
}

static void test_arm64(void **state)
{
	static const uint8_t body[] = {
	    0xfe, 0x0f, 0x1f, 0xf8, /* str x30, [sp, #-16]! */
	    0xc0, 0x03, 0x5f, 0xd6, /* ret */
	    0x1f, 0x20, 0x03, 0xd5, /* nop */
	    0xc0, 0x03, 0x5f, 0xd6, /* ret */
	    0xc0, 0x03,		    /* a partial word: ignored */
	};
	uint32_t offs[4];

	(void)state;
	assert_int_equal(goret_find(GORET_ARM64, body, sizeof(body), offs, 4), 2);
	assert_int_equal(offs[0], 4);
	assert_int_equal(offs[1], 12);
	assert_int_equal(goret_find(GORET_ARM64, body, 4, offs, 4), -ENOENT);
	assert_int_equal(goret_find(GORET_ARM64, body, sizeof(body), offs, 1), -E2BIG);
	assert_int_equal(goret_find((enum goret_arch)7, body, sizeof(body), offs, 4), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_arm64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
