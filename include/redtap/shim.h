/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shim.h - records the LD_PRELOAD shim (preload/) sends to the daemon
 * (user/intake/shim_decode.c), and the shared-memory ring that carries them when the
 * daemon runs without eBPF (preload/transport.c writes, user/intake/shm_ring.c reads).
 *
 * API: every record starts with struct rt_shim_hdr {magic, len, pid, tid,
 * type, version}. len counts the whole record; a reader must check it
 * against the bytes it really has and reject anything that does not add up.
 * Two record types:
 *   - RT_SHIM_REC_OP: one finished database operation (struct rt_shim_op),
 *     followed by text_len bytes of statement text (not NUL-terminated,
 *     possibly truncated, possibly invalid UTF-8: the reader sanitises it).
 *   - RT_SHIM_REC_HELLO: sent when the shim starts, again every few seconds
 *     while no agent acknowledged it, and as a keepalive while one did;
 *     carries the shim's drop counters, the address of its struct
 *     rt_shim_ack (include/redtap/event.h) and the random nonce stored
 *     there; the daemon checks both in the process before it writes the
 *     ack (user/intake/shimack.c) to switch the ioctl channel on.
 * Strings in fixed arrays are NUL-padded; a reader must not trust that they
 * are terminated.
 *
 * The same bytes travel on both channels: as msg->data of the ioctl channel
 * (include/redtap/event.h, at most RT_SHIM_MSG_MAX bytes) or as the payload
 * of one frame of the shared-memory ring described at the end of this file.
 *
 * Rules for this file (as for event.h): types only, no functions, no libc
 * includes; only __u8 ... __u64 and fixed arrays; largest fields first;
 * padding spelled out; a _Static_assert on every size and on the offset of
 * every field a reader uses.
 *
 * Evolution (the rule of event.h, stated here because the shim and the
 * daemon are deployed separately and a node may run an older shim than its
 * agent, or the other way round):
 *  - a field is only ever appended; existing fields keep offset and
 *    meaning, and their asserts below are never edited, only added to.
 *    rt_shim_op's text[] sits at a fixed offset, so that record grows only
 *    through a new record type or a version bump;
 *  - a reader takes a field only when hdr.len covers it (RT_SHIM_HELLO_MIN is
 *    the shortest hello it accepts) and ignores bytes it does not know;
 *  - RT_SHIM_REC_VERSION and RT_SHIM_RING_VERSION go up only when an
 *    existing field moves or changes meaning; appending does not change them.
 */
#ifndef REDTAP_SHIM_H
#define REDTAP_SHIM_H

#ifdef __BPF__
/* vmlinux.h already provides the __uN types. */
#else
#include <linux/types.h>
#endif

#define RT_SHIM_REC_MAGIC   0x68737472u /* "rtsh" */
#define RT_SHIM_REC_VERSION 1

/* The ELF section of libredtap.so that holds its struct rt_shim_ack and
 * nothing else: the daemon writes an ack only at this section's address. */
#define RT_SHIM_ACK_SECTION "redtap_ack"

/* Statement text kept per operation. A record is at most RT_SHIM_REC_MAX. */
#define RT_SHIM_TEXT_MAX 1024

enum rt_shim_rec_type {
	RT_SHIM_REC_OP = 1,
	RT_SHIM_REC_HELLO = 2,
};

enum rt_shim_system {
	RT_SHIM_SYS_POSTGRESQL = 1,
	RT_SHIM_SYS_REDIS = 2,
};

