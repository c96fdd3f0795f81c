/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * probesite.h - where in a function an entry uprobe costs least (issue 15,
 * issue 13). The x86-64 kernel runs the instruction under a uprobe either
 * by emulating it (push reg, jmp/jcc/call rel, nop; a 5-byte nop is even
 * turned into a call by 6.18) or by single-stepping a copy of it out of
 * line (everything else: endbr64, mov, sub $N,%rsp...), which takes a
 * second trap. On this VM (BENCHMARKS.md, "Per-probe cost by site") a
 * probe on an emulated instruction costs 1.3-6.5 us, a single-stepped one
 * 18-23 us.
 *
 * probesite_entry() moves an entry probe past instructions that neither
 * touch the stack pointer nor the argument registers, onto an emulated
 * one, when a function starts with:
 *   - endbr64 followed by an emulated instruction: the probe goes on the
 *     second one (rsp is unchanged there, so a uretprobe attached at that
 *     offset still finds the return address at [rsp]);
 *   - Go's stack check, `cmp 0x10(%r14),%rsp` (or `lea -N(%rsp),%r12;
 *     cmp 0x10(%r14),%r12`) then `jbe`/`jcc`: the probe goes on the jcc
 *     (the register ABI's arguments and r14, g, are untouched; a morestack
 *     re-entry runs the probe twice, as it did at the entry).
 * Anything else (and anything the decoder refuses) stays at offset 0.
 *
 * probesite_call() finds the first `call rel32` of a function, for the
 * OpenSSL wrappers whose first instruction is single-stepped while their
 * internal callee starts with a push (user/intake/sslsites.c).
 *
 * The bytes come from files any local user can craft: every read is
 * bounded by len; instruction lengths come from goret_x86_len().
 */
#ifndef REDTAP_PROBESITE_H
#define REDTAP_PROBESITE_H

#include <stddef.h>
#include <stdint.h>

/* How the kernel runs one instruction under a uprobe (x86-64). */
enum probesite_kind {
	PROBESITE_STEP = 0,   /* single-stepped out of line (or not decoded) */
	PROBESITE_PUSH = 1,   /* push reg: emulated */
	PROBESITE_BRANCH = 2, /* jmp, jcc, call rel: emulated */
	PROBESITE_NOP = 3,    /* nop: emulated (nop5 optimised on 6.18) */
};

#define PROBESITE_CALL_SCAN 64 /* bytes of a function searched for its first call */

/* The kind of the instruction at code[0..len). */
enum probesite_kind probesite_kind(const uint8_t *code, size_t len);

/* Offset (from code, the function's entry) of its cheapest equivalent
 * entry probe, as above: 0 when there is none better; *kind (may be NULL)
 * is the kind of the instruction there. */
uint32_t probesite_entry(const uint8_t *code, size_t len, enum probesite_kind *kind);

/* The first `call rel32` in code[0..len) before any ret or jmp (at most
 * PROBESITE_CALL_SCAN bytes): 0 with *target = its destination relative
 * to code; -ENOENT when there is none, or -ENOTSUP / -EINVAL from the
 * decoder. */
int probesite_call(const uint8_t *code, size_t len, int64_t *target);

/* "step", "push", "branch", "nop"; "unknown" out of range. */
const char *probesite_name(unsigned kind);

#endif /* REDTAP_PROBESITE_H */
