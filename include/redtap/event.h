/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * event.h - records the kernel side (bpf/capture.bpf.c) writes into the
 * BPF ring buffer and the daemon (user/intake/capture.c) reads back.
 *
 * API: every record starts with struct rt_event_hdr {type, version, len,
 * ts}. len is the length of the whole record including the header, so a
 * reader can skip records of types it does not know. Records are
 * variable-size: a data record carries only the bytes it captured.
 *
 * Rules for this file: types only, no functions, no libc includes; only
 * __u8 ... __u64 and fixed arrays; largest fields first; padding spelled
 * out as named fields; a _Static_assert on every size and on the offset of
 * every field a reader uses, so that the BPF and user-space compilers can
 * never disagree on a layout.
 *
 * Evolution: the kernel programs are built into the daemon, but the shim
 * (libredtap.so) and the daemon are deployed separately, so records and
 * shared structures only ever grow:
 *  - a new field is appended at the end of its structure (before a
 *    flexible data[] member only in a record whose data[] is located by a
 *    length field, never by sizeof); existing fields keep offset and
 *    meaning, and their _Static_asserts are never edited, only added to;
 *  - a reader takes a field only when the record's own length (hdr.len, or
 *    the shim's len) covers it, and skips what follows the fields it knows;
 *  - RT_EVENT_VERSION (and RT_SHIM_VERSION in shim.h) goes up only when an
 *    existing field changes offset or meaning; a reader drops records of
 *    another version and counts them. Appending does not change it.
 */
#ifndef REDTAP_EVENT_H
#define REDTAP_EVENT_H

#ifdef __BPF__
/* vmlinux.h already provides the __uN types. */
#else
#include <linux/types.h>
#endif

#define RT_EVENT_VERSION 1

/* offsetof for the layout checks, usable by clang -target bpf too. */
#define RT_OFFSETOF(type, field) __builtin_offsetof(type, field)

/* Hard upper bound of the bytes copied from one syscall buffer. The
 * default (256) is set at load time through a const volatile global. */
#define RT_CAPTURE_MAX	   8192
#define RT_CAPTURE_DEFAULT 256
/* Bytes copied per record of an HTTP/2 connection by default (the
 * daemon's capture.http2_bytes; bpf/capture.bpf.c, h2_capture_bytes). */
#define RT_H2_CAPTURE_DEFAULT RT_CAPTURE_MAX

/* Records go to one ring buffer per CPU, at most this many rings (CPU c
 * writes ring c % rings); the daemon merges them by hdr.ts. */
#define RT_RINGS_MAX 16

/* The selection bitmap covers every tgid up to the kernel's PID_MAX_LIMIT
 * (4 Mi on 64-bit): 65536 entries of four 64-bit words, 2 MiB. */
#define RT_SELECT_WORDS ((4u << 20) / 64)

/* One entry of the "selected" map (bpf/capture.bpf.h): bit tgid % 64 of
 * entry tgid / 64. selected: the process is instrumented. go: it is a Go
 * process with a go_procs entry (bpf/goroutine.bpf.h), so that a data
 * record of any other process reads no goroutine and looks nothing up.
 * go_tls: one of its goroutines entered a probed crypto/tls call
 * (bpf/tls.bpf.h), so that the records of a Go process that never did
 * look no call up. Both in the entry's own cache line, which the
 * selection test has just read (32 bytes: two entries a line, none
 * across a line or a page). */
struct rt_select_word {
	__u64 selected;
	__u64 go;
	__u64 go_tls;
	__u64 pad0;
};
_Static_assert(sizeof(struct rt_select_word) == 32, "rt_select_word layout");
_Static_assert(RT_OFFSETOF(struct rt_select_word, go) == 8, "rt_select_word.go");
_Static_assert(RT_OFFSETOF(struct rt_select_word, go_tls) == 16, "rt_select_word.go_tls");

/* At most this many iovec entries are looked at per readv/writev/msghdr. */
#define RT_IOV_MAX 8

