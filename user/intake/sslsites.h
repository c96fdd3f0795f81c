/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sslsites.h - cheaper probe points for a libssl.so file (issue 15): the
 * internal functions ssl_read_internal and ssl_write_internal, found
 * through the calls of the exported wrappers, for tlstrack.c.
 *
 * OpenSSL's SSL_read / SSL_read_ex (SSL_write / SSL_write_ex) are thin
 * wrappers around a local function X (Y) with the _ex signature in 1.1.1
 * and 3.x: int ssl_read_internal(SSL *s, void *buf, size_t num, size_t
 * *readbytes), 1 on success. The wrappers start with `sub $N,%rsp`, which
 * the kernel single-steps under a uprobe (probesite.h); X and Y start with
 * a push, which it emulates. X is taken when the first `call rel32` of
 * SSL_read_ex and the first of SSL_read reach the same address inside
 * .text, other than either wrapper, whose first instruction (or the one
 * after an endbr64) is emulated; the same for Y with the write pair. Each
 * pair resolves or not on its own: tlstrack.c keeps the exported symbols
 * for a pair that does not. For the symbols it still probes by name, the
 * caller's names, it gets the cheapest equivalent offset in each function
 * (probesite_entry(): past an endbr64 before a push in CET builds).
 *
 * The file is attacker-supplied (any local user's process may map a file
 * named libssl.so*): libelf bounds sections against the image, symbol
 * counts are bounded, code bytes are read only inside .text.
 */
#ifndef REDTAP_SSLSITES_H
#define REDTAP_SSLSITES_H

#include <stddef.h>
#include <stdint.h>

#include "probesite.h"

#define SSLSITES_MAX_FILE  (256ull << 20) /* larger files are not read (-EFBIG) */
#define SSLSITES_MAX_SYMS  (1u << 20)	  /* .dynsym entries looked at */
#define SSLSITES_MAX_NAMES 8		  /* symbols a caller asks the entry offset of */

enum sslsites_pair {
	SSLSITES_READ = 0,  /* SSL_read_ex + SSL_read -> ssl_read_internal */
	SSLSITES_WRITE = 1, /* SSL_write_ex + SSL_write -> ssl_write_internal */
	SSLSITES_PAIRS,
};

struct sslsites_site {
	int err;		  /* 0: resolved, below valid; else -errno (why not) */
	uint64_t addr;		  /* link-time address of the internal function */
	uint64_t file_off;	  /* file offset of the probe (entry and return) */
	enum probesite_kind kind; /* of the instruction probed */
};

struct sslsites {
	struct sslsites_site pair[SSLSITES_PAIRS];
	/* per names[i]: bytes from the symbol to its cheapest entry probe, 0
	 * when there is none better or the symbol is not found */
	uint32_t skip[SSLSITES_MAX_NAMES];
};

/* Fills *out from an ELF image in memory (libelf may convert it in
 * place), with the entry offsets of names[0..n) (n at most
 * SSLSITES_MAX_NAMES, names may be NULL when n is 0): 0 when the image is
 * an x86-64 ELF file (each pair's err says whether it resolved), -ENOEXEC
 * otherwise, -EINVAL for too many names. */
int sslsites_image(void *img, size_t len, const char *const *names, size_t n, struct sslsites *out);

/* The same for the file at path (a private mapping): 0 or -errno. */
int sslsites_path(const char *path, const char *const *names, size_t n, struct sslsites *out);

#endif /* REDTAP_SSLSITES_H */
