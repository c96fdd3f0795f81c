// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * goprobes_load.c - opens bpf/goprobes.bpf.c, points its shared maps at
 * capture.bpf.c's and loads it. See goprobes_load.h.
 */
#include <errno.h>

#include <bpf/libbpf.h>

#include "goprobes_load.h"

/* The maps of goprobes.bpf.c that are capture.bpf.c's, by name. */
static const char *const shared[] = {"go_procs", "go_unknown", "go_writer_owner", "go_fd_owner",
				     "conns"};

struct goprobes_bpf *goprobes_load(struct bpf_object *capture_obj)
{
	struct goprobes_bpf *g = goprobes_bpf__open();
	int err;

	if (!g)
		return NULL;
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(g->obj, shared[i]);
		int fd = bpf_object__find_map_fd_by_name(capture_obj, shared[i]);

		err = m && fd >= 0 ? bpf_map__reuse_fd(m, fd) : -ENOENT;
		if (err)
			goto out_destroy;
	}
	err = goprobes_bpf__load(g);
	if (!err)
		return g;
out_destroy:
	goprobes_bpf__destroy(g);
	errno = -err;
	return NULL;
}
