/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * goelf.h - what the daemon learns from the ELF file of a Go program: that
 * it is one (.go.buildinfo, runtime.buildVersion), its Go version, how the
 * current goroutine is found from the thread pointer (pure Go or cgo /
 * external linking), the offset of goid in runtime.g (DWARF, else a
 * version table, else unknown), ELF symbols (none in stripped binaries)
 * and function bounds from .gopclntab (which survives -s -w).
 *
 * API: goelf_open() / goelf_open_mem() inspect a file or an image in
 * memory; goelf_free() accepts NULL. The file is attacker-supplied (any
 * local user's program): every offset and length read from it is checked
 * against the image, lookups are bounded, nothing is trusted.
 */
#ifndef REDTAP_GOELF_H
#define REDTAP_GOELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOELF_MAX_FILE	(1ull << 30) /* larger files are refused (-EFBIG) */
#define GOELF_MAX_DWARF (256u << 20) /* DWARF sections inflating past this are not read */

/* How the current goroutine g is found from the thread pointer. */
enum goelf_tls {
	GOELF_TLS_UNKNOWN = 0, /* do not read goroutines of this program */
	GOELF_TLS_STATIC = 1,  /* internal linking: g at tp - 8 */
	GOELF_TLS_TLSG = 2,    /* external linking (cgo): g at tp + g_tls_off from runtime.tlsg */
};

/* Where goid_off came from. */
enum goelf_src {
	GOELF_SRC_NONE = 0,  /* unknown: the daemon falls back to threads */
	GOELF_SRC_DWARF = 1, /* runtime.g's goid member in the binary's DWARF */
	GOELF_SRC_TABLE = 2, /* the version table (goelf_goid_offset_for()) */
};

struct goelf_info {
	bool is_go;
	bool has_symtab;   /* false: stripped (-s), no ELF symbols */
	bool has_dwarf;	   /* DWARF sections present */
	bool has_pclntab;  /* a .gopclntab this code reads (Go 1.18+) */
	bool external_tls; /* a PT_TLS segment: cgo or external linking */
	bool pie;	   /* ET_DYN: addresses move by the load bias */
	uint16_t machine;  /* e_machine of a 64-bit file (EM_X86_64, EM_AARCH64); 0 for 32-bit */
	char version[32];  /* "go1.19.8"; "" when unknown */
	unsigned major, minor;
	enum goelf_tls tls;
	int32_t g_tls_off; /* offset of g from the thread pointer (-8 for static) */
	uint32_t goid_off; /* offset of goid in runtime.g; 0 = unknown */
	enum goelf_src goid_src;
};

struct goelf;

/* Inspects the file at path (opened read-only). NULL and errno on failure:
 * ENOEXEC when it is no ELF file; a non-Go ELF file succeeds with
 * !info.is_go. */
struct goelf *goelf_open(const char *path);
/* The same on an image in memory, which must outlive the result. */
struct goelf *goelf_open_mem(const void *image, size_t len);
void goelf_free(struct goelf *g);

const struct goelf_info *goelf_info(const struct goelf *g);

/* Value (link-time address) and size of the ELF symbol name: 0, or -ENOENT
 * (also in stripped binaries). */
int goelf_sym(const struct goelf *g, const char *name, uint64_t *addr, uint64_t *size);

/* Link-time entry and end of the Go function name from .gopclntab: 0,
 * -ENOENT, or -ENOTSUP when the binary has no readable pclntab. */
int goelf_func(const struct goelf *g, const char *name, uint64_t *entry, uint64_t *end);

/* File offset of the link-time address addr (for uprobes): 0 or -ENOENT. */
int goelf_file_offset(const struct goelf *g, uint64_t addr, uint64_t *off);

/* A member of a struct type, looked up in DWARF (Go's linker puts every
 * type, "net/http.persistConn" too, in the "runtime" unit). */
struct goelf_field {
	const char *type; /* "runtime.mstats" */
	const char *path; /* "numgc", or a member of a member: "gFree.n" (at most 4 deep) */
	uint32_t off;	  /* out: its offset in type */
	bool found;	  /* out */
};

/* Fills f[0..n) from the DWARF of the "runtime" unit (bounded as for the
 * goid offset): how many were found, or -ENOENT without readable DWARF. */
int goelf_fields(const struct goelf *g, struct goelf_field *f, size_t n);

/* Copies len bytes at link-time address addr from the file image (no
 * bss): 0 or -ENOENT. */
int goelf_read(const struct goelf *g, uint64_t addr, void *buf, size_t len);

/* Offset of goid in runtime.g for Go major.minor by the version table
 * (amd64 and arm64 share it), 0 when the table does not know. */
uint32_t goelf_goid_offset_for(unsigned major, unsigned minor);

/* Parses "go1.19.8" (also "go1.21rc2", "devel ..."): 0 or -EINVAL. */
int goelf_parse_version(const char *s, unsigned *major, unsigned *minor);

#endif /* REDTAP_GOELF_H */
