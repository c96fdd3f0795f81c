// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.c - loads bench/floor.bpf.c (empty programs on the agent's
 * tracepoints) and keeps them attached until SIGINT or SIGTERM. The
 * benchmarks (bench/run.sh) run a workload under it to measure the floor
 * cost of the design. The log-file opens (RT_LOGFILE_PROGS) stay unloaded,
 * as the agent leaves them without logs.files. Prints "floor: ready <n>
 * programs" on stdout once everything is attached; exits 1 with one line
 * on stderr on failure.
 *
 * With --bound, loads bench/bound.bpf.c instead: the same attach points,
 * where each data syscall's exit does the least any design must (clock: a
 * clock read; lookup: a connection look-up and a clock read; record: also
 * one 32-byte ring record, which this loader drains every few milliseconds
 * and counts, printing "floor: <n> records" at exit).
 *
 * Usage: floor [-v] [--bound clock|lookup|record]   (-v shows libbpf's messages)
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bound.skel.h"
#include "floor.skel.h"
#include "tracefs.h"
#include "tracepoints.h"

/* The floor, or the level of bound.bpf.c (its enum bound_level). */
enum mode { MODE_FLOOR, MODE_CLOCK, MODE_LOOKUP, MODE_RECORD };

static volatile sig_atomic_t stop_requested;
static int verbose;
static unsigned long long records;

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

static int count_progs(struct bpf_object *obj)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, obj) n += bpf_program__autoload(p);
	return n;
}

static int parse_args(int argc, char **argv, enum mode *mode)
{
	*mode = MODE_FLOOR;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "--bound") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "clock"))
				*mode = MODE_CLOCK;
			else if (!strcmp(argv[i], "lookup"))
				*mode = MODE_LOOKUP;
			else if (!strcmp(argv[i], "record"))
				*mode = MODE_RECORD;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	records++;
	return 0;
}

/* Drains the bound's rings (ring0, ring1... as many as it has) every 5 ms
 * until a signal asks to stop. */
static int drain_rings(struct bpf_object *obj, const sigset_t *old)
{
	const struct timespec tick = {.tv_nsec = 5000000};
	struct ring_buffer *rb = NULL;
	struct bpf_map *m;
	char name[16];

	for (int i = 0;; i++) {
		int fd;

		snprintf(name, sizeof(name), "ring%d", i);
		m = bpf_object__find_map_by_name(obj, name);
		if (!m)
			break;
		fd = bpf_map__fd(m);
		if (!rb)
			rb = ring_buffer__new(fd, on_record, NULL, NULL);
		else if (ring_buffer__add(rb, fd, on_record, NULL) < 0)
			goto fail;
		if (!rb)
			goto fail;
	}
	if (!rb) {
		fprintf(stderr, "floor: the programs have no ring\n");
		return -1;
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	while (!stop_requested) {
		ring_buffer__consume(rb);
		nanosleep(&tick, NULL);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	printf("floor: %llu records\n", records);
	return 0;
fail:
	fprintf(stderr, "floor: cannot read the rings: %s\n", strerror(errno));
	ring_buffer__free(rb);
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct bpf_object_skeleton *s;
	struct bound_bpf *bound = NULL;
	struct floor_bpf *floor = NULL;
	struct bpf_object *obj;
	sigset_t block, old;
	enum mode mode;
	char msg[256];
	int err;

	if (parse_args(argc, argv, &mode)) {
		fprintf(stderr, "usage: floor [-v] [--bound clock|lookup|record]\n");
		return 2;
	}
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
	if (mode == MODE_FLOOR) {
		floor = floor_bpf__open();
		obj = floor ? floor->obj : NULL;
		s = floor ? floor->skeleton : NULL;
	} else {
		bound = bound_bpf__open();
		obj = bound ? bound->obj : NULL;
		s = bound ? bound->skeleton : NULL;
		if (bound)
			bound->rodata->level = mode;
	}
	if (!obj) {
		fprintf(stderr, "floor: cannot open the programs: %s\n", strerror(errno));
		return 1;
	}
	/* The agent loads its log-file opens only with logs.files set. */
#define FLOOR_UNLOAD(sec, name)                                                                    \
	bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "floor_" #name), false);
	RT_LOGFILE_PROGS(FLOOR_UNLOAD)
	err = bpf_object__load_skeleton(s);
	if (err) {
		fprintf(stderr, "floor: cannot load the programs: %s\n", strerror(-err));
		goto out_destroy;
	}
	err = bpf_object__attach_skeleton(s);
	if (err) {
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(-err));
		goto out_destroy;
	}
	printf("floor: ready %d programs\n", count_progs(obj));
	fflush(stdout);
	if (mode == MODE_RECORD) {
		err = drain_rings(obj, &old);
	} else {
		while (!stop_requested)
			sigsuspend(&old);
	}
out_destroy:
	floor_bpf__destroy(floor);
	bound_bpf__destroy(bound);
	return err ? 1 : 0;
}
