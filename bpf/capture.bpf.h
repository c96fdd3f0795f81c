/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * capture.bpf.h - BPF-only helpers of capture.bpf.c: the maps, the load-time
 * configuration, process selection, drop counting, and the walk from an fd
 * to its socket (task->files->fdt->fd[fd]->private_data->sk) with CO-RE.
 *
 * API: selected_tgid() is the first check of every program; conn_get()
 * returns the cached identity of a TCP socket fd (creating it and emitting
 * RT_EV_CONN_OPEN when the fd is new or was reused), or NULL for anything
 * that is not an inet stream socket (inet_stream_sock() tells); count_drop()
 * bumps a per-CPU counter.
 */
#ifndef REDTAP_CAPTURE_BPF_H
#define REDTAP_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "redtap/event.h"

#define AF_INET	    2
#define AF_INET6    10
#define SOCK_STREAM 1
#define S_IFMT	    00170000
#define S_IFSOCK    0140000
#define EINPROGRESS 115
#define IPPROTO_TCP 6
#define TCP_LISTEN  10

/* Load-time configuration, set by user/intake/capture.c between open and load. */
const volatile __u32 agent_tgid = 0;
const volatile __u32 capture_bytes = RT_CAPTURE_DEFAULT;
/* Bytes copied per record of an HTTP/2 connection (rt_conn_info.cap_bytes);
 * 0 when not above capture_bytes: nothing is compared with the preface. */
const volatile __u32 h2_capture_bytes = 0;
const volatile bool filter_enabled = false; /* true: only tgids in "selected" */
const volatile __u64 wakeup_bytes = 65536;  /* wake the reader past this backlog */
/* ... or past this larger one when wakeup_bytes took longer than
 * slow_fill_ns to gather (0: never; rb_flags_for()) */
const volatile __u64 wakeup_bytes_slow = 0;
const volatile __u64 slow_fill_ns = 4000000;
/* Loads through bpf_rdonly_cast() instead of bpf_probe_read_kernel() calls
 * (user/intake/kfeatures.h: kernels from 6.17 on); false leaves them out of
 * what the verifier sees. */
const volatile bool untrusted_loads = false;

/* Generation counter: makes (tgid, fd) reuse visible to the daemon. */
__u64 conn_gen_seq = 0;

/* The file operations every socket's struct file points at (the kernel's
 * socket_file_ops, which kallsyms may not list): learnt from the first
 * inet stream socket conn_get() meets, 0 until then. A file whose f_op is
 * another is no socket, so conn_get() stops there, before its look-ups. */
__u64 sock_fops = 0;

/*
 * The records' ring buffers, one per CPU (RT_RINGS_MAX at most; CPU c
 * writes ring c % ring_count): a CPU reserving in a ring no other CPU
 * writes keeps the ring's lock and producer position in its own cache
 * (BENCHMARKS.md, "Per-CPU rings"). The loader creates the rings and puts
 * them in this array before any program is attached; the daemon merges
 * them by the records' timestamps (user/intake/ringbuf.c).
 */
struct ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10); /* a template: each ring is sized by the loader */
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, RT_RINGS_MAX); /* set to ring_count by the loader */
	__type(key, __u32);
	__array(values, struct ring_inner);
} rings SEC(".maps");
const volatile __u32 ring_count = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Processes to instrument when filter_enabled, and Go processes: two
 * bitmaps over every possible tgid, interleaved (struct rt_select_word:
 * bit tgid % 64 of entry tgid / 64). An array look-up is a few
 * instructions, so processes that are not selected pay little more than
 * the tracepoint itself, and the go bit is in the line the selection test
 * read. */
/* Memory-mapped: the daemon sets and clears bits with atomic operations
 * too, so that it never undoes a bit proc_fork or go_mark() sets at the
 * same moment. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RT_SELECT_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct rt_select_word);
} selected SEC(".maps");

/* Local TCP ports in LISTEN state: a socket seen without accept/connect
 * whose local port listens is the server side of its connection. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u16);
	__type(value, __u8);
} listen_ports SEC(".maps");

/* conns: TCP socket fds of selected processes (conns.bpf.h, shared with
 * connctl.bpf.c, through which the daemon sets its fields of an entry). */
#include "conns.bpf.h"

