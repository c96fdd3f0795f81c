// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * goelf.c - inspects the ELF file of a Go program (see goelf.h): build
 * info and version, TLS mode, goid offset from DWARF (libdw) or a version
 * table, ELF symbols and .gopclntab function bounds.
 *
 * The file belongs to whoever runs the program, so it is hostile input:
 * libelf checks section and segment bounds against the image, and every
 * offset this file reads out of a section (build info varints, pclntab
 * headers, function and name tables) is checked against that section
 * before use. Loops are bounded by the section sizes.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goelf.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_HDR	32
#define PCLN_MAGIC_118	0xfffffff0u /* Go 1.18, 1.19 */
#define PCLN_MAGIC_120	0xfffffff1u /* Go 1.20 and later */
#define DWARF_MAX_CUS	100000	    /* compilation units looked at for runtime.g */

struct goelf {
	struct goelf_info info;
	Elf *elf;
	void *map; /* the file's private, writable mapping (libelf may convert in place) */
	size_t map_len;
	void *copy; /* goelf_open_mem()'s own copy of the image */
	Elf_Scn *symtab;
	/* .gopclntab (Go 1.18+): functab and funcnametab inside pcln */
	const uint8_t *pcln;
	size_t pcln_len;
	uint64_t text_start;
	uint64_t nfunc;
	uint64_t nameoff, ftaboff; /* offsets into pcln */
};

static int elf_ready(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = elf_version(EV_CURRENT) != EV_NONE;
	return ok ? 0 : -ENOSYS;
}

static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && strcmp(n, name) == 0) {
			if (out)
				*out = sh;
			return scn;
		}
	}
	return NULL;
}

/* The bytes of a section with contents: NULL when absent, empty or unreadable. */
static const uint8_t *section_bytes(Elf *elf, const char *name, size_t *len, uint64_t *addr)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, name, &sh);
	Elf_Data *d;

	if (!scn || sh.sh_type == SHT_NOBITS)
		return NULL;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return NULL;
	*len = d->d_size;
	if (addr)
		*addr = sh.sh_addr;
	return d->d_buf;
}

static uint64_t get_uint(const uint8_t *p, unsigned size, bool big)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

