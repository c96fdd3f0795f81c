/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tlsscan.h - which TLS stack an executable carries when the OpenSSL
 * probes (tlstrack.h: libssl.so files, attached by symbol) cannot see it:
 * statically linked or unexported stacks are detected, counted and logged,
 * never attached (their connections stay opaque, as before).
 *
 * From the ELF file alone, in this order:
 *   - SSL_read / SSL_write imported from a shared library, or libssl.so /
 *     libcrypto.so needed (in .dynstr): none (libssl.so is mapped, the
 *     probes cover it; a version string is only printed);
 *   - SSL_read / SSL_write defined and exported by the executable itself
 *     (Node's bundled OpenSSL): openssl_exported (only libssl.so files
 *     are probed);
 *   - a symbol name with the mangled path component "6rustls" (Rust
 *     symbols, .symtab or .dynsym), or a "/rustls-" cargo source path in
 *     .rodata (panic locations survive stripping): rustls;
 *   - "BoringSSL" in .rodata (its version text, "OpenSSL 1.1.1
 *     (compatible; BoringSSL)" in Envoy): boringssl;
 *   - an OpenSSL version text ("OpenSSL 3.", "OpenSSL 1.1.", "OpenSSL
 *     1.0.") in .rodata with no SSL_* symbol: openssl_static.
 * A file without section headers is searched as a whole for the strings.
 * A program that only mentions these strings is counted too (documented).
 *
 * API: pure functions, thread-safe. The file is attacker-supplied (any
 * local user's program): every offset and size read from it is checked
 * against the image, symbol and byte counts are bounded (TLSSCAN_MAX_*).
 */
#ifndef REDTAP_TLSSCAN_H
#define REDTAP_TLSSCAN_H

#include <stddef.h>
#include <stdint.h>

enum tlsscan_stack {
	TLSSCAN_NONE = 0, /* no TLS stack, or one the probes cover */
	TLSSCAN_BORINGSSL,
	TLSSCAN_RUSTLS,
	TLSSCAN_OPENSSL_STATIC,
	TLSSCAN_OPENSSL_EXPORTED,
	TLSSCAN_MAX
};

#define TLSSCAN_MAX_FILE (1ull << 30) /* larger files are not read (-EFBIG) */
#define TLSSCAN_MAX_SCAN (64u << 20)  /* bytes of one section searched for strings */
#define TLSSCAN_MAX_SYMS (1u << 20)   /* .dynsym entries looked at */

/* The stack of an ELF image in memory (enum tlsscan_stack), or -ENOEXEC
 * when it is no 64-bit little-endian ELF file. */
int tlsscan_image(const void *img, size_t len);

/* The same for the file at path, mapped read-only: the stack, or -errno. */
int tlsscan_path(const char *path);

/* The label value of a stack: "none", "boringssl", "rustls",
 * "openssl_static", "openssl_exported"; "unknown" out of range. */
const char *tlsscan_name(unsigned stack);

#endif /* REDTAP_TLSSCAN_H */
