// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * capture.bpf.c - the kernel side of redtap: tracepoint programs that copy
 * a bounded prefix of every socket read and write of selected processes
 * into a BPF ring buffer, with connection open/close and process
 * exec/exit records, and the shim's ioctl channel.
 *
 * Tracepoints and raw tracepoints only (no kprobes, no fentry). A socket
 * syscall is seen once, at sys_exit_*: its arguments come from the task's
 * saved registers and its data is read with the return value (exit_args()).
 * Only the opens of log files stash their path at sys_enter_*. Every drop
 * is counted in "drops".
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "redtap/event.h"
#include "capture.bpf.h"
#include "tracepoints.h"
#include "goroutine.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Whether records carry their goroutine (the daemon's tracer runs: it is
 * what parents spans by goroutine; the loader sets it). Without it no
 * record carries one, and a goroutine is read only for tls_inside(). */
const volatile bool record_goroutines = true;

/* current_goid_owners() for a record of any process: one that is not a
 * Go process we know stops at its go bit (with a selection, in the line
 * selected_tgid() read), without a go_procs look-up. Without
 * record_goroutines, the goroutine is read only for tls_check (the
 * caller's tls_inside()) of a process whose go_tls bit is set. */
static __always_inline __u64 record_goroutine(__u32 tgid, __u8 *owners, bool tls_check)
{
	*owners = 0;
	if (!go_bit(tgid) || (!record_goroutines && !(tls_check && go_tls_bit(tgid))))
		return 0;
	return current_goid_owners(tgid, owners);
}

enum stash_kind {
	STASH_BUF = 0,	/* one user buffer */
	STASH_IOV = 1,	/* an iovec array */
	STASH_NONE = 2, /* bytes moved without a user buffer (sendfile) */
	STASH_MSG = 4,	/* a struct user_msghdr: its iovec is read once wanted */
	STASH_OPEN = 5, /* an open for writing: ptr is the path (log files) */
};

/* What to copy for one record (emit_data()), and the slot of an open's
 * path from sys_enter to sys_exit (the only stashed syscall). */
struct stash {
	__u64 ptr; /* buffer or struct iovec * */
	__u64 gen;
	__u32 fd;
	__u32 iovcnt;
	__u8 kind;
	__u8 dir;
	__u8 live;   /* set at sys_enter, cleared at sys_exit */
	__u8 log;    /* a write to stdout/stderr: an RT_EV_LOG record */
	__u16 cap;   /* bytes to copy: the connection's conn_cap() */
	__u8 sniff;  /* compare with the HTTP/2 preface: h2_sniff() */
	__u8 owners; /* the Go process's RT_GO_OWNER_*, record_goroutine() */
	__u64 goid;  /* the running goroutine, record_goroutine(): 0 outside Go */
};

/*
 * One stash slot per thread, in the thread's own task storage: found
 * through the task, without hashing, and freed with the thread. It is
 * rewritten in place at an open's sys_enter and marked consumed at its
 * sys_exit (log files only; the socket syscalls need no stash).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stash);
} stash SEC(".maps");

/* Writes the current thread's slot. */
static __always_inline int stash_put(const struct stash *st)
{
	struct stash *cur = bpf_task_storage_get(&stash, bpf_get_current_task_btf(), 0,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!cur)
		return -1;
	*cur = *st;
	return 0;
}

/* Copies out and consumes the thread's pending stash; false if none. */
static __always_inline bool stash_take(struct stash *out)
{
	struct stash *cur = bpf_task_storage_get(&stash, bpf_get_current_task_btf(), 0, 0);

	if (!cur || !cur->live)
		return false;
	*out = *cur;
	cur->live = 0;
	return true;
}

/* Per-CPU scratch record: data events are built here, then copied into the
 * ring buffer with exactly the captured length. Twice the maximum so that
 * the verifier can prove offset + length stays inside. */
struct data_scratch {
	struct rt_data_event ev;
	__u8 data[2 * RT_CAPTURE_MAX + sizeof(struct rt_data_tail)];
	struct iovec iov[RT_IOV_MAX]; /* copy_iov()'s copy of the iovec array */
};

struct shim_scratch {
	struct rt_shim_event ev;
	__u8 data[RT_SHIM_BATCH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct data_scratch);
} data_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shim_scratch);
} shim_scratch SEC(".maps");

