/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * procfs.h - reading numeric fields of /proc/PID/stat.
 *
 * API: procfs_stat_field() returns field n (numbered as in proc(5): 4 is
 * ppid, 22 is starttime) of /proc/PID/stat; n must be 3 or more, after
 * the command name, which may hold spaces and parentheses. Thread-safe.
 */
#ifndef REDTAP_PROCFS_H
#define REDTAP_PROCFS_H

#include <stdint.h>

/* 0 and the value in *out, or -errno (-EINVAL: no such field). */
int procfs_stat_field(uint32_t pid, int n, unsigned long long *out);

#endif /* REDTAP_PROCFS_H */
