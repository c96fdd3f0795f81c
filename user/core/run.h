/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * run.h - `redtap run -- PROGRAM ARGS...`: runs a program with the shim
 * (libredtap.so) in LD_PRELOAD, so its libpq and hiredis calls are timed.
 *
 * API: run_program() resolves argv[0] like execvp, refuses (with one clear
 * sentence on stderr) a target the dynamic loader would not preload into -
 * setuid, setgid or file capabilities, or statically linked (no PT_INTERP),
 * also behind a #! interpreter - then forks, prepends the shim to an
 * existing LD_PRELOAD in the child, forwards SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT sent to redtap (not the terminal's own, which reach the child
 * anyway) and waits. It returns the status redtap should exit with: the
 * child's exit code, 128 + signal if it was killed, 126 when it cannot be
 * wrapped or executed, 127 when it is not found.
 * run_check_target() is the refusal test alone; run_find_shim() finds the
 * installed shim next to the running binary.
 *
 * Thread-safety: run_program() installs signal handlers for its duration;
 * call it from the main thread of a process that does nothing else.
 */
#ifndef REDTAP_RUN_H
#define REDTAP_RUN_H

#include <stddef.h>

int run_program(const char *shim_path, char *const argv[]);

/* 0 if path can be wrapped; -EPERM (setuid, setgid, capabilities), -ENOEXEC
 * (statically linked) or -errno (cannot read it), with a sentence in why. */
int run_check_target(const char *path, char *why, size_t whylen);

/* Writes the shim's path into buf: $REDTAP_SHIM, else libredtap.so next to
 * /proc/self/exe or in ../lib/redtap/ from there. 0 or -ENOENT. */
int run_find_shim(char *buf, size_t len);

#endif /* REDTAP_RUN_H */