enum rt_event_type {
	RT_EV_DATA = 1,	      /* bytes read from or written to a socket */
	RT_EV_CONN_OPEN = 2,  /* socket first seen: endpoints, role hint */
	RT_EV_CONN_CLOSE = 3, /* close(2) of a tracked socket */
	RT_EV_PROC_EXEC = 4,  /* a process exec'd: (re)evaluate selection */
	RT_EV_PROC_EXIT = 5,  /* a process (thread group) exited */
	RT_EV_SHIM = 6,	      /* a record from the LD_PRELOAD shim (ioctl) */
	RT_EV_PROC_FORK = 7,  /* a child of a process whose selection is pending */
	RT_EV_LISTEN = 8,     /* a process put a TCP socket in LISTEN state */
	RT_EV_LOG = 9,	      /* bytes written to stdout/stderr (log capture) */
	RT_EV_FILE_OPEN = 10, /* a file opened for writing (logs.files) */
	RT_EV_TYPE_MAX,
};

/* Where the bytes of a data record went. */
enum rt_direction {
	RT_DIR_INGRESS = 0, /* read by the process from the socket */
	RT_DIR_EGRESS = 1,  /* written by the process to the socket */
};

/* What the kernel knows of who opened the connection. The daemon decides
 * the final role from the protocol (who sent the first request). */
enum rt_role {
	RT_ROLE_UNKNOWN = 0, /* socket existed before we saw accept/connect */
	RT_ROLE_SERVER = 1,  /* returned by accept/accept4 */
	RT_ROLE_CLIENT = 2,  /* passed to connect */
};

/* Reasons the kernel side dropped something; index of the per-CPU
 * counter array "drops". Exported as redtap_kernel_events_dropped_total. */
enum rt_drop_reason {
	RT_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_output failed */
	RT_DROP_STASH_FULL = 1,	  /* sys_enter args could not be stashed */
	RT_DROP_CONN_FULL = 2,	  /* connection table update failed */
	RT_DROP_READ_FAULT = 3,	  /* user memory could not be read */
	RT_DROP_SHIM_RATE = 4,	  /* a process exceeded its shim record budget */
	RT_DROP_LOG_RATE = 5,	  /* a process exceeded its log write budget */
	RT_DROP_TLS_NO_FD = 6,	  /* TLS plaintext whose socket is unknown (tls.bpf.h) */
	RT_DROP_FILE_RATE = 7,	  /* a process exceeded its budget of RT_EV_FILE_OPEN records */
	RT_DROP_MAX,
};

/* Common header of every record. */
struct rt_event_hdr {
	__u64 ts;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 pid_tgid; /* tgid << 32 | tid, as bpf_get_current_pid_tgid() */
	__u32 len;	/* bytes of the whole record, header included */
	__u16 type;	/* enum rt_event_type */
	__u8 version;	/* RT_EVENT_VERSION */
	__u8 cpu;	/* CPU that wrote the record (low 8 bits) */
};
_Static_assert(sizeof(struct rt_event_hdr) == 24, "rt_event_hdr layout");
_Static_assert(RT_OFFSETOF(struct rt_event_hdr, pid_tgid) == 8, "rt_event_hdr.pid_tgid");
_Static_assert(RT_OFFSETOF(struct rt_event_hdr, len) == 16, "rt_event_hdr.len");
_Static_assert(RT_OFFSETOF(struct rt_event_hdr, type) == 20, "rt_event_hdr.type");
_Static_assert(RT_OFFSETOF(struct rt_event_hdr, version) == 22, "rt_event_hdr.version");

/* Identity of one connection: (tgid, fd) and a generation number that
 * changes whenever the fd is reused for another socket. */
struct rt_conn_id {
	__u64 gen;
	__u32 tgid;
	__u32 fd;
};
_Static_assert(sizeof(struct rt_conn_id) == 16, "rt_conn_id layout");
_Static_assert(RT_OFFSETOF(struct rt_conn_id, tgid) == 8, "rt_conn_id.tgid");
_Static_assert(RT_OFFSETOF(struct rt_conn_id, fd) == 12, "rt_conn_id.fd");

/* Key and value of the kernel's "conns" map: one entry per TCP socket fd
 * of a selected process that did socket I/O (other fds never get one).
 * The daemon sets opaque on a connection it has classified as a protocol
 * it does not parse, so the kernel stops copying its data, and raises
 * cap_bytes on one it has classified as HTTP/2 (the kernel raises it
 * itself when it sees the connection start with the HTTP/2 preface). */
struct rt_conn_key {
	__u32 tgid;
	__u32 fd;
};
_Static_assert(sizeof(struct rt_conn_key) == 8, "rt_conn_key layout");

