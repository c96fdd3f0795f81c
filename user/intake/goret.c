// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * goret.c - return instructions of a compiled function (see goret.h): an
 * x86-64 instruction length decoder, table-driven, that knows the layout
 * (prefixes, REX, VEX, opcode, ModRM, SIB, displacement, immediate) but not
 * the meaning of instructions.
 */
#include <errno.h>
#include <stdbool.h>

#include "goret.h"

#define X86_MAX 15

enum {
	F_M = 1 << 0,	/* ModRM follows the opcode */
	F_I8 = 1 << 1,	/* imm8 */
	F_IZ = 1 << 2,	/* imm16 with a 0x66 prefix, else imm32 */
	F_I16 = 1 << 3, /* imm16 */
	F_R32 = 1 << 4, /* rel32 / imm32 whatever the prefixes */
	F_BAD = 1 << 5, /* invalid in 64-bit mode, or not decoded here */
	F_SPC = 1 << 6, /* handled in code */
};

/* The one-byte map. */
static const uint8_t map1[256] = {
    /* ALU ops 00-3f: r/m forms, then AL,imm8 and eAX,immz */
    [0x00 ... 0x03] = F_M,
    [0x04] = F_I8,
    [0x05] = F_IZ,
    [0x06 ... 0x07] = F_BAD,
    [0x08 ... 0x0b] = F_M,
    [0x0c] = F_I8,
    [0x0d] = F_IZ,
    [0x0e] = F_BAD,
    [0x0f] = F_SPC,
    [0x10 ... 0x13] = F_M,
    [0x14] = F_I8,
    [0x15] = F_IZ,
    [0x16 ... 0x17] = F_BAD,
    [0x18 ... 0x1b] = F_M,
    [0x1c] = F_I8,
    [0x1d] = F_IZ,
    [0x1e ... 0x1f] = F_BAD,
    [0x20 ... 0x23] = F_M,
    [0x24] = F_I8,
    [0x25] = F_IZ,
    [0x26] = F_SPC,
    [0x27] = F_BAD,
    [0x28 ... 0x2b] = F_M,
    [0x2c] = F_I8,
    [0x2d] = F_IZ,
    [0x2e] = F_SPC,
    [0x2f] = F_BAD,
    [0x30 ... 0x33] = F_M,
    [0x34] = F_I8,
    [0x35] = F_IZ,
    [0x36] = F_SPC,
    [0x37] = F_BAD,
    [0x38 ... 0x3b] = F_M,
    [0x3c] = F_I8,
    [0x3d] = F_IZ,
    [0x3e] = F_SPC,
    [0x3f] = F_BAD,
    [0x40 ... 0x4f] = F_SPC, /* REX */
    [0x50 ... 0x5f] = 0,
    [0x60 ... 0x62] = F_BAD, /* 0x62: EVEX, not decoded */
    [0x63] = F_M,
    [0x64 ... 0x67] = F_SPC,
    [0x68] = F_IZ,
    [0x69] = F_M | F_IZ,
    [0x6a] = F_I8,
    [0x6b] = F_M | F_I8,
    [0x6c ... 0x6f] = 0,
    [0x70 ... 0x7f] = F_I8,
    [0x80] = F_M | F_I8,
    [0x81] = F_M | F_IZ,
    [0x82] = F_BAD,
    [0x83] = F_M | F_I8,
    [0x84 ... 0x8f] = F_M,
    [0x90 ... 0x99] = 0,
    [0x9a] = F_BAD,
    [0x9b ... 0x9f] = 0,
    [0xa0 ... 0xa3] = F_SPC, /* moffs */
    [0xa4 ... 0xa7] = 0,
    [0xa8] = F_I8,
    [0xa9] = F_IZ,
    [0xaa ... 0xaf] = 0,
    [0xb0 ... 0xb7] = F_I8,
    [0xb8 ... 0xbf] = F_SPC, /* immz, imm64 with REX.W */
    [0xc0 ... 0xc1] = F_M | F_I8,
    [0xc2] = F_I16,
    [0xc3] = 0,
    [0xc4 ... 0xc5] = F_SPC, /* VEX */
    [0xc6] = F_M | F_I8,
    [0xc7] = F_M | F_IZ,
    [0xc8] = F_SPC,
    [0xc9] = 0,
    [0xca] = F_I16,
    [0xcb ... 0xcc] = 0,
    [0xcd] = F_I8,
    [0xce] = F_BAD,
    [0xcf] = 0,
    [0xd0 ... 0xd3] = F_M,
    [0xd4 ... 0xd6] = F_BAD,
    [0xd7] = 0,
    [0xd8 ... 0xdf] = F_M, /* x87 */
    [0xe0 ... 0xe7] = F_I8,
    [0xe8 ... 0xe9] = F_R32,
    [0xea] = F_BAD,
    [0xeb] = F_I8,
    [0xec ... 0xef] = 0,
    [0xf0] = F_SPC,
    [0xf1] = 0,
    [0xf2 ... 0xf3] = F_SPC,
    [0xf4 ... 0xf5] = 0,
    [0xf6 ... 0xf7] = F_SPC, /* group 3: TEST has an immediate */
    [0xf8 ... 0xfd] = 0,
    [0xfe ... 0xff] = F_M,
};