/* Negative cache: fds of selected processes known not to be TCP sockets,
 * with their struct file *: since sock_fops (above), other sockets (unix,
 * netlink...) and whatever came before the first TCP socket. A separate
 * LRU: thrashing it costs time only, never a connection. Without it, I/O
 * on a pipe cost about 35 % more in enter_write (bench/BPF_INSNS.md).
 * Entries go at close(2). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, __u64);
} not_socks SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += 1; /* per-CPU slot: no atomic needed */
}

/* The bitmap entry holding tgid's bits, or NULL. */
static __always_inline struct rt_select_word *select_word(__u32 tgid)
{
	__u32 idx = tgid / 64;

	return bpf_map_lookup_elem(&selected, &idx);
}

static __always_inline bool select_bit(__u32 tgid)
{
	struct rt_select_word *w = select_word(tgid);

	return w && (w->selected >> (tgid % 64)) & 1;
}

static __always_inline bool selected_tgid(__u32 tgid)
{
	if (tgid == agent_tgid)
		return false;
	if (!filter_enabled)
		return true;
	return select_bit(tgid);
}

/* Whether tgid may have a go_procs entry (goroutine.bpf.h): whoever writes
 * one sets the bit first (go_mark(), the daemon's gotrack.c), so a clear bit
 * means no goroutine to read. */
static __always_inline bool go_bit(__u32 tgid)
{
	struct rt_select_word *w = select_word(tgid);

	return w && (w->go >> (tgid % 64)) & 1;
}

static __always_inline void go_mark(__u32 tgid)
{
	struct rt_select_word *w = select_word(tgid);

	if (w)
		__sync_fetch_and_or(&w->go, 1ull << (tgid % 64));
}

/* Whether a goroutine of tgid may be inside a probed crypto/tls call (a
 * go_tls_calls entry, tls.bpf.h): go_tls_mark() sets the bit before the
 * first entry is written, only proc_exit clears it. */
static __always_inline bool go_tls_bit(__u32 tgid)
{
	struct rt_select_word *w = select_word(tgid);

	return w && (w->go_tls >> (tgid % 64)) & 1;
}

/* Sets tgid's go_tls bit; a locked write only the first time, so that the
 * entries of a process using TLS do not make the line bounce. */
static __always_inline void go_tls_mark(__u32 tgid)
{
	struct rt_select_word *w = select_word(tgid);
	__u64 bit = 1ull << (tgid % 64);

	if (w && !(w->go_tls & bit))
		__sync_fetch_and_or(&w->go_tls, bit);
}

/* Each CPU's wake-up state: the bytes it produced since it last woke the
 * reader, its ring's consumer position then (plus one, so that a CPU that
 * never woke it matches nothing), when the current fill began (the last
 * wake-up, or the ring found drained) and whether it is a slow one. */
struct rt_wake {
	__u64 unwoken;
	__u64 woke_at_cons;
	__u64 fill_ns;
	__u64 slow;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_wake);
} wake SEC(".maps");

/*
 * Flags for bpf_ringbuf_output of a record of len bytes, stamped ts, into
 * ring rb: wake the reader only once rb holds wakeup_bytes it has not read;
 * the reader also polls on a short timeout, so nothing waits for long. A
 * per-CPU count of the bytes produced since the last wake-up stands for the
 * backlog, so that the ring's positions, which the reader writes, are not
 * read on every record. Past the threshold the ring itself is asked: the
 * reader may have drained it meanwhile, woken by another ring (it reads
 * them all at each wake-up), and the count starts again from what is
 * really left. Without that, each ring woke the reader on its own count,
 * and a ring drained a moment before woke it again for a few records.
 * Nor is a reader woken twice: while the ring's consumer position is where
 * it was at this CPU's last wake-up, the reader has not run since (it
 * reads every ring at each wake-up, and the record that woke it was in
 * before), so another wake-up would only cost an interrupt. A busy CPU
 * that the reader shares would otherwise raise one every wakeup_bytes
 * until the reader gets the CPU. The reader's poll timeout bounds the wait
 * should a wake-up ever be lost.
 *
 * A slow stream is read in larger bites: when wakeup_bytes took longer than
 * slow_fill_ns to gather, the reader is woken at wakeup_bytes_slow instead.
 * A reader that slept long wakes with its tables out of the caches, so
 * its wake-ups cost more the rarer they are (on a Go service the daemon
 * took 1.7 times the CPU at 32 KiB that it took at 128 KiB: BENCHMARKS.md,
 * "Larger bites of a slow stream"), while a fast stream keeps the short
 * bursts its host's tail latency needs.
 */
