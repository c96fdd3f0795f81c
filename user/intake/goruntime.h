/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * goruntime.h - Go runtime figures of a running Go program, read from its
 * memory (process_vm_readv) without any change to it: goroutine count (as
 * runtime.NumGoroutine counts them), GOMAXPROCS, live heap, GC goal, GC
 * cycles, total GC pause time, and (Go 1.19+) the memory the runtime uses
 * and the bytes it has allocated.
 *
 * Memory, as Go 1.19's readmemstats_m() checks it against its consistent
 * stats: gcController.mappedReady is MemStats.Sys - MemStats.HeapReleased
 * (/memory/classes/total - /memory/classes/heap/released, the conventions'
 * go.memory.used), gcController.totalAlloc is MemStats.TotalAlloc
 * (/gc/heap/allocs:bytes, go.memory.allocated), and the sum of
 * memstats.heapStats.stats[0..2].inStacks is MemStats.StackInuse
 * (/memory/classes/heap/stacks, go.memory.used's "stack" part). Small
 * allocations count when their P's cached span goes back (ReadMemStats
 * flushes them first): between, the total trails by at most the spans the
 * Ps hold (68 size classes x 2 a P, a few hundred KiB).
 *
 * Where they are: the addresses of the runtime's globals (runtime.allglen,
 * allp, sched, memstats, gcController, gomaxprocs) come from the ELF symbol
 * table (a stripped binary, -s, has none: -ENOENT), moved by the load bias
 * for PIE; the offsets of the struct members from DWARF (goelf_fields()),
 * else from a version table (Go 1.19, amd64), else the program is not read
 * (-ENOTSUP), never guessed.
 *
 * The process is untrusted: every read is a few bytes at a known address
 * (the P array at most GORUNTIME_MAX_PROCS pointers), a failed read is an
 * error and nothing else, and implausible values (more free goroutines
 * than goroutines, GOMAXPROCS out of range) reject the sample (-EINVAL).
 * Thread-safe (no state).
 */
#ifndef REDTAP_GORUNTIME_H
#define REDTAP_GORUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "goelf.h"

#define GORUNTIME_MAX_PROCS 1024 /* Ps read for their free goroutines */

struct goruntime_layout {
	/* link-time addresses */
	uint64_t allglen, allp, sched, memstats, gcctl, gomaxprocs;
	/* member offsets */
	uint32_t sched_gfree_n, sched_ngsys, p_gfree_n;
	uint32_t ms_numgc, ms_pause_total;
	uint32_t gc_heap_live, gc_goal, gc_sweep_min;
	bool has_sweep_min;
	/* memory (Go 1.19+): gcController.totalAlloc / mappedReady (atomics),
	 * memstats.heapStats.stats (3 heapStatsDelta, hs_stride apart) and
	 * heapStatsDelta.inStacks */
	uint32_t gc_total_alloc, gc_mapped_ready;
	uint32_t ms_heap_stats, hs_stride, hs_in_stacks;
	bool has_mem;
	bool from_table; /* offsets from the version table, not DWARF */
};

struct goruntime_sample {
	uint64_t goroutines; /* allglen - free - system goroutines: runtime.NumGoroutine */
	uint64_t gomaxprocs;
	uint64_t heap_live; /* gcController.heapLive: ~ MemStats.HeapAlloc */
	uint64_t gc_goal;   /* ~ MemStats.NextGC (without a memory limit) */
	uint64_t gc_cycles; /* MemStats.NumGC */
	uint64_t pause_total_ns;
	bool has_mem;	    /* the three below are valid */
	uint64_t mem_used;  /* mappedReady: MemStats.Sys - MemStats.HeapReleased */
	uint64_t mem_stack; /* <= mem_used: MemStats.StackInuse */
	uint64_t allocated; /* MemStats.TotalAlloc */
};

/* 0, -ENOENT (no symbol table or a symbol missing), -ENOTSUP (offsets unknown). */
int goruntime_layout(const struct goelf *g, struct goruntime_layout *l);

/* The load bias of process pid when pie (its first mapping, which must map
 * the file from offset 0; Go links PIE at 0): 0 or -errno. */
int goruntime_bias(uint32_t pid, bool pie, uint64_t *bias);

/* 0, or -errno: -ESRCH/-EFAULT/-EPERM from the read, -EINVAL implausible.
 * Implausible memory figures (stacks above the total) only clear has_mem. */
int goruntime_read(uint32_t pid, const struct goruntime_layout *l, uint64_t bias,
		   struct goruntime_sample *s);

#endif /* REDTAP_GORUNTIME_H */
