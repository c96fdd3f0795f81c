// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tlsscan.c - the TLS stack of an executable the OpenSSL probes cannot
 * see, from its ELF sections: symbols and version strings. See tlsscan.h.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsscan.h"

static const char *const names[TLSSCAN_MAX] = {
    [TLSSCAN_NONE] = "none",
    [TLSSCAN_BORINGSSL] = "boringssl",
    [TLSSCAN_RUSTLS] = "rustls",
    [TLSSCAN_OPENSSL_STATIC] = "openssl_static",
    [TLSSCAN_OPENSSL_EXPORTED] = "openssl_exported",
};

const char *tlsscan_name(unsigned stack)
{
	return stack < TLSSCAN_MAX ? names[stack] : "unknown";
}

/* A byte range of the image; n == 0 when absent or out of bounds. */
struct span {
	const uint8_t *p;
	size_t n;
};

struct elf {
	const uint8_t *img;
	size_t len;
	struct span rodata, strtab, dynstr, dynsym;
	bool sections; /* section headers were read */
};

static struct span range(const struct elf *e, uint64_t off, uint64_t size)
{
	if (off > e->len || size > e->len - off)
		return (struct span){NULL, 0};
	return (struct span){e->img + off, (size_t)size};
}

static bool contains(struct span s, const char *needle)
{
	size_t n = s.n < TLSSCAN_MAX_SCAN ? s.n : TLSSCAN_MAX_SCAN;

	return n && memmem(s.p, n, needle, strlen(needle)) != NULL;
}

/* The name at off of a string table: NULL unless NUL-terminated inside it. */
static const char *str_at(struct span tab, uint64_t off)
{
	if (off >= tab.n || !memchr(tab.p + off, '\0', tab.n - off))
		return NULL;
	return (const char *)tab.p + off;
}

/* Finds .rodata, .strtab, .dynstr and .dynsym. */
static void read_sections(struct elf *e, const Elf64_Ehdr *eh)
{
	const Elf64_Shdr *sh;
	struct span shstr;
	Elf64_Shdr hdr;

	if (!eh->e_shoff || !eh->e_shnum || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum ||
	    !range(e, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)).n)
		return;
	sh = (const void *)(e->img + eh->e_shoff);
	memcpy(&hdr, &sh[eh->e_shstrndx], sizeof(hdr)); /* the image may be unaligned */
	shstr = hdr.sh_type == SHT_NOBITS ? (struct span){NULL, 0}
					  : range(e, hdr.sh_offset, hdr.sh_size);
	e->sections = true;
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *name;
		struct span s;

		memcpy(&hdr, &sh[i], sizeof(hdr));
		if (hdr.sh_type == SHT_NOBITS)
			continue;
		s = range(e, hdr.sh_offset, hdr.sh_size);
		if (hdr.sh_type == SHT_DYNSYM) {
			Elf64_Shdr link;

			if (hdr.sh_link >= eh->e_shnum || hdr.sh_entsize != sizeof(Elf64_Sym))
				continue;
			memcpy(&link, &sh[hdr.sh_link], sizeof(link));
			if (link.sh_type != SHT_STRTAB)
				continue;
			e->dynsym = s;
			e->dynstr = range(e, link.sh_offset, link.sh_size);
			continue;
		}
		name = str_at(shstr, hdr.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".rodata"))
			e->rodata = s;
		else if (!strcmp(name, ".strtab") && hdr.sh_type == SHT_STRTAB)
			e->strtab = s;
	}
}

/* OpenSSL's SSL_read/SSL_write in .dynsym: *exported when defined here,
 * *imported when undefined (from a shared library). */
static void ssl_symbols(const struct elf *e, bool *exported, bool *imported)
{
	size_t n = e->dynsym.n / sizeof(Elf64_Sym);

	*exported = *imported = false;
	if (n > TLSSCAN_MAX_SYMS)
		n = TLSSCAN_MAX_SYMS;
	for (size_t i = 0; i < n; i++) {
		const char *name;
		Elf64_Sym sym;

		memcpy(&sym, e->dynsym.p + i * sizeof(sym), sizeof(sym));
		name = str_at(e->dynstr, sym.st_name);
		if (!name || (strcmp(name, "SSL_read") && strcmp(name, "SSL_write")))
			continue;
		if (sym.st_shndx == SHN_UNDEF)
			*imported = true;
		else
			*exported = true;
	}
}

int tlsscan_image(const void *img, size_t len)
{
	struct elf e = {.img = img, .len = len};
	bool exported, imported;
	Elf64_Ehdr eh;

	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	read_sections(&e, &eh);
	if (!e.sections) /* no section headers: the whole file holds the strings */
		e.rodata = (struct span){e.img, e.len};
	ssl_symbols(&e, &exported, &imported);
	if (exported)
		return TLSSCAN_OPENSSL_EXPORTED;
	/* linked against the shared OpenSSL (a DT_NEEDED name in .dynstr):
	 * its version text is only printed, libssl.so is what the probes see */
	if (imported || contains(e.dynstr, "libssl.so") || contains(e.dynstr, "libcrypto.so"))
		return TLSSCAN_NONE;
	if (contains(e.strtab, "6rustls") || contains(e.dynstr, "6rustls") ||
	    contains(e.rodata, "/rustls-"))
		return TLSSCAN_RUSTLS;
	if (contains(e.rodata, "BoringSSL"))
		return TLSSCAN_BORINGSSL;
	if (contains(e.rodata, "OpenSSL 3.") || contains(e.rodata, "OpenSSL 1.1.") ||
	    contains(e.rodata, "OpenSSL 1.0."))
		return TLSSCAN_OPENSSL_STATIC;
	return TLSSCAN_NONE;
}

/* Mapped read-only: a running executable cannot be opened for writing
 * (ETXTBSY), so the mapping does not shrink under the scan. */
int tlsscan_path(const char *path)
{
	struct stat st;
	void *map;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		rc = -ENOEXEC;
		goto out_close;
	}
	if ((uint64_t)st.st_size > TLSSCAN_MAX_FILE) {
		rc = -EFBIG;
		goto out_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto out_close;
	}
	rc = tlsscan_image(map, (size_t)st.st_size);
	munmap(map, (size_t)st.st_size);
out_close:
	close(fd);
	return rc;
}