/* How an operation was issued, which says what text[] holds. */
enum rt_shim_kind {
	RT_SHIM_KIND_QUERY = 1,	   /* SQL statement text (simple or extended protocol) */
	RT_SHIM_KIND_PREPARE = 2,  /* the SQL being prepared (PQprepare, PQsendPrepare) */
	RT_SHIM_KIND_EXECUTE = 3,  /* a prepared statement runs: its SQL if the shim saw the
				    * prepare, else its name (RT_SHIM_F_TEXT_IS_NAME) */
	RT_SHIM_KIND_DESCRIBE = 4, /* PQdescribe*: the statement's SQL or portal name */
	RT_SHIM_KIND_FASTPATH = 5, /* PQfn: no text */
	RT_SHIM_KIND_COMMAND = 6,  /* a Redis command: operation[] holds its name, no text */
	RT_SHIM_KIND_MAX,
};

/* Why an operation failed. */
enum rt_shim_error {
	RT_SHIM_ERR_NONE = 0,
	RT_SHIM_ERR_SERVER = 1,	  /* the server answered with an error: see status[] */
	RT_SHIM_ERR_IO = 2,	  /* a read or write on the connection failed */
	RT_SHIM_ERR_EOF = 3,	  /* the server closed the connection */
	RT_SHIM_ERR_TIMEOUT = 4,  /* the client library's timeout expired */
	RT_SHIM_ERR_PROTOCOL = 5, /* the reply could not be parsed */
	RT_SHIM_ERR_CLIENT = 6,	  /* refused by the client library (NULL result, busy, OOM) */
	RT_SHIM_ERR_ABORTED = 7,  /* pipeline: skipped because an earlier query failed */
	RT_SHIM_ERR_CLOSED = 8,	  /* the connection was closed or reset while it was pending */
	RT_SHIM_ERR_MAX,
};

/* rt_shim_op.flags */
#define RT_SHIM_F_ASYNC	       (1u << 0) /* issued through an asynchronous API */
#define RT_SHIM_F_PIPELINE     (1u << 1) /* queued behind others (pipeline, append) */
#define RT_SHIM_F_TRUNCATED    (1u << 2) /* text[] is a prefix of a longer statement */
#define RT_SHIM_F_TEXT_IS_NAME (1u << 3) /* text[] is a statement or portal name */
#define RT_SHIM_F_UNIX_SOCKET  (1u << 4) /* server_address is a unix socket (directory) */

/* rt_shim_hello.features */
#define RT_SHIM_FEAT_LIBPQ	(1u << 0) /* libpq calls were seen */
#define RT_SHIM_FEAT_HIREDIS	(1u << 1) /* hiredis calls were seen */
#define RT_SHIM_FEAT_HIREDIS_V1 (1u << 2) /* ... and that hiredis has the 1.x layout */
#define RT_SHIM_FEAT_IOCTL	(1u << 3) /* this record travelled by ioctl */
#define RT_SHIM_FEAT_RING	(1u << 4) /* this record travelled by the ring */

struct rt_shim_hdr {
	__u32 magic;  /* RT_SHIM_REC_MAGIC */
	__u32 len;    /* bytes of the whole record, header included */
	__u32 pid;    /* getpid() of the writer, in its own pid namespace */
	__u32 tid;    /* gettid() of the calling thread, same namespace */
	__u16 type;   /* enum rt_shim_rec_type */
	__u8 version; /* RT_SHIM_REC_VERSION */
	__u8 pad0;
	__u32 pad1;
};
_Static_assert(sizeof(struct rt_shim_hdr) == 24, "rt_shim_hdr layout");
_Static_assert(__builtin_offsetof(struct rt_shim_hdr, len) == 4, "rt_shim_hdr.len");
_Static_assert(__builtin_offsetof(struct rt_shim_hdr, pid) == 8, "rt_shim_hdr.pid");
_Static_assert(__builtin_offsetof(struct rt_shim_hdr, tid) == 12, "rt_shim_hdr.tid");
_Static_assert(__builtin_offsetof(struct rt_shim_hdr, type) == 16, "rt_shim_hdr.type");
_Static_assert(__builtin_offsetof(struct rt_shim_hdr, version) == 18, "rt_shim_hdr.version");