int goelf_parse_version(const char *s, unsigned *major, unsigned *minor)
{
	unsigned long a, b;
	char *end;

	if (strncmp(s, "go", 2) != 0 || s[2] < '0' || s[2] > '9')
		return -EINVAL;
	a = strtoul(s + 2, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (a > 100 || b > 1000)
		return -EINVAL;
	*major = a;
	*minor = b;
	return 0;
}

uint32_t goelf_goid_offset_for(unsigned major, unsigned minor)
{
	if (major != 1)
		return 0;
	/* runtime.g: 152 since the register ABI (1.17) up to 1.22; 1.23 added
	 * syscallbp before goid. Newer versions are unknown until checked. */
	if (minor >= 17 && minor <= 22)
		return 152;
	if (minor >= 23 && minor <= 24)
		return 160;
	return 0;
}

/* Reads a uvarint at *pos within [0, len): false when it runs out. */
static bool uvarint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
		uint8_t b = p[(*pos)++];

		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

static void set_version(struct goelf_info *in, const uint8_t *s, size_t n)
{
	if (n == 0 || n >= sizeof(in->version))
		return;
	memcpy(in->version, s, n);
	in->version[n] = '\0';
	if (memchr(in->version, '\0', n) ||
	    goelf_parse_version(in->version, &in->major, &in->minor)) {
		in->version[0] = '\0';
		in->major = in->minor = 0;
	}
}

/* .go.buildinfo: the magic, pointer size, flags; Go 1.18+ (flags & 2) has
 * the version inline as a varint-prefixed string, older ones point at a Go
 * string header (read through the image). */
static void read_buildinfo(struct goelf *g)
{
	struct goelf_info *in = &g->info;
	const uint8_t *p;
	size_t len, pos = BUILDINFO_HDR;
	uint64_t n, ptr;

	p = section_bytes(g->elf, ".go.buildinfo", &len, NULL);
	if (!p || len < BUILDINFO_HDR || memcmp(p, BUILDINFO_MAGIC, 14) != 0)
		return;
	in->is_go = true;
	if (p[15] & 2) {
		if (uvarint(p, len, &pos, &n) && n <= len - pos)
			set_version(in, p + pos, n);
		return;
	}
	if (p[14] == 8 || p[14] == 4) {
		uint8_t hdr[16], s[32];
		unsigned ps = p[14];
		bool big = p[15] & 1;

		ptr = get_uint(p + 16, ps, big);
		if (goelf_read(g, ptr, hdr, 2 * ps))
			return;
		ptr = get_uint(hdr, ps, big);
		n = get_uint(hdr + ps, ps, big);
		if (n < sizeof(s) && goelf_read(g, ptr, s, n) == 0)
			set_version(in, s, n);
	}
}

/* runtime.buildVersion, a Go string header, for binaries without build info. */
static void read_build_version(struct goelf *g)
{
	uint64_t addr, size, ptr, n;
	uint8_t hdr[16], s[32];

	if (goelf_sym(g, "runtime.buildVersion", &addr, &size) || size != 16)
		return;
	g->info.is_go = true;
	if (goelf_read(g, addr, hdr, 16))
		return;
	ptr = get_uint(hdr, 8, false);
	n = get_uint(hdr + 8, 8, false);
	if (n < sizeof(s) && goelf_read(g, ptr, s, n) == 0)
		set_version(&g->info, s, n);
}

/*
 * The TLS mode. Without PT_TLS the Go linker addressed g at tp - 8. With
 * one (external linking, or internal linking of a dynamic binary), g is
 * runtime.tlsg's slot in the executable's TLS block, which ends at the
 * thread pointer (x86-64 and the Go ports that use variant II): tp -
 * roundup(memsz, align) + tlsg. A stripped binary with an 8-byte block
 * can only hold tlsg there; a bigger one stays unknown.
 */
static void read_tls(struct goelf *g)
{
	struct goelf_info *in = &g->info;
	uint64_t tlsg = 0, size, block;
	size_t n;

	if (elf_getphdrnum(g->elf, &n))
		return;
	for (size_t i = 0; i < n && i < 4096; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, i, &ph) || ph.p_type != PT_TLS)
			continue;
		in->external_tls = true;
		if (ph.p_align > 4096 || ph.p_memsz > (1u << 20))
			return;
		if (goelf_sym(g, "runtime.tlsg", &tlsg, &size) && ph.p_memsz != 8)
			return;
		block = ph.p_memsz;
		if (ph.p_align > 1)
			block = (block + ph.p_align - 1) / ph.p_align * ph.p_align;
		if (tlsg + 8 > block)
			return;
		in->tls = GOELF_TLS_TLSG;
		in->g_tls_off = (int32_t)((int64_t)tlsg - (int64_t)block);
		return;
	}
	in->tls = GOELF_TLS_STATIC;
	in->g_tls_off = -8;
}

/* .gopclntab of Go 1.18+: pcHeader {magic, pad, pad, minLC, ptrSize,
 * nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset,
 * pctabOffset, pclnOffset}, then functab = nfunc + 1 {entryoff, funcoff}. */
