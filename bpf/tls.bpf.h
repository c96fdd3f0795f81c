/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tls.bpf.h - TLS plaintext from OpenSSL (libssl.so.1.1 and .3): uprobes on
 * SSL_read, SSL_read_ex, SSL_write, SSL_write_ex (entry) and one uretprobe
 * program for their returns, attached per libssl file by
 * user/intake/tlstrack.c; where it finds ssl_read_internal and
 * ssl_write_internal (the _ex signature), the _ex programs and the
 * uretprobe go there instead of the four wrappers (a cheaper probe site:
 * user/intake/sslsites.c). Included by capture.bpf.c, whose maps, scratch
 * and emit_data() it uses (see docs/protocols.md, "TLS plaintext").
 *
 * The socket comes without OpenSSL's structs: the entry probe marks the
 * thread as inside an SSL call (tls_calls); the read/write syscalls the
 * call makes on that thread reach data_exit(), whose tls_inside() records
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
#define TLS_SENT  0xfe /* go_tls_call.dir of a Write emitted at its entry */

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

static __always_inline bool go_tls_inside(__u32 tgid, __u64 goid, __u32 fd);

/* From data_exit() on a TCP socket fd: true when the thread is inside an
 * SSL call (or its goroutine inside a Go crypto/tls call), whose syscall this is (its bytes are
 * ciphertext). */
static __always_inline bool tls_inside(__u32 fd, __u64 goid)
{
	struct tls_call *tc = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);

	if (!tc || !tc->live)
		return go_tls_inside(bpf_get_current_pid_tgid() >> 32, goid, fd);
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

/* Emits the plaintext of a returned TLS call: moved bytes at buf, on the
 * socket its syscalls used (fd, TLS_NO_FD without one), else on the last
 * socket of the same TLS object (key: SSL * or Go *tls.Conn), which the
 * fd seen now becomes. Quiet calls and moved == 0 only learn the fd. */
static __always_inline int tls_emit(__u64 id, struct tls_key *key, __u32 fd, __u8 dir, __u64 buf,
				    __u64 moved)
{
	struct stash st = {.kind = STASH_BUF};
	struct rt_conn_key ck = {.tgid = id >> 32, .fd = fd};
	struct conn_info *ci;
	__u32 *known;

	if (ck.fd != TLS_NO_FD) {
		bpf_map_update_elem(&tls_fds, key, &ck.fd, BPF_ANY);
	} else if (dir != TLS_QUIET) {
		known = bpf_map_lookup_elem(&tls_fds, key);
		if (known)
			ck.fd = *known;
	}
	if (dir == TLS_QUIET || !moved)
		return 0;
	ci = ck.fd != TLS_NO_FD ? bpf_map_lookup_elem(&conns, &ck) : NULL;
	if (!ci) {
		count_drop(RT_DROP_TLS_NO_FD);
		return 0;
	}
	/* the first plaintext: what the syscalls showed before was ciphertext,
	 * so the preface is looked for again (unless the daemon raised it) */
	if (!ci->tls && ci->cap_bytes <= capture_bytes)
		ci->cap_bytes = 0;
	ci->tls = 1;
	if (ci->opaque)
		return 0;
	st.ptr = buf;
	st.gen = ci->gen;
	st.fd = ck.fd;
	st.dir = dir;
	st.cap = conn_cap(ci);
	st.sniff = h2_sniff(ci, dir);
	st.goid = record_goroutine(ck.tgid, &st.owners, false);
	return emit_data(id, &st, moved, RT_DATA_F_TLS);
}

/* The return of every probed call. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_return, long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), moved = 0;
	struct tls_key key = {.tgid = id >> 32};
	struct tls_call *tc;

	tc = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!tc || !tc->live)
		return 0;
	tc->live = 0;
	key.ssl = tc->ssl;
	if (tc->dir != TLS_QUIET && (int)ret > 0) {
		if (!tc->lenp)
			moved = (__u32)(int)ret;
		else if ((int)ret != 1 ||
			 bpf_probe_read_user(&moved, sizeof(moved), (void *)tc->lenp))
			moved = 0;
	}
	return tls_emit(id, &key, tc->fd, tc->dir, tc->buf, moved);
}

/*
 * Go crypto/tls: entry uprobes on (*Conn).Read and (*Conn).Write and one
 * program on each of their return instructions (user/intake/goret.c finds
 * them; never uretprobes on Go code), attached per executable by
 * user/intake/gotrack.c. Go's register ABI (1.17+): receiver, b.ptr, b.len
 * in RAX, RBX, RCX (R0-R2 on arm64); n returned in RAX (R0). The call is
 * keyed by goroutine, not thread: a goroutine parked on EAGAIN resumes its
 * read on whatever thread the scheduler gives it, inside the same call.
 */
