// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tlslibs.c - TLS stacks in the shared libraries of selected processes,
 * read once per file on a scanner thread (see tlslibs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobq.h"
#include "log.h"
#include "tlslibs.h"

enum file_state {
	F_FREE,	  /* no file (or one that could not be read) */
	F_QUEUED, /* queued for, or being read by, the scanner thread */
	F_DONE,	  /* read: stack says what it carries */
};

struct lib_file {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	uint8_t state, stack;
};

struct job {
	unsigned idx;  /* in files[] */
	int rc;	       /* the stack, or -errno */
	uint32_t tgid; /* the process it was read for (logged) */
	char *path;    /* "/proc/TGID/root/..." (owned) */
};

struct waiter {
	uint32_t tgid;
	uint32_t idx;
};

struct tlslibs {
	struct lib_file files[TLSLIBS_FILES];
	unsigned nfiles;
	struct waiter waiters[TLSLIBS_WAITERS];
	unsigned nwaiters;
	struct tlslibs_stats st;
	struct jobq scanner; /* the scanner thread (see scanner_ops) */
};

static const struct jobq_ops scanner_ops;

struct tlslibs *tlslibs_new(void)
{
	struct tlslibs *l = calloc(1, sizeof(*l));

	if (l)
		jobq_init(&l->scanner, &scanner_ops);
	return l;
}

void tlslibs_free(struct tlslibs *l)
{
	if (!l)
		return;
	jobq_stop(&l->scanner);
	free(l);
}

const struct tlslibs_stats *tlslibs_stats(const struct tlslibs *l)
{
	return &l->st;
}

bool tlslibs_candidate(const char *path)
{
	const char *base = strrchr(path, '/'), *so;
	size_t n;

	base = base ? base + 1 : path;
	if (!strncmp(base, "libssl.so", 9))
		return false;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".node"))
		return true;
	for (so = strstr(base, ".so"); so; so = strstr(so + 1, ".so"))
		if (so > base && (so[3] == '\0' || so[3] == '.'))
			return true;
	return false;
}

/* Reads one file: its stack, or -errno. Touches no shared state. */
static int scan_file(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if ((uint64_t)st.st_size > TLSLIBS_MAX_FILE)
		return -EFBIG;
	return tlsscan_path(path);
}

static void scanner_run(void *job)
{
	struct job *j = job;

	j->rc = scan_file(j->path);
}

static void job_release(void *job)
{
	free(((struct job *)job)->path);
}

/* The scanner thread: at most TLSLIBS_SCAN_MS of each second (jobq.h). */
static const struct jobq_ops scanner_ops = {
    .size = sizeof(struct job),
    .cap = TLSLIBS_QUEUE,
    .ms_per_s = TLSLIBS_SCAN_MS,
    .run = scanner_run,
    .release = job_release,
};

/* Queues files[idx] for the scanner thread: false when full. */
static bool queue(struct tlslibs *l, unsigned idx, uint32_t tgid, const char *mapped_path)
{
	struct job j = {.idx = idx, .tgid = tgid};

	if (asprintf(&j.path, "/proc/%u/root%s", tgid, mapped_path) < 0)
		return false;
	if (jobq_queue(&l->scanner, &j)) {
		free(j.path);
		return false;
	}
	return true;
}

static void skip(struct tlslibs *l, const char *what, const char *path)
{
	if (!l->st.skipped++)
		rt_warn("tls: %s: %s and later such library files are not read for TLS stacks",
			what, path);
}

/* A process's files come in one scan: the last few waiters are its own. */
#define WAIT_DEDUPE 64

static void wait_for(struct tlslibs *l, uint32_t tgid, unsigned idx)
{
	for (unsigned i = l->nwaiters > WAIT_DEDUPE ? l->nwaiters - WAIT_DEDUPE : 0;
	     i < l->nwaiters; i++)
		if (l->waiters[i].tgid == tgid && l->waiters[i].idx == idx)
			return;
	if (l->nwaiters >= TLSLIBS_WAITERS) {
		skip(l, "too many processes wait for library files", "");
		return;
	}
	l->waiters[l->nwaiters++] = (struct waiter){tgid, (uint32_t)idx};
}

void tlslibs_mapped(struct tlslibs *l, uint32_t tgid, const struct tlstrack_lib *lib)
{
	struct lib_file *f = NULL, *free_slot = NULL;
	unsigned idx;

	for (unsigned i = 0; i < l->nfiles && !f; i++) {
		struct lib_file *c = &l->files[i];

		if (c->state == F_FREE) {
			if (!free_slot)
				free_slot = c;
		} else if (c->ino == lib->ino && c->dev_major == lib->dev_major &&
			   c->dev_minor == lib->dev_minor) {
			f = c;
		}
	}
	if (f) {
		/* known: a process counts only for a stack, when flushed */
		if (f->state == F_QUEUED || f->stack)
			wait_for(l, tgid, (unsigned)(f - l->files));
		return;
	}
	if (!free_slot && l->nfiles >= TLSLIBS_FILES) {
		skip(l, "more library files than remembered (TLSLIBS_FILES)", lib->path);
		return;
	}
	f = free_slot ? free_slot : &l->files[l->nfiles];
	idx = (unsigned)(f - l->files);
	if (!queue(l, idx, tgid, lib->path)) {
		skip(l, "the library scanner's queue is full",
		     lib->path); /* a later process retries */
		return;
	}
	if (!free_slot)
		l->nfiles++;
	*f = (struct lib_file){.dev_major = lib->dev_major,
			       .dev_minor = lib->dev_minor,
			       .ino = lib->ino,
			       .state = F_QUEUED};
	wait_for(l, tgid, idx);
}

void tlslibs_flush(struct tlslibs *l, tlslibs_fn fn, void *ctx)
{
	unsigned n, kept = 0;
	struct job *got = jobq_take(&l->scanner, &n);

	for (unsigned i = 0; i < n; i++) {
		struct lib_file *f = &l->files[got[i].idx];

		if (got[i].rc < 0) {
			l->st.read_err++;
			rt_debug("tls: library %s not read: %s", got[i].path, strerror(-got[i].rc));
			f->state = F_FREE; /* the next process mapping it retries */
		} else {
			f->state = F_DONE;
			f->stack = got[i].rc < TLSSCAN_MAX ? (uint8_t)got[i].rc : TLSSCAN_NONE;
			l->st.files++;
		}
		if (f->state == F_DONE && f->stack) {
			l->st.found++;
			/* the path as the process sees it, after "/proc/TGID/root" */
			rt_info(
			    "tls: library %s (mapped by process %u): TLS stack %s, which the "
			    "OpenSSL probes cannot see: not probed, its connections stay opaque",
			    strstr(got[i].path, "/root") + 5, got[i].tgid, tlsscan_name(f->stack));
		}
		free(got[i].path);
	}
	for (unsigned i = 0; i < l->nwaiters; i++) {
		struct waiter w = l->waiters[i];
		const struct lib_file *f = &l->files[w.idx];

		if (f->state == F_QUEUED) {
			l->waiters[kept++] = w;
			continue;
		}
		if (f->state == F_DONE && f->stack) {
			l->st.processes++;
			fn(ctx, w.tgid, f->stack);
		}
	}
	l->nwaiters = kept;
}

void tlslibs_drain(struct tlslibs *l)
{
	jobq_drain(&l->scanner);
}