struct rt_conn_info {
	__u64 file; /* struct file * the fd pointed to: detects fd reuse */
	__u64 gen;
	/* 1 once goprobes.bpf.c's single persistConn.roundTrip probe has set
	 * this connection's owner in go_fd_owner: only then do its egress
	 * records look that map up (was is_sock, always 1) */
	__u8 go_owned;
	__u8 role;
	__u16 family;
	__u8 opaque; /* set by the daemon: do not capture data */
	__u8 tls;    /* carries TLS plaintext: its syscall bytes are not copied (was padding) */
	/* Bytes copied per record on this connection, min(this, RT_CAPTURE_MAX);
	 * 0: the global capture_bytes, and its client-to-server bytes are yet
	 * to be compared with the HTTP/2 preface (was padding) */
	__u16 cap_bytes;
	__u64 sock_ino; /* the socket's inode number: its identity */
};
_Static_assert(sizeof(struct rt_conn_info) == 32, "rt_conn_info layout");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, gen) == 8, "rt_conn_info.gen");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, opaque) == 20, "rt_conn_info.opaque");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, sock_ino) == 24, "rt_conn_info.sock_ino");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, cap_bytes) == 22, "rt_conn_info.cap_bytes");

/* An IPv4 address is stored as ::ffff:a.b.c.d (IPv4-mapped IPv6). */
struct rt_endpoint {
	__u8 addr[16];
	__u16 port; /* host byte order */
	__u16 pad0;
	__u32 pad1;
};
_Static_assert(sizeof(struct rt_endpoint) == 24, "rt_endpoint layout");

struct rt_data_event {
	struct rt_event_hdr hdr;
	struct rt_conn_id conn;
	__u64 len;     /* bytes the syscall moved (its return value) */
	__u32 cap_len; /* bytes of data[] that follow (<= len) */
	__u8 dir;      /* enum rt_direction */
	__u8 flags;    /* RT_DATA_F_*; was padding, 0 from older kernel programs */
	__u8 pad0[2];
	__u8 data[]; /* cap_len bytes, the record ends here */
};
_Static_assert(sizeof(struct rt_data_event) == 56, "rt_data_event layout");
_Static_assert(RT_OFFSETOF(struct rt_data_event, conn) == 24, "rt_data_event.conn");
_Static_assert(RT_OFFSETOF(struct rt_data_event, len) == 40, "rt_data_event.len");
_Static_assert(RT_OFFSETOF(struct rt_data_event, cap_len) == 48, "rt_data_event.cap_len");
_Static_assert(RT_OFFSETOF(struct rt_data_event, dir) == 52, "rt_data_event.dir");
_Static_assert(RT_OFFSETOF(struct rt_data_event, data) == 56, "rt_data_event.data");
_Static_assert(RT_OFFSETOF(struct rt_data_event, flags) == 53, "rt_data_event.flags");

/* rt_data_event.flags: data[] is the plaintext of a TLS library call on
 * the connection (len: the bytes the call moved), not a syscall's bytes */
#define RT_DATA_F_TLS (1u << 0)

/*
 * Appended to RT_EV_DATA and RT_EV_LOG records of Go processes (issue 12):
 * after data[cap_len] comes a struct rt_data_tail when hdr.len covers it
 * (hdr.len >= sizeof(struct rt_data_event) + cap_len + sizeof(tail)). It
 * may be unaligned: readers memcpy it. Records without it have goid 0.
 */
struct rt_data_tail {
	__u64 goid; /* the goroutine that made the syscall; 0 = unknown */
};
_Static_assert(sizeof(struct rt_data_tail) == 8, "rt_data_tail layout");

/* Value of the kernel's "go_procs" map (key: tgid), written by the daemon
 * (user/intake/gotrack.c) for selected Go processes whose offsets it knows
 * (user/intake/goelf.c): g = *(thread pointer + g_tls_off), goid =
 * *(g + goid_off). owners says which owner maps of goroutine.bpf.h the
 * process's egress records look up: only those its net/http probes fill,
 * set before the probes are attached (a look-up is ~55 ns a record). */
struct rt_go_proc {
	__s32 g_tls_off;
	__u32 goid_off;
	__u32 owners; /* RT_GO_OWNER_* */
	__u32 pad0;
};
_Static_assert(sizeof(struct rt_go_proc) == 16, "rt_go_proc layout");
_Static_assert(RT_OFFSETOF(struct rt_go_proc, goid_off) == 4, "rt_go_proc.goid_off");
_Static_assert(RT_OFFSETOF(struct rt_go_proc, owners) == 8, "rt_go_proc.owners");