/* Re-proves to the verifier, right before use, that a length or offset is
 * below 2 * RT_CAPTURE_MAX (clang may spill the value and lose its bounds;
 * callers already keep it <= RT_CAPTURE_MAX, so the mask changes nothing). */
static __always_inline __u32 bounded(__u32 v)
{
	asm volatile("%[v] &= %[m]" : [v] "+r"(v) : [m] "i"(2 * RT_CAPTURE_MAX - 1));
	return v;
}

/*
 * Log capture: writes of selected processes to fd 1 or 2, or to an fd
 * holding the same open file as one of them (dup'ed), become RT_EV_LOG
 * records of at most log_bytes bytes, within a per-process budget of
 * writes (GCRA, like the shim's below). log_bytes 0 (the default) turns
 * it off: the verifier then prunes the whole path, and a socket write
 * never reaches it in any case (it is only tried for fds conn_get() found
 * not to be TCP sockets).
 */
const volatile __u32 log_bytes = 0;
const volatile __u64 log_interval_ns = 1000000; /* 1e9 / writes per second (1000/s) */
const volatile __u64 log_burst_ns = 2000000000; /* burst * interval (2000 writes) */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* theoretical arrival time */
} log_budget SEC(".maps");

static __always_inline bool take_token(void *map, __u32 key, __u64 interval, __u64 burst);

/*
 * Log files (logs.files): the daemon marks the identity (dev, ino) of each
 * file whose path matched a glob with its id of that file, and of each
 * file opened for writing that did not match with 0. log_files_on 0 (no
 * globs) prunes the lookups; the open programs are then not loaded at all.
 */
const volatile __u8 log_files_on = 0;
const volatile __u64 file_interval_ns = 10000000; /* open reports: 100/s per process */
const volatile __u64 file_burst_ns = 1000000000;  /* ... 100 at once */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rt_file_key);
	__type(value, __u32); /* the daemon's file id; 0: not a log file */
} log_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* theoretical arrival time */
} file_budget SEC(".maps");

static __always_inline void file_key(struct file *f, struct rt_file_key *k)
{
	k->ino = BPF_CORE_READ(f, f_inode, i_ino);
	k->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	k->pad0 = 0;
}

/* The daemon's id of the log file fd holds, or 0. */
static __always_inline __u32 log_file_id(__u32 fd)
{
	struct rt_file_key k;
	struct file *f;
	__u32 *id;

	if (!log_files_on)
		return 0;
	f = fd_to_file(fd);
	if (!f)
		return 0;
	file_key(f, &k);
	id = bpf_map_lookup_elem(&log_files, &k);
	return id ? *id : 0;
}

/* fd is stdout, stderr, or a dup of either (the same struct file). */
static __always_inline bool log_fd(__u32 fd)
{
	struct file *f;

	if (fd == 1 || fd == 2)
		return true;
	f = fd_to_file(fd);
	return f && (f == fd_to_file(1) || f == fd_to_file(2));
}

/* A write of ret bytes to a log fd: its RT_EV_LOG record, within the
 * process's budget. */
static __always_inline int emit_data(__u64 id, const struct stash *st, __u64 ret, __u8 flags);

static __always_inline int data_log(__u64 id, __u32 fd, __u64 ptr, __u32 iovcnt, __u8 kind,
				    long ret)
{
	struct stash st = {};
	__u32 file_id;

	if (kind == STASH_NONE)
		return 0;
	/* a marked log file first: nginx's error log is also its stderr */
	file_id = log_file_id(fd);
	if (!file_id && !log_fd(fd))
		return 0;
	if (!take_token(&log_budget, id >> 32, log_interval_ns, log_burst_ns)) {
		count_drop(RT_DROP_LOG_RATE);
		return 0;
	}
	st.ptr = ptr;
	st.gen = file_id; /* the record's conn.gen: 0 for stdout and stderr */
	st.fd = fd;
	st.iovcnt = iovcnt;
	st.kind = kind;
	st.dir = RT_DIR_EGRESS;
	st.log = 1;
	st.goid = record_goroutine(id >> 32, &st.owners, false);
	return emit_data(id, &st, ret, 0);
}

/*
 * For STASH_MSG, reads the struct user_msghdr at *ptr and turns it into its
 * iovec (STASH_IOV); called only once the fd proved worth it, so that a
 * sendmsg/recvmsg on anything else (unix sockets, above all) copies
 * nothing. False on a fault.
 */
