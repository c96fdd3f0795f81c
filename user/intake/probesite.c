// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * probesite.c - the cheapest entry probe of a function (see probesite.h):
 * byte patterns on top of goret.c's instruction length decoder, which
 * keeps every look at an instruction boundary.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "goret.h"
#include "probesite.h"

static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
static const uint8_t nop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
static const uint8_t go_cmp_rsp[] = {0x49, 0x3b, 0x66, 0x10}; /* cmp 0x10(%r14),%rsp */
static const uint8_t go_cmp_r12[] = {0x4d, 0x3b, 0x66, 0x10}; /* cmp 0x10(%r14),%r12 */
static const uint8_t go_lea8[] = {0x4c, 0x8d, 0x64, 0x24};    /* lea d8(%rsp),%r12 */
static const uint8_t go_lea32[] = {0x4c, 0x8d, 0xa4, 0x24};   /* lea d32(%rsp),%r12 */

/* code[0..len) starts with the instruction pat of n bytes. */
static bool is(const uint8_t *code, size_t len, const uint8_t *pat, size_t n)
{
	return len >= n && !memcmp(code, pat, n);
}

/* Length of the instruction at code, 0 when the decoder refuses it. */
static size_t insn_len(const uint8_t *code, size_t len)
{
	int l = goret_x86_len(code, len);

	return l > 0 ? (size_t)l : 0;
}

enum probesite_kind probesite_kind(const uint8_t *code, size_t len)
{
	size_t l = insn_len(code, len);
	uint8_t op;

	if (!l)
		return PROBESITE_STEP;
	op = code[0];
	/* the kernel emulates push with no prefix but REX.B (41) */
	if ((l == 1 && op >= 0x50 && op <= 0x57) ||
	    (l == 2 && op == 0x41 && code[1] >= 0x50 && code[1] <= 0x57))
		return PROBESITE_PUSH;
	/* branches with a prefix (66 is refused by the kernel) stay stepped */
	if ((l == 2 && (op == 0xeb || (op >= 0x70 && op <= 0x7f))) ||
	    (l == 5 && (op == 0xe8 || op == 0xe9)) ||
	    (l == 6 && op == 0x0f && code[1] >= 0x80 && code[1] <= 0x8f))
		return PROBESITE_BRANCH;
	if ((l == 1 && op == 0x90) || (l == sizeof(nop5) && is(code, len, nop5, sizeof(nop5))))
		return PROBESITE_NOP;
	return PROBESITE_STEP;
}

/* Bytes of Go's stack check before its jcc at code (0: none). */
static size_t go_stack_check(const uint8_t *code, size_t len)
{
	size_t n = 0;

	if (is(code, len, go_cmp_rsp, sizeof(go_cmp_rsp)))
		return sizeof(go_cmp_rsp);
	if (is(code, len, go_lea8, sizeof(go_lea8)))
		n = sizeof(go_lea8) + 1;
	else if (is(code, len, go_lea32, sizeof(go_lea32)))
		n = sizeof(go_lea32) + 4;
	if (!n || len < n || !is(code + n, len - n, go_cmp_r12, sizeof(go_cmp_r12)))
		return 0;
	return n + sizeof(go_cmp_r12);
}

uint32_t probesite_entry(const uint8_t *code, size_t len, enum probesite_kind *kind)
{
	enum probesite_kind k = probesite_kind(code, len), next = PROBESITE_STEP;
	size_t skip = 0;

	if (k != PROBESITE_STEP)
		goto out;
	if (is(code, len, endbr64, sizeof(endbr64))) {
		skip = sizeof(endbr64);
		next = probesite_kind(code + skip, len - skip);
	} else if ((skip = go_stack_check(code, len))) {
		next = probesite_kind(code + skip, len - skip);
		/* a conditional branch only: jmp and call are not Go's check */
		if (next == PROBESITE_BRANCH &&
		    (code[skip] == 0xe8 || code[skip] == 0xe9 || code[skip] == 0xeb))
			next = PROBESITE_STEP;
		else if (next != PROBESITE_BRANCH)
			next = PROBESITE_STEP;
	}
	if (next == PROBESITE_STEP)
		skip = 0;
	else
		k = next;
out:
	if (kind)
		*kind = k;
	return (uint32_t)skip;
}

int probesite_call(const uint8_t *code, size_t len, int64_t *target)
{
	size_t n = len < PROBESITE_CALL_SCAN ? len : PROBESITE_CALL_SCAN;

	for (size_t off = 0; off < n;) {
		int l = goret_x86_len(code + off, len - off);
		const uint8_t *p = code + off;

		if (l < 0)
			return l;
		if (l == 5 && p[0] == 0xe8) {
			int32_t rel = (int32_t)((uint32_t)p[1] | (uint32_t)p[2] << 8 |
						(uint32_t)p[3] << 16 | (uint32_t)p[4] << 24);

			*target = (int64_t)(off + 5) + rel;
			return 0;
		}
		/* ret, repz ret, ret imm16, jmp: the function ends here */
		if (p[0] == 0xc3 || p[0] == 0xc2 || p[0] == 0xe9 || p[0] == 0xeb ||
		    (l == 2 && p[0] == 0xf3 && p[1] == 0xc3))
			return -ENOENT;
		off += (size_t)l;
	}
	return -ENOENT;
}

const char *probesite_name(unsigned kind)
{
	static const char *const names[] = {
	    [PROBESITE_STEP] = "step",
	    [PROBESITE_PUSH] = "push",
	    [PROBESITE_BRANCH] = "branch",
	    [PROBESITE_NOP] = "nop",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}
