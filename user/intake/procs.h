/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * procs.h - which processes redtap instruments, and their service names.
 *
 * API: with no selector (pid, executable glob, listening port) every
 * process is instrumented and procs_filtering() is false. Otherwise
 * procs_scan() walks /proc once, at start-up, and reports each process
 * entering the selection through the callback (the caller updates the
 * kernel map); from then on procs_record() takes the kernel's process
 * records (exec, fork, listen, exit; include/redtap/event.h) and keeps the
 * selection without walking /proc again. The processes the kernel holds
 * "pending" (it reports their forks) are handed to the procs_decided_fn
 * once decided. The agent itself is never selected. procs_service_name() returns OTEL_SERVICE_NAME
 * or service.name from OTEL_RESOURCE_ATTRIBUTES in /proc/PID/environ, else for a process in a
 * container its container name, else its pod's workload name (podmeta.h), else the executable's
 * name; it is cached until procs_exit(). Not thread-safe.
 */
#ifndef REDTAP_PROCS_H
#define REDTAP_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procs;

struct procs_selectors {
	const pid_t *pids;
	size_t npids;
	char *const *exe_globs; /* fnmatch(3); a glob without '/' matches the base name */
	size_t nexe_globs;
	const uint16_t *ports; /* TCP ports the process listens on */
	size_t nports;
};

/* Called when a process enters (on) or leaves the selection. */
typedef void (*procs_select_fn)(void *ctx, uint32_t tgid, bool on);
/* Called once the selection of a process named by an exec, fork or listen
 * record is decided (after any procs_select_fn call for it). */
typedef void (*procs_decided_fn)(void *ctx, uint32_t tgid);

/* sel is copied. NULL and errno on failure. */
struct procs *procs_new(const struct procs_selectors *sel, uint32_t self_tgid);
void procs_free(struct procs *p); /* NULL ok */

bool procs_filtering(const struct procs *p);
void procs_set_decided(struct procs *p, procs_decided_fn fn, void *ctx);
/* The start-up walk of /proc: pids, executables, listening ports, and the
 * children of selected processes. */
void procs_scan(struct procs *p, procs_select_fn fn, void *ctx);

/* One RT_EV_PROC_EXEC, RT_EV_PROC_FORK, RT_EV_LISTEN or RT_EV_PROC_EXIT
 * record (of len bytes; other types are ignored), in record order. The
 * start time in the records tells a process from an earlier one with the
 * same pid: an exit never removes a newer process, an exec or fork of a
 * new process replaces a stale entry (counted by procs_stale()). On exit,
 * close the process's connections first: names stay until then. */
void procs_record(struct procs *p, const void *rec, size_t len, procs_select_fn fn, void *ctx);

/* Without start times: comm (may be NULL) is the task name after exec,
 * the service name used when the process is gone before /proc could be
 * read. procs_exit() forgets tgid whatever process it is. */
void procs_exec(struct procs *p, uint32_t tgid, const char *comm, procs_select_fn fn, void *ctx);
void procs_exit(struct procs *p, uint32_t tgid);

/* Never NULL; the string lives until procs_exit(tgid) or procs_free(). */
const char *procs_service_name(struct procs *p, uint32_t tgid);

/* What a process said of itself (a shim hello): its OTEL_SERVICE_NAME
 * (may be "") and comm. Used when /proc cannot tell any more: the process
 * is gone or belongs to another user. */
void procs_hint(struct procs *p, uint32_t tgid, const char *service, const char *comm);

/* The executable's base name ("" when unknown); same lifetime. */
const char *procs_exe_name(struct procs *p, uint32_t tgid);

/* Processes selected (filtering) or seen with traffic (not filtering). */
size_t procs_instrumented(const struct procs *p);

/* Calls fn for each process procs_instrumented() counts (for process
 * metrics), at most max of them; fn must not change the table. */
typedef void (*procs_each_fn)(void *ctx, uint32_t tgid);
void procs_for_each(const struct procs *p, size_t max, procs_each_fn fn, void *ctx);

/* Processes the table had no room for (selected ones are captured all the
 * same, under "unknown_service"), and entries replaced because their pid
 * now names another process. Running totals, for self-metrics. */
uint64_t procs_overflows(const struct procs *p);
uint64_t procs_stale(const struct procs *p);

/* Pure helper, exposed for tests: finds the service name in an environ
 * block (NUL-separated KEY=VALUE strings of len bytes). Returns false when
 * neither OTEL_SERVICE_NAME nor service.name in OTEL_RESOURCE_ATTRIBUTES is
 * set. */
bool procs_service_from_environ(const char *env, size_t len, char *out, size_t outlen);

#endif /* REDTAP_PROCS_H */
