// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscall_cost.bpf.c - the other way to attach to syscalls, for
 * bench/syscall_cost.c: one program on the raw tracepoint sys_exit
 * (raw_sys_exit) or on its BTF form (btf_sys_exit), run at the exit of
 * every syscall of every process, testing the syscall's number the way a
 * single dispatching program would. The agent (and the floor) use one
 * per-syscall tracepoint program per data syscall instead; BENCHMARKS.md
 * ("one raw tracepoint for every syscall") compares the two. Built only by
 * `make bench-progs`, never with the product.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

__u64 hits;

/* x86-64 numbers of bpf/tracepoints.h's data syscalls (read, write,
 * readv, writev, sendto, recvfrom, sendmsg, recvmsg, sendfile), accept,
 * connect and accept4: what a dispatching program would switch on. */
static __always_inline bool traced(long nr)
{
	switch (nr) {
	case 0: case 1: case 19: case 20: case 40: case 42: case 43:
	case 44: case 45: case 46: case 47: case 288:
		return true;
	}
	return false;
}

SEC("raw_tp/sys_exit")
int raw_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	if (traced(regs->orig_ax))
		__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_sys_exit, struct pt_regs *regs, long ret)
{
	if (traced(regs->orig_ax))
		__sync_fetch_and_add(&hits, 1);
	return 0;
}
