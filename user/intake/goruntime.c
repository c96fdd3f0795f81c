// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * goruntime.c - reads a Go program's runtime figures from its memory. See
 * goruntime.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "goruntime.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Go 1.19 on amd64, from the DWARF of a go1.19.8 build: for binaries built
 * with -w (symbols, no DWARF). */
static const struct goruntime_layout go119_amd64 = {
    .sched_gfree_n = 176,
    .sched_ngsys = 72,
    .p_gfree_n = 2472,
    .ms_numgc = 7704,
    .ms_pause_total = 3600,
    .gc_heap_live = 136,
    .gc_goal = 104,
    .gc_sweep_min = 112,
    .has_sweep_min = true,
    .gc_total_alloc = 328,
    .gc_mapped_ready = 344,
    .ms_heap_stats = 0,
    .hs_stride = 1176,
    .hs_in_stacks = 24,
    .has_mem = true,
};

#define FIELD_MEM 9 /* the first of the memory fields in goruntime_layout()'s list */

/* The memory members from f[0..5) (goruntime_layout()'s order): all of
 * them, and the stats array just before gen (3 deltas of whole words), or
 * none. */
static void mem_fields(const struct goelf_field *f, struct goruntime_layout *l)
{
	uint32_t span;

	for (int i = 0; i < 5; i++)
		if (!f[i].found)
			return;
	if (f[3].off <= f[2].off)
		return;
	span = f[3].off - f[2].off;
	if (span % 24 || f[4].off + 8 > span / 3)
		return;
	l->gc_total_alloc = f[0].off;
	l->gc_mapped_ready = f[1].off;
	l->ms_heap_stats = f[2].off;
	l->hs_stride = span / 3;
	l->hs_in_stacks = f[4].off;
	l->has_mem = true;
}

int goruntime_layout(const struct goelf *g, struct goruntime_layout *l)
{
	const struct goelf_info *in = goelf_info(g);
	struct goelf_field f[] = {
	    {.type = "runtime.schedt", .path = "gFree.n"},
	    {.type = "runtime.schedt", .path = "ngsys"},
	    {.type = "runtime.p", .path = "gFree.n"},
	    {.type = "runtime.mstats", .path = "numgc"},
	    {.type = "runtime.mstats", .path = "pause_total_ns"},
	    {.type = "runtime.gcControllerState", .path = "heapLive"},
	    {.type = "runtime.gcControllerState", .path = "gcPercentHeapGoal"}, /* Go 1.19+ */
	    {.type = "runtime.gcControllerState", .path = "heapGoal"},		/* up to Go 1.18 */
	    {.type = "runtime.gcControllerState", .path = "sweepDistMinTrigger"},
	    /* memory, Go 1.19+ (FIELD_MEM on) */
	    {.type = "runtime.gcControllerState", .path = "totalAlloc.value"},
	    {.type = "runtime.gcControllerState", .path = "mappedReady.value"},
	    {.type = "runtime.mstats", .path = "heapStats.stats"},
	    {.type = "runtime.mstats", .path = "heapStats.gen"},
	    {.type = "runtime.heapStatsDelta", .path = "inStacks"},
	};
	const struct {
		const char *name;
		uint64_t *addr;
	} syms[] = {
	    {"runtime.allglen", &l->allglen},	 {"runtime.allp", &l->allp},
	    {"runtime.sched", &l->sched},	 {"runtime.memstats", &l->memstats},
	    {"runtime.gcController", &l->gcctl}, {"runtime.gomaxprocs", &l->gomaxprocs},
	};
	bool ok;

	memset(l, 0, sizeof(*l));
	if (!in->is_go || !in->has_symtab)
		return -ENOENT;
	if (goelf_fields(g, f, NELEM(f)) > 0) {
		ok = true;
		for (size_t i = 0; i < 6; i++)
			ok &= f[i].found;
		ok &= f[6].found || f[7].found;
		if (!ok)
			return -ENOTSUP;
		l->sched_gfree_n = f[0].off;
		l->sched_ngsys = f[1].off;
		l->p_gfree_n = f[2].off;
		l->ms_numgc = f[3].off;
		l->ms_pause_total = f[4].off;
		l->gc_heap_live = f[5].off;
		l->gc_goal = f[6].found ? f[6].off : f[7].off;
		l->gc_sweep_min = f[8].off;
		l->has_sweep_min = f[8].found;
		mem_fields(&f[FIELD_MEM], l);
	} else if (in->major == 1 && in->minor == 19) {
		*l = go119_amd64;
		l->from_table = true;
	} else {
		return -ENOTSUP;
	}
	for (size_t i = 0; i < NELEM(syms); i++)
		if (goelf_sym(g, syms[i].name, syms[i].addr, NULL))
			return -ENOENT;
	return 0;
}

