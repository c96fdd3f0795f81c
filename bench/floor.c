// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.c - loads bpf/floor.bpf.c (empty programs on the agent's
 * tracepoints) and keeps them attached until SIGINT or SIGTERM. The
 * benchmarks (bench/run.sh) run a workload under it to measure the floor
 * cost of the design. The log-file opens (RT_LOGFILE_PROGS) stay unloaded,
 * as the agent leaves them without logs.files. Prints "floor: ready <n> programs" on stdout once
 * everything is attached; exits 1 with one line on stderr on failure.
 *
 * Usage: floor [-v]   (-v shows libbpf's messages)
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "tracefs.h"
#include "tracepoints.h"

static volatile sig_atomic_t stop_requested;
static int verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose && level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int count_progs(const struct floor_bpf *skel)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, skel->obj) n += bpf_program__autoload(p);
	return n;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct floor_bpf *skel;
	sigset_t block, old;
	char msg[256];
	int err;

	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	libbpf_set_print(libbpf_print);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Block the signals until we wait, so that none is lost in between. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* tracepoint attachment reads event ids from tracefs */
	if (tracefs_ensure(msg, sizeof(msg)) < 0) {
		fprintf(stderr, "floor: %s\n", msg);
		return 1;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the empty programs: %s\n", strerror(errno));
		return 1;
	}
	/* The agent loads its log-file opens only with logs.files set. */
#define FLOOR_UNLOAD(sec, name) bpf_program__set_autoload(skel->progs.floor_##name, false);
	RT_LOGFILE_PROGS(FLOOR_UNLOAD)
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: cannot load the empty programs: %s\n", strerror(-err));
		goto out_destroy;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(-err));
		goto out_destroy;
	}
	printf("floor: ready %d programs\n", count_progs(skel));
	fflush(stdout);
	while (!stop_requested)
		sigsuspend(&old);
out_destroy:
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
