/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * connctl.h - the daemon's changes to a kernel connection entry
 * (capture.bpf.c's "conns"): opaque (stop copying), the wide capture size
 * (HTTP/2). They go through bpf/connctl.bpf.c's syscall program, which
 * changes only that field, in place and atomically with respect to the
 * kernel programs (their tls, cap_bytes and generation are kept), and only
 * while the entry is still the connection the daemon means (its
 * generation). See include/redtap/connctl.h.
 *
 * API: connctl_new()/connctl_free() (NULL ok); connctl_apply() runs one
 * request. Needs kernel 5.14 (syscall programs): without, connctl_new()
 * fails and the daemon leaves the entries to the kernel.
 */
#ifndef REDTAP_CONNCTL_USER_H
#define REDTAP_CONNCTL_USER_H

#include "redtap/connctl.h"

struct connctl;

/* Loads the program on the conns map of a loaded capture object (its fd).
 * NULL and errno on failure. */
struct connctl *connctl_new(int conns_fd);

/* Applies req (op, value) to the entry of (req->tgid, req->fd) of
 * generation req->gen. 0 when done or already so, or -errno: -ENOENT (no
 * entry), -ESTALE (the fd holds another connection now), -EINVAL, -EBUSY
 * (include/redtap/connctl.h). */
int connctl_apply(struct connctl *ctl, const struct rt_connctl *req);

void connctl_free(struct connctl *ctl);

#endif /* REDTAP_CONNCTL_USER_H */
