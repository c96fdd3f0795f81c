/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * goroutine.bpf.h - the current goroutine of a Go process, for the BPF
 * objects that need it (capture.bpf.c's data records, goprobes.bpf.c's
 * net/http entry probes). Issue 12: goroutines move between threads, so
 * the thread does not say which request a syscall serves; the goroutine
 * does.
 *
 * API: the maps below are defined in every object that includes this file;
 * the loader (user/intake/capture.c) makes goprobes.bpf.c reuse
 * capture.bpf.c's, so both see one table. current_goid() reads the id of
 * the running goroutine (0 = unknown, counted, never guessed);
 * record_goid() is the goroutine a data record belongs to: the same, unless
 * a net/http writer goroutine is writing a request on another goroutine's
 * behalf (goprobes.bpf.c: by the writer goroutine with two probes, or by
 * the connection's socket with one).
 */
#ifndef REDTAP_GOROUTINE_BPF_H
#define REDTAP_GOROUTINE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "redtap/event.h"

/* Selected Go processes whose offsets the daemon knows (user/intake/goelf.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_go_proc);
} go_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_GO_UNKNOWN_MAX);
	__type(key, __u32);
	__type(value, __u64);
} go_unknown SEC(".maps");

/* (tgid, goroutine) pairs, for the maps of goprobes.bpf.c. */
struct go_key {
	__u32 tgid;
	__u32 pad0;
	__u64 v; /* a goroutine id or a user pointer */
};

/* net/http client writer goroutine (persistConn.writeLoop) -> the goroutine
 * whose request it writes now; set at each net/http.(*Request).write entry,
 * in place once the writer has an entry (go_map_set()). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct go_key);
	__type(value, __u64);
} go_writer_owner SEC(".maps");

/* A net/http client connection's socket (tgid, fd) -> the goroutine whose
 * request it carries now, with the connection's generation (conns.bpf.h):
 * set by goprobes.bpf.c's single persistConn.roundTrip probe, read for the
 * bytes written on that socket (record_goid()). The generation keeps a
 * reused fd from inheriting an owner. */
struct go_fd_owner_val {
	__u64 goid;
	__u64 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct go_key); /* v: the fd */
	__type(value, struct go_fd_owner_val);
} go_fd_owner SEC(".maps");

/* The user-space thread pointer of the current task (TLS base): a plain
 * load through the task's BTF pointer, where BPF_CORE_READ took a helper
 * call. */
static __always_inline __u64 thread_pointer(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

#if defined(__TARGET_ARCH_x86)
	return task->thread.fsbase;
#elif defined(__TARGET_ARCH_arm64)
	return task->thread.uw.tp_value; /* designed for, untested */
#else
	return 0;
#endif
}

/* map[k] = val, written in place when k is there (a lookup, no new element:
 * an LRU map's entries live as long as a goroutine or a connection),
 * inserted otherwise. For the maps keyed by go_key; val has the map's value
 * type (a __u64, struct go_fd_owner_val). A macro rather than a function of
 * a value pointer and a size: val is copied as its type (no byte-wise copy,
 * no u64 spilled before the lookup), so no program grows. */
#define go_map_set(map, k, val)                                                                    \
	do {                                                                                       \
		typeof(val) __v = (val), *__cur = bpf_map_lookup_elem(map, k);                     \
                                                                                                   \
		if (__cur)                                                                         \
			*__cur = __v;                                                              \
		else                                                                               \
			bpf_map_update_elem(map, k, &__v, BPF_ANY);                                \
	} while (0)

static __always_inline void count_go_unknown(__u32 why)
{
	__u64 *cnt = bpf_map_lookup_elem(&go_unknown, &why);

	if (cnt)
		*cnt += 1;
}

/* The id of the running goroutine of Go process tgid: 0 when tgid is no Go
 * process we know, or when it cannot be read (counted by reason); with
 * the process's RT_GO_OWNER_* bits in *owners (0 with no entry). */
static __always_inline __u64 current_goid_owners(__u32 tgid, __u8 *owners)
{
	struct rt_go_proc *gp = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 tp, g = 0, goid = 0;

	*owners = 0;
	if (!gp)
		return 0;
	*owners = (__u8)gp->owners;
	tp = thread_pointer();
	if (!tp || bpf_probe_read_user(&g, sizeof(g), (void *)(tp + (__s64)gp->g_tls_off)) || !g ||
	    bpf_probe_read_user(&goid, sizeof(goid), (void *)(g + gp->goid_off))) {
		count_go_unknown(RT_GO_READ_FAULT);
		return 0;
	}
	if (!goid)
		count_go_unknown(RT_GO_SYSTEM);
	return goid;
}

static __always_inline __u64 current_goid(__u32 tgid)
{
	__u8 owners;

	return current_goid_owners(tgid, &owners);
}

/* The goroutine a data record of tgid on (fd, gen) in direction dir
 * belongs to: the running one (cur, current_goid_owners(): the caller reads
 * it and the process's owners once a record), unless it writes a net/http
 * client request for another (the writer goroutine's owner, or the
 * socket's owner), looked up only in the maps the process's probes fill
 * (owners). Only writes are redirected: the writer goroutine
 * (persistConn.writeLoop) never reads, so a read looks neither map up. */
static __always_inline __u64 record_goid(__u32 tgid, __u64 cur, __u8 owners, __u32 fd, __u64 gen,
					 __u8 dir)
{
	struct go_key k = {.tgid = tgid, .v = cur}, fk = {.tgid = tgid, .v = fd};
	struct go_fd_owner_val *fo;
	__u64 *owner;

	if (!k.v || dir != RT_DIR_EGRESS)
		return k.v;
	if (owners & RT_GO_OWNER_WRITER) {
		owner = bpf_map_lookup_elem(&go_writer_owner, &k);
		if (owner && *owner)
			return *owner;
	}
	if (!(owners & RT_GO_OWNER_FD))
		return k.v;
	fo = bpf_map_lookup_elem(&go_fd_owner, &fk);
	return fo && fo->gen == gen && fo->goid ? fo->goid : k.v;
}

#endif /* REDTAP_GOROUTINE_BPF_H */