static void read_pclntab(struct goelf *g)
{
	const uint8_t *p;
	size_t len;
	unsigned ps;
	uint32_t magic;

	p = section_bytes(g->elf, ".gopclntab", &len, NULL);
	if (!p || len < 8 + 8 * 8)
		return;
	magic = (uint32_t)get_uint(p, 4, false);
	if (magic != PCLN_MAGIC_118 && magic != PCLN_MAGIC_120)
		return;
	g->info.is_go = true;
	ps = p[7];
	if (ps != 8 && ps != 4)
		return;
	g->nfunc = get_uint(p + 8, ps, false);
	g->text_start = get_uint(p + 8 + 2 * ps, ps, false);
	g->nameoff = get_uint(p + 8 + 3 * ps, ps, false);
	g->ftaboff = get_uint(p + 8 + 7 * ps, ps, false);
	if (g->nameoff >= len || g->ftaboff >= len || g->nfunc > (len - g->ftaboff) / 8 ||
	    (g->nfunc + 1) * 8 > len - g->ftaboff)
		return;
	g->pcln = p;
	g->pcln_len = len;
	g->info.has_pclntab = true;
}

#define FIELD_DEPTH 4 /* components of a member path ("gFree.n") */

/* The struct type a member's DW_AT_type names, typedefs peeled. */
static bool member_struct(Dwarf_Die *mem, Dwarf_Die *out)
{
	Dwarf_Attribute at;

	if (!dwarf_attr(mem, DW_AT_type, &at) || !dwarf_formref_die(&at, out))
		return false;
	for (int i = 0; i < 4 && dwarf_tag(out) == DW_TAG_typedef; i++)
		if (!dwarf_attr(out, DW_AT_type, &at) || !dwarf_formref_die(&at, out))
			return false;
	return dwarf_tag(out) == DW_TAG_structure_type;
}

/* Offset of the member path (components separated by '.') in the struct
 * type st: 0 and *off, or -ENOENT. */
static int member_offset(Dwarf_Die *st, const char *path, uint32_t *off)
{
	Dwarf_Die cur = *st, mem;
	uint64_t total = 0;

	for (int depth = 0; depth < FIELD_DEPTH; depth++) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		bool found = false;

		if (dwarf_child(&cur, &mem) != 0)
			return -ENOENT;
		do {
			const char *name = dwarf_diename(&mem);
			Dwarf_Attribute at;
			Dwarf_Word w;

			if (dwarf_tag(&mem) != DW_TAG_member || !name || strlen(name) != len ||
			    strncmp(name, path, len) != 0)
				continue;
			if (!dwarf_attr(&mem, DW_AT_data_member_location, &at) ||
			    dwarf_formudata(&at, &w) != 0 || w >= (1u << 20))
				return -ENOENT;
			total += w;
			found = true;
			break;
		} while (dwarf_siblingof(&mem, &mem) == 0);
		if (!found)
			return -ENOENT;
		if (!dot) {
			*off = (uint32_t)total;
			return 0;
		}
		if (!member_struct(&mem, &cur))
			return -ENOENT;
		path = dot + 1;
	}
	return -ENOENT;
}

/* Fills the fields of struct types of the "runtime" compilation unit; the
 * number found. */
static int dwarf_fields(Elf *elf, struct goelf_field *f, size_t n)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize, found = 0;

	if (!dw)
		return 0;
	for (unsigned cus = 0; found < n && cus < DWARF_MAX_CUS &&
			       dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0;
	     cus++, off = next) {
		Dwarf_Die cu, die;
		const char *name;

		if (!dwarf_offdie(dw, off + hsize, &cu))
			continue;
		name = dwarf_diename(&cu);
		if (!name || strcmp(name, "runtime") != 0 || dwarf_child(&cu, &die) != 0)
			continue;
		do {
			if (dwarf_tag(&die) != DW_TAG_structure_type ||
			    !(name = dwarf_diename(&die)))
				continue;
			for (size_t i = 0; i < n; i++)
				if (!f[i].found && !strcmp(name, f[i].type) &&
				    !member_offset(&die, f[i].path, &f[i].off)) {
					f[i].found = true;
					found++;
				}
		} while (found < n && dwarf_siblingof(&die, &die) == 0);
	}
	dwarf_end(dw);
	return (int)found;
}

/* goid's offset in the runtime.g structure of the "runtime" compilation
 * unit; 0 when not found. */