static __always_inline bool msg_iov(__u64 *ptr, __u32 *iovcnt, __u8 *kind)
{
	struct user_msghdr m;

	if (*kind != STASH_MSG)
		return true;
	if (bpf_probe_read_user(&m, sizeof(m), (const void *)*ptr)) {
		count_drop(RT_DROP_READ_FAULT);
		return false;
	}
	*ptr = (__u64)m.msg_iov;
	*iovcnt = m.msg_iovlen;
	*kind = STASH_IOV;
	return true;
}

static __always_inline bool tls_inside(__u32 fd, __u64 goid); /* tls.bpf.h */

/*
 * HTTP/2 with the default capture size: one write carries many frames of
 * many streams, and a frame header past the copy hides every boundary
 * after it. A connection's capture size is its cap_bytes (0: the global
 * capture_bytes). While that is 0, the first record of the connection's
 * client-to-server bytes (a client's write, a server's read; either, on a
 * socket of unknown role) is copied up to h2_capture_bytes and compared
 * once with the HTTP/2 client preface: cap_bytes becomes h2_capture_bytes
 * when it matches, capture_bytes when not, and that record is cut to it.
 * So an HTTP/2 connection's first request is copied whole. The daemon
 * raises cap_bytes of a connection it classifies as HTTP/2 later (joined
 * late, h2c upgrade: user/intake/capture.c, capture_set_wide()).
 */
#define H2_PREFACE_LEN 24

static __always_inline __u16 conn_cap(const struct conn_info *ci)
{
	return ci->cap_bytes ? ci->cap_bytes : capture_bytes;
}

/* 1 when a record of dir on ci is to be compared with the preface. */
static __always_inline __u8 h2_sniff(const struct conn_info *ci, __u8 dir)
{
	if (!h2_capture_bytes || ci->cap_bytes)
		return 0;
	if (ci->role == RT_ROLE_CLIENT)
		return dir == RT_DIR_EGRESS;
	if (ci->role == RT_ROLE_SERVER)
		return dir == RT_DIR_INGRESS;
	return 1;
}

/* data[0..n) starts with "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". */
static __always_inline bool h2_preface(const __u8 *data, __u32 n)
{
	__u64 w[3];

	if (n < H2_PREFACE_LEN)
		return false;
	__builtin_memcpy(w, data, sizeof(w));
	return w[0] == bpf_cpu_to_be64(0x505249202a204854ull) && /* "PRI * HT" */
	       w[1] == bpf_cpu_to_be64(0x54502f322e300d0aull) && /* "TP/2.0\r\n" */
	       w[2] == bpf_cpu_to_be64(0x0d0a534d0d0a0d0aull);	 /* "\r\nSM\r\n\r\n" */
}

/* The compared record of st's connection (n bytes copied into data): sets
 * the connection's cap_bytes, returns n cut to it. */
static __always_inline __u32 h2_decide(__u32 tgid, const struct stash *st, const __u8 *data,
				       __u32 n)
{
	struct conn_key key = {.tgid = tgid, .fd = st->fd};
	__u32 cap = h2_preface(data, n) ? h2_capture_bytes : capture_bytes;
	struct conn_info *ci = bpf_map_lookup_elem(&conns, &key);

	if (ci && ci->gen == st->gen && !ci->cap_bytes)
		ci->cap_bytes = cap;
	return n < cap ? n : cap;
}

/*
 * The data of a syscall that moved ret > 0 bytes on fd, from the buffer
 * (or iovec array, or msghdr) at ptr: an RT_EV_DATA record when fd is a
 * tracked TCP socket, an RT_EV_LOG record when it is a log fd.
 */
static __always_inline int data_exit(__u64 id, __u32 fd, __u64 ptr, __u32 iovcnt, __u8 kind,
				     __u8 dir, long ret)
{
	struct conn_info *ci;
	struct stash st = {};

	ci = conn_get(id >> 32, fd, RT_ROLE_UNKNOWN);
	if (!ci) {
		if (!log_bytes || dir != RT_DIR_EGRESS || !msg_iov(&ptr, &iovcnt, &kind))
			return 0;
		return data_log(id, fd, ptr, iovcnt, kind, ret);
	}
	/* the goroutine, read once: for the TLS check and for the record */
	st.goid = record_goroutine(id >> 32, &st.owners, true);
	if (!ci->go_owned) /* no socket owner was ever set on this connection */
		st.owners &= ~RT_GO_OWNER_FD;
	/* ciphertext: a TLS call's syscall (tls.bpf.h sends its plaintext), or
	 * the rest of a connection that carries TLS plaintext */
	if (tls_inside(fd, st.goid) || ci->tls)
		return 0;
	if (ci->opaque || !msg_iov(&ptr, &iovcnt, &kind))
		return 0;
	st.ptr = ptr;
	st.gen = ci->gen;
	st.fd = fd;
	st.iovcnt = iovcnt;
	st.kind = kind;
	st.dir = dir;
	st.cap = conn_cap(ci);
	st.sniff = h2_sniff(ci, dir);
	return emit_data(id, &st, ret, 0);
}

