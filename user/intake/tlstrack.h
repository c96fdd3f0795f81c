/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tlstrack.h - OpenSSL in the intake: finds the libssl files selected
 * processes map (/proc/PID/maps) and attaches capture.bpf.c's TLS probes
 * (bpf/tls.bpf.h) to each file once, with pid -1, so that one attach
 * serves every process mapping that file, including those started before
 * the agent. The read and write probes go on OpenSSL's internal
 * ssl_read_internal / ssl_write_internal when sslsites.h finds them (a
 * push the kernel emulates, instead of the wrappers' single-stepped
 * `sub $N,%rsp`: 5 us instead of 20 us a call on this VM), else on the
 * exported SSL_read, SSL_read_ex, SSL_write, SSL_write_ex, per pair.
 * Files are told apart by device and inode (the same file has
 * several paths: /lib is /usr/lib), and reached through /proc/PID/root
 * (a container's libssl is its own file).
 *
 * capture.c calls tlstrack_scan() for a process it selects, and
 * tlstrack_seen() for each data record: a process is scanned at its first
 * record after an exec (tlstrack_forget()), when its libraries are mapped.
 *
 * At start-up, tlstrack_probe_system() attaches the probes to the libssl
 * files of the system's library directories before any process maps them:
 * a short-lived process started later (one curl) is seen from its first
 * SSL call. A file's identity is the one /proc/PID/maps shows (the agent
 * maps the file once to read it), not stat()'s: on overlayfs stat() gives
 * the overlay's device, maps the real file's, and the file would be
 * attached twice.
 *
 * API: tlstrack_new()/tlstrack_free() (NULL ok). Single-threaded: the
 * event loop only. tlstrack_maps_line() is the parser of one maps line
 * (pure, fuzzed).
 */
#ifndef REDTAP_TLSTRACK_H
#define REDTAP_TLSTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSTRACK_FILES 16 /* libssl files attached at most (beyond: counted) */

struct bpf_program;

/* The programs of bpf/tls.bpf.h, from the loaded capture skeleton. */
struct tlstrack_progs {
	struct bpf_program *read, *read_ex, *write, *write_ex, *quiet, *ret;
};

struct tlstrack_stats {
	uint64_t files;	     /* libssl files with probes attached */
	uint64_t files_full; /* libssl files beyond TLSTRACK_FILES, not attached */
	uint64_t attach_err; /* files no probe could be attached to */
	uint64_t scans;	     /* /proc/PID/maps files read */
	uint64_t system;     /* of files: attached at start-up (tlstrack_probe_system()) */
	uint64_t aliases;    /* identities found to be an attached file through overlayfs */
};

/* A mapped libssl: what one maps line says. */
struct tlstrack_lib {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	uint64_t start; /* the mapping's first address */
	char path[256];
};

struct tlstrack;
struct tlslibs;
typedef void (*tlslibs_fn)(void *ctx, uint32_t tgid, unsigned stack);

struct tlstrack *tlstrack_new(const struct tlstrack_progs *progs);
void tlstrack_free(struct tlstrack *t);
const struct tlstrack_stats *tlstrack_stats(const struct tlstrack *t);

/* Attaches the probes to the libssl files tgid maps that have none yet.
 * Returns the number of files attached now, or -errno. */
int tlstrack_scan(struct tlstrack *t, uint32_t tgid);

/* Attaches the probes to the libssl.so* files of the directories the
 * dynamic loader searches by default (system_globs in tlstrack.c) that match the
 * agent's ELF class and machine. Returns the number attached. */
int tlstrack_probe_system(struct tlstrack *t);

/* The same for the files matching the glob(3) patterns given. */
int tlstrack_probe_paths(struct tlstrack *t, const char *const *globs, size_t n);

/* Other shared libraries a scanned process maps are handed to tlslibs.h,
 * which reads them for TLS stacks on its thread; tlstrack_flush() (from the
 * event loop's poll) tells fn of the processes mapping one with a stack. */
void tlstrack_flush(struct tlstrack *t, tlslibs_fn fn, void *ctx);
struct tlslibs *tlstrack_libs(struct tlstrack *t); /* NULL: none */

/* Scans every process under /proc (when every process is selected). */
void tlstrack_scan_all(struct tlstrack *t);

/* A data record of tgid: scans it if it was not since its last exec. */
void tlstrack_seen(struct tlstrack *t, uint32_t tgid);
void tlstrack_forget(struct tlstrack *t, uint32_t tgid);

/* Parses one /proc/PID/maps line (len bytes, no NUL needed): true and
 * *out when it maps a file named libssl.so* from a device. */
bool tlstrack_maps_line(const char *line, size_t len, struct tlstrack_lib *out);

/* The same for any file mapped from a device (absolute path, not deleted). */
bool tlstrack_maps_file(const char *line, size_t len, struct tlstrack_lib *out);

#endif /* REDTAP_TLSTRACK_H */
