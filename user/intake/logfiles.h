/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * logfiles.h - which files are log files (logs.files, issue 16): path globs,
 * the files that matched them, and the marks the kernel side needs.
 *
 * A file is known by its identity (dev, ino): the kernel's "log_files" map
 * (include/redtap/event.h, struct rt_file_key) holds, per identity, the id
 * this table gave the file, or 0 for a file opened for writing that did not
 * match. Writes to a marked file are RT_EV_LOG records with that id in
 * conn.gen, and logfiles_path() names the file.
 *
 * Marks come from two places, never from polling: logfiles_scan() reads
 * /proc/PID/fd once when a process is selected (and for every process at
 * start-up when all are), and logfiles_on_open() takes the kernel's
 * RT_EV_FILE_OPEN records (a bounded, NUL-terminated path: a relative or
 * cut one is resolved through /proc/PID/fd/FD once).
 *
 * Globs (logfiles_glob_match()): '*' and '?' do not cross '/', a double
 * star does (the glob /srv/ then two stars then .log matches /srv/a.log
 * and /srv/a/b.log; a '/' right after the two stars may also match
 * nothing, as in .gitignore), '[...]' is a bracket expression as in
 * fnmatch(3), a backslash quotes; everything else is literal.
 *
 * Bounds: at most LOGFILES_MAX files are marked at once (the oldest mark is
 * removed, in the kernel too); paths longer than LOGFILES_PATH_MAX - 1 are
 * not matched; at most LOGFILES_GLOBS globs.
 *
 * API: logfiles_new() (NULL and errno; EINVAL for a bad glob), then
 * logfiles_set_mark() to give it the kernel map's writer (none: the table
 * alone, for tests). Not thread-safe: the event loop owns it; logs.c reads
 * paths from the same thread.
 */
#ifndef REDTAP_LOGFILES_H
#define REDTAP_LOGFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redtap/event.h"

#define LOGFILES_MAX	  1024
#define LOGFILES_PATH_MAX 256
#define LOGFILES_GLOBS	  32

struct logfiles;

/* Writes (id != 0) or removes (del) the kernel's mark of (dev, ino); 0 or
 * -errno. id 0 without del: "not a log file". */
typedef int (*logfiles_mark_fn)(void *ctx, uint32_t dev, uint64_t ino, uint32_t id, bool del);

struct logfiles *logfiles_new(const char *const *globs, size_t nglobs);
void logfiles_free(struct logfiles *lf);
void logfiles_set_mark(struct logfiles *lf, logfiles_mark_fn fn, void *ctx);

/* Whether path matches glob (see above). */
bool logfiles_glob_match(const char *glob, const char *path);
/* Whether path matches one of the table's globs. */
bool logfiles_match(const struct logfiles *lf, const char *path);

/* Decides the file (dev, ino) at path: marks it as a log file (its id) or
 * not. Returns the id, 0 when it does not match. */
uint32_t logfiles_decide(struct logfiles *lf, uint32_t dev, uint64_t ino, const char *path);

/* One RT_EV_FILE_OPEN record of len bytes (checked here). */
void logfiles_on_open(struct logfiles *lf, const void *rec, size_t len);

/* Reads /proc/PID/fd once and marks the open files that match. Returns the
 * number marked, or -errno. proc: "/proc" (tests give another root). */
int logfiles_scan(struct logfiles *lf, const char *proc, uint32_t tgid);

/* The path of the file with this id, or NULL. */
const char *logfiles_path(const struct logfiles *lf, uint32_t id);

struct logfiles_stats {
	uint64_t opens;	     /* RT_EV_FILE_OPEN records taken */
	uint64_t bad;	     /* ... malformed */
	uint64_t unresolved; /* ... whose path could not be made absolute */
	uint64_t marked;     /* files marked as log files */
	uint64_t evicted;    /* marks removed for room */
};
void logfiles_stats(const struct logfiles *lf, struct logfiles_stats *out);

/* The kernel's encoding of a stat(2) st_dev (MAJOR << 20 | MINOR). */
uint32_t logfiles_kdev(uint64_t st_dev);

#endif /* REDTAP_LOGFILES_H */