struct rt_shim_op {
	struct rt_shim_hdr hdr;
	__u64 start_ns;		  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) when the call began */
	__u64 end_ns;		  /* ... when its result was known */
	__u64 conn_id;		  /* opaque: the connection object's address in the writer */
	__u16 server_port;	  /* 0 when unknown */
	__u16 text_len;		  /* bytes of text[] (<= RT_SHIM_TEXT_MAX) */
	__u8 system;		  /* enum rt_shim_system */
	__u8 kind;		  /* enum rt_shim_kind */
	__u8 error;		  /* enum rt_shim_error */
	__u8 flags;		  /* RT_SHIM_F_* */
	__u8 operation[32];	  /* Redis command name (upper case); empty for SQL */
	__u8 status[16];	  /* SQLSTATE, or the Redis error prefix (WRONGTYPE) */
	__u8 namespace_[64];	  /* database name, or the Redis database index */
	__u8 server_address[128]; /* host name or address, or unix socket directory/path */
	__u8 text[];
};
_Static_assert(sizeof(struct rt_shim_op) == 296, "rt_shim_op layout");
_Static_assert(__builtin_offsetof(struct rt_shim_op, start_ns) == 24, "rt_shim_op.start_ns");
_Static_assert(__builtin_offsetof(struct rt_shim_op, end_ns) == 32, "rt_shim_op.end_ns");
_Static_assert(__builtin_offsetof(struct rt_shim_op, conn_id) == 40, "rt_shim_op.conn_id");
_Static_assert(__builtin_offsetof(struct rt_shim_op, server_port) == 48, "rt_shim_op.server_port");
_Static_assert(__builtin_offsetof(struct rt_shim_op, text_len) == 50, "rt_shim_op.text_len");
_Static_assert(__builtin_offsetof(struct rt_shim_op, system) == 52, "rt_shim_op.system");
_Static_assert(__builtin_offsetof(struct rt_shim_op, kind) == 53, "rt_shim_op.kind");
_Static_assert(__builtin_offsetof(struct rt_shim_op, error) == 54, "rt_shim_op.error");
_Static_assert(__builtin_offsetof(struct rt_shim_op, flags) == 55, "rt_shim_op.flags");
_Static_assert(__builtin_offsetof(struct rt_shim_op, operation) == 56, "rt_shim_op.operation");
_Static_assert(__builtin_offsetof(struct rt_shim_op, status) == 88, "rt_shim_op.status");
_Static_assert(__builtin_offsetof(struct rt_shim_op, namespace_) == 104, "rt_shim_op.namespace_");
_Static_assert(__builtin_offsetof(struct rt_shim_op, server_address) == 168,
	       "rt_shim_op.server_address");
_Static_assert(__builtin_offsetof(struct rt_shim_op, text) == 296, "rt_shim_op.text");

#define RT_SHIM_REC_MAX (296 + RT_SHIM_TEXT_MAX)

struct rt_shim_hello {
	struct rt_shim_hdr hdr;
	__u64 start_ns;		 /* CLOCK_MONOTONIC when the shim initialised */
	__u64 ack_addr;		 /* address of the shim's struct rt_shim_ack */
	__u64 sent;		 /* records handed to a channel so far */
	__u64 dropped_full;	 /* records lost: ring full, or the agent stopped acking */
	__u64 dropped_untracked; /* operations not timed: connection, pipeline or
				  * callback tables were full */
	__u32 features;		 /* RT_SHIM_FEAT_* */
	__u32 pad0;
	__u8 service_name[64]; /* $OTEL_SERVICE_NAME of the process, or empty */
	__u8 comm[16];	       /* the thread's comm (program name) */
	/* appended (include/redtap/event.h, "Evolution"): a hello whose len ends
	 * before it comes from an older shim and is never acknowledged */
	__u64 ack_nonce; /* the nonce in the shim's struct rt_shim_ack */
};
_Static_assert(sizeof(struct rt_shim_hello) == 160, "rt_shim_hello layout");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, start_ns) == 24, "rt_shim_hello.start_ns");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, ack_addr) == 32, "rt_shim_hello.ack_addr");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, sent) == 40, "rt_shim_hello.sent");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, dropped_full) == 48,
	       "rt_shim_hello.dropped_full");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, dropped_untracked) == 56,
	       "rt_shim_hello.dropped_untracked");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, features) == 64, "rt_shim_hello.features");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, service_name) == 72,
	       "rt_shim_hello.service_name");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, comm) == 136, "rt_shim_hello.comm");