/* Copies up to "want" bytes from the iovec array into sc->data: the first
 * RT_IOV_MAX entries read in one go (the syscall has just read them), then
 * each one's bytes. */
static __always_inline __u32 copy_iov(struct data_scratch *sc, const struct iovec *vec,
				      __u32 iovcnt, __u32 want)
{
	__u32 n = iovcnt < RT_IOV_MAX ? iovcnt : RT_IOV_MAX, off = 0;

	if (bpf_probe_read_user(sc->iov, n * sizeof(struct iovec), vec))
		return 0;
	for (int i = 0; i < RT_IOV_MAX; i++) {
		__u64 take;

		if (i >= n || off >= want)
			break;
		take = sc->iov[i].iov_len;
		if (take > want - off)
			take = want - off;
		if (take > RT_CAPTURE_MAX)
			take = RT_CAPTURE_MAX;
		if (off > RT_CAPTURE_MAX)
			break;
		if (bpf_probe_read_user(sc->data + bounded(off), bounded(take),
					sc->iov[i].iov_base))
			break;
		off += take;
	}
	return off;
}

/* Sends the record of ret bytes moved from st's buffer (a bounded copy). */
static __always_inline int emit_data(__u64 id, const struct stash *st, __u64 ret, __u8 flags)
{
	struct data_scratch *sc;
	__u32 zero = 0, want, n = 0, tail = 0;
	__u64 goid;

	sc = bpf_map_lookup_elem(&data_scratch, &zero);
	if (!sc)
		return 0;

	want = st->log ? log_bytes : st->cap;
	if (st->sniff)
		want = h2_capture_bytes; /* cut by h2_decide() below */
	if (want > RT_CAPTURE_MAX)
		want = RT_CAPTURE_MAX;
	if ((__u64)ret < want)
		want = ret;
	if (st->kind == STASH_BUF) {
		if (bpf_probe_read_user(sc->data, bounded(want), (void *)st->ptr) == 0)
			n = want;
		else
			count_drop(RT_DROP_READ_FAULT);
	} else if (st->kind == STASH_IOV) {
		n = copy_iov(sc, (const struct iovec *)st->ptr, st->iovcnt, want);
	}
	if (n > RT_CAPTURE_MAX)
		n = RT_CAPTURE_MAX;
	if (st->sniff)
		n = h2_decide(id >> 32, st, sc->data, n);

	sc->ev.conn.tgid = id >> 32;
	sc->ev.conn.fd = st->fd;
	sc->ev.conn.gen = st->gen;
	sc->ev.len = ret;
	sc->ev.cap_len = n;
	sc->ev.dir = st->dir;
	sc->ev.flags = flags;
	goid = record_goroutines
		   ? record_goid(id >> 32, st->goid, st->owners, st->fd, st->gen, st->dir)
		   : 0;
	if (goid) {
		tail = sizeof(struct rt_data_tail);
		__builtin_memcpy(sc->data + bounded(n), &goid, sizeof(goid));
	}
	fill_hdr(&sc->ev.hdr, st->log ? RT_EV_LOG : RT_EV_DATA, sizeof(sc->ev) + n + tail);
	if (ring_output(sc, sizeof(sc->ev) + bounded(n) + tail))
		count_drop(RT_DROP_RINGBUF_FULL);
	return 0;
}

#include "tls.bpf.h"

/* Where a data syscall's bytes are: the args column of RT_DATA_SYSCALLS. */
enum data_args {
	ARGS_BUF,  /* (fd, buf, count) */
	ARGS_IOV,  /* (fd, iovec *, vlen) */
	ARGS_MSG,  /* (fd, user_msghdr *, flags) */
	ARGS_NONE, /* sendfile(out_fd, in_fd, ...): bytes on the socket, none seen */
};

