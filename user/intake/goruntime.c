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
};

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
	return 0;
}
