/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * goprobes_load.h - loads bpf/goprobes.bpf.c (the Go uprobe programs) on
 * the maps it shares with a loaded capture.bpf.c object, as one program
 * set: the daemon (user/intake/gotrack.c) and the kernel-side tests
 * (tests/bpf/test_progs.c) both load it this way.
 *
 * API: goprobes_load() returns the loaded skeleton (not attached), or NULL
 * with errno set; free it with goprobes_bpf__destroy().
 */
#ifndef REDTAP_GOPROBES_LOAD_H
#define REDTAP_GOPROBES_LOAD_H

#include <bpf/libbpf.h>

#include "goprobes.skel.h"

struct goprobes_bpf *goprobes_load(struct bpf_object *capture_obj);

#endif /* REDTAP_GOPROBES_LOAD_H */