/* The current syscall's user registers, saved at entry (see exit_args()). */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * A data syscall's arguments are read at its exit from the user registers
 * the task saved at entry (bpf_task_pt_regs()), which the kernel leaves as
 * they were (the return value goes to its own register; arm64's first
 * argument to orig_x0, which libbpf's _SYSCALL macros read). So there is
 * no sys_enter program and no stash for them: a call that moved nothing
 * (EAGAIN on a non-blocking socket, EOF, an error) costs the exit
 * program's first test, and a call of an unselected process one more.
 * (bench/profile.sh measured the enter programs at 300 ns a run.) A
 * blocking read whose fd another thread closed and reused meanwhile is
 * attributed to the fd's new socket; the kernel counts its bytes against
 * the old one. That race is the caller's bug and is rare enough to leave.
 * args is a constant in every caller: the switch folds away.
 */
static __always_inline int exit_args(struct trace_event_raw_sys_exit *ctx, enum data_args args,
				     __u8 dir)
{
	long ret = ctx->ret;
	struct pt_regs *regs;
	__u64 id, ptr, n;
	__u32 fd;

	if (ret <= 0)
		return 0;
	id = bpf_get_current_pid_tgid();
	if (!selected_tgid(id >> 32))
		return 0;
	regs = syscall_regs();
	fd = PT_REGS_PARM1_SYSCALL(regs);
	if (args == ARGS_NONE)
		return data_exit(id, fd, 0, 0, STASH_NONE, dir, ret);
	ptr = PT_REGS_PARM2_SYSCALL(regs);
	switch (args) {
	case ARGS_BUF:
		return data_exit(id, fd, ptr, 0, STASH_BUF, dir, ret);
	case ARGS_IOV:
		n = PT_REGS_PARM3_SYSCALL(regs);
		return data_exit(id, fd, ptr, n, STASH_IOV, dir, ret);
	default:
		return data_exit(id, fd, ptr, 0, STASH_MSG, dir, ret);
	}
}

/* The exit program of every data syscall of bpf/tracepoints.h. */
#define DATA_PROGS(sys, args, dir)                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #sys)                                                  \
	int exit_##sys(struct trace_event_raw_sys_exit *ctx)                                       \
	{                                                                                          \
		return exit_args(ctx, ARGS_##args, dir);                                           \
	}

RT_DATA_SYSCALLS(DATA_PROGS)

/* accept/accept4 return the server side of a new connection. */
static __always_inline int accepted(long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (ret < 0 || !selected_tgid(tgid))
		return 0;
	conn_get(tgid, ret, RT_ROLE_SERVER);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accepted(ctx->ret);
}

/* connect(2)'s socket is the client side of its connection; its fd is
 * read at the exit, from syscall_regs(), as the data syscalls' are. */
SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pt_regs *regs;

	if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
		return 0;
	if (!selected_tgid(id >> 32))
		return 0;
	regs = syscall_regs();
	conn_get(id >> 32, PT_REGS_PARM1_SYSCALL(regs), RT_ROLE_CLIENT);
	return 0;
}

/*
 * close(2) of a tracked socket ends its connection. A socket without an
 * entry (evicted from the LRU, or never used for I/O) is reported too,
 * with the newest generation so far: the daemon then closes whatever
 * connection it still holds on that fd, so none outlives its socket.
 */
SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct conn_key key = {.tgid = id >> 32, .fd = ctx->args[0]};
	struct conn_info *ci;
	struct {
		struct rt_event_hdr hdr;
		struct rt_conn_id conn;
	} ev = {};
	__u16 family;

	if (!selected_tgid(key.tgid))
		return 0;
	ci = bpf_map_lookup_elem(&conns, &key);
	if (ci) {
		ev.conn.gen = ci->gen;
		bpf_map_delete_elem(&conns, &key);
	} else {
		struct file *file;

		/* a known non-socket: forget it (its struct file may be reused) */
		if (bpf_map_delete_elem(&not_socks, &key) == 0)
			return 0;
		file = fd_to_file(key.fd);
		if (!file || known_non_socket(file) || !inet_stream_sock(file, &family))
			return 0;
		ev.conn.gen = conn_gen_seq;
	}
	fill_hdr(&ev.hdr, RT_EV_CONN_CLOSE, sizeof(ev));
	ev.conn.tgid = key.tgid;
	ev.conn.fd = key.fd;
	if (ring_output(&ev, sizeof(ev)))
		count_drop(RT_DROP_RINGBUF_FULL);
	return 0;
}

