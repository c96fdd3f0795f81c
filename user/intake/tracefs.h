/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tracefs.h - makes sure tracefs is mounted before tracepoint programs are
 * attached: libbpf reads each tracepoint's event id from
 * <tracefs>/events/<category>/<name>/id, and a node (or a fresh VM) need
 * not have mounted it at boot. Used by the daemon's preflight
 * (capture.c), the kernel-side tests (tests/bpf/test_progs.c) and the
 * benchmarks' loaders (bench/floor.c, bench/helper_cost.c).
 */
#ifndef REDTAP_TRACEFS_H
#define REDTAP_TRACEFS_H

#include <stddef.h>

#define TRACEFS		"/sys/kernel/tracing"
#define TRACEFS_DEBUGFS "/sys/kernel/debug/tracing" /* the older place, also read */

/* 0 when tracefs is mounted at either place, 1 when this call mounted it
 * on TRACEFS, -errno when it is missing and could not be mounted (err then
 * says so and gives the command to run; needs CAP_SYS_ADMIN). */
int tracefs_ensure(char *err, size_t errlen);

#endif