static uint32_t dwarf_goid_offset(Elf *elf)
{
	struct goelf_field f = {.type = "runtime.g", .path = "goid"};

	return dwarf_fields(elf, &f, 1) == 1 && f.off > 0 && f.off < 4096 ? f.off : 0;
}

/* libdw inflates compressed sections whole: none may claim more than
 * GOELF_MAX_DWARF bytes (.zdebug_* carry their size in a header too). */
static bool dwarf_bounded(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Chdr ch;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			return false;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!n || (strncmp(n, ".debug_", 7) != 0 && strncmp(n, ".zdebug_", 8) != 0))
			continue;
		if (sh.sh_size > GOELF_MAX_DWARF)
			return false;
		if ((sh.sh_flags & SHF_COMPRESSED) &&
		    (!gelf_getchdr(scn, &ch) || ch.ch_size > GOELF_MAX_DWARF))
			return false;
		if (n[1] == 'z') {
			const uint8_t *p;
			Elf_Data *d = elf_rawdata(scn, NULL);

			/* "ZLIB" and the inflated size, big-endian; a section
			 * with no bytes in the file (SHT_NOBITS) has no buffer */
			if (!d || !d->d_buf || d->d_size < 12)
				return false;
			p = d->d_buf;
			if (get_uint(p + 4, 8, true) > GOELF_MAX_DWARF)
				return false;
		}
	}
	return true;
}

static bool has_section(Elf *elf, const char *name)
{
	return find_section(elf, name, NULL) != NULL;
}

/* Takes over g->map or g->copy; frees g on failure. */
static struct goelf *inspect(struct goelf *g, void *image, size_t len)
{
	struct goelf_info *in = &g->info;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf *elf;

	elf = g->elf = elf_memory(image, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		goelf_free(g);
		errno = ENOEXEC;
		return NULL;
	}
	in->pie = eh.e_type == ET_DYN;
	in->machine = eh.e_ident[EI_CLASS] == ELFCLASS64 ? eh.e_machine : 0;
	g->symtab = find_section(elf, ".symtab", &sh);
	if (g->symtab && sh.sh_type != SHT_SYMTAB)
		g->symtab = NULL;
	in->has_symtab = g->symtab != NULL;
	read_buildinfo(g);
	if (!in->version[0])
		read_build_version(g);
	read_pclntab(g);
	if (!in->is_go)
		return g;
	read_tls(g);
	in->has_dwarf = has_section(elf, ".debug_info") || has_section(elf, ".zdebug_info");
	if (in->has_dwarf && dwarf_bounded(elf)) {
		in->goid_off = dwarf_goid_offset(elf);
		if (in->goid_off)
			in->goid_src = GOELF_SRC_DWARF;
	}
	if (!in->goid_off && in->version[0]) {
		in->goid_off = goelf_goid_offset_for(in->major, in->minor);
		if (in->goid_off)
			in->goid_src = GOELF_SRC_TABLE;
	}
	return g;
}

struct goelf *goelf_open_mem(const void *image, size_t len)
{
	struct goelf *g;

	if (elf_ready()) {
		errno = ENOSYS;
		return NULL;
	}
	if (len < 64 || len > GOELF_MAX_FILE) {
		errno = len < 64 ? ENOEXEC : EFBIG;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g || !(g->copy = malloc(len))) {
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	memcpy(g->copy, image, len);
	return inspect(g, g->copy, len);
}

struct goelf *goelf_open(const char *path)
{
	struct goelf *g;
	struct stat st;
	void *map;
	int fd, err;