static __always_inline __u64 rb_flags_for(void *rb, __u32 len, __u64 ts)
{
	__u32 zero = 0;
	struct rt_wake *w = bpf_map_lookup_elem(&wake, &zero);
	__u64 left, cons, thr;

	if (!w)
		return 0;
	thr = w->slow ? wakeup_bytes_slow : wakeup_bytes;
	w->unwoken += len; /* > 0 from here on */
	if (w->unwoken < thr)
		return BPF_RB_NO_WAKEUP;
	left = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) + len;
	if (left < wakeup_bytes) {
		/* drained meanwhile: a new fill, begun when the last "left"
		 * bytes of the "unwoken" this CPU wrote since fill_ns began */
		__u64 el = ts - w->fill_ns;

		if (el > 1000000000ull)
			el = 1000000000ull;
		w->fill_ns = ts - el * left / w->unwoken;
		w->unwoken = left;
		w->slow = 0;
		return BPF_RB_NO_WAKEUP;
	}
	if (left < thr) {
		w->unwoken = left;
		return BPF_RB_NO_WAKEUP;
	}
	if (!w->slow && wakeup_bytes_slow > wakeup_bytes && ts - w->fill_ns > slow_fill_ns) {
		w->unwoken = left; /* a slow fill: wait for the larger backlog */
		w->slow = 1;
		return BPF_RB_NO_WAKEUP;
	}
	w->unwoken = 0;
	w->fill_ns = ts;
	w->slow = 0;
	cons = bpf_ringbuf_query(rb, BPF_RB_CONS_POS) + 1;
	if (cons == w->woke_at_cons)
		return BPF_RB_NO_WAKEUP; /* woken already, and not run since */
	w->woke_at_cons = cons;
	return BPF_RB_FORCE_WAKEUP;
}

/* This CPU's ring, or NULL (not filled in yet: the record is a drop). */
static __always_inline void *cpu_ring(void)
{
	__u32 k = bpf_get_smp_processor_id();

	if (k >= ring_count)
		k %= ring_count;
	return bpf_map_lookup_elem(&rings, &k);
}

/* Copies a record of len bytes into this CPU's ring: 0, or < 0 when the
 * ring is full (the caller counts the drop). Every record starts with its
 * struct rt_event_hdr, filled in (fill_hdr()). */
static __always_inline long ring_output(void *rec, __u64 len)
{
	const struct rt_event_hdr *h = rec;
	void *rb = cpu_ring();

	if (!rb)
		return -1;
	return bpf_ringbuf_output(rb, rec, len, rb_flags_for(rb, len, h->ts));
}

static __always_inline void fill_hdr(struct rt_event_hdr *h, __u16 type, __u32 len)
{
	h->ts = bpf_ktime_get_ns();
	h->pid_tgid = bpf_get_current_pid_tgid();
	h->len = len;
	h->type = type;
	h->version = RT_EVENT_VERSION;
	h->cpu = (__u8)bpf_get_smp_processor_id();
}

/* A kfunc of 6.2 on, used only with untrusted_loads; weak, so that
 * older kernels load the object. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Whether loads may go through bpf_rdonly_cast() (both are known at load
 * time: the verifier drops the other path). */
static __always_inline bool can_cast(void)
{
	return untrusted_loads && bpf_rdonly_cast;
}

/* The current task's struct file for fd, or NULL. The walk goes through
 * the task's BTF pointer: task->files->fdt and its fields are plain loads
 * (the verifier guards them), and so is fds[fd] with untrusted_loads
 * (through bpf_rdonly_cast(): a load that may fault and read 0); without,
 * that one takes a helper call, where BPF_CORE_READ took five. */
static __always_inline struct file *fd_to_file(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file *file = NULL;

	if (!files)
		return NULL;
	fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	if (can_cast()) {
		struct file **slot = bpf_rdonly_cast((void *)((__u64)fdt->fd + (__u64)fd * 8), 0);

		return *slot;
	}
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]))
		return NULL;
	return file;
}

static __always_inline void read_endpoints(struct sock *sk, __u16 family, struct rt_conn_event *ev)
{
	ev->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->remote.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&ev->local.addr, sk,
				   __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&ev->remote.addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		return;
	}
	/* IPv4-mapped IPv6: ::ffff:a.b.c.d */
	ev->local.addr[10] = ev->local.addr[11] = 0xff;
	ev->remote.addr[10] = ev->remote.addr[11] = 0xff;
	BPF_CORE_READ_INTO((__u32 *)&ev->local.addr[12], sk, __sk_common.skc_rcv_saddr);
	BPF_CORE_READ_INTO((__u32 *)&ev->remote.addr[12], sk, __sk_common.skc_daddr);
}

