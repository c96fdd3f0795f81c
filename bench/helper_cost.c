// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * helper_cost.c - what the BPF helpers of the data programs cost when they
 * run hot: for each mode of bench/helper_cost.bpf.c (nothing, the clock, a
 * 200-byte kernel read, a hash hit, a ring-buffer output, a reserve and
 * submit, a perf-buffer output) it loads the program, calls getppid() N
 * times and prints the program's ns per run (kernel.bpf_stats_enabled,
 * turned on for the run and restored) and the syscall's wall ns per call.
 * A thread drains the ring and the perf buffer as the daemon would.
 *
 *   sudo build/bench/helper_cost [N]      (N calls per mode, default 1000000)
 *
 * In the agent the same helpers run cold, between the network stack's own
 * work, and cost more: BENCHMARKS.md ("What an exit program's 650 ns are
 * made of") compares both. Only this process's calls run the helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "helper_cost.skel.h"
#include "tracefs.h"

static const char *const mode_names[] = {
    "empty", "ktime_get_ns", "probe_read_kernel 200 B", "hash hit",
    "ringbuf_output 200 B", "ringbuf reserve+submit 200 B", "perf_event_output 200 B",
};

static volatile int stop;

static int on_rb(void *ctx, void *data, size_t n)
{
	(void)ctx, (void)data, (void)n;
	return 0;
}

static void on_pb(void *ctx, int cpu, void *data, __u32 n)
{
	(void)ctx, (void)cpu, (void)data, (void)n;
}

struct drains {
	struct ring_buffer *rb;
	struct perf_buffer *pb;
};

static void *drain(void *arg)
{
	struct drains *d = arg;

	while (!stop) {
		ring_buffer__poll(d->rb, 5);
		perf_buffer__poll(d->pb, 5);
	}
	return NULL;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int run_mode(unsigned mode, long n)
{
	struct helper_cost_bpf *s = helper_cost_bpf__open();
	struct drains d = {0};
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	pthread_t th;
	double t0, t1;
	int err;

	if (!s)
		return -errno;
	s->rodata->bench_tgid = (__u32)getpid();
	s->rodata->mode = mode;
	err = helper_cost_bpf__load(s);
	if (!err)
		err = helper_cost_bpf__attach(s);
	if (err)
		goto out;
	d.rb = ring_buffer__new(bpf_map__fd(s->maps.rb), on_rb, NULL, NULL);
	d.pb = perf_buffer__new(bpf_map__fd(s->maps.pb), 64, on_pb, NULL, NULL, NULL);
	if (!d.rb || !d.pb) {
		err = -errno;
		goto out;
	}
	stop = 0;
	if ((err = -pthread_create(&th, NULL, drain, &d)))
		goto out;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	t1 = now_ns();
	stop = 1;
	pthread_join(th, NULL);
	err = bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.hc_exit), &info, &len);
	if (!err)
		printf("| %s | %.0f | %.0f |\n", mode_names[mode],
		       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0, (t1 - t0) / n);
out:
	ring_buffer__free(d.rb);
	perf_buffer__free(d.pb);
	helper_cost_bpf__destroy(s);
	return err;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	int fd, err = 0;
	char old = '0', msg[256];

	if (n <= 0) {
		fprintf(stderr, "usage: %s [CALLS]\n", argv[0]);
		return 2;
	}
	if (tracefs_ensure(msg, sizeof(msg)) < 0) { /* attaching reads tracepoint ids */
		fprintf(stderr, "helper_cost: %s\n", msg);
		return 1;
	}
	fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDWR);
	if (fd < 0 || read(fd, &old, 1) != 1 || pwrite(fd, "1", 1, 0) != 1) {
		fprintf(stderr, "helper_cost: cannot enable kernel.bpf_stats_enabled (root?)\n");
		return 1;
	}
	printf("| mode | program ns per run | getppid() wall ns |\n|---|---:|---:|\n");
	for (unsigned m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]) && !err; m++)
		if ((err = run_mode(m, n)))
			fprintf(stderr, "helper_cost: %s: %s\n", mode_names[m], strerror(-err));
	if (pwrite(fd, &old, 1, 0) != 1)
		fprintf(stderr, "helper_cost: could not restore kernel.bpf_stats_enabled\n");
	close(fd);
	return err ? 1 : 0;
}
