/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * procs.h - which processes redtap instruments, and their service names.
 *
 * API: with no selector (pid, executable glob, listening port) every
 * process is instrumented and procs_filtering() is false. Otherwise
 * procs_scan() walks /proc and reports each process entering or leaving
 * the selection through the callback (the caller updates the kernel map);
 * procs_exec() re-evaluates one process after exec(2). The agent itself is
 * never selected. procs_service_name() returns OTEL_SERVICE_NAME or
 * service.name from OTEL_RESOURCE_ATTRIBUTES in /proc/PID/environ, else the
 * executable's name; it is cached until procs_exit(). Not thread-safe.
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

typedef void (*procs_select_fn)(void *ctx, uint32_t tgid, bool on);

/* sel is copied. NULL and errno on failure. */
struct procs *procs_new(const struct procs_selectors *sel, uint32_t self_tgid);
void procs_free(struct procs *p); /* NULL ok */

bool procs_filtering(const struct procs *p);
void procs_scan(struct procs *p, procs_select_fn fn, void *ctx);
/* comm (may be NULL) is the task name after exec: the service name used
 * when the process is gone before /proc could be read. */
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

/* Pure helper, exposed for tests: finds the service name in an environ
 * block (NUL-separated KEY=VALUE strings of len bytes). Returns false when
 * neither OTEL_SERVICE_NAME nor service.name in OTEL_RESOURCE_ATTRIBUTES is
 * set. */
bool procs_service_from_environ(const char *env, size_t len, char *out, size_t outlen);

#endif /* REDTAP_PROCS_H */
