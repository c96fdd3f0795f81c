// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_tlsscan.c - unit tests for the TLS stack detection of executables
 * (user/intake/tlsscan.c) on ELF images built here: SSL_* imported (the
 * probes cover it) or exported, rustls symbols and source paths,
 * BoringSSL and OpenSSL version strings, no section headers, images cut
 * short or lying about their offsets, and the same through a file.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsscan.h"

#define IMG_MAX 4096

struct sym {
	const char *name;
	bool defined;
};

static uint8_t img[IMG_MAX];

/* Appends n bytes at *off; returns where they went. */
static size_t put(size_t *off, const void *p, size_t n)
{
	size_t at = *off;

	assert_true(at + n <= IMG_MAX);
	memcpy(img + at, p, n);
	*off += n;
	return at;
}

/*
 * An ELF64 image: [ehdr][.shstrtab][.rodata][.dynstr][.dynsym][.strtab][shdrs]
 * with the given .rodata bytes, dynamic symbols and .strtab bytes. Returns
 * its length.
 */
static size_t build(const char *rodata, const struct sym *syms, size_t nsyms, const char *strtab)
{
	static const char shstr[] = "\0.shstrtab\0.rodata\0.dynstr\0.dynsym\0.strtab";
	char dynstr[512] = "";
	Elf64_Sym ds[8];
	size_t off = sizeof(Elf64_Ehdr), dlen = 1, at[5];
	Elf64_Shdr sh[6];
	Elf64_Ehdr eh;

	memset(img, 0, sizeof(img));
	memset(ds, 0, sizeof(ds));
	assert_true(nsyms < 8);
	for (size_t i = 0; i < nsyms; i++) {
		ds[i + 1].st_name = (uint32_t)dlen;
		ds[i + 1].st_shndx = syms[i].defined ? 2 : SHN_UNDEF;
		ds[i + 1].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
		strcpy(dynstr + dlen, syms[i].name);
		dlen += strlen(syms[i].name) + 1;
	}
	at[0] = put(&off, shstr, sizeof(shstr));
	at[1] = put(&off, rodata, strlen(rodata) + 1);
	at[2] = put(&off, dynstr, dlen);
	at[3] = put(&off, ds, (nsyms + 1) * sizeof(ds[0]));
	at[4] = put(&off, strtab, strlen(strtab) + 1);
	off = (off + 7) & ~(size_t)7;
	memset(sh, 0, sizeof(sh));
	sh[1] = (Elf64_Shdr){
	    .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = at[0], .sh_size = sizeof(shstr)};
	sh[2] = (Elf64_Shdr){.sh_name = 11,
			     .sh_type = SHT_PROGBITS,
			     .sh_offset = at[1],
			     .sh_size = strlen(rodata) + 1};
	sh[3] =
	    (Elf64_Shdr){.sh_name = 19, .sh_type = SHT_STRTAB, .sh_offset = at[2], .sh_size = dlen};
	sh[4] = (Elf64_Shdr){.sh_name = 27,
			     .sh_type = SHT_DYNSYM,
			     .sh_offset = at[3],
			     .sh_size = (nsyms + 1) * sizeof(Elf64_Sym),
			     .sh_link = 3,
			     .sh_entsize = sizeof(Elf64_Sym)};
	sh[5] = (Elf64_Shdr){.sh_name = 35,
			     .sh_type = SHT_STRTAB,
			     .sh_offset = at[4],
			     .sh_size = strlen(strtab) + 1};
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_shoff = put(&off, sh, sizeof(sh));
	eh.e_shnum = 6;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shstrndx = 1;
	eh.e_ehsize = sizeof(eh);
	memcpy(img, &eh, sizeof(eh));
	return off;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tlsscan_name(TLSSCAN_NONE), "none");
	assert_string_equal(tlsscan_name(TLSSCAN_BORINGSSL), "boringssl");
	assert_string_equal(tlsscan_name(TLSSCAN_RUSTLS), "rustls");
	assert_string_equal(tlsscan_name(TLSSCAN_OPENSSL_STATIC), "openssl_static");
	assert_string_equal(tlsscan_name(TLSSCAN_OPENSSL_EXPORTED), "openssl_exported");
	assert_string_equal(tlsscan_name(TLSSCAN_MAX), "unknown");
}

