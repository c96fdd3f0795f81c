// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * goprobes.bpf.c - entry uprobes on net/http's client, attached per selected
 * Go process by user/intake/capture.c (issue 12). net/http writes a client
 * request on the connection's persistConn.writeLoop goroutine, not on the
 * goroutine that called the client (a handler), so the request's bytes
 * carry the writer's goroutine. Two entry probes connect them:
 *
 *   net/http.(*persistConn).roundTrip(pc, treq)  on the caller's goroutine:
 *       go_req_owner[tgid, treq.Request] = caller
 *   net/http.(*Request).write(r, ...)            on the writer goroutine:
 *       go_writer_owner[tgid, writer] = go_req_owner[tgid, r] (or deleted)
 *
 * When the executable's DWARF and symbols say where a persistConn's socket
 * fd is (gotrack.c fills go_http), one probe does it, a trap less a request:
 *
 *   net/http.(*persistConn).roundTrip(pc, treq)  on the caller's goroutine:
 *       go_fd_owner[tgid, fd of pc.conn] = caller, with the conns generation
 *
 * (pc.conn a *net.TCPConn, or a *tls.Conn over one), and marks the socket's
 * conns entry go_owned. The writer goroutine then writes on that fd, and
 * the data exit programs find the owner by the record's fd (record_goid());
 * the writes on connections not so marked (a database's, a cache's, a
 * server's) look nothing up, and reads are not redirected, as before.
 * Any other pc.conn (a user's dialer's wrapper) sets go_req_owner as
 * above and flags go_http: the daemon then adds the Request.write probe.
 *
 * capture.bpf.c's data records then carry the owner (record_goid()). Entry
 * probes only: no uretprobes on Go code (Go moves stacks), and none are
 * needed, since each request write resets its writer's owner. Arguments
 * come in Go's register ABI (Go 1.17+): receiver and first argument in
 * RAX, RBX on amd64 (R0, R1 on arm64). Maps are shared with capture.bpf.c
 * (the loader reuses its fds).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "conns.bpf.h"
#include "goroutine.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#if defined(__TARGET_ARCH_x86)
#define GO_ARG0(r) ((r)->ax)
#define GO_ARG1(r) ((r)->bx)
#elif defined(__TARGET_ARCH_arm64)
#define GO_ARG0(r) ((r)->regs[0])
#define GO_ARG1(r) ((r)->regs[1])
#endif

/* *http.Request passed to persistConn.roundTrip -> the calling goroutine. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct go_key);
	__type(value, __u64);
} go_req_owner SEC(".maps");

/* go_req_owner[tgid, treq.Request] = the running goroutine. */
static __always_inline int req_owner_set(struct pt_regs *ctx, __u32 tgid)
{
	struct go_key k = {.tgid = tgid};
	__u64 goid = current_goid(k.tgid), req = 0;

	/* transportRequest embeds *Request as its first field */
	if (!goid || bpf_probe_read_user(&req, sizeof(req), (void *)GO_ARG1(ctx)) || !req)
		return 0;
	k.v = req;
	go_map_set(&go_req_owner, &k, goid);
	return 0;
}

SEC("uprobe")
int go_pconn_roundtrip(struct pt_regs *ctx)
{
	return req_owner_set(ctx, bpf_get_current_pid_tgid() >> 32);
}

SEC("uprobe")
int go_request_write(struct pt_regs *ctx)
{
	struct go_key rk = {.tgid = bpf_get_current_pid_tgid() >> 32}, wk = rk;
	__u64 *owner;

	wk.v = current_goid(rk.tgid);
	if (!wk.v)
		return 0;
	rk.v = GO_ARG0(ctx);
	owner = bpf_map_lookup_elem(&go_req_owner, &rk);
	/* a writer goroutine lives as long as its connection: in place */
	if (owner && *owner != wk.v)
		go_map_set(&go_writer_owner, &wk, *owner);
	else
		bpf_map_delete_elem(&go_writer_owner, &wk);
	return 0;
}

/* Selected Go processes probed by go_pconn_roundtrip_fd: where pc's fd is. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, struct rt_go_http);
} go_http SEC(".maps");

/* A Go interface value: itab and data pointers. */
struct go_iface {
	__u64 itab;
	__u64 data;
};

/* The socket fd of persistConn pc (a *net.TCPConn, or a *tls.Conn over
 * one): 0 and *fd, or -1 for anything else (a user's wrapper). */
static __always_inline int pconn_fd(const struct rt_go_http *h, __u64 pc, __u32 *fd)
{
	struct go_iface c;
	__u64 netfd;
	__s64 sysfd;

	if (bpf_probe_read_user(&c, sizeof(c), (void *)(pc + h->pconn_conn)))
		return -1;
	if (c.itab == h->tls_itab && h->tls_itab &&
	    bpf_probe_read_user(&c, sizeof(c), (void *)(c.data + h->tls_conn)))
		return -1;
	if (c.itab != h->tcp_itab || !c.data ||
	    bpf_probe_read_user(&netfd, sizeof(netfd), (void *)(c.data + h->tcp_netfd)) || !netfd ||
	    bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + h->netfd_sysfd)) ||
	    sysfd < 0 || sysfd > 0x7fffffff)
		return -1;
	*fd = (__u32)sysfd;
	return 0;
}

SEC("uprobe")
int go_pconn_roundtrip_fd(struct pt_regs *ctx)
{
	struct conn_key ck = {.tgid = bpf_get_current_pid_tgid() >> 32};
	struct go_key k = {.tgid = ck.tgid};
	struct go_fd_owner_val v = {};
	struct rt_go_http *h;
	struct conn_info *ci;

	h = bpf_map_lookup_elem(&go_http, &ck.tgid);
	if (!h)
		return 0;
	/* a user's own net.Conn: ask the daemon for the write probe, which
	 * finds this request's owner here (as with two probes) */
	if (pconn_fd(h, GO_ARG0(ctx), &ck.fd)) {
		h->unresolved = 1;
		return req_owner_set(ctx, ck.tgid);
	}
	/* no conns entry: the data programs do not follow this socket */
	ci = bpf_map_lookup_elem(&conns, &ck);
	v.goid = current_goid(ck.tgid);
	if (!ci || !v.goid)
		return 0;
	v.gen = ci->gen;
	k.v = ck.fd;
	go_map_set(&go_fd_owner, &k, v); /* a connection lives for many requests */
	if (!ci->go_owned) /* after the owner: a write that sees the flag finds it */
		ci->go_owned = 1;
	return 0;
}
