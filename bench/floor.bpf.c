// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.bpf.c - the "floor" of the benchmarks (bench/run.sh): empty
 * programs on exactly the tracepoints bpf/capture.bpf.c attaches to. What
 * a workload loses with these attached is the cost of entering the
 * programs at all, which no tracepoint-based design can avoid; the agent's
 * own cost is measured above it. Loaded by bench/floor.c, never by redtap.
 *
 * Keep the list in step with capture.bpf.c: a tracepoint added there and
 * not here makes the agent look more expensive than it is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One empty program named after its attach point. */
#define FLOOR_PROG(sec, name)                                                                      \
	SEC(sec)                                                                                   \
	int name(void *ctx)                                                                        \
	{                                                                                          \
		return 0;                                                                          \
	}

#define FLOOR_SYSCALL_PAIR(sys)                                                                    \
	FLOOR_PROG("tracepoint/syscalls/sys_enter_" #sys, floor_enter_##sys)                       \
	FLOOR_PROG("tracepoint/syscalls/sys_exit_" #sys, floor_exit_##sys)

/* socket I/O: arguments at enter, data at exit */
FLOOR_SYSCALL_PAIR(read)
FLOOR_SYSCALL_PAIR(recvfrom)
FLOOR_SYSCALL_PAIR(write)
FLOOR_SYSCALL_PAIR(sendto)
FLOOR_SYSCALL_PAIR(readv)
FLOOR_SYSCALL_PAIR(writev)
FLOOR_SYSCALL_PAIR(recvmsg)
FLOOR_SYSCALL_PAIR(sendmsg)
FLOOR_SYSCALL_PAIR(sendfile64)
FLOOR_SYSCALL_PAIR(connect)

/* connection life and the shim's channel: one side only, as in capture */
FLOOR_PROG("tracepoint/syscalls/sys_exit_accept4", floor_exit_accept4)
FLOOR_PROG("tracepoint/syscalls/sys_exit_accept", floor_exit_accept)
FLOOR_PROG("tracepoint/syscalls/sys_enter_close", floor_enter_close)
FLOOR_PROG("tracepoint/syscalls/sys_enter_ioctl", floor_enter_ioctl)
FLOOR_PROG("tracepoint/sock/inet_sock_set_state", floor_sock_set_state)

/* process life */
FLOOR_PROG("raw_tp/sched_process_exec", floor_proc_exec)
FLOOR_PROG("raw_tp/sched_process_exit", floor_proc_exit)
FLOOR_PROG("raw_tp/sched_process_fork", floor_proc_fork)