_Static_assert(__builtin_offsetof(struct rt_shim_hello, ack_nonce) == 152,
	       "rt_shim_hello.ack_nonce");
#define RT_SHIM_HELLO_MIN 152 /* the shortest hello a reader accepts (no ack_nonce) */

/*
 * The shared-memory ring (daemon without eBPF). A file of
 * RT_SHIM_RING_HDR_SIZE + data_size bytes, created by the daemon in /dev/shm
 * (or $REDTAP_SHIM_RING) with mode 0600; the shim maps it only when it is a
 * regular file owned by the shim's uid or by root and not writable by others.
 *
 * Positions (head, tail) are byte counters that only grow; the offset in the
 * data area is pos & (data_size - 1). A frame starts at an 8-byte aligned
 * position with a __u32 word (READY/BUSY flags | payload length) and a __u32
 * of padding, then the payload (one record), padded to 8 bytes; a payload
 * may wrap around the end of the data area.
 *
 * Producers (any thread of any process) reserve space with a CAS on head,
 * write the word as BUSY|len, copy the payload, then store READY|len with
 * release order. If the frame does not fit, they count it in dropped and
 * give up: nobody ever waits. The consumer (the daemon) reads frames at tail
 * while they are READY, zeroes the bytes it consumed, then advances tail
 * with release order. The daemon stores CLOCK_MONOTONIC into heartbeat_ns at
 * least every second; the shim does not write into a ring whose heartbeat is
 * older than RT_SHIM_RING_STALE_NS.
 */
#define RT_SHIM_RING_MAGIC     0x676e6972u /* "ring" */
#define RT_SHIM_RING_VERSION   1
#define RT_SHIM_RING_HDR_SIZE  256
#define RT_SHIM_RING_STALE_NS  5000000000ull
#define RT_SHIM_FRAME_READY    (1u << 31)
#define RT_SHIM_FRAME_BUSY     (1u << 30)
#define RT_SHIM_FRAME_LEN_MASK 0x3fffffffu
#define RT_SHIM_FRAME_HDR      8

struct rt_shim_ring_hdr {
	__u32 magic;	    /* RT_SHIM_RING_MAGIC */
	__u32 version;	    /* RT_SHIM_RING_VERSION */
	__u64 data_size;    /* bytes of the data area; a power of two */
	__u64 heartbeat_ns; /* CLOCK_MONOTONIC of the daemon's last heartbeat */
	__u32 daemon_pid;
	__u32 pad0;
	__u8 pad1[32];
	__u64 head; /* next position producers reserve (own cache line) */
	__u8 pad2[56];
	__u64 tail; /* next position the consumer reads (own cache line) */
	__u8 pad3[56];
	__u64 dropped; /* frames producers could not fit */
	__u8 pad4[56];
};
_Static_assert(sizeof(struct rt_shim_ring_hdr) == RT_SHIM_RING_HDR_SIZE, "ring header layout");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, data_size) == 8, "ring hdr.data_size");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, heartbeat_ns) == 16,
	       "ring hdr.heartbeat_ns");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, daemon_pid) == 24,
	       "ring hdr.daemon_pid");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, head) == 64, "ring hdr.head");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, tail) == 128, "ring hdr.tail");
_Static_assert(__builtin_offsetof(struct rt_shim_ring_hdr, dropped) == 192, "ring hdr.dropped");

#endif /* REDTAP_SHIM_H */
