/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conns.bpf.h - the connection table, for the BPF objects that use it:
 * capture.bpf.c (through capture.bpf.h) fills it and reads it on every
 * socket syscall; connctl.bpf.c changes the daemon's fields of an entry in
 * place. One definition, so both objects agree on it; the loader
 * (user/intake/connctl.c) makes connctl.bpf.c reuse capture.bpf.c's map.
 */
#ifndef REDTAP_CONNS_BPF_H
#define REDTAP_CONNS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "redtap/event.h"

/* struct rt_conn_key and struct rt_conn_info (include/redtap/event.h):
 * the daemon marks connections it will never parse as opaque there. */
#define conn_key  rt_conn_key
#define conn_info rt_conn_info

/* TCP socket fds of selected processes that did socket I/O. Nothing else
 * goes in: a process holding many pipes or files must not evict live
 * sockets (those go to not_socks). An entry re-created after eviction
 * keeps the socket's inode number, so the daemon does not mistake it for
 * a reuse. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct conn_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

#endif /* REDTAP_CONNS_BPF_H */
