/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * connctl.h - the context of bpf/connctl.bpf.c's syscall program, through
 * which the daemon (user/intake/connctl.c) changes its own fields of a
 * kernel connection entry (struct rt_conn_info in event.h) in place.
 *
 * API: the daemon runs the program with BPF_PROG_TEST_RUN and a struct
 * rt_connctl as its context; the program's return value is 0 or -errno:
 * -ENOENT (no entry for tgid, fd), -ESTALE (the entry is another
 * connection: its generation is not gen), -EINVAL (an unknown op or a
 * value above RT_CAPTURE_MAX), -EBUSY (the kernel's programs kept changing
 * the entry; not expected in practice).
 *
 * Same rules as event.h: types only, fixed-size fields, asserted layout.
 */
#ifndef REDTAP_CONNCTL_H
#define REDTAP_CONNCTL_H

#include "redtap/event.h"

enum rt_connctl_op {
	RT_CONNCTL_OPAQUE = 1, /* opaque = 1: the daemon will not parse it */
	RT_CONNCTL_WIDE = 2,   /* cap_bytes raised to value (never lowered) */
};

struct rt_connctl {
	__u64 gen; /* the connection's generation, as its records carry it */
	__u32 tgid;
	__u32 fd;
	__u32 op;    /* enum rt_connctl_op */
	__u32 value; /* RT_CONNCTL_WIDE: the capture size, <= RT_CAPTURE_MAX */
};
_Static_assert(sizeof(struct rt_connctl) == 24, "rt_connctl layout");

/* The daemon's fields (opaque, cap_bytes) and the kernel's tls share one
 * aligned 32-bit word of the entry, which the program changes with a
 * compare-and-swap: a store the kernel makes to any of them meanwhile is
 * never undone. */
#define RT_CONN_FLAGS_OFF RT_OFFSETOF(struct rt_conn_info, opaque)
_Static_assert(RT_CONN_FLAGS_OFF % 4 == 0, "rt_conn_info flags word alignment");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, tls) == RT_CONN_FLAGS_OFF + 1,
	       "rt_conn_info.tls in the flags word");
_Static_assert(RT_OFFSETOF(struct rt_conn_info, cap_bytes) == RT_CONN_FLAGS_OFF + 2,
	       "rt_conn_info.cap_bytes in the flags word");

#endif /* REDTAP_CONNCTL_H */