/* The 0F map. */
static const uint8_t map0f[256] = {
    [0x00 ... 0x03] = F_M,
    [0x04] = F_BAD,
    [0x05 ... 0x09] = 0,
    [0x0a] = F_BAD,
    [0x0b] = 0,
    [0x0c] = F_BAD,
    [0x0d] = F_M,
    [0x0e] = 0,
    [0x0f] = F_BAD, /* 3DNow! */
    [0x10 ... 0x1f] = F_M,
    [0x20 ... 0x23] = F_M,
    [0x24 ... 0x27] = F_BAD,
    [0x28 ... 0x2f] = F_M,
    [0x30 ... 0x35] = 0,
    [0x36] = F_BAD,
    [0x37] = 0,
    [0x38] = F_SPC,
    [0x39] = F_BAD,
    [0x3a] = F_SPC,
    [0x3b ... 0x3f] = F_BAD,
    [0x40 ... 0x6f] = F_M,
    [0x70 ... 0x73] = F_M | F_I8,
    [0x74 ... 0x76] = F_M,
    [0x77] = 0,
    [0x78 ... 0x79] = F_M,
    [0x7a ... 0x7b] = F_BAD,
    [0x7c ... 0x7f] = F_M,
    [0x80 ... 0x8f] = F_R32,
    [0x90 ... 0x9f] = F_M,
    [0xa0 ... 0xa2] = 0,
    [0xa3] = F_M,
    [0xa4] = F_M | F_I8,
    [0xa5] = F_M,
    [0xa6 ... 0xa7] = F_BAD,
    [0xa8 ... 0xaa] = 0,
    [0xab] = F_M,
    [0xac] = F_M | F_I8,
    [0xad ... 0xb9] = F_M,
    [0xba] = F_M | F_I8,
    [0xbb ... 0xc1] = F_M,
    [0xc2] = F_M | F_I8,
    [0xc3] = F_M,
    [0xc4 ... 0xc6] = F_M | F_I8,
    [0xc7] = F_M,
    [0xc8 ... 0xcf] = 0,
    [0xd0 ... 0xfe] = F_M,
    [0xff] = F_M, /* UD0 */
};

