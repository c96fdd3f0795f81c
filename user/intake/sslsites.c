// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sslsites.c - ssl_read_internal / ssl_write_internal of a libssl.so file
 * (see sslsites.h): .dynsym and .text through libelf, calls and probe
 * sites through probesite.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sslsites.h"

/* The wrappers of each pair, the _ex form first: wrappers[2 * pair + i]. */
static const char *const wrappers[2 * SSLSITES_PAIRS] = {
    "SSL_read_ex",
    "SSL_read",
    "SSL_write_ex",
    "SSL_write",
};

struct text {
	const uint8_t *p; /* .text's bytes */
	uint64_t addr, off, size;
};

/* .text's bytes, address and file offset: 0 or -ENOENT. */
static int text_find(Elf *elf, struct text *t)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".text"))
			continue;
		d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size != sh.sh_size)
			return -ENOENT;
		*t = (struct text){d->d_buf, sh.sh_addr, sh.sh_offset, sh.sh_size};
		return 0;
	}
	return -ENOENT;
}

/* Addresses of the defined functions names[0..n) in one pass over
 * .dynsym (0: not found). */
static void syms_find(Elf *elf, const char *const *names, size_t n, uint64_t *addr)
{
	Elf_Scn *scn = NULL;

	memset(addr, 0, sizeof(*addr) * n);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t nsym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return;
		nsym = d->d_size / sh.sh_entsize;
		for (size_t i = 0; i < nsym && i < SSLSITES_MAX_SYMS; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			for (size_t k = 0; s && k < n; k++)
				if (!addr[k] && !strcmp(s, names[k]))
					addr[k] = sym.st_value;
		}
		return;
	}
}

/* Where the first call of the function at addr goes: 0 or -errno. */
static int callee(const struct text *t, uint64_t addr, uint64_t *dst)
{
	int64_t rel;
	int rc;

	if (!addr || addr < t->addr || addr - t->addr >= t->size)
		return -ENOENT;
	rc = probesite_call(t->p + (addr - t->addr), t->size - (addr - t->addr), &rel);
	if (rc)
		return rc;
	*dst = addr + (uint64_t)rel;
	return 0;
}

static int pair_resolve(const struct text *t, const uint64_t w[2], struct sslsites_site *s)
{
	uint64_t x0, x1, at;
	uint32_t skip;
	int rc;

	rc = callee(t, w[0], &x0);
	if (!rc)
		rc = callee(t, w[1], &x1);
	if (rc)
		return rc;
	if (x0 != x1 || x0 == w[0] || x0 == w[1])
		return -ESRCH; /* not one shared internal function */
	if (x0 < t->addr || x0 - t->addr >= t->size)
		return -ERANGE;
	at = x0 - t->addr;
	skip = probesite_entry(t->p + at, t->size - at, &s->kind);
	if (s->kind == PROBESITE_STEP)
		return -EOPNOTSUPP; /* no cheaper than the wrappers */
	s->addr = x0;
	s->file_off = t->off + at + skip;
	return 0;
}

/* Bytes from the function at addr to its cheapest entry probe. */
static uint32_t entry_skip(const struct text *t, uint64_t addr)
{
	if (!addr || addr < t->addr || addr - t->addr >= t->size)
		return 0;
	return probesite_entry(t->p + (addr - t->addr), t->size - (addr - t->addr), NULL);
}

int sslsites_image(void *img, size_t len, const char *const *names, size_t n, struct sslsites *out)
{
	uint64_t addr[2 * SSLSITES_PAIRS], at[SSLSITES_MAX_NAMES];
	struct text t;
	GElf_Ehdr eh;
	Elf *elf;
	int rc;

	memset(out, 0, sizeof(*out));
	for (unsigned p = 0; p < SSLSITES_PAIRS; p++)
		out->pair[p].err = -ENOENT;
	if (n > SSLSITES_MAX_NAMES)
		return -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	elf = elf_memory(img, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		elf_end(elf);
		return -ENOEXEC;
	}
	rc = text_find(elf, &t);
	if (!rc) {
		syms_find(elf, wrappers, 2 * SSLSITES_PAIRS, addr);
		if (n)
			syms_find(elf, names, n, at);
	}
	for (unsigned p = 0; !rc && p < SSLSITES_PAIRS; p++)
		out->pair[p].err = pair_resolve(&t, addr + 2 * p, &out->pair[p]);
	for (size_t k = 0; !rc && k < n; k++)
		out->skip[k] = entry_skip(&t, at[k]);
	elf_end(elf);
	return 0;
}

int sslsites_path(const char *path, const char *const *names, size_t n, struct sslsites *out)
{
	struct stat st;
	void *map;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size < 64)
		rc = -ENOEXEC;
	else if ((uint64_t)st.st_size > SSLSITES_MAX_FILE)
		rc = -EFBIG;
	else
		rc = 0;
	if (rc) {
		close(fd);
		return rc;
	}
	/* private and writable: libelf may convert in place, the file stays */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	rc = sslsites_image(map, (size_t)st.st_size, names, n, out);
	munmap(map, (size_t)st.st_size);
	return rc;
}
