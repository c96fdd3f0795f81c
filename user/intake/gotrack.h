/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gotrack.h - Go processes in the intake: what the kernel needs to read a
 * selected Go process's current goroutine (from its executable, through
 * goelf.h, cached by file identity), and the executor ids that stand for
 * goroutines in the records the pipeline sees.
 *
 * Goroutines move between threads, so for a Go process the thread id of a
 * record does not say which request it serves. A data or log record that
 * carries a goroutine id is handed on with an executor id beside it (the
 * record itself is not copied or changed): from gotrack_executor(),
 * >= GOTRACK_EXEC_BASE (above every kernel thread id), one per live (tgid,
 * goid). The pipeline takes it as the record's thread, so every stage that
 * keys work by thread (the tracer's serving table, log correlation) keys Go
 * work by goroutine without knowing it. Records without a goroutine id go
 * with 0 beside them and keep their thread (the fallback).
 *
 * With the kernel side (capture.c): gotrack_bpf_init() loads
 * bpf/goprobes.bpf.c on capture.bpf.c's Go maps; gotrack_select() fills
 * the go_procs entry of a selected Go process and attaches its net/http
 * entry probes (and undoes both); gotrack_deliver() hands a record on with
 * the executor id that stands for its thread.
 *
 * API: gotrack_new()/gotrack_free() (NULL ok). Single-threaded: the event
 * loop only.
 */
#ifndef REDTAP_GOTRACK_H
#define REDTAP_GOTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "goruntime.h"
#include "gotls.h"
#include "redtap/event.h"
#include "tlsscan.h"

#define GOTRACK_EXEC_BASE  0x80000000u /* kernel tids stay below 2^22 */
#define GOTRACK_INSPECT_MS 250	       /* ms per second the reader thread may spend reading */
#define GOTRACK_STARTUP_MS 3000	       /* ms of reading at start-up, before the event loop */

/* Why a Go process gets no goroutine ids (the thread fallback). */
enum gotrack_fallback {
	GOTRACK_NO_OFFSETS = 0,	    /* goid offset or TLS mode unknown (never guessed) */
	GOTRACK_INSPECT_BUDGET = 1, /* the executable reader's queue was full (retried later) */
	GOTRACK_FALLBACK_MAX,
};

/* The Go functions probed at entry for net/http client parenting. */
enum gotrack_probe {
	GOTRACK_PCONN_ROUNDTRIP = 0, /* net/http.(*persistConn).roundTrip */
	GOTRACK_REQUEST_WRITE = 1,   /* net/http.(*Request).write */
	GOTRACK_PROBE_MAX,
};

struct gotrack_proc {
	bool is_go;
	bool tracked;			       /* goroutine ids readable: go is valid */
	struct rt_go_proc go;		       /* the kernel's go_procs value */
	char version[32];		       /* "go1.19.8" or "" */
	uint64_t probe_off[GOTRACK_PROBE_MAX]; /* file offsets; 0 = not found */
	bool http_fd;			       /* http valid: one probe (roundTrip) will do */
	struct rt_go_http http;		       /* goprobes.bpf.c's go_http value */
	struct gotls_offsets tls;	       /* crypto/tls probe points */
	bool pie;			       /* addresses move by the load bias */
	uint8_t tls_stack;		       /* enum tlsscan_stack of a non-Go executable */
	int rt_err;			       /* goruntime_layout()'s result for rt */
	struct goruntime_layout rt;	       /* where the runtime's figures are */
};

struct gotrack_stats {
	uint64_t processes;			 /* Go processes inspected */
	uint64_t probed;			 /* ... with net/http entry probes attached */
	uint64_t probed_one;			 /* ... of them with the roundTrip probe alone */
	uint64_t probe_failed;			 /* attach failures or no room for links */
	uint64_t fallback[GOTRACK_FALLBACK_MAX]; /* ... left on threads, by reason */
	uint64_t exec_evicted;			 /* executor ids dropped for room */
	uint64_t first_byte_moved;		 /* 1-byte reads given to the next reader */
	/* selected processes now running a TLS stack the probes cannot see */
	uint64_t tls_unsupported[TLSSCAN_MAX];
};

struct gotrack;

struct gotrack *gotrack_new(void);
void gotrack_free(struct gotrack *t);

/* Inspects the executable of process tgid (/proc/TGID/exe) now, blocking
 * for as long as reading it takes (up to a few hundred ms): 0 with *out
 * filled (out->is_go false for other programs), or -errno. For tools and
 * tests; gotrack_select() hands the reading to a thread of its own. */
int gotrack_inspect(struct gotrack *t, uint32_t tgid, struct gotrack_proc *out);

/* Inspects the executable at path (for tests and the cache). */
int gotrack_inspect_path(struct gotrack *t, const char *path, struct gotrack_proc *out);

/* The executor id of goroutine goid (> 0) of process tgid; 0 when there is
 * no memory for the table (the record keeps its thread). */
uint32_t gotrack_executor(struct gotrack *t, uint32_t tgid, uint64_t goid);

const struct gotrack_stats *gotrack_stats(const struct gotrack *t);

/* Counts selected process tgid in tls_unsupported[stack] (enum
 * tlsscan_stack) unless it is counted already: a stack in a library it maps. */
void gotrack_tls_stack(struct gotrack *t, uint32_t tgid, unsigned stack);

struct bpf_object;

/* Sets (on) or clears the kernel's go bit of tgid (the "selected" map's
 * go word, capture.c): set before a go_procs entry is written, cleared
 * after it is deleted, so the data programs look go_procs up only for the
 * processes that may have one. 0 or -errno. */
typedef int (*gotrack_mark_fn)(void *ctx, uint32_t tgid, bool on);

/* Loads the entry probes on the Go maps of capture_obj (loaded); mark(ctx,
 * ...) keeps the go bits. 0 or -errno: without the probes goroutine ids
 * still work, client parenting of net/http does not. */
int gotrack_bpf_init(struct gotrack *t, struct bpf_object *capture_obj, gotrack_mark_fn mark,
		     void *ctx);

/* Whether selected Go processes get the net/http client entry probes
 * (on, the default): they find the goroutine a client request was made
 * for, which only spans use (a client span's parent), at one uprobe trap a
 * request. Off when nothing builds spans. Call it before gotrack_select(). */
void gotrack_owner_probes(struct gotrack *t, bool on);

/* The loaded entry probes' object (for their statistics), or NULL. */
struct bpf_object *gotrack_bpf_object(const struct gotrack *t);

/* Process tgid entered (on) or left the selection. Exit records undo it by
 * themselves (gotrack_deliver()). An executable not read before is read by
 * the reader thread (at most GOTRACK_INSPECT_MS a second, 64 queued) and
 * applied by a later gotrack_flush(); until then the process's records
 * carry no goroutine (the thread fallback). */
void gotrack_select(struct gotrack *t, uint32_t tgid, bool on);

/* The Go runtime layout (goruntime.h) of process tgid's executable, for
 * procmetrics.c, from the executables read so far: 0 with *l and *pie
 * filled; -EAGAIN when it has not been read (it is queued for the reader
 * thread, like gotrack_select()'s: ask again later); -ENOEXEC when it is
 * no Go program; -ENOENT (no symbols) or -ENOTSUP (offsets unknown) from
 * goruntime_layout(); -ESRCH when the process is gone. Never reads
 * the executable on the caller's thread. */
int gotrack_runtime(struct gotrack *t, uint32_t tgid, struct goruntime_layout *l, bool *pie);

/* The event loop runs from now on: executables not read before are read
 * by the reader thread. Until this call, gotrack_select() reads them at
 * once (GOTRACK_STARTUP_MS in all, then the reader thread), so that the
 * processes running at start-up are followed from the first record. */
void gotrack_async(struct gotrack *t);

/* Without a selection (every process is captured): looks at every running
 * process now (call it after gotrack_bpf_init()), then at each exec, and
 * at any other process the first time one of its data records goes by. */
void gotrack_auto(struct gotrack *t);

/* One record as the ring buffer holds it, and tid: the thread it stands
 * for instead of its own (hdr.pid_tgid's low half), an executor id, or 0
 * for none (the record's own thread). */
typedef int (*gotrack_record_fn)(void *ctx, const void *data, size_t len, uint32_t tid);

/*
 * Hands a ring-buffer record on to fn, as it is. A data or log record with
 * a goroutine id (struct rt_data_tail) goes with the goroutine's executor
 * id as tid, every other with 0. One exception, for net/http servers: a
 * 1-byte read of a Go process is held back (a copy) until the next record
 * of its connection, and then carries the executor of that connection's
 * next read (see gotrack.c). Returns fn's value (the first non-zero one).
 */
int gotrack_deliver(struct gotrack *t, const void *data, size_t len, gotrack_record_fn fn,
		    void *ctx);

/* Hands on the records held since before the previous call (all of them
 * when all is set): call it after every poll. */
int gotrack_flush(struct gotrack *t, bool all, gotrack_record_fn fn, void *ctx);

/* Reasons of redtap_go_goroutine_unknown_total: the kernel's (enum
 * rt_go_unknown, records), then the daemon's (enum gotrack_fallback,
 * processes), at RT_GO_UNKNOWN_MAX + reason. */
#define GOTRACK_UNKNOWN_MAX (RT_GO_UNKNOWN_MAX + GOTRACK_FALLBACK_MAX)

/* Sums the kernel's per-CPU go_unknown counters and adds the daemon's
 * fallbacks into out. 0 or -errno (the daemon's are filled anyway). */
int gotrack_unknown(const struct gotrack *t, uint64_t out[GOTRACK_UNKNOWN_MAX]);

/* The label value of a reason < GOTRACK_UNKNOWN_MAX. */
const char *gotrack_unknown_name(unsigned reason);

/* The label value of a fallback reason. */
const char *gotrack_fallback_name(unsigned reason);

#endif /* REDTAP_GOTRACK_H */
