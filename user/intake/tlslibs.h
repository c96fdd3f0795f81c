/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tlslibs.h - TLS stacks the OpenSSL probes cannot see, in the shared
 * libraries selected processes map: a Python extension carrying BoringSSL
 * (grpcio's cygrpc), a Node addon, a bundled libpython with OpenSSL linked
 * in, a wheel's renamed libssl (libssl-1a2b3c.so.3, exported SSL_*, not
 * probed). tlsscan.h reads the files; this module decides which to read
 * and when, and tells which processes map a file with a stack.
 *
 * tlstrack.c hands over every file a process maps (its /proc/PID/maps
 * lines) whose name is a shared library's (tlslibs_candidate()). A file is
 * read once, keyed by the device and inode its maps line shows, on a
 * scanner thread of its own: at most TLSLIBS_FILES files in all (later ones
 * are counted, not read), none larger than TLSLIBS_MAX_FILE, and at most
 * TLSLIBS_SCAN_MS of each second spent reading. A process mapping a file
 * still queued waits for it (at most TLSLIBS_WAITERS process and file
 * pairs at once: at start-up without a selection every process's
 * libraries are queued at once). The arrays are allocated with the
 * structure (the scanner's queue when it starts) but only the pages used
 * become resident.
 * A file that could not be read (its process left) is forgotten, so the
 * next process mapping it has it read.
 *
 * API: tlslibs_new()/tlslibs_free() (NULL ok). tlslibs_mapped() and
 * tlslibs_flush() are for the event loop only; the scanner thread is a
 * paced job queue (jobq.h) that touches nothing but its jobs.
 */
#ifndef REDTAP_TLSLIBS_H
#define REDTAP_TLSLIBS_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsscan.h"
#include "tlstrack.h"

#define TLSLIBS_FILES	 1024		/* library files remembered (read or queued) */
#define TLSLIBS_QUEUE	 1024		/* files waiting for the scanner thread */
#define TLSLIBS_WAITERS	 16384		/* (process, queued file) pairs waiting */
#define TLSLIBS_MAX_FILE (256ull << 20) /* larger library files are not read */
#define TLSLIBS_SCAN_MS	 100		/* of each second, at most, spent reading */

struct tlslibs_stats {
	uint64_t files;	    /* library files read */
	uint64_t found;	    /* of which carry a TLS stack */
	uint64_t skipped;   /* not read: over TLSLIBS_FILES, queue or waiters full */
	uint64_t read_err;  /* could not be read (gone, too large, not ELF) */
	uint64_t processes; /* processes told of a stack in a library they map */
};

/* tlslibs_fn (tlstrack.h): told of each process that maps a library file
 * carrying a stack. */

struct tlslibs *tlslibs_new(void);
void tlslibs_free(struct tlslibs *l);
const struct tlslibs_stats *tlslibs_stats(const struct tlslibs *l);

/* Whether a mapped file's path names a shared library worth reading:
 * "*.so", "*.so.*" or a Node addon "*.node"; not libssl.so* (probed). */
bool tlslibs_candidate(const char *path);

/* Process tgid maps lib (a maps line): read the file unless known. */
void tlslibs_mapped(struct tlslibs *l, uint32_t tgid, const struct tlstrack_lib *lib);

/* Takes what the scanner thread read and calls fn for each waiting process
 * whose file carries a stack (enum tlsscan_stack, never TLSSCAN_NONE). */
void tlslibs_flush(struct tlslibs *l, tlslibs_fn fn, void *ctx);

/* Waits until the scanner thread has read everything queued (tests). */
void tlslibs_drain(struct tlslibs *l);

#endif /* REDTAP_TLSLIBS_H */
