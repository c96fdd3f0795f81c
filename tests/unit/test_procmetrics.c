// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_procmetrics.c - unit tests for the process.* metrics
 * (user/signals/procmetrics.c) on a fake /proc tree: the stat line is
 * parsed after the last ')', values are summed per service, the CPU
 * counter adds only what a process used since the last round (all of it
 * for a new process or a reused pid), never goes back, and a service with
 * no process left drops to 0. Go processes: the layout comes from the
 * agent's function (asked again while it says -EAGAIN, once otherwise),
 * go.memory.used is split by go.memory.type and go.memory.allocated adds
 * what a process allocated since the last round.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "metrics.h"
#include "procmetrics.h"
#include "prom.h"
#include "promtext.h"

static char root[64];

static void put_proc(uint32_t pid, unsigned long long ut, unsigned long long st, int threads,
		     unsigned long long start, unsigned long long rss_pages, int nfds)
{
	char path[128], cmd[160];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%u", root, pid);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%u", root, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	for (int i = 0; i < nfds; i++) {
		snprintf(path, sizeof(path), "%s/%u/fd/%d", root, pid, i);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	f = fopen(path, "w");
	assert_non_null(f);
	/* a command name with ") " in it: fields count from the last ')' */
	fprintf(f,
		"%u (a) b) S 1 1 1 0 -1 4194304 100 0 0 0 %llu %llu 0 0 20 0 %d 0 %llu 1000 "
		"%llu 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		pid, ut, st, threads, start, rss_pages);
	fclose(f);
}

static void rm_proc(uint32_t pid)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%u", root, pid);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/redtap-pm-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static char *render(struct metric_registry *r)
{
	return promtext(r, PROM_FMT_TEXT);
}

static void expect(struct metric_registry *r, const char *line)
{
	char *text = render(r);

	if (!has_line(text, line))
		fail_msg("missing \"%s\" in:\n%s", line, text);
	free(text);
}

/* The sample test_read()'s process 100 gives, with fds as the reader counts them. */
static void expect_sample(const struct procmetrics_sample *s, uint64_t fds)
{
	assert_int_equal(s->utime, 250);
	assert_int_equal(s->stime, 50);
	assert_int_equal(s->threads, 7);
	assert_int_equal(s->start, 12345);
	assert_int_equal(s->rss_bytes, 10 * sysconf(_SC_PAGESIZE));
	assert_int_equal(s->fds, fds);
}

static void test_read(void **state)
{
	struct procmetrics_sample s;

	(void)state;
	put_proc(100, 250, 50, 7, 12345, 10, 3);
	assert_int_equal(procmetrics_read(root, 100, &s), 0);
	expect_sample(&s, 3);
	assert_int_equal(procmetrics_read(root, 101, &s), -ENOENT);
	/* the stat line alone: the same fields, no fd count */
	memset(&s, 0xff, sizeof(s));
	assert_int_equal(procmetrics_read_stat(root, 100, &s), 0);
	expect_sample(&s, 0);
	assert_int_equal(procmetrics_read_stat(root, 101, &s), -ENOENT);
}

static void test_read_garbage(void **state)
{
	struct procmetrics_sample s;
	char path[128];
	FILE *f;

	(void)state;
	put_proc(102, 1, 1, 1, 1, 1, 0);
	snprintf(path, sizeof(path), "%s/102/stat", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("102 (no closing paren S 1 2 3", f);
	fclose(f);
	assert_int_equal(procmetrics_read(root, 102, &s), -EINVAL);
	f = fopen(path, "w");
	fputs("102 (x) S 1 2", f); /* too short */
	fclose(f);
	assert_int_equal(procmetrics_read(root, 102, &s), -EINVAL);
	rm_proc(102);
}

static void test_per_service(void **state)
{
	struct metric_registry *r = metric_registry_new();
	struct procmetrics *pm = procmetrics_new(r, 100, root);
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char line[160];

	(void)state;
	assert_non_null(pm);
	assert_int_equal(tck, 100); /* the lines below are written for USER_HZ 100 */
	put_proc(200, 300, 100, 4, 1000, 100, 2);
	put_proc(201, 100, 0, 2, 1001, 50, 5);
	put_proc(300, 50, 10, 1, 1002, 1, 1);
	procmetrics_begin(pm);
	procmetrics_add(pm, 200, "shop");
	procmetrics_add(pm, 201, "shop");
	procmetrics_add(pm, 300, "cart");
	procmetrics_add(pm, 999, "gone"); /* no such process: no series */
	procmetrics_end(pm);
	expect(r, "process_cpu_time_seconds_total{service_name=\"shop\",cpu_mode=\"user\"} 4");
	expect(r, "process_cpu_time_seconds_total{service_name=\"shop\",cpu_mode=\"system\"} 1");
	snprintf(line, sizeof(line), "process_memory_usage_bytes{service_name=\"shop\"} %ld",
		 150 * page);
	expect(r, line);
	expect(r, "process_threads{service_name=\"shop\"} 6");
	expect(r, "process_unix_file_descriptors{service_name=\"shop\"} 7");
	expect(r, "process_threads{service_name=\"cart\"} 1");

	/* 200 used 1 s more; 201 exited; the counter keeps what it had */
	put_proc(200, 400, 100, 4, 1000, 100, 2);
	rm_proc(201);
	/* 300's pid now names another process (new start time): all of it counts */
	put_proc(300, 50, 0, 1, 2000, 1, 1);
	procmetrics_begin(pm);
	procmetrics_add(pm, 200, "shop");
	procmetrics_add(pm, 300, "cart");
	procmetrics_end(pm);
	expect(r, "process_cpu_time_seconds_total{service_name=\"shop\",cpu_mode=\"user\"} 5");
	expect(r, "process_cpu_time_seconds_total{service_name=\"cart\",cpu_mode=\"user\"} 1");
	expect(r, "process_threads{service_name=\"shop\"} 4");

	/* times that go back (a lie) add nothing */
	put_proc(200, 10, 10, 4, 1000, 100, 2);
	procmetrics_begin(pm);
	procmetrics_add(pm, 200, "shop");
	procmetrics_end(pm);
	expect(r, "process_cpu_time_seconds_total{service_name=\"shop\",cpu_mode=\"user\"} 5");
	/* cart has no process left: 0 */
	expect(r, "process_threads{service_name=\"cart\"} 0");
	expect(r, "process_memory_usage_bytes{service_name=\"cart\"} 0");
	procmetrics_free(pm);
	metric_registry_free(r);
	rm_proc(200);
	rm_proc(300);
}

/* The runtime globals of a Go program, faked in this process's memory. */
static struct {
	uint64_t allglen, allp[3], sched[2], pause_total, total_alloc, mapped_ready;
	int64_t in_stacks[3];
	uint32_t numgc;
	int32_t gomaxprocs;
} rt;
static int go_calls;

static int fake_go(void *ctx, uint32_t pid, struct goruntime_layout *l, bool *pie)
{
	const size_t at = offsetof(typeof(rt), allglen);

	(void)ctx;
	if (pid != (uint32_t)getpid())
		return -ENOENT; /* a Go program without symbols */
	if (go_calls++ == 0)
		return -EAGAIN; /* not read yet */
	memset(l, 0, sizeof(*l));
	*pie = false;
	/* every global is rt; each offset names its member */
	l->allglen = l->allp = l->sched = l->memstats = l->gcctl = l->gomaxprocs =
	    (uintptr_t)&rt + at;
	l->allp = (uintptr_t)rt.allp;
	l->gomaxprocs = (uintptr_t)&rt.gomaxprocs;
	l->sched_gfree_n = l->sched_ngsys = offsetof(typeof(rt), sched) - at;
	l->ms_numgc = offsetof(typeof(rt), numgc) - at;
	l->ms_pause_total = offsetof(typeof(rt), pause_total) - at;
	l->gc_heap_live = l->gc_goal = offsetof(typeof(rt), total_alloc) - at;
	l->gc_total_alloc = offsetof(typeof(rt), total_alloc) - at;
	l->gc_mapped_ready = offsetof(typeof(rt), mapped_ready) - at;
	l->ms_heap_stats = offsetof(typeof(rt), in_stacks) - at;
	l->hs_stride = sizeof(int64_t);
	l->hs_in_stacks = 0;
	l->has_mem = true;
	return 0;
}

static void go_round(struct procmetrics *pm)
{
	procmetrics_begin(pm);
	procmetrics_add(pm, (uint32_t)getpid(), "gosvc");
	procmetrics_add(pm, 1, "init");
	procmetrics_end(pm);
}

static void test_go(void **state)
{
	struct metric_registry *r = metric_registry_new();
	struct procmetrics *pm = procmetrics_new(r, 100, NULL); /* the real /proc */

	(void)state;
	assert_non_null(pm);
	rt.allglen = 20;
	rt.allp[1] = 0; /* no Ps */
	rt.gomaxprocs = 2;
	rt.numgc = 3;
	rt.total_alloc = 1000000;
	rt.mapped_ready = 8000000;
	rt.in_stacks[0] = 700000;
	rt.in_stacks[1] = -300000;
	rt.in_stacks[2] = 100000;
	procmetrics_set_go(pm, fake_go, NULL);
	go_round(pm); /* -EAGAIN: nothing yet, asked again */
	expect(r, "redtap_go_runtime_unread_total{reason=\"no_symbols\"} 1");
	go_round(pm);
	expect(r, "go_memory_used_bytes{service_name=\"gosvc\",go_memory_type=\"stack\"} 500000");
	expect(r, "go_memory_used_bytes{service_name=\"gosvc\",go_memory_type=\"other\"} 7500000");
	expect(r, "go_memory_allocated_bytes_total{service_name=\"gosvc\"} 1000000");
	expect(r, "go_goroutines{service_name=\"gosvc\"} 20");
	rt.total_alloc += 4096;
	rt.mapped_ready += 65536;
	go_round(pm);
	expect(r, "go_memory_allocated_bytes_total{service_name=\"gosvc\"} 1004096");
	expect(r, "go_memory_used_bytes{service_name=\"gosvc\",go_memory_type=\"other\"} 7565536");
	/* decided once: the function is not asked again, pid 1 not counted twice */
	assert_int_equal(go_calls, 2);
	expect(r, "redtap_go_runtime_unread_total{reason=\"no_symbols\"} 1");
	procmetrics_free(pm);
	metric_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_read_garbage),
	    cmocka_unit_test(test_per_service),
	    cmocka_unit_test(test_go),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