int goruntime_bias(uint32_t pid, bool pie, uint64_t *bias)
{
	char path[48], buf[256];
	unsigned long long start, end, off;
	ssize_t n;
	int fd;

	*bias = 0;
	if (!pie)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (sscanf(buf, "%llx-%llx %*4s %llx", &start, &end, &off) != 3 || off != 0)
		return -EINVAL;
	*bias = start;
	return 0;
}

static int peek(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static int peek_u64(uint32_t pid, uint64_t addr, uint64_t *v)
{
	return peek(pid, addr, v, sizeof(*v));
}

static int peek_i32(uint32_t pid, uint64_t addr, int64_t *v)
{
	int32_t x;
	int err = peek(pid, addr, &x, sizeof(x));

	*v = x;
	return err;
}

/* Free goroutines on the Ps' own lists. */
static int p_free(uint32_t pid, const struct goruntime_layout *l, uint64_t bias, int64_t *out)
{
	uint64_t hdr[2], ptrs[64];
	int err = peek(pid, l->allp + bias, hdr, sizeof(hdr)); /* slice: array, len */

	*out = 0;
	if (err)
		return err;
	if (hdr[1] > GORUNTIME_MAX_PROCS)
		return -EINVAL;
	for (uint64_t i = 0; i < hdr[1]; i += NELEM(ptrs)) {
		uint64_t k = hdr[1] - i < NELEM(ptrs) ? hdr[1] - i : NELEM(ptrs);

		err = peek(pid, hdr[0] + i * 8, ptrs, k * 8);
		for (uint64_t j = 0; !err && j < k; j++) {
			int64_t n = 0;

			if (ptrs[j])
				err = peek_i32(pid, ptrs[j] + l->p_gfree_n, &n);
			if (n < 0)
				return -EINVAL;
			*out += n;
		}
		if (err)
			return err;
	}
	return 0;
}

/* The memory figures; -EINVAL when the stacks (a sum of deltas, which a
 * ReadMemStats rotating them can count twice for a moment) exceed the total. */
static int read_mem(uint32_t pid, const struct goruntime_layout *l, uint64_t bias,
		    struct goruntime_sample *s)
{
	int64_t stack = 0;
	int err;

	err = peek_u64(pid, l->gcctl + bias + l->gc_total_alloc, &s->allocated);
	err = err ?: peek_u64(pid, l->gcctl + bias + l->gc_mapped_ready, &s->mem_used);
	for (int i = 0; !err && i < 3; i++) {
		uint64_t d;

		err = peek_u64(
		    pid, l->memstats + bias + l->ms_heap_stats + i * l->hs_stride + l->hs_in_stacks,
		    &d);
		stack += (int64_t)d;
	}
	if (err)
		return err;
	if (stack < 0 || (uint64_t)stack > s->mem_used)
		return -EINVAL;
	s->mem_stack = (uint64_t)stack;
	return 0;
}

int goruntime_read(uint32_t pid, const struct goruntime_layout *l, uint64_t bias,
		   struct goruntime_sample *s)
{
	uint64_t allglen, sweep_min = 0;
	int64_t sched_free, ngsys, pfree, maxprocs;
	uint32_t numgc;
	int err;

	err = peek_u64(pid, l->allglen + bias, &allglen);
	err = err ?: peek_i32(pid, l->sched + bias + l->sched_gfree_n, &sched_free);
	err = err ?: peek_i32(pid, l->sched + bias + l->sched_ngsys, &ngsys);
	err = err ?: p_free(pid, l, bias, &pfree);
	err = err ?: peek_i32(pid, l->gomaxprocs + bias, &maxprocs);
	err = err ?: peek(pid, l->memstats + bias + l->ms_numgc, &numgc, sizeof(numgc));
	err = err ?: peek_u64(pid, l->memstats + bias + l->ms_pause_total, &s->pause_total_ns);
	err = err ?: peek_u64(pid, l->gcctl + bias + l->gc_heap_live, &s->heap_live);
	err = err ?: peek_u64(pid, l->gcctl + bias + l->gc_goal, &s->gc_goal);
	if (!err && l->has_sweep_min)
		err = peek_u64(pid, l->gcctl + bias + l->gc_sweep_min, &sweep_min);
	if (err)
		return err;
	if (sched_free < 0 || ngsys < 0 || allglen > (1ull << 40) ||
	    (uint64_t)(sched_free + ngsys + pfree) > allglen || maxprocs < 1 ||
	    maxprocs > GORUNTIME_MAX_PROCS)
		return -EINVAL;
	s->goroutines = allglen - (uint64_t)(sched_free + ngsys + pfree);
	s->gomaxprocs = (uint64_t)maxprocs;
	s->gc_cycles = numgc;
	if (sweep_min > s->gc_goal) /* heapGoal() keeps a minimum sweep distance */
		s->gc_goal = sweep_min;
	s->has_mem = l->has_mem && read_mem(pid, l, bias, s) == 0;
	return 0;
}
