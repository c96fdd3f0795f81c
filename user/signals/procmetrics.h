/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * procmetrics.h - OS process metrics of the instrumented processes, from
 * /proc: CPU time (user, system), resident memory, threads and open file
 * descriptors, under the conventions' process.* names (semconv.c) with the
 * service_name label.
 *
 * Series are per service, not per pid (pids would make unbounded series):
 * the gauges are sums over the service's processes read in the round, the
 * CPU counter adds each process's CPU time since it was last read (a new
 * process adds all it has used), so it never goes back when one exits.
 *
 * Go processes (with the real /proc) also get the go.* metrics of
 * goruntime.h, read from their memory each round: a few bounded
 * process_vm_readv calls a process; where to read comes from
 * procmetrics_set_go()'s function, decided once per process.
 * go.memory.used is split by go.memory.type (stack, other);
 * go.memory.allocated and the GC counters add each process's growth.
 *
 * API: one writer (the agent's sweep) calls procmetrics_begin(), then
 * procmetrics_add() per instrumented process (at most PROCMETRICS_MAX_PROCS
 * are read a round, the rest are counted by procmetrics_skipped()), then
 * procmetrics_end(), which sets the gauges (0 for a service none of whose
 * processes is left). Every read is bounded: one read of 1 KiB of
 * /proc/PID/stat and at most PROCMETRICS_MAX_FDS directory entries of
 * /proc/PID/fd. A process gone mid-read is skipped. Not thread-safe.
 */
#ifndef REDTAP_PROCMETRICS_H
#define REDTAP_PROCMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goruntime.h"
#include "metrics.h"

#define PROCMETRICS_MAX_PROCS	 1024
#define PROCMETRICS_MAX_SERVICES 256
#define PROCMETRICS_MAX_FDS	 (1u << 20)

struct procmetrics_sample {
	uint64_t start;	    /* start time, clock ticks (tells pid reuse) */
	uint64_t utime;	    /* clock ticks */
	uint64_t stime;	    /* clock ticks */
	uint64_t rss_bytes; /* resident set */
	uint64_t threads;   /* num_threads */
	uint64_t fds;	    /* entries of /proc/PID/fd, at most PROCMETRICS_MAX_FDS */
};

/* Reads one process under root ("/proc", or a fake tree in tests): 0, or
 * -errno (-ENOENT: gone, -EINVAL: a stat line it cannot parse). */
int procmetrics_read(const char *root, uint32_t pid, struct procmetrics_sample *out);
/* The same without walking /proc/PID/fd (fds 0): a directory read that
 * costs more than the rest, for a reader that needs no fd count. */
int procmetrics_read_stat(const char *root, uint32_t pid, struct procmetrics_sample *out);

struct procmetrics;

/* root is copied ("/proc" when NULL). NULL and errno on failure. */
struct procmetrics *procmetrics_new(struct metric_registry *r, size_t max_series, const char *root);
void procmetrics_free(struct procmetrics *pm); /* NULL ok */

/*
 * Where the Go runtime layout (goruntime.h) of process pid comes from: the
 * agent hands gotrack's (capture_go_runtime()), whose reader thread reads
 * executables, so the sweep never reads one. Returns 0 with *l and *pie
 * filled, -EAGAIN (not known yet: asked again next round), -ENOENT (Go, no
 * symbols) or -ENOTSUP (Go, offsets unknown), both counted in
 * redtap.go.runtime.unread, or another -errno (not Go, gone: no go.*
 * metrics for the process). Without one, no process gets go.* metrics.
 */
typedef int (*procmetrics_go_fn)(void *ctx, uint32_t pid, struct goruntime_layout *l, bool *pie);
void procmetrics_set_go(struct procmetrics *pm, procmetrics_go_fn fn, void *ctx);

void procmetrics_begin(struct procmetrics *pm);
/* service must be non-NULL; it is copied. */
void procmetrics_add(struct procmetrics *pm, uint32_t pid, const char *service);
void procmetrics_end(struct procmetrics *pm);

/* Running total of processes not read because a round was full. */
uint64_t procmetrics_skipped(const struct procmetrics *pm);

#endif /* REDTAP_PROCMETRICS_H */