#define RT_GO_OWNER_WRITER (1u << 0) /* go_writer_owner: the Request.write probe */
#define RT_GO_OWNER_FD	   (1u << 1) /* go_fd_owner: roundTrip by socket */

/* Value of goprobes.bpf.c's "go_http" map (key: tgid): where a net/http
 * persistConn's socket fd is, from the executable's DWARF and symbols
 * (user/intake/gotrack.c), for the single roundTrip probe. itabs are the
 * run-time addresses of go.itab.*net.TCPConn,net.Conn and
 * go.itab.*crypto/tls.Conn,net.Conn. */
struct rt_go_http {
	__u64 tcp_itab;
	__u64 tls_itab;
	__u32 pconn_conn;  /* net/http.persistConn.conn (net.Conn) */
	__u32 tls_conn;	   /* crypto/tls.Conn.conn (net.Conn) */
	__u32 tcp_netfd;   /* net.TCPConn.conn.fd (*net.netFD) */
	__u32 netfd_sysfd; /* net.netFD.pfd.Sysfd (int) */
	__u32 unresolved;  /* set by the probe: a pc.conn it could not follow */
	__u32 pad0;
};
_Static_assert(sizeof(struct rt_go_http) == 40, "rt_go_http layout");

/* Why a Go process's record carries no goroutine id: index of the per-CPU
 * "go_unknown" array, exported as redtap_go_goroutine_unknown_total. */
enum rt_go_unknown {
	RT_GO_READ_FAULT = 0, /* thread pointer, g or goid could not be read */
	RT_GO_SYSTEM = 1,     /* goid 0: the scheduler's g0 or C code (cgo) */
	RT_GO_UNKNOWN_MAX,
};

/* RT_EV_LOG: a write(2)/writev(2) of a selected process to its standard
 * output or error, or to any fd that holds the same open file (dup'ed:
 * pipe, file, terminal, the journal's stream socket), when log capture is
 * on. The layout is struct rt_data_event's: conn.tgid and conn.fd say who
 * wrote where, conn.gen is 0, dir is RT_DIR_EGRESS, and cap_len < len
 * means the write was longer than the log copy bound. */
#define RT_LOG_CAPTURE_DEFAULT 2048

/*
 * Log files (logs.files, issue 16): writes to a regular file the daemon
 * marked as a log file (its path matched a glob) are RT_EV_LOG records too,
 * with conn.gen set to the daemon's id of that file (never 0; 0 remains
 * stdout, stderr and their dups). The kernel's "log_files" map is keyed by
 * the file's identity, so that a mark covers every fd of every selected
 * process that writes the file (dups, forks, reopens); its value is that
 * id, or 0 for a file the daemon found not to match (no more reports).
 * dev is the kernel's own encoding (MAJOR << 20 | MINOR).
 */
struct rt_file_key {
	__u64 ino;
	__u32 dev;
	__u32 pad0;
};
_Static_assert(sizeof(struct rt_file_key) == 16, "rt_file_key layout");
_Static_assert(RT_OFFSETOF(struct rt_file_key, dev) == 8, "rt_file_key.dev");

/* Bytes of the path an RT_EV_FILE_OPEN record carries, its NUL included. */
#define RT_FILE_PATH_MAX 256

/* RT_EV_FILE_OPEN: a selected process opened (open, openat, openat2,
 * creat) a regular file for writing, and its identity was not marked yet.
 * path is what the process passed (bounded, NUL-terminated by the kernel
 * side; path_len counts the NUL); RT_FILE_F_CUT when it did not fit. The
 * daemon resolves a relative or cut path through /proc/PID/fd/fd. At most a
 * budget of them per process (RT_DROP_FILE_RATE). */
struct rt_file_event {
	struct rt_event_hdr hdr;
	__u64 ino;
	__u32 dev;
	__u32 fd;
	__u32 path_len;
	__u32 flags; /* RT_FILE_F_* */
	char path[RT_FILE_PATH_MAX];
};
_Static_assert(sizeof(struct rt_file_event) == 304, "rt_file_event layout");
_Static_assert(RT_OFFSETOF(struct rt_file_event, ino) == 24, "rt_file_event.ino");
_Static_assert(RT_OFFSETOF(struct rt_file_event, dev) == 32, "rt_file_event.dev");
_Static_assert(RT_OFFSETOF(struct rt_file_event, fd) == 36, "rt_file_event.fd");
_Static_assert(RT_OFFSETOF(struct rt_file_event, path_len) == 40, "rt_file_event.path_len");
_Static_assert(RT_OFFSETOF(struct rt_file_event, path) == 48, "rt_file_event.path");
#define RT_FILE_F_CUT (1u << 0)