#if defined(__TARGET_ARCH_x86)
#define GO_TLS_CONN(r) ((r)->ax)
#define GO_TLS_BUF(r)  ((r)->bx)
#define GO_TLS_LEN(r)  ((r)->cx)
#define GO_TLS_RET(r)  ((r)->ax)
#elif defined(__TARGET_ARCH_arm64)
#define GO_TLS_CONN(r) ((r)->regs[0])
#define GO_TLS_BUF(r)  ((r)->regs[1])
#define GO_TLS_LEN(r)  ((r)->regs[2])
#define GO_TLS_RET(r)  ((r)->regs[0])
#endif

/* A goroutine's crypto/tls call in progress: go_key {tgid, goid}. */
struct go_tls_call {
	__u64 conn;
	__u64 buf;
	__u32 fd; /* as tls_call.fd */
	__u8 dir;
	__u8 pad0[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, struct go_tls_call);
} go_tls_calls SEC(".maps");

/* tls_inside() for Go: the running goroutine (goid, 0 for a process that
 * is not Go) is inside a probed call. A process none of whose goroutines
 * ever entered one (its go_tls bit is clear) looks nothing up. */
static __always_inline bool go_tls_inside(__u32 tgid, __u64 goid, __u32 fd)
{
	struct go_key k = {.tgid = tgid, .v = goid};
	struct go_tls_call *gc;

	gc = k.v && go_tls_bit(tgid) ? bpf_map_lookup_elem(&go_tls_calls, &k) : NULL;
	if (!gc)
		return false;
	gc->fd = fd;
	return true;
}

/* The goroutine of a selected process entering or leaving a probed call. A process
 * started after the probes were attached to its executable reaches its
 * first TLS call before the daemon has read the exec record and filled
 * go_procs: the probe's cookie carries the executable's offsets
 * (g_tls_off, goid_off << 32), so the entry fills it (the daemon's later
 * write is the same; its exit handling deletes it). */
static __always_inline __u64 go_tls_goid(struct pt_regs *ctx, __u32 tgid)
{
	__u64 cookie;

	if (!selected_tgid(tgid))
		return 0;
	if (!go_bit(tgid) || !bpf_map_lookup_elem(&go_procs, &tgid)) {
		cookie = bpf_get_attach_cookie(ctx);
		struct rt_go_proc gp = {.g_tls_off = (__s32)(__u32)cookie,
					.goid_off = (__u32)(cookie >> 32)};

		if (!gp.goid_off)
			return 0;
		go_mark(tgid); /* first: the data programs read go_procs only then */
		bpf_map_update_elem(&go_procs, &tgid, &gp, BPF_NOEXIST);
	}
	return current_goid(tgid);
}

