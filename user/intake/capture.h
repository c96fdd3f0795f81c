/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * capture.h - loads, attaches and reads the kernel side (bpf/capture.bpf.c).
 *
 * API: capture_preflight() says in one sentence why eBPF cannot work here
 * (not root, no BTF, no tracefs). capture_open() loads the programs with
 * the given options and attaches them; capture_poll() waits for records
 * and hands each one to the callback (records are only valid during the
 * call). The selected-process map is updated with capture_select(), and
 * capture_pending_done() ends the kernel's reporting of a process's forks.
 * capture_close() detaches everything and accepts NULL. Single-threaded:
 * call everything from the event loop.
 */
#ifndef REDTAP_CAPTURE_H
#define REDTAP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goruntime.h"
#include "redtap/event.h"

struct capture;
struct logfiles;

struct capture_opts {
	uint32_t capture_bytes; /* bytes copied per syscall, <= RT_CAPTURE_MAX */
	/* bytes copied per record of an HTTP/2 connection, <= RT_CAPTURE_MAX;
	 * at most capture_bytes: HTTP/2 gets capture_bytes too */
	uint32_t h2_capture_bytes;
	uint32_t ringbuf_bytes; /* all rings' size, a power of two; 0: auto */
	bool filter;		/* only processes added with capture_select() */
	uint32_t shim_rate;	/* shim records per second per process; 0 = no limit */
	uint32_t shim_burst;	/* ... and how many above it at once */
	uint32_t shim_uid_rate; /* shim records per second per uid; 0 = no limit */
	uint32_t log_bytes;	/* stdout/stderr bytes copied per write; 0 = no log capture */
	uint32_t log_rate;	/* log writes per second per process; 0 = no limit */
	uint32_t log_burst;	/* ... and how many above it at once */
	/* log files (logs.files): which files are logs, and their marks; NULL
	 * (or log_bytes 0): none, and the open programs are not loaded.
	 * Borrowed: it must outlive the capture. */
	struct logfiles *log_files;
	/* spans are built: records carry their goroutine and Go net/http
	 * clients get the probes that find a request's goroutine (one trap a
	 * request). Nothing else uses either, so without spans neither is paid. */
	bool goroutines;
};

/* Called for every record, as the ring buffer holds it, with tid: the
 * thread the record stands for instead of its own, a goroutine's executor
 * id (gotrack.h), or 0 for the record's own; returns 0 (a non-zero value
 * stops the poll). */
typedef int (*capture_record_fn)(void *ctx, const void *data, size_t len, uint32_t tid);

/* 0 when eBPF capture can be tried; else -errno and a sentence in err. */
int capture_preflight(char *err, size_t errlen);

/* NULL and errno on failure, with a sentence in err. */
struct capture *capture_open(const struct capture_opts *opts, capture_record_fn fn, void *ctx,
			     char *err, size_t errlen);

/* Waits up to timeout_ms, then consumes all pending records. Returns the
 * number of records handled or -errno (-EINTR on a signal is normal). */
int capture_poll(struct capture *c, int timeout_ms);

/* Adds (on) or removes a process from the selection. 0 or -errno. */
int capture_select(struct capture *c, uint32_t tgid, bool on);

/* The daemon has decided tgid's selection (after its RT_EV_PROC_EXEC,
 * RT_EV_PROC_FORK or RT_EV_LISTEN record): the kernel stops reporting its
 * forks. Call it after capture_select(). 0 or -errno. */
int capture_pending_done(struct capture *c, uint32_t tgid);

/* Tells the kernel to stop copying the data of connection (tgid, fd) of
 * generation gen: the daemon will not parse it. Only that field of the
 * kernel's entry changes, in place (connctl.h). 0, or -errno (-ESTALE when
 * the fd now holds another connection, -ENOENT when it has no entry,
 * -EOPNOTSUPP on a kernel without syscall programs). */
int capture_set_opaque(struct capture *c, uint32_t tgid, uint32_t fd, uint64_t gen);

/* Tells the kernel to copy up to h2_capture_bytes of each record of
 * connection (tgid, fd) of generation gen: the daemon parses it as HTTP/2.
 * 0 when done or not needed (the kernel saw the preface, or HTTP/2 gets
 * capture_bytes), or -errno (-ESTALE as above). */
int capture_set_wide(struct capture *c, uint32_t tgid, uint32_t fd, uint64_t gen);

/* Each loaded BPF program of the agent that has run, as the kernel counts
 * it while kernel.bpf_stats_enabled is 1 (with it off none has): fn(ctx,
 * its function name, ns of its runs, runs). The name is valid while c is
 * open. One bpf() call a program. */
typedef void (*capture_prog_fn)(void *ctx, const char *name, uint64_t run_ns, uint64_t runs);
void capture_prog_stats(struct capture *c, capture_prog_fn fn, void *ctx);

/* Sums the per-CPU drop counters into out[RT_DROP_MAX]. 0 or -errno. */
int capture_drops(struct capture *c, uint64_t out[RT_DROP_MAX]);

/* Go processes without goroutine ids, by reason (gotrack.h): out[0 ..
 * capture_go_reasons()). 0 or -errno. */
int capture_go_unknown(struct capture *c, uint64_t *out);
unsigned capture_go_reasons(void);

/* Selected processes running a TLS stack the OpenSSL probes cannot see,
 * by enum tlsscan_stack (tlsscan.h): out[0 .. TLSSCAN_MAX). 0 or -errno. */
int capture_tls_unsupported(struct capture *c, uint64_t *out);

/* The Go runtime layout of process tgid, as gotrack_runtime() says (its
 * executable is read by gotrack's reader thread, never by the caller):
 * 0, -EAGAIN (ask later), -ENOEXEC (not Go), -ENOSYS (no Go tracking), or
 * -errno. */
int capture_go_runtime(struct capture *c, uint32_t tgid, struct goruntime_layout *l, bool *pie);
const char *capture_go_reason_name(unsigned reason);

/* Name of a drop reason for the redtap_kernel_events_dropped_total label. */
const char *capture_drop_reason_name(unsigned reason);

void capture_close(struct capture *c);

#endif /* REDTAP_CAPTURE_H */
