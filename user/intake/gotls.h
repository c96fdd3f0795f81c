/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gotls.h - Go crypto/tls plaintext (issue 15): where to probe a Go
 * executable's crypto/tls.(*Conn).Read, Write and handshakeContext (the
 * entry, moved onto the jcc of the stack check by probesite.h, and every
 * return instruction, as file offsets), and the probes themselves,
 * attached once per executable file (bpf/tls.bpf.h's go_tls_* programs,
 * which live in capture.bpf.c).
 *
 * gotrack.c calls gotls_offsets() when it reads an executable (its reader
 * thread; the result is cached with the file) and gotls_attach() when a
 * selected Go process is followed by goroutine. A probe on a file fires in
 * every process that runs it: the programs test the selection first.
 * Files are never detached while the daemon runs (at most GOTLS_FILES).
 *
 * Only for Go's register ABI (amd64 Go 1.17+, arm64 Go 1.18+): arguments
 * are read from registers. Without a readable .gopclntab (it survives
 * -ldflags '-s -w'), without crypto/tls, or with a body the return finder
 * refuses (goret.h), nothing is attached and the reason is kept.
 *
 * API: single-threaded (the event loop), except gotls_offsets(), which
 * touches nothing shared.
 */
#ifndef REDTAP_GOTLS_H
#define REDTAP_GOTLS_H

#include <stdint.h>

#include "redtap/event.h"

#define GOTLS_RETS     16	   /* return instructions per function, at most */
#define GOTLS_FILES    32	   /* Go executables with crypto/tls probes */
#define GOTLS_BODY_MAX (64u << 10) /* larger function bodies are not decoded */

enum gotls_func {
	GOTLS_READ = 0,	     /* crypto/tls.(*Conn).Read */
	GOTLS_WRITE = 1,     /* crypto/tls.(*Conn).Write */
	GOTLS_HANDSHAKE = 2, /* crypto/tls.(*Conn).handshakeContext: a quiet call (fd only) */
	GOTLS_FUNCS,
};

/* File offsets of one executable's probe points. */
struct gotls_offsets {
	int err; /* 0: all below valid; else -errno (why nothing is probed) */
	uint64_t entry[GOTLS_FUNCS];
	uint32_t nret[GOTLS_FUNCS];
	uint64_t ret[GOTLS_FUNCS][GOTLS_RETS];
};

struct gotls_stats {
	uint64_t files;	 /* executables with crypto/tls probes */
	uint64_t failed; /* attach failures, or more than GOTLS_FILES files */
};

struct goelf;
struct bpf_object;
struct gotls;

/* Fills *out from the executable (out->err: -ENOENT without crypto/tls or
 * pclntab, -ENOTSUP for another ABI or architecture, goret_find()'s
 * errors); returns out->err. */
int gotls_offsets(const struct goelf *g, struct gotls_offsets *out);

/* File offset of the cheapest entry probe of the Go function at link-time
 * addresses [entry, end) (probesite.h: on x86-64 the jcc of its stack
 * check, else the entry): 0 or -ENOENT. */
int gotls_entry_offset(const struct goelf *g, uint64_t entry, uint64_t end, uint64_t *off);

/* The probe set on capture_obj's go_tls_* programs; NULL when they are
 * missing or without memory. gotls_free() accepts NULL. */
struct gotls *gotls_new(struct bpf_object *capture_obj);
void gotls_free(struct gotls *t);

/* Probes the executable of process tgid at o's offsets, once per file
 * (device and inode of /proc/TGID/exe), with go (where its goroutine ids
 * are) in each probe's cookie, for the processes that run the file before
 * the daemon has filled their go_procs entry: 0 (also when already probed), or
 * -errno (o->err, -ENOSPC beyond GOTLS_FILES, an attach failure). */
int gotls_attach(struct gotls *t, uint32_t tgid, const struct gotls_offsets *o,
		 const struct rt_go_proc *go);

const struct gotls_stats *gotls_stats(const struct gotls *t);

#endif /* REDTAP_GOTLS_H */
