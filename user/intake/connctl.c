// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * connctl.c - loads bpf/connctl.bpf.c through its skeleton on capture.bpf.c's
 * connection table and runs its syscall program for the daemon's changes
 * to an entry. See connctl.h.
 */
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "connctl.h"
#include "connctl.skel.h"

struct connctl {
	struct connctl_bpf *skel;
	int prog_fd;
};

struct connctl *connctl_new(int conns_fd)
{
	struct connctl *ctl = calloc(1, sizeof(*ctl));
	int err;

	if (!ctl)
		return NULL;
	ctl->skel = connctl_bpf__open();
	if (!ctl->skel) {
		err = -errno;
		goto out_free;
	}
	err = bpf_map__reuse_fd(ctl->skel->maps.conns, conns_fd);
	if (!err)
		err = connctl_bpf__load(ctl->skel);
	if (err)
		goto out_destroy;
	ctl->prog_fd = bpf_program__fd(ctl->skel->progs.conn_set);
	return ctl;

out_destroy:
	connctl_bpf__destroy(ctl->skel);
out_free:
	free(ctl);
	errno = -err;
	return NULL;
}

int connctl_apply(struct connctl *ctl, const struct rt_connctl *req)
{
	struct rt_connctl in = *req; /* the kernel copies the context back */
	struct bpf_test_run_opts opts = {
	    .sz = sizeof(opts), .ctx_in = &in, .ctx_size_in = sizeof(in)};

	if (bpf_prog_test_run_opts(ctl->prog_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

void connctl_free(struct connctl *ctl)
{
	if (!ctl)
		return;
	connctl_bpf__destroy(ctl->skel);
	free(ctl);
}
