/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * goret.h - the return instructions of a compiled function, for the uprobes
 * that stand in for uretprobes on Go code (a uretprobe rewrites the return
 * address on the stack, which Go's stack moves and traceback do not
 * survive). Used by gotrack.c for crypto/tls.(*Conn).Read and Write.
 *
 * x86-64: the body is decoded instruction by instruction from the entry
 * (a length decoder for the one-byte, 0F, 0F38, 0F3A and VEX maps), so a
 * probe is only ever put at an instruction boundary: a 0xc3 byte inside an
 * immediate is never taken for a RET. Anything the decoder does not know
 * (EVEX, 3DNow!, opcodes invalid in 64-bit mode, a body that ends mid-
 * instruction) fails the whole function: no probe is better than one in
 * the middle of an instruction, which would corrupt the program.
 * arm64: fixed 4-byte words, RET is 0xd65f03c0 (untested here).
 *
 * The code bytes come from an executable any local user can craft: every
 * read is bounded by len.
 */
#ifndef REDTAP_GORET_H
#define REDTAP_GORET_H

#include <stddef.h>
#include <stdint.h>

enum goret_arch {
	GORET_X86_64 = 0,
	GORET_ARM64 = 1,
};

/* Length of the x86-64 instruction at code[0..len): 1..15, or -ENOTSUP
 * (unknown or invalid in 64-bit mode), -EINVAL (runs past len or 15). */
int goret_x86_len(const uint8_t *code, size_t len);

/* Offsets (from code) of the return instructions of the function body
 * code[0..len), at most max of them: how many, -ENOTSUP / -EINVAL as
 * goret_x86_len(), -E2BIG when there are more than max, -ENOENT when none. */
int goret_find(enum goret_arch arch, const uint8_t *code, size_t len, uint32_t *offs, size_t max);

#endif /* REDTAP_GORET_H */
