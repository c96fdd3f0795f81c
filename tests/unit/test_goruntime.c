// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_goruntime.c - unit tests for user/intake/goruntime.c: the runtime
 * figures are computed from fake runtime globals laid out in this test's
 * own memory (process_vm_readv on itself), as NumGoroutine counts them;
 * implausible values and unreadable addresses are refused, never used;
 * the memory figures (used, stacks, allocated) come from the gcController
 * totals and the three heapStats deltas, and a stack sum above the total
 * drops only them;
 * the layout of a real Go binary (built offline when go is installed) is
 * found from its DWARF, and a stripped one has none.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "goelf.h"
#include "goruntime.h"

struct fake_p {
	uint64_t pad[4];
	int32_t gfree_n;
};

static uint64_t allglen;
static uint64_t allp_slice[3];
static struct fake_p ps[3];
static struct fake_p *allp_arr[3];
static struct {
	uint64_t pad;
	int32_t ngsys;
	int32_t gfree_n;
} sched;
struct fake_delta {
	int64_t committed, released, in_heap, in_stacks, pad[3];
};

static struct {
	struct fake_delta hs[3];
	uint32_t gen;
	uint64_t pause_total;
	uint32_t numgc;
} memstats;
static struct {
	uint64_t goal, sweep_min, heap_live, total_alloc, mapped_ready;
} gcctl;
static int32_t gomaxprocs;

static void fake(struct goruntime_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->allglen = (uintptr_t)&allglen;
	l->allp = (uintptr_t)allp_slice;
	l->sched = (uintptr_t)&sched;
	l->memstats = (uintptr_t)&memstats;
	l->gcctl = (uintptr_t)&gcctl;
	l->gomaxprocs = (uintptr_t)&gomaxprocs;
	l->sched_ngsys = offsetof(typeof(sched), ngsys);
	l->sched_gfree_n = offsetof(typeof(sched), gfree_n);
	l->p_gfree_n = offsetof(struct fake_p, gfree_n);
	l->ms_numgc = offsetof(typeof(memstats), numgc);
	l->ms_pause_total = offsetof(typeof(memstats), pause_total);
	l->gc_heap_live = offsetof(typeof(gcctl), heap_live);
	l->gc_goal = offsetof(typeof(gcctl), goal);
	l->gc_sweep_min = offsetof(typeof(gcctl), sweep_min);
	l->has_sweep_min = true;
	l->gc_total_alloc = offsetof(typeof(gcctl), total_alloc);
	l->gc_mapped_ready = offsetof(typeof(gcctl), mapped_ready);
	l->ms_heap_stats = offsetof(typeof(memstats), hs);
	l->hs_stride = sizeof(struct fake_delta);
	l->hs_in_stacks = offsetof(struct fake_delta, in_stacks);
	l->has_mem = true;
	allglen = 120;
	for (int i = 0; i < 3; i++) {
		allp_arr[i] = &ps[i];
		ps[i].gfree_n = i; /* 0 + 1 + 2 */
	}
	allp_slice[0] = (uintptr_t)allp_arr;
	allp_slice[1] = 3;
	allp_slice[2] = 3;
	sched.ngsys = 4;
	sched.gfree_n = 10;
	memstats.numgc = 7;
	memstats.pause_total = 123456;
	gcctl.goal = 8 << 20;
	gcctl.sweep_min = 1 << 20;
	gcctl.heap_live = 5 << 20;
	gomaxprocs = 3;
	gcctl.total_alloc = 300 << 20;
	gcctl.mapped_ready = 90 << 20;
	/* deltas: the sum counts, one of them may be negative */
	memstats.hs[0].in_stacks = 3 << 20;
	memstats.hs[1].in_stacks = -(1 << 20);
	memstats.hs[2].in_stacks = 1 << 19;
	memstats.hs[1].in_heap = 50 << 20; /* a neighbour, not read */
}