/* Bytes of ModRM, SIB and displacement at p[0..n): 1..6, or -EINVAL. */
static int modrm_len(const uint8_t *p, size_t n)
{
	unsigned mod, rm;
	int len = 1;

	if (n < 1)
		return -EINVAL;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) { /* SIB */
		if (n < 2)
			return -EINVAL;
		len++;
		if (mod == 0 && (p[1] & 7) == 5)
			len += 4; /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

/* Length of the instruction's tail at p[i..n) (ModRM and what follows,
 * immediate): i + that, or -EINVAL. */
static int tail_len(const uint8_t *p, size_t n, size_t i, unsigned flags, unsigned imm)
{
	int m = 0;

	if (flags & F_M) {
		m = modrm_len(p + i, n - i);
		if (m < 0)
			return m;
	}
	i += (size_t)m + imm;
	return i <= n ? (int)i : -EINVAL;
}

/* VEX-encoded instruction at p[i] (0xc4 or 0xc5): the whole length. */
static int vex_len(const uint8_t *p, size_t n, size_t i)
{
	unsigned map = 1, op;

	if (p[i] == 0xc5) {
		i += 2; /* c5, one payload byte */
	} else {
		if (i + 1 >= n)
			return -EINVAL;
		map = p[i + 1] & 0x1f;
		i += 3; /* c4, two payload bytes */
	}
	if (i >= n)
		return -EINVAL;
	op = p[i++];
	if (map == 1 && op == 0x77)
		return (int)i; /* vzeroupper, vzeroall */
	if (map == 1)
		return tail_len(p, n, i, F_M, (map0f[op] & F_I8) ? 1 : 0);
	if (map == 2)
		return tail_len(p, n, i, F_M, 0);
	if (map == 3)
		return tail_len(p, n, i, F_M, 1);
	return -ENOTSUP;
}

int goret_x86_len(const uint8_t *code, size_t len)
{
	size_t n = len < X86_MAX ? len : X86_MAX, i = 0;
	bool osize = false, asize = false, rexw = false;
	unsigned op, f, imm;

	/* legacy prefixes, then at most one REX right before the opcode */
	for (;; i++) {
		if (i >= n)
			return -EINVAL;
		op = code[i];
		if (op == 0x66)
			osize = true;
		else if (op == 0x67)
			asize = true;
		else if (!(op == 0xf0 || op == 0xf2 || op == 0xf3 || op == 0x26 || op == 0x2e ||
			   op == 0x36 || op == 0x3e || op == 0x64 || op == 0x65))
			break;
	}
	if ((op & 0xf0) == 0x40) {
		rexw = op & 8;
		if (++i >= n)
			return -EINVAL;
		op = code[i];
	}
	i++;
	f = map1[op];
	if (f & F_BAD)
		return -ENOTSUP;
	if (!(f & F_SPC)) {
		imm = (f & F_I8) ? 1 : (f & F_I16) ? 2 : (f & F_R32) ? 4 : 0;
		if (f & F_IZ)
			imm = osize ? 2 : 4;
		return tail_len(code, n, i, f, imm);
	}
	switch (op) {
	case 0x0f:
		if (i >= n)
			return -EINVAL;
		op = code[i++];
		if (op == 0x38)
			return i < n ? tail_len(code, n, i + 1, F_M, 0) : -EINVAL;
		if (op == 0x3a)
			return i < n ? tail_len(code, n, i + 1, F_M, 1) : -EINVAL;
		f = map0f[op];
		if (f & F_BAD)
			return -ENOTSUP;
		return tail_len(code, n, i, f, (f & F_I8) ? 1 : (f & F_R32) ? 4 : 0);
	case 0xa0 ... 0xa3: /* mov with a 64-bit (or 32-bit) absolute offset */
		return tail_len(code, n, i, 0, asize ? 4 : 8);
	case 0xb8 ... 0xbf:
		return tail_len(code, n, i, 0, rexw ? 8 : osize ? 2 : 4);
	case 0xc4:
	case 0xc5:
		/* a REX or 0x66/F2/F3 prefix before VEX is invalid */
		if (i != 1 && !(i == 2 && (code[0] == 0x67 || code[0] == 0x64 || code[0] == 0x65)))
			return -ENOTSUP;
		return vex_len(code, n, i - 1);
	case 0xc8: /* enter imm16, imm8 */
		return tail_len(code, n, i, 0, 3);
	case 0xf6:
	case 0xf7:
		if (i >= n)
			return -EINVAL;
		imm = 0;
		if (((code[i] >> 3) & 7) < 2) /* test r/m, imm */
			imm = op == 0xf6 ? 1 : osize ? 2 : 4;
		return tail_len(code, n, i, F_M, imm);
	}
	/* a prefix byte in opcode position (after REX): invalid */
	return -ENOTSUP;
}

/* Opcode of the x86-64 instruction at p (length known): past its prefixes. */
static unsigned x86_opcode(const uint8_t *p, int len)
{
	int i = 0;

	while (i < len - 1 &&
	       (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf0 || p[i] == 0xf2 || p[i] == 0xf3 ||
		p[i] == 0x26 || p[i] == 0x2e || p[i] == 0x36 || p[i] == 0x3e || p[i] == 0x64 ||
		p[i] == 0x65 || (p[i] & 0xf0) == 0x40))
		i++;
	return p[i];
}

static int add(uint32_t *offs, size_t max, int n, size_t off)
{
	if ((size_t)n >= max)
		return -E2BIG;
	offs[n] = (uint32_t)off;
	return n + 1;
}

int goret_find(enum goret_arch arch, const uint8_t *code, size_t len, uint32_t *offs, size_t max)
{
	int n = 0;

	if (len > UINT32_MAX)
		return -EINVAL;
	if (arch == GORET_ARM64) {
		for (size_t off = 0; off + 4 <= len && n >= 0; off += 4) {
			uint32_t w = (uint32_t)code[off] | (uint32_t)code[off + 1] << 8 |
				     (uint32_t)code[off + 2] << 16 | (uint32_t)code[off + 3] << 24;

			if (w == 0xd65f03c0u)
				n = add(offs, max, n, off);
		}
		return n > 0 || n < 0 ? n : -ENOENT;
	}
	if (arch != GORET_X86_64)
		return -ENOTSUP;
	for (size_t off = 0; off < len;) {
		int l = goret_x86_len(code + off, len - off);
		unsigned op;

		if (l < 0)
			return l;
		op = x86_opcode(code + off, l);
		if (op == 0xc3 || op == 0xc2) {
			n = add(offs, max, n, off);
			if (n < 0)
				return n;
		}
		off += (size_t)l;
	}
	return n ? n : -ENOENT;
}