/*
 * Opens for writing (log files): the path is stashed at sys_enter, and at
 * sys_exit a regular file whose identity is not marked yet is reported
 * with its fd, identity and path (bounded, NUL-terminated), within a
 * budget per process. Only loaded when logs.files has globs.
 */
static __always_inline int enter_open(__u64 path, __u64 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct stash st = {.ptr = path, .kind = STASH_OPEN, .live = 1};

	if (!log_files_on || !selected_tgid(id >> 32))
		return 0;
	if ((flags & 3) == 0 /* O_RDONLY */)
		return 0;
	if (stash_put(&st))
		count_drop(RT_DROP_STASH_FULL);
	return 0;
}

static __always_inline int exit_open(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct rt_file_event *ev;
	struct rt_file_key k;
	struct stash st;
	struct file *f;
	void *rb;
	long n;

	if (!log_files_on || !stash_take(&st) || st.kind != STASH_OPEN || ret < 0)
		return 0;
	f = fd_to_file(ret);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & 0170000) != 0100000 /* S_ISREG */)
		return 0;
	file_key(f, &k);
	if (bpf_map_lookup_elem(&log_files, &k))
		return 0; /* decided already */
	if (!take_token(&file_budget, id >> 32, file_interval_ns, file_burst_ns)) {
		count_drop(RT_DROP_FILE_RATE);
		return 0;
	}
	rb = cpu_ring();
	ev = rb ? bpf_ringbuf_reserve(rb, sizeof(*ev), 0) : NULL;
	if (!ev) {
		count_drop(RT_DROP_RINGBUF_FULL);
		return 0;
	}
	fill_hdr(&ev->hdr, RT_EV_FILE_OPEN, sizeof(*ev));
	ev->ino = k.ino;
	ev->dev = k.dev;
	ev->fd = ret;
	ev->flags = 0;
	n = bpf_probe_read_user_str(ev->path, sizeof(ev->path), (const void *)st.ptr);
	if (n <= 0) {
		ev->path[0] = 0;
		n = 1;
	}
	ev->path[sizeof(ev->path) - 1] = 0;
	ev->path_len = n;
	if (n >= (long)sizeof(ev->path))
		ev->flags = RT_FILE_F_CUT;
	/* wake the reader now: until the daemon marks the file, its writes
	 * are not captured (rare: once per file, within the budget) */
	bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return enter_open(ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how how = {};

	if (!log_files_on)
		return 0;
	if (bpf_probe_read_user(&how, sizeof(how.flags), (const void *)ctx->args[2]))
		return 0;
	return enter_open(ctx->args[1], how.flags);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open_(struct trace_event_raw_sys_enter *ctx)
{
	return enter_open(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open_(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int enter_creat(struct trace_event_raw_sys_enter *ctx)
{
	return enter_open(ctx->args[0], 1 /* O_WRONLY */);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return exit_open(ctx->ret);
}

/*
 * Shim record budgets: token buckets kept as the theoretical arrival time
 * (GCRA) of the next record. A record is let through while tat - now <=
 * burst; each one pushes tat by one interval. One bucket per process, and
 * one per uid over all its processes, so that short-lived processes (each
 * starting with a full burst) cannot add up to a flood. Set by
 * user/intake/capture.c; interval 0 turns a limit off.
 */
const volatile __u64 shim_interval_ns = 500000;	    /* 1e9 / records per second (2000/s) */
const volatile __u64 shim_burst_ns = 2000000000;    /* burst * interval (4000 records) */
const volatile __u64 shim_uid_interval_ns = 100000; /* per uid: 10000/s */
const volatile __u64 shim_uid_burst_ns = 400000000; /* ... 4000 records at once */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* theoretical arrival time, bpf_ktime_get_ns() clock */
} shim_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* uid */
	__type(value, __u64); /* theoretical arrival time */
} shim_uid_budget SEC(".maps");

/* True when the bucket of key in map may give n more tokens now. Threads
 * race on the slot; the worst case lets a few extra records through. */
static __always_inline bool take_tokens(void *map, __u32 key, __u64 interval, __u64 burst, __u32 n)
{
	__u64 now = bpf_ktime_get_ns(), *tat, first;

	if (!interval)
		return true;
	tat = bpf_map_lookup_elem(map, &key);
	if (!tat) {
		first = now + interval * n;
		bpf_map_update_elem(map, &key, &first, BPF_ANY);
		return true;
	}
	if (*tat < now)
		*tat = now;
	if (*tat - now > burst)
		return false;
	__sync_fetch_and_add(tat, interval * n);
	return true;
}

static __always_inline bool take_token(void *map, __u32 key, __u64 interval, __u64 burst)
{
	return take_tokens(map, key, interval, burst, 1);
}

/* The process's bucket first: a process over its own budget does not use
 * up its uid's. n: records in the message (a batch pays for each). */
static __always_inline bool shim_take_token(__u32 tgid, __u32 uid, __u32 n)
{
	return take_tokens(&shim_budget, tgid, shim_interval_ns, shim_burst_ns, n) &&
	       take_tokens(&shim_uid_budget, uid, shim_uid_interval_ns, shim_uid_burst_ns, n);
}

/* count_drop() for the n records of a batch: each one is a drop. */
static __always_inline void count_drops(__u32 reason, __u32 n)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += n; /* per-CPU slot: no atomic needed */
}

/* The shim's channel: ioctl(RT_SHIM_IOCTL_FD, RT_SHIM_IOCTL_CMD, msg). Only
 * selected processes may use it, each within its budget; the record carries
 * who sent it, so that the daemon can restrict reporters by uid or cgroup. */
SEC("tracepoint/syscalls/sys_enter_ioctl")
int enter_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	struct rt_shim_msg *umsg = (struct rt_shim_msg *)ctx->args[2];
	struct rt_shim_msg m;
	struct shim_scratch *sc;
	__u32 zero = 0, len, n;
	__u64 ugid;

	if ((int)ctx->args[0] != RT_SHIM_IOCTL_FD || (__u32)ctx->args[1] != RT_SHIM_IOCTL_CMD)
		return 0;
	if (!selected_tgid(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (bpf_probe_read_user(&m, sizeof(m), umsg) || m.magic != RT_SHIM_MAGIC)
		return 0;
	/* a batch pays one token per record it says it holds, and at least one
	 * per RT_SHIM_MSG_MAX bytes; the daemon reads no more records than were
	 * paid for */
	len = m.len;
	if (len > RT_SHIM_BATCH_MAX)
		len = RT_SHIM_BATCH_MAX;
	n = m.count & RT_SHIM_MSG_COUNT_MASK;
	if (n > RT_SHIM_BATCH_RECS_MAX)
		n = RT_SHIM_BATCH_RECS_MAX;
	if (n < (len + RT_SHIM_MSG_MAX - 1) / RT_SHIM_MSG_MAX)
		n = (len + RT_SHIM_MSG_MAX - 1) / RT_SHIM_MSG_MAX;
	if (n == 0)
		n = 1;
	if (!shim_take_token(bpf_get_current_pid_tgid() >> 32, (__u32)bpf_get_current_uid_gid(),
			     n)) {
		count_drops(RT_DROP_SHIM_RATE, n);
		return 0;
	}
	sc = bpf_map_lookup_elem(&shim_scratch, &zero);
	if (!sc)
		return 0;
	if (len > RT_SHIM_BATCH_MAX) /* again, for the verifier */
		len = RT_SHIM_BATCH_MAX;
	if (bpf_probe_read_user(sc->data, len, umsg->data)) {
		count_drop(RT_DROP_READ_FAULT);
		return 0;
	}
	sc->ev.len = len;
	sc->ev.count = n | (m.count & ~RT_SHIM_MSG_COUNT_MASK);
	ugid = bpf_get_current_uid_gid();
	sc->ev.uid = (__u32)ugid;
	sc->ev.gid = (__u32)(ugid >> 32);
	sc->ev.cgroup_id = bpf_get_current_cgroup_id();
	fill_hdr(&sc->ev.hdr, RT_EV_SHIM, sizeof(sc->ev) + len);
	if (ring_output(sc, sizeof(sc->ev) + len))
		count_drops(RT_DROP_RINGBUF_FULL, n);
	return 0;
}

/*
 * Processes whose selection the daemon has yet to decide (filter mode): it
 * learns of an exec or a listen() from the ring buffer and selects the
 * process a little later. Forks in between would escape selection, so the
 * children of a pending process are reported (RT_EV_PROC_FORK) and are
 * pending themselves, until the daemon has decided and deletes the entry
 * (user/intake/capture.c). An LRU: an entry the daemon never deletes only
 * costs a fork record per fork.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);  /* tgid */
	__type(value, __u8); /* 1 */
} pending SEC(".maps");

static __always_inline void mark_pending(__u32 tgid)
{
	__u8 one = 1;

	if (filter_enabled)
		bpf_map_update_elem(&pending, &tgid, &one, BPF_ANY);
}

/*
 * Listening ports, for the role of sockets opened before we started. The
 * state change to TCP_LISTEN runs in the listen() caller's context: in
 * filter mode it is reported, so that --port selection needs no /proc walk.
 */
SEC("tracepoint/sock/inet_sock_set_state")
int sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct rt_listen_event ev = {};
	__u16 port = ctx->sport;
	__u8 one = 1;
	__u32 tgid;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->oldstate == TCP_LISTEN) {
		bpf_map_delete_elem(&listen_ports, &port);
		return 0;
	}
	if (ctx->newstate != TCP_LISTEN)
		return 0;
	bpf_map_update_elem(&listen_ports, &port, &one, BPF_ANY);
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!filter_enabled || tgid == agent_tgid || select_bit(tgid))
		return 0;
	mark_pending(tgid);
	fill_hdr(&ev.hdr, RT_EV_LISTEN, sizeof(ev));
	ev.port = port;
	ev.family = ctx->family;
	if (ring_output(&ev, sizeof(ev)))
		count_drop(RT_DROP_RINGBUF_FULL);
	return 0;
}

