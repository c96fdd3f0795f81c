// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syscall_cost.c - what a syscall costs the calling thread, in four
 * loops pinned to CPU 0: getppid() (a syscall no program of ours traces),
 * a 1-byte write + read on a pipe, and the same on a unix socketpair (two
 * traced syscalls each; neither is a TCP socket, so the agent's programs
 * record nothing: a pipe stops at its file's f_op, a unix socket at the
 * negative cache), and an HTTP/1.1 exchange over a TCP
 * connection on 127.0.0.1 (the client's write, the server's read and
 * write, the client's read: what the agent records, four traced syscalls
 * an iteration, as nginx's and wrk's per request). Prints one line:
 *
 *   getppid NS pipe NS unix NS tcp NS        (wall ns per loop iteration)
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
#include <netinet/in.h>
#include <netinet/tcp.h>
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

/* A connected TCP pair on 127.0.0.1 (fds[0] the client, fds[1] the server
 * side), without Nagle's delay; 0, or -1. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	fds[0] = fds[1] = -1;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		goto fail;
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof(a)))
		goto fail;
	fds[1] = accept(l, NULL, NULL);
	if (fds[1] < 0)
		goto fail;
	close(l);
	setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
fail:
	if (l >= 0)
		close(l);
	return -1;
}

/* Reads exactly n bytes from fd; 0, or -1. */
static int read_full(int fd, char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* ns per HTTP/1.1 exchange over a TCP pair (client fds[0], server fds[1]). */
static double http_loop(const int fds[2], long n)
{
	static const char req[] = "GET /api/x HTTP/1.1\r\nHost: bench\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
	char buf[sizeof(resp)];
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		if (write(fds[0], req, sizeof(req) - 1) != sizeof(req) - 1 ||
		    read_full(fds[1], buf, sizeof(req) - 1) ||
		    write(fds[1], resp, sizeof(resp) - 1) != sizeof(resp) - 1 ||
		    read_full(fds[0], buf, sizeof(resp) - 1))
			return -1;
	return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	struct syscall_cost_bpf *skel = NULL;
	const char *mode = argc > 1 ? argv[1] : "none";
	long n = argc > 2 ? atol(argv[2]) : 200000;
	int pipefd[2], unixfd[2], tcpfd[2], err;
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
	    socketpair(AF_UNIX, SOCK_STREAM, 0, unixfd) || tcp_pair(tcpfd)) {
		fprintf(stderr, "syscall_cost: set-up failed: %s\n", strerror(errno));
		syscall_cost_bpf__destroy(skel);
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	getppid_ns = (now_ns() - t0) / n;
	printf("getppid %.0f pipe %.0f unix %.0f tcp %.0f\n", getppid_ns, pair_loop(pipefd, n),
	       pair_loop(unixfd, n), http_loop(tcpfd, n));
	syscall_cost_bpf__destroy(skel);
	return 0;
}