static __always_inline int go_tls_enter(struct pt_regs *ctx, __u8 dir)
{
	struct go_key k = {.tgid = bpf_get_current_pid_tgid() >> 32};
	struct go_tls_call gc = {.fd = TLS_NO_FD, .dir = dir};

	__u64 id = bpf_get_current_pid_tgid();
	struct tls_key key = {.tgid = id >> 32};
	struct go_tls_call *live;
	__u32 *known;

	k.v = go_tls_goid(ctx, k.tgid);
	if (!k.v)
		return 0;
	gc.conn = GO_TLS_CONN(ctx);
	gc.buf = GO_TLS_BUF(ctx);
	/* the same call again: its stack grew (morestack re-runs the entry) */
	live = bpf_map_lookup_elem(&go_tls_calls, &k);
	if (live && live->conn == gc.conn && live->buf == gc.buf)
		return 0;
	/* before the entry: a syscall of this call must find it */
	go_tls_mark(k.tgid);
	/* A Write goes out at its entry when its connection's socket is
	 * known: the reply, read on another goroutine, must not reach the
	 * daemon before the request, as it could when the writer is
	 * preempted between its syscall and its return. Go's Write blocks
	 * until all of b is written (or the connection fails), so b.len is
	 * what it sends. The call stays recorded, quiet: its syscalls are
	 * ciphertext. Otherwise (the first Write on a connection whose
	 * handshake was not seen) at its return. */
	key.ssl = gc.conn;
	known = dir == RT_DIR_EGRESS ? bpf_map_lookup_elem(&tls_fds, &key) : NULL;
	if (known) {
		tls_emit(id, &key, *known, dir, gc.buf, GO_TLS_LEN(ctx));
		gc.dir = TLS_SENT;
	}
	if (bpf_map_update_elem(&go_tls_calls, &k, &gc, BPF_ANY))
		count_drop(RT_DROP_STASH_FULL);
	return 0;
}

/* func (c *Conn) Read(b []byte) (int, error) */
SEC("uprobe")
int go_tls_read_enter(struct pt_regs *ctx)
{
	return go_tls_enter(ctx, RT_DIR_INGRESS);
}

/* func (c *Conn) Write(b []byte) (int, error) */
SEC("uprobe")
int go_tls_write_enter(struct pt_regs *ctx)
{
	return go_tls_enter(ctx, RT_DIR_EGRESS);
}

/* func (c *Conn) handshakeContext(ctx context.Context) error: a quiet call
 * (net/http's client and server hand-shake before the first Read or
 * Write; with TLS 1.3 the client's first request may arrive in the
 * handshake's last read). Read and Write call it too, first thing: inside
 * them it is part of their call and leaves it alone. */
SEC("uprobe")
int go_tls_quiet_enter(struct pt_regs *ctx)
{
	struct go_key k = {.tgid = bpf_get_current_pid_tgid() >> 32};

	k.v = go_tls_goid(ctx, k.tgid);
	if (!k.v || bpf_map_lookup_elem(&go_tls_calls, &k))
		return 0;
	return go_tls_enter(ctx, TLS_QUIET);
}

/* Every return instruction of handshakeContext: learns the fd. */
SEC("uprobe")
int go_tls_quiet_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct go_key k = {.tgid = id >> 32};
	struct tls_key key = {.tgid = id >> 32};
	struct go_tls_call *gc;
	__u32 fd;

	k.v = go_tls_goid(ctx, k.tgid);
	gc = k.v ? bpf_map_lookup_elem(&go_tls_calls, &k) : NULL;
	if (!gc || gc->dir != TLS_QUIET)
		return 0;
	key.ssl = gc->conn;
	fd = gc->fd;
	bpf_map_delete_elem(&go_tls_calls, &k);
	return tls_emit(id, &key, fd, TLS_QUIET, 0, 0);
}

/* Every return instruction of Read and Write: n bytes read or written
 * (with or without an error). */
SEC("uprobe")
int go_tls_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct go_key k = {.tgid = id >> 32};
	struct tls_key key = {.tgid = id >> 32};
	struct go_tls_call *gc, call;
	long ret = (long)GO_TLS_RET(ctx);

	/* go_tls_goid(), not current_goid(): a return that found no go_procs
	 * entry for its running process (once in ~4 runs of test_tls_go.sh,
	 * no read fault, no system goroutine counted) left its call in
	 * go_tls_calls; a Read's bytes were lost, and the next Write of the
	 * same writer goroutine (same *Conn, same buffer) was taken for a
	 * morestack re-entry and never emitted. */
	k.v = go_tls_goid(ctx, k.tgid);
	gc = k.v ? bpf_map_lookup_elem(&go_tls_calls, &k) : NULL;
	if (!gc)
		return 0;
	call = *gc;
	bpf_map_delete_elem(&go_tls_calls, &k);
	if (call.dir == TLS_SENT)
		call.dir = TLS_QUIET; /* its bytes went out at the entry */
	key.ssl = call.conn;
	return tls_emit(id, &key, call.fd, call.dir, call.buf, ret > 0 ? (__u64)ret : 0);
}

#endif /* REDTAP_TLS_BPF_H */