static void test_stacks(void **state)
{
	const struct sym imported[] = {{"malloc", false}, {"SSL_write", false}};
	const struct sym exported[] = {{"SSL_read", true}, {"SSL_write", true}};
	const struct sym rust[] = {{"_ZN6rustls6client4conn17h0123456789abcdefE", true}};
	size_t n;

	(void)state;
	/* nginx: imports SSL_* from libssl.so.3 and names OpenSSL's version */
	n = build("built with OpenSSL 3.0.11 19 Sep 2023", imported, 2, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_NONE);
	/* osslsigncode: libcrypto.so.3 needed, OpenSSL's version printed */
	{
		const struct sym needed[] = {{"libcrypto.so.3", false}};

		n = build("OpenSSL 3.0.11 19 Sep 2023", needed, 1, "");
		assert_int_equal(tlsscan_image(img, n), TLSSCAN_NONE);
	}
	/* Node: OpenSSL inside, exported */
	n = build("OpenSSL 3.0.13+quic", exported, 2, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_OPENSSL_EXPORTED);
	/* static OpenSSL, symbols stripped */
	n = build("x\0OpenSSL 1.1.1w  11 Sep 2023", NULL, 0, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_NONE); /* the string after a NUL */
	n = build("OpenSSL 1.1.1w  11 Sep 2023", NULL, 0, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_OPENSSL_STATIC);
	n = build("OpenSSL 3.1.4 24 Oct 2023", NULL, 0, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_OPENSSL_STATIC);
	/* Envoy: BoringSSL says it is OpenSSL-compatible */
	n = build("OpenSSL 1.1.1 (compatible; BoringSSL)", NULL, 0, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_BORINGSSL);
	/* rustls: a symbol, in .dynsym or .strtab, or a cargo source path */
	n = build("", rust, 1, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_RUSTLS);
	n = build("", NULL, 0, "_ZN6rustls6record6Record17h0123456789abcdefE");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_RUSTLS);
	n = build("/root/.cargo/registry/src/index.crates.io/rustls-0.21.7/src/conn.rs", NULL, 0,
		  "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_RUSTLS);
	/* names that only look alike */
	n = build("rustls is a TLS library; OpenSSL 3 is another", NULL, 0, "rustlsish");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_NONE);
	n = build("hello", NULL, 0, "");
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_NONE);
}

static void test_bad_images(void **state)
{
	Elf64_Ehdr eh;
	size_t n;

	(void)state;
	assert_int_equal(tlsscan_image(img, 0), -ENOEXEC);
	assert_int_equal(tlsscan_image("\x7f"
				       "ELF",
				       4),
			 -ENOEXEC);
	n = build("BoringSSL", NULL, 0, "");
	img[EI_CLASS] = ELFCLASS32;
	assert_int_equal(tlsscan_image(img, n), -ENOEXEC);
	/* section headers past the end: the whole image is searched */
	n = build("BoringSSL", NULL, 0, "");
	memcpy(&eh, img, sizeof(eh));
	eh.e_shoff = n + 1;
	memcpy(img, &eh, sizeof(eh));
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_BORINGSSL);
	/* no section headers at all */
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	memcpy(img, &eh, sizeof(eh));
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_BORINGSSL);
	/* a .rodata running past the end, a shstrndx out of range: no crash, no match */
	n = build("OpenSSL 3.0.2", NULL, 0, "");
	for (size_t cut = sizeof(eh); cut < n; cut += 7)
		assert_true(tlsscan_image(img, cut) >= 0);
	memcpy(&eh, img, sizeof(eh));
	eh.e_shstrndx = 6;
	memcpy(img, &eh, sizeof(eh));
	assert_int_equal(tlsscan_image(img, n), TLSSCAN_OPENSSL_STATIC); /* whole file */
}

static void test_path(void **state)
{
	char path[] = "/tmp/redtap-tlsscan-XXXXXX";
	size_t n = build("OpenSSL 1.1.1 (compatible; BoringSSL)", NULL, 0, "");
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, n), (ssize_t)n);
	close(fd);
	assert_int_equal(tlsscan_path(path), TLSSCAN_BORINGSSL);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(tlsscan_path(path), -ENOEXEC);
	unlink(path);
	assert_int_equal(tlsscan_path(path), -ENOENT);
	assert_int_equal(tlsscan_path("/proc"), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_stacks),
	    cmocka_unit_test(test_bad_images),
	    cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