/* RT_EV_CONN_OPEN. The kernel's entry for a socket can be re-created
 * (after LRU eviction, which the table's size makes rare): the new entry
 * has a new gen but the same sock_ino, and the daemon keeps the
 * connection instead of treating the fd as reused. */
struct rt_conn_event {
	struct rt_event_hdr hdr;
	struct rt_conn_id conn;
	struct rt_endpoint local;
	struct rt_endpoint remote;
	__u16 family; /* AF_INET or AF_INET6 of the socket */
	__u8 role;    /* enum rt_role */
	__u8 pad0[5];
	__u64 sock_ino; /* appended: the socket's inode number (socket:[N]) */
};
_Static_assert(sizeof(struct rt_conn_event) == 104, "rt_conn_event layout");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, conn) == 24, "rt_conn_event.conn");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, local) == 40, "rt_conn_event.local");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, remote) == 64, "rt_conn_event.remote");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, family) == 88, "rt_conn_event.family");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, role) == 90, "rt_conn_event.role");
_Static_assert(RT_OFFSETOF(struct rt_conn_event, sock_ino) == 96, "rt_conn_event.sock_ino");

/* RT_EV_PROC_EXEC, RT_EV_PROC_EXIT and RT_EV_PROC_FORK: the header's
 * pid_tgid says who (the child for a fork); ppid is the parent's tgid for
 * exec and fork, 0 for exit. comm is the task name: the service name of
 * last resort for processes that are gone before the daemon can read
 * /proc. start_ns is the process's start time (task->start_boottime, ns
 * since boot; /proc/PID/stat field 22 in clock ticks): with the tgid it
 * names one process even across pid reuse. Exit is sent for every thread
 * group that dies (its last thread exiting). */
struct rt_proc_event {
	struct rt_event_hdr hdr;
	__u32 ppid;
	__u32 pad0;
	char comm[16];
	__u64 start_ns; /* appended */
};
_Static_assert(sizeof(struct rt_proc_event) == 56, "rt_proc_event layout");
_Static_assert(RT_OFFSETOF(struct rt_proc_event, ppid) == 24, "rt_proc_event.ppid");
_Static_assert(RT_OFFSETOF(struct rt_proc_event, comm) == 32, "rt_proc_event.comm");
_Static_assert(RT_OFFSETOF(struct rt_proc_event, start_ns) == 48, "rt_proc_event.start_ns");

/* RT_EV_LISTEN: sent from listen(2)'s context (sock:inet_sock_set_state to
 * TCP_LISTEN), so the header's pid_tgid is the listening process. Sent
 * only when the daemon selects processes (filter mode). */
struct rt_listen_event {
	struct rt_event_hdr hdr;
	__u16 port; /* local port, host byte order */
	__u16 family;
	__u32 pad0;
};
_Static_assert(sizeof(struct rt_listen_event) == 32, "rt_listen_event layout");
_Static_assert(RT_OFFSETOF(struct rt_listen_event, port) == 24, "rt_listen_event.port");

/*
 * The LD_PRELOAD shim reaches the kernel side with a syscall that does
 * nothing: ioctl(RT_SHIM_IOCTL_FD, RT_SHIM_IOCTL_CMD, struct rt_shim_msg *)
 * on an fd that cannot exist, so it fails with EBADF. sys_enter_ioctl sees
 * it and copies msg->data[0..len) into an RT_EV_SHIM record. The bytes in
 * data[] are the shim's own records (include/redtap/shim.h).
 *
 * Acknowledgement: BPF programs of this kind cannot write user memory on
 * this platform (bpf_probe_write_user is refused for tracepoints), so the
 * daemon acknowledges from user space: a shim "hello" record carries the
 * address of a struct rt_shim_ack inside the shim and the nonce stored
 * there, and the daemon writes it through /proc/PID/mem once the address
 * checks out as the shim's own ack section (docs/shim.md, "The
 * acknowledgement"), refreshing expires_ns every few seconds.
 * The shim uses the ioctl channel only while now < expires_ns
 * (CLOCK_MONOTONIC), so with no agent it costs nothing, and it stops by
 * itself when the agent goes away.
 */
