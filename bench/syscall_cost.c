// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscall_cost.c - what a syscall costs the calling thread, in three
 * loops pinned to CPU 0: getppid() (a syscall no program of ours traces),
 * a 1-byte write + read on a pipe, and the same on a unix socketpair (two
 * traced syscalls each; neither is a TCP socket, so the agent's programs
 * return at their first look-up). Prints one line:
 *
 *   getppid NS pipe NS unix NS        (wall ns per loop iteration)
 *
 * With "raw" or "btf" it first attaches bench/syscall_cost.bpf.c's program
 * on the raw tracepoint sys_exit (or its BTF form), so that the loops
 * measure that way of attaching; run the loops under build/bench/floor
 * for the per-syscall tracepoints. bench/syscall_cost.sh alternates the
 * variants and prints the medians.
 *
 *   sudo build/bench/syscall_cost [raw|btf] [N]   (N iterations, 200000)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "syscall_cost.skel.h"

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* ns per iteration of a 1-byte write and read through fds[1] -> fds[0]. */
static double pair_loop(const int fds[2], long n)
{
	double t0 = now_ns();
	char c = 'x';

	for (long i = 0; i < n; i++)
		if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
			return -1;
	return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	struct syscall_cost_bpf *skel = NULL;
	const char *mode = argc > 1 ? argv[1] : "none";
	long n = argc > 2 ? atol(argv[2]) : 200000;
	int pipefd[2], unixfd[2], err;
	cpu_set_t cpus;
	double t0, getppid_ns;

	if (n <= 0 || (strcmp(mode, "none") && strcmp(mode, "raw") && strcmp(mode, "btf"))) {
		fprintf(stderr, "usage: syscall_cost [none|raw|btf] [N]\n");
		return 2;
	}
	if (strcmp(mode, "none")) {
		skel = syscall_cost_bpf__open();
		if (!skel) {
			fprintf(stderr, "syscall_cost: cannot open the program: %s\n", strerror(errno));
			return 1;
		}
		bpf_program__set_autoload(mode[0] == 'r' ? skel->progs.btf_sys_exit
							 : skel->progs.raw_sys_exit,
					  false);
		err = syscall_cost_bpf__load(skel);
		if (!err)
			err = syscall_cost_bpf__attach(skel);
		if (err) {
			fprintf(stderr, "syscall_cost: cannot load or attach the %s program: %s\n", mode,
				strerror(-err));
			syscall_cost_bpf__destroy(skel);
			return 1;
		}
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) || pipe(pipefd) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, unixfd)) {
		fprintf(stderr, "syscall_cost: set-up failed: %s\n", strerror(errno));
		syscall_cost_bpf__destroy(skel);
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	getppid_ns = (now_ns() - t0) / n;
	printf("getppid %.0f pipe %.0f unix %.0f\n", getppid_ns, pair_loop(pipefd, n),
	       pair_loop(unixfd, n));
	syscall_cost_bpf__destroy(skel);
	return 0;
}