static __always_inline void emit_conn_open(struct conn_key *key, struct conn_info *ci,
					   struct sock *sk)
{
	struct rt_conn_event ev = {};

	fill_hdr(&ev.hdr, RT_EV_CONN_OPEN, sizeof(ev));
	ev.conn.tgid = key->tgid;
	ev.conn.fd = key->fd;
	ev.conn.gen = ci->gen;
	ev.family = ci->family;
	ev.role = ci->role;
	ev.sock_ino = ci->sock_ino;
	read_endpoints(sk, ci->family, &ev);
	if (ring_output(&ev, sizeof(ev)))
		count_drop(RT_DROP_RINGBUF_FULL);
}

/* file->f_op as a number: one load, without a helper call (the verifier
 * turns bpf_rdonly_cast() into a move and the load into one that may
 * fault and read 0). 0 without untrusted_loads: sock_fops is then never
 * learnt, and every file takes the look-ups. */
static __always_inline __u64 file_ops(struct file *file)
{
	struct file *f;

	if (!can_cast())
		return 0;
	f = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
	return (__u64)f->f_op;
}

/* True when file is known not to be a socket: its f_op is not the one
 * every socket's file has (sock_fops, once learnt). */
static __always_inline bool known_non_socket(struct file *file)
{
	return sock_fops && file_ops(file) != sock_fops;
}

/* The sock of file when it is a TCP (stream) socket of AF_INET or
 * AF_INET6, with its family; else NULL. */
static __always_inline struct sock *inet_stream_sock(struct file *file, __u16 *family)
{
	struct socket *sock;
	struct sock *sk;

	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	*family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (*family != AF_INET && *family != AF_INET6)
		return NULL;
	return BPF_CORE_READ(sk, sk_type) == SOCK_STREAM ? sk : NULL;
}

/*
 * Returns the connection state of (tgid, fd) when fd is an inet stream
 * socket, NULL otherwise. A socket seen for the first time (or again after
 * its entry was evicted) gets a new generation and an RT_EV_CONN_OPEN
 * record carrying its inode number. role_hint (from accept or connect)
 * sets the role of a fresh entry.
 */
static __always_inline struct conn_info *conn_get(__u32 tgid, __u32 fd, __u8 role_hint)
{
	struct conn_key key = {.tgid = tgid, .fd = fd};
	struct conn_info ci = {}, *cur;
	struct file *file = fd_to_file(fd);
	struct sock *sk;
	__u64 *nf, nfile;
	__u16 port;

	if (!file)
		return NULL;
	/* a pipe, a file, an eventfd...: not a socket (see sock_fops). Its
	 * fd's entries, if any, stay until close(2) or eviction. */
	if (known_non_socket(file))
		return NULL;
	cur = bpf_map_lookup_elem(&conns, &key);
	if (cur && cur->file == (__u64)file) {
		if (role_hint != RT_ROLE_UNKNOWN)
			cur->role = role_hint;
		return cur;
	}
	nf = bpf_map_lookup_elem(&not_socks, &key);
	if (nf && *nf == (__u64)file)
		return NULL;
	sk = inet_stream_sock(file, &ci.family);
	if (!sk) {
		if (cur) /* the fd now holds something else */
			bpf_map_delete_elem(&conns, &key);
		nfile = (__u64)file;
		bpf_map_update_elem(&not_socks, &key, &nfile, BPF_ANY);
		return NULL;
	}
	if (!sock_fops)
		sock_fops = file_ops(file);
	ci.file = (__u64)file;
	ci.sock_ino = BPF_CORE_READ(file, f_inode, i_ino);
	ci.gen = __sync_fetch_and_add(&conn_gen_seq, 1) + 1;
	ci.role = role_hint;
	if (ci.role == RT_ROLE_UNKNOWN) {
		port = BPF_CORE_READ(sk, __sk_common.skc_num);
		ci.role =
		    bpf_map_lookup_elem(&listen_ports, &port) ? RT_ROLE_SERVER : RT_ROLE_UNKNOWN;
	}
	if (bpf_map_update_elem(&conns, &key, &ci, BPF_ANY)) {
		count_drop(RT_DROP_CONN_FULL);
		return NULL;
	}
	emit_conn_open(&key, &ci, sk);
	return bpf_map_lookup_elem(&conns, &key);
}

#endif /* REDTAP_CAPTURE_BPF_H */
