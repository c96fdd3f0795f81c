/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * empty_prog.bpf.h - an empty program on one attach point, named after it:
 * what bench/floor.bpf.c puts on every attach point of the agent, and
 * bench/bound.bpf.c on every one but the data syscalls' exits.
 */
#ifndef REDTAP_BENCH_EMPTY_PROG_BPF_H
#define REDTAP_BENCH_EMPTY_PROG_BPF_H

#define FLOOR_PROG(sec, name)                                                                      \
	SEC(sec)                                                                                   \
	int floor_##name(void *ctx)                                                                \
	{                                                                                          \
		return 0;                                                                          \
	}

#endif /* REDTAP_BENCH_EMPTY_PROG_BPF_H */
