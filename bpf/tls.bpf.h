/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tls.bpf.h - TLS plaintext from OpenSSL (libssl.so.1.1 and .3): uprobes on
 * SSL_read, SSL_read_ex, SSL_write, SSL_write_ex (entry) and one uretprobe
 * program for their returns, attached per libssl file by
 * user/intake/tlstrack.c. Included by capture.bpf.c, whose maps, scratch
 * and emit_data() it uses (see docs/protocols.md, "TLS plaintext").
 *
 * The socket comes without OpenSSL's structs: the entry probe marks the
 * thread as inside an SSL call (tls_calls); the read/write syscalls the
 * call makes on that thread reach enter_data(), whose tls_inside() records
 * their fd and copies nothing (ciphertext). The return emits the
 * plaintext (ret bytes, or *readbytes / *written for the _ex forms) as an
 * RT_EV_DATA record flagged RT_DATA_F_TLS on that connection. A read
 * served from OpenSSL's buffer makes no syscall: the fd is the last one
 * seen for the same SSL * (tls_fds); without one the record is dropped
 * and counted (RT_DROP_TLS_NO_FD). SSL_do_handshake and SSL_shutdown are
 * quiet calls: their ciphertext is skipped and their fd learnt, nothing is
 * emitted. Writes are emitted at the return, so that a non-blocking
 * SSL_write retried after SSL_ERROR_WANT_WRITE counts its bytes once.
 */
#ifndef REDTAP_TLS_BPF_H
#define REDTAP_TLS_BPF_H

#define TLS_NO_FD 0xffffffffu
#define TLS_QUIET 0xff /* tls_call.dir of a call that moves no plaintext */

struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 lenp; /* size_t * of the _ex forms (readbytes, written); 0 otherwise */
	__u32 fd;   /* the socket of the call's syscalls, TLS_NO_FD before one */
	__u8 live;  /* set at entry, cleared at return */
	__u8 dir;   /* RT_DIR_*, or TLS_QUIET */
	__u8 pad0[2];
};

/* The thread's SSL call in progress, in its task storage like the stash. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct tls_key {
	__u32 tgid;
	__u32 pad0;
	__u64 ssl;
};

/* SSL * -> the fd its last syscall used, for reads without a syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_key);
	__type(value, __u32);
} tls_fds SEC(".maps");

/* From enter_data() on a TCP socket fd: true when the thread is inside an
 * SSL call, whose syscall this is (its bytes are ciphertext). */
static __always_inline bool tls_inside(__u32 fd)
{
	struct tls_call *tc = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);

	if (!tc || !tc->live)
		return false;
	tc->fd = fd;
	return true;
}

static __always_inline int tls_enter(__u64 ssl, __u64 buf, __u64 lenp, __u8 dir)
{
	struct tls_call *tc;

	if (!selected_tgid(bpf_get_current_pid_tgid() >> 32))
		return 0;
	tc = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tc) {
		count_drop(RT_DROP_STASH_FULL);
		return 0;
	}
	tc->ssl = ssl;
	tc->buf = buf;
	tc->lenp = lenp;
	tc->fd = TLS_NO_FD;
	tc->dir = dir;
	tc->live = 1;
	return 0;
}

/* int SSL_read(SSL *s, void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(tls_read_enter, void *ssl, void *buf)
{
	return tls_enter((__u64)ssl, (__u64)buf, 0, RT_DIR_INGRESS);
}

/* int SSL_read_ex(SSL *s, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int BPF_KPROBE(tls_read_ex_enter, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return tls_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, RT_DIR_INGRESS);
}

/* int SSL_write(SSL *s, const void *buf, int num) */
SEC("uprobe")
int BPF_KPROBE(tls_write_enter, void *ssl, void *buf)
{
	return tls_enter((__u64)ssl, (__u64)buf, 0, RT_DIR_EGRESS);
}

/* int SSL_write_ex(SSL *s, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int BPF_KPROBE(tls_write_ex_enter, void *ssl, void *buf, __u64 num, void *written)
{
	return tls_enter((__u64)ssl, (__u64)buf, (__u64)written, RT_DIR_EGRESS);
}

/* int SSL_do_handshake(SSL *s), int SSL_shutdown(SSL *s) */
SEC("uprobe")
int BPF_KPROBE(tls_quiet_enter, void *ssl)
{
	return tls_enter((__u64)ssl, 0, 0, TLS_QUIET);
}

/* The return of every probed call. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_return, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), moved = 0;
	struct tls_key key = {.tgid = id >> 32};
	struct stash st = {.kind = STASH_BUF};
	struct rt_conn_key ck = {.tgid = id >> 32};
	struct conn_info *ci;
	struct tls_call *tc;
	__u32 *known;

	tc = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!tc || !tc->live)
		return 0;
	tc->live = 0;
	key.ssl = tc->ssl;
	ck.fd = tc->fd;
	if (ck.fd != TLS_NO_FD) {
		bpf_map_update_elem(&tls_fds, &key, &ck.fd, BPF_ANY);
	} else if (tc->dir != TLS_QUIET) {
		known = bpf_map_lookup_elem(&tls_fds, &key);
		if (known)
			ck.fd = *known;
	}
	if (tc->dir == TLS_QUIET || (int)ret <= 0)
		return 0;
	if (!tc->lenp)
		moved = (__u32)(int)ret;
	else if ((int)ret != 1 || bpf_probe_read_user(&moved, sizeof(moved), (void *)tc->lenp))
		return 0;
	if (!moved)
		return 0;
	ci = ck.fd != TLS_NO_FD ? bpf_map_lookup_elem(&conns, &ck) : NULL;
	if (!ci) {
		count_drop(RT_DROP_TLS_NO_FD);
		return 0;
	}
	ci->tls = 1;
	if (ci->opaque)
		return 0;
	st.ptr = tc->buf;
	st.gen = ci->gen;
	st.fd = ck.fd;
	st.dir = tc->dir;
	return emit_data(id, &st, moved, RT_DATA_F_TLS);
}

#endif /* REDTAP_TLS_BPF_H */