#define RT_SHIM_IOCTL_FD  (-1000)
#define RT_SHIM_IOCTL_CMD 0x52544150u /* "RTAP" */
#define RT_SHIM_MAGIC	  0x72746170u /* "rtap" */
#define RT_SHIM_ACK	  0x61636b21u /* "ack!" */
#define RT_SHIM_MSG_MAX	  2048	      /* bytes of data[] the kernel copies per token */

struct rt_shim_ack {
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = not acknowledged */
	__u32 magic;	  /* RT_SHIM_ACK once written by the daemon */
	__u32 flags;	  /* RT_SHIM_ACK_F_*; was padding, which older daemons write as 0 */
	/* Appended: a random number the shim draws at start-up and also sends
	 * in its hello. The daemon reads it back from the process before every
	 * write and writes only the RT_SHIM_ACK_WRITE bytes above. */
	__u64 nonce;
};
_Static_assert(sizeof(struct rt_shim_ack) == 24, "rt_shim_ack layout");
_Static_assert(RT_OFFSETOF(struct rt_shim_ack, magic) == 8, "rt_shim_ack.magic");
_Static_assert(RT_OFFSETOF(struct rt_shim_ack, nonce) == 16, "rt_shim_ack.nonce");
_Static_assert(RT_OFFSETOF(struct rt_shim_ack, flags) == 12, "rt_shim_ack.flags");
#define RT_SHIM_ACK_WRITE 16 /* bytes of struct rt_shim_ack the daemon writes */

/* rt_shim_ack.flags: the daemon reads batches (rt_shim_msg.count) */
#define RT_SHIM_ACK_F_BATCH (1u << 0)

/*
 * Batches: with RT_SHIM_ACK_F_BATCH in the ack, data[] may hold several
 * shim records (at most RT_SHIM_BATCH_MAX bytes), each starting at an
 * 8-byte aligned offset (a record's hdr.len says where it ends; zero
 * padding up to the next multiple of 8). count's low 16 bits say how many:
 * the kernel charges that many tokens of the shim budgets (clamped to
 * 1..RT_SHIM_BATCH_RECS_MAX, and at least one per RT_SHIM_MSG_MAX bytes, so
 * that a token never buys more bytes than before batches) and the daemon
 * reads at most that many records. 0 (older shims) means one.
 */
#define RT_SHIM_BATCH_MAX      8192 /* bytes of data[] the kernel copies from a message */
#define RT_SHIM_BATCH_RECS_MAX 32
#define RT_SHIM_MSG_COUNT_MASK 0xffffu
#define RT_SHIM_MSG_F_FOREIGN  (1u << 16) /* sent by another thread than the records' own */

struct rt_shim_msg {
	__u32 magic; /* RT_SHIM_MAGIC */
	__u32 len;   /* bytes of data[] */
	__u32 count; /* records in data[] (low 16 bits) | RT_SHIM_MSG_F_*; was reserved, 0 */
	__u32 pad0;
	__u8 data[];
};
_Static_assert(sizeof(struct rt_shim_msg) == 16, "rt_shim_msg layout");
_Static_assert(RT_OFFSETOF(struct rt_shim_msg, len) == 4, "rt_shim_msg.len");
_Static_assert(RT_OFFSETOF(struct rt_shim_msg, count) == 8, "rt_shim_msg.count");
_Static_assert(RT_OFFSETOF(struct rt_shim_msg, data) == 16, "rt_shim_msg.data");

/* RT_EV_SHIM: the header's pid_tgid and ts are those of the ioctl; uid,
 * gid and cgroup_id are the caller's as the kernel saw them (real uid and
 * gid in the initial user namespace, cgroup v2 id), for the daemon's
 * shim.uids / shim.cgroups restrictions. */
struct rt_shim_event {
	struct rt_event_hdr hdr;
	__u32 len;   /* bytes of data[] */
	__u32 count; /* records paid for (1..RT_SHIM_BATCH_RECS_MAX) | the msg's RT_SHIM_MSG_F_*;
		      * 0 from kernel programs older than batches: one */
	__u64 cgroup_id;
	__u32 uid;
	__u32 gid;
	__u8 data[];
};
_Static_assert(sizeof(struct rt_shim_event) == 48, "rt_shim_event layout");
_Static_assert(RT_OFFSETOF(struct rt_shim_event, count) == 28, "rt_shim_event.count");

#endif /* REDTAP_EVENT_H */