static void test_read_self(void **state)
{
	struct goruntime_layout l;
	struct goruntime_sample s;

	(void)state;
	fake(&l);
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	assert_int_equal(s.goroutines, 120 - 10 - 4 - 3);
	assert_int_equal(s.gomaxprocs, 3);
	assert_int_equal(s.gc_cycles, 7);
	assert_int_equal(s.pause_total_ns, 123456);
	assert_int_equal(s.heap_live, 5 << 20);
	assert_int_equal(s.gc_goal, 8 << 20);
	assert_true(s.has_mem);
	assert_int_equal(s.mem_used, 90 << 20);
	assert_int_equal(s.allocated, 300 << 20);
	assert_int_equal(s.mem_stack, (2 << 20) + (1 << 19));
	/* the goal keeps the minimum sweep distance, as heapGoal() does */
	gcctl.sweep_min = 9 << 20;
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	assert_int_equal(s.gc_goal, 9 << 20);
	/* a bias moves every global */
	l.allglen -= 4096;
	l.allp -= 4096;
	l.sched -= 4096;
	l.memstats -= 4096;
	l.gcctl -= 4096;
	l.gomaxprocs -= 4096;
	assert_int_equal(goruntime_read(getpid(), &l, 4096, &s), 0);
	assert_int_equal(s.goroutines, 103);
	assert_int_equal(s.mem_used, 90 << 20);
	/* a binary without the memory members: the rest is read */
	fake(&l);
	l.has_mem = false;
	l.gc_mapped_ready = 1u << 30; /* never read */
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	assert_false(s.has_mem);
	assert_int_equal(s.goroutines, 103);
}

static void test_lies(void **state)
{
	struct goruntime_layout l;
	struct goruntime_sample s;

	(void)state;
	fake(&l);
	sched.gfree_n = 1000; /* more free than all */
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), -EINVAL);
	fake(&l);
	sched.gfree_n = -1;
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), -EINVAL);
	fake(&l);
	allp_slice[1] = 1u << 30; /* a P array that would take forever */
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), -EINVAL);
	fake(&l);
	gomaxprocs = 0;
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), -EINVAL);
	fake(&l);
	allp_arr[1] = (struct fake_p *)16; /* unmapped */
	assert_int_not_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	fake(&l);
	l.memstats = 8; /* unmapped */
	assert_int_not_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	/* stacks above the total, or a negative sum: no memory figures, the
	 * rest stands */
	fake(&l);
	memstats.hs[2].in_stacks = 100 << 20;
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	assert_false(s.has_mem);
	assert_int_equal(s.goroutines, 103);
	fake(&l);
	memstats.hs[1].in_stacks = -(8 << 20);
	assert_int_equal(goruntime_read(getpid(), &l, 0, &s), 0);
	assert_false(s.has_mem);
	/* a process that is gone */
	fake(&l);
	assert_int_not_equal(goruntime_read(0x3fffffff, &l, 0, &s), 0);
}

static void test_layout_of_go_binary(void **state)
{
	char dir[] = "/tmp/redtap-gort-XXXXXX", cmd[512], path[128];
	struct goruntime_layout l;
	struct goelf *g;
	FILE *f;

	(void)state;
	if (system("command -v go >/dev/null 2>&1")) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.go", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("package main\nimport \"runtime\"\nfunc main() { println(runtime.NumGoroutine()) }\n",
	      f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= "
		 "GOCACHE=/tmp/redtap-gocache CGO_ENABLED=0 go build -o full main.go && "
		 "GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE=/tmp/redtap-gocache "
		 "CGO_ENABLED=0 go build -ldflags '-s -w' -o stripped main.go",
		 dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/full", dir);
	g = goelf_open(path);
	assert_non_null(g);
	assert_int_equal(goruntime_layout(g, &l), 0);
	assert_false(l.from_table);
	assert_int_not_equal(l.allglen, 0);
	assert_int_not_equal(l.ms_numgc, 0);
	assert_int_not_equal(l.p_gfree_n, 0);
	if (goelf_info(g)->major == 1 && goelf_info(g)->minor == 19) {
		/* the version table says what DWARF says */
		assert_int_equal(l.ms_numgc, 7704);
		assert_int_equal(l.p_gfree_n, 2472);
		assert_int_equal(l.sched_gfree_n, 176);
		assert_int_equal(l.gc_heap_live, 136);
		assert_true(l.has_mem);
		assert_int_equal(l.gc_total_alloc, 328);
		assert_int_equal(l.gc_mapped_ready, 344);
		assert_int_equal(l.ms_heap_stats, 0);
		assert_int_equal(l.hs_stride, 1176);
		assert_int_equal(l.hs_in_stacks, 24);
	}
	goelf_free(g);
	snprintf(path, sizeof(path), "%s/stripped", dir);
	g = goelf_open(path);
	assert_non_null(g);
	assert_int_equal(goruntime_layout(g, &l), -ENOENT);
	goelf_free(g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_self),
	    cmocka_unit_test(test_lies),
	    cmocka_unit_test(test_layout_of_go_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