	if (elf_ready()) {
		errno = ENOSYS;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 64) {
		err = ENOEXEC;
		goto out_close;
	}
	if ((uint64_t)st.st_size > GOELF_MAX_FILE) {
		err = EFBIG;
		goto out_close;
	}
	/* A private mapping: the image stays what it was even if the file
	 * is rewritten while we look (reads past a truncation still fault,
	 * so callers inspect executables of running processes only). */
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		err = errno;
		goto out_close;
	}
	close(fd);
	g = calloc(1, sizeof(*g));
	if (!g) {
		munmap(map, st.st_size);
		errno = ENOMEM;
		return NULL;
	}
	g->map = map;
	g->map_len = st.st_size;
	return inspect(g, map, st.st_size);
out_close:
	close(fd);
	errno = err;
	return NULL;
}

void goelf_free(struct goelf *g)
{
	if (!g)
		return;
	elf_end(g->elf);
	if (g->map)
		munmap(g->map, g->map_len);
	free(g->copy);
	free(g);
}

const struct goelf_info *goelf_info(const struct goelf *g)
{
	return &g->info;
}

int goelf_sym(const struct goelf *g, const char *name, uint64_t *addr, uint64_t *size)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t n;

	if (!g->symtab || !gelf_getshdr(g->symtab, &sh) || !sh.sh_entsize)
		return -ENOENT;
	d = elf_getdata(g->symtab, NULL);
	if (!d)
		return -ENOENT;
	n = d->d_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *s;

		if (!gelf_getsym(d, i, &sym))
			break;
		s = elf_strptr(g->elf, sh.sh_link, sym.st_name);
		if (s && strcmp(s, name) == 0) {
			*addr = sym.st_value;
			if (size)
				*size = sym.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

/* The NUL-terminated name at off in funcnametab, or NULL. */
static const char *pcln_name(const struct goelf *g, int64_t off)
{
	uint64_t at = g->nameoff + (uint64_t)off;

	if (off < 0 || at >= g->pcln_len || !memchr(g->pcln + at, '\0', g->pcln_len - at))
		return NULL;
	return (const char *)g->pcln + at;
}

int goelf_func(const struct goelf *g, const char *name, uint64_t *entry, uint64_t *end)
{
	const uint8_t *ft;

	if (!g->pcln)
		return -ENOTSUP;
	ft = g->pcln + g->ftaboff;
	for (uint64_t i = 0; i < g->nfunc; i++) {
		uint32_t funcoff = (uint32_t)get_uint(ft + 8 * i + 4, 4, false);
		uint64_t fo = g->ftaboff + funcoff;
		const char *s;

		/* _func: entryOff uint32, nameOff int32 */
		if (fo > g->pcln_len - 8)
			continue;
		s = pcln_name(g, (int32_t)get_uint(g->pcln + fo + 4, 4, false));
		if (!s || strcmp(s, name) != 0)
			continue;
		*entry = g->text_start + get_uint(ft + 8 * i, 4, false);
		*end = g->text_start + get_uint(ft + 8 * (i + 1), 4, false);
		if (*end <= *entry)
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}

int goelf_file_offset(const struct goelf *g, uint64_t addr, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(g->elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n && i < 4096; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*off = ph.p_offset + (addr - ph.p_vaddr);
			return 0;
		}
	}
	return -ENOENT;
}

int goelf_fields(const struct goelf *g, struct goelf_field *f, size_t n)
{
	if (!g->info.has_dwarf || !dwarf_bounded(g->elf))
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		f[i].found = false;
	return dwarf_fields(g->elf, f, n);
}

int goelf_read(const struct goelf *g, uint64_t addr, void *buf, size_t len)
{
	size_t n, image_len;
	const char *image = elf_rawfile(g->elf, &image_len);

	if (!image || elf_getphdrnum(g->elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n && i < 4096; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr < ph.p_vaddr || addr - ph.p_vaddr >= ph.p_filesz ||
		    len > ph.p_filesz - (addr - ph.p_vaddr))
			continue;
		if (ph.p_offset > image_len || addr - ph.p_vaddr + len > image_len - ph.p_offset)
			return -ENOENT;
		memcpy(buf, image + ph.p_offset + (addr - ph.p_vaddr), len);
		return 0;
	}
	return -ENOENT;
}