/* type's record for the thread group whose leader is p (the header's
 * pid_tgid names the group, whoever runs). */
static __always_inline void emit_proc(__u16 type, struct task_struct *p, __u32 ppid)
{
	struct rt_proc_event ev = {};
	__u32 tgid = BPF_CORE_READ(p, tgid);

	fill_hdr(&ev.hdr, type, sizeof(ev));
	ev.hdr.pid_tgid = (__u64)tgid << 32 | tgid;
	ev.ppid = ppid;
	ev.start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	BPF_CORE_READ_STR_INTO(&ev.comm, p, comm);
	if (ring_output(&ev, sizeof(ev)))
		count_drop(RT_DROP_RINGBUF_FULL);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (tgid == agent_tgid)
		return 0;
	if (!select_bit(tgid))
		mark_pending(tgid);
	emit_proc(RT_EV_PROC_EXEC, p, BPF_CORE_READ(p, real_parent, tgid));
	return 0;
}

/*
 * A thread group is gone when its last thread exits (signal->live is
 * already 0 here): that one reports it, for every process, so that the
 * daemon can forget each one it ever heard of. The leader may exit
 * before its other threads; it is not the end of the process.
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u64 bit = 1ull << (tgid % 64);
	struct rt_select_word *w;

	/* (an exiting thread's stash slot goes with its task storage) */
	if (tgid == agent_tgid || BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	if (filter_enabled)
		bpf_map_delete_elem(&pending, &tgid);
	/* the bits die with the process (its go_procs entry goes when the
	 * daemon reads this record), never left to a tgid's next owner */
	w = select_word(tgid);
	if (w && w->selected & bit)
		__sync_fetch_and_and(&w->selected, ~bit);
	if (w && w->go & bit)
		__sync_fetch_and_and(&w->go, ~bit);
	if (w && w->go_tls & bit)
		__sync_fetch_and_and(&w->go_tls, ~bit);
	emit_proc(RT_EV_PROC_EXIT, p, 0);
	return 0;
}

/*
 * A selected process's children are selected too (nginx workers), here, at
 * once; the fork is reported so that the daemon knows them (names,
 * counts). The children of a process whose selection is pending are
 * reported, and pending too.
 */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct rt_select_word *w;

	if (!filter_enabled || ctgid == ptgid || BPF_CORE_READ(child, pid) != ctgid)
		return 0;
	if (select_bit(ptgid)) {
		w = select_word(ctgid);
		if (w)
			__sync_fetch_and_or(&w->selected, 1ull << (ctgid % 64));
	} else if (bpf_map_lookup_elem(&pending, &ptgid)) {
		mark_pending(ctgid);
	} else {
		return 0;
	}
	emit_proc(RT_EV_PROC_FORK, child, ptgid);
	return 0;
}

/* Every program of RT_OTHER_PROGS and RT_LOGFILE_PROGS exists under its listed name. */
#define CHECK_PROG(sec, name) _Static_assert(sizeof(&name) != 0, #name " is in tracepoints.h");
RT_OTHER_PROGS(CHECK_PROG)
RT_LOGFILE_PROGS(CHECK_PROG)
