// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.bpf.c - the "floor" of the benchmarks (bench/run.sh): empty
 * programs on exactly the attach points of bpf/capture.bpf.c. What a
 * workload loses with these attached is the cost of entering the programs
 * at all, which no tracepoint-based design can avoid; the agent's own cost
 * is measured above it. Built only by `make bench` (bench/bench.mk) and
 * loaded by bench/floor.c, never by redtap.
 *
 * Both objects expand the one list in bpf/tracepoints.h, so the floor
 * cannot miss an attach point the agent has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "tracepoints.h"
#include "empty_prog.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOR_DATA_PROG(sys, args, dir)                                                            \
	FLOOR_PROG("tracepoint/syscalls/sys_exit_" #sys, exit_##sys)

RT_DATA_SYSCALLS(FLOOR_DATA_PROG)
RT_OTHER_PROGS(FLOOR_PROG)
RT_LOGFILE_PROGS(FLOOR_PROG)
