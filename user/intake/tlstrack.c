// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tlstrack.c - libssl files of selected processes, found in
 * /proc/PID/maps and probed once per file (see tlstrack.h).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "sslsites.h"
#include "tlslibs.h"
#include "tlstrack.h"

#define SEEN_SLOTS     4096 /* tgids scanned since their exec, direct-mapped */
#define LINE_MAX_BYTES 512

enum tls_sym {
	SYM_READ,
	SYM_READ_EX,
	SYM_WRITE,
	SYM_WRITE_EX,
	SYM_HANDSHAKE,
	SYM_SHUTDOWN,
	SYM_MAX,
};

static const char *const sym_names[SYM_MAX] = {
    [SYM_READ] = "SSL_read",
    [SYM_READ_EX] = "SSL_read_ex",
    [SYM_WRITE] = "SSL_write",
    [SYM_WRITE_EX] = "SSL_write_ex",
    [SYM_HANDSHAKE] = "SSL_do_handshake",
    [SYM_SHUTDOWN] = "SSL_shutdown",
};

/* What stat() says of a file through the path it was reached by. */
struct tls_content {
	bool known, overlay; /* overlay: reached through overlayfs */
	uint64_t ino, size;
	struct timespec mtime;
};

struct tls_file {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	struct tls_content content;
	struct bpf_link *entry[SYM_MAX], *ret[SYM_MAX];
};

/* Another maps identity of an attached file (through another overlay). */
struct tls_alias {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	unsigned file; /* in files[] */
};

#define ALIASES 256 /* beyond: such identities are compared again each time */

struct tlstrack {
	struct tlstrack_progs progs;
	struct tls_file files[TLSTRACK_FILES];
	unsigned nfiles;
	uint32_t seen[SEEN_SLOTS]; /* tgid + 1 of a scanned process; 0: free */
	struct tlstrack_stats st;
	struct tlslibs *libs; /* other libraries, read for TLS stacks; NULL: none */
	struct tls_alias aliases[ALIASES];
	unsigned naliases;
};

struct tlstrack *tlstrack_new(const struct tlstrack_progs *progs)
{
	struct tlstrack *t = calloc(1, sizeof(*t));

	if (t) {
		t->progs = *progs;
		t->libs = tlslibs_new();
	}
	return t;
}

void tlstrack_free(struct tlstrack *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nfiles; i++)
		for (unsigned s = 0; s < SYM_MAX; s++) {
			bpf_link__destroy(t->files[i].entry[s]);
			bpf_link__destroy(t->files[i].ret[s]);
		}
	tlslibs_free(t->libs);
	free(t);
}

const struct tlstrack_stats *tlstrack_stats(const struct tlstrack *t)
{
	return &t->st;
}

bool tlstrack_maps_file(const char *line, size_t len, struct tlstrack_lib *out)
{
	char buf[LINE_MAX_BYTES], start[17];
	unsigned long long ino;
	const char *path;
	size_t plen;
	int off = -1;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* "start-end perms offset major:minor inode   path" */
	if (sscanf(buf, "%16[0-9a-f]-%*[0-9a-f] %*4s %*[0-9a-f] %x:%x %llu %n", start,
		   &out->dev_major, &out->dev_minor, &ino, &off) != 4 ||
	    off <= 0 || !ino)
		return false;
	path = buf + off;
	plen = strlen(path);
	if (path[0] != '/' || plen >= sizeof(out->path))
		return false;
	if (plen > 10 && !strcmp(path + plen - 10, " (deleted)"))
		return false;
	out->ino = ino;
	out->start = strtoull(start, NULL, 16);
	memcpy(out->path, path, plen + 1);
	return true;
}

bool tlstrack_maps_line(const char *line, size_t len, struct tlstrack_lib *out)
{
	return tlstrack_maps_file(line, len, out) &&
	       !strncmp(strrchr(out->path, '/') + 1, "libssl.so", 9);
}

static struct tls_file *file_find(struct tlstrack *t, const struct tlstrack_lib *lib)
{
	for (unsigned i = 0; i < t->nfiles; i++)
		if (t->files[i].ino == lib->ino && t->files[i].dev_major == lib->dev_major &&
		    t->files[i].dev_minor == lib->dev_minor)
			return &t->files[i];
	for (unsigned i = 0; i < t->naliases; i++)
		if (t->aliases[i].ino == lib->ino && t->aliases[i].dev_major == lib->dev_major &&
		    t->aliases[i].dev_minor == lib->dev_minor)
			return &t->files[t->aliases[i].file];
	return NULL;
}

static struct bpf_program *sym_prog(const struct tlstrack_progs *p, unsigned s)
{
	switch (s) {
	case SYM_READ:
		return p->read;
	case SYM_READ_EX:
		return p->read_ex;
	case SYM_WRITE:
		return p->write;
	case SYM_WRITE_EX:
		return p->write_ex;
	default:
		return p->quiet;
	}
}

/* At off bytes into the symbol sym, or at the file offset off when sym is
 * NULL. */
static struct bpf_link *attach(struct bpf_program *prog, const char *path, const char *sym,
			       uint64_t off, bool ret)
{
	struct bpf_uprobe_opts o = {.sz = sizeof(o), .func_name = sym, .retprobe = ret};

	return bpf_program__attach_uprobe_opts(prog, -1, path, off, &o);
}

/* Symbol s's probes at off bytes into it, or at the file offset off when
 * internal (its pair's internal function). The return probe first: an
 * entry without its return would leave the thread marked inside an SSL
 * call. 0 when attached, else -errno. */
static int sym_attach(struct tlstrack *t, struct tls_file *f, const char *path, unsigned s,
		      bool internal, uint64_t off)
{
	const char *sym = internal ? NULL : sym_names[s];
	int err;

	f->ret[s] = attach(t->progs.ret, path, sym, off, true);
	if (!f->ret[s]) {
		err = -errno;
		rt_debug("tls: %s in %s (offset 0x%llx): no return probe (%s)", sym_names[s], path,
			 (unsigned long long)off, strerror(-err));
		return err;
	}
	f->entry[s] = attach(sym_prog(&t->progs, s), path, sym, off, false);
	if (!f->entry[s]) {
		err = -errno;
		rt_debug("tls: %s in %s (offset 0x%llx): no entry probe (%s)", sym_names[s], path,
			 (unsigned long long)off, strerror(-err));
		bpf_link__destroy(f->ret[s]);
		f->ret[s] = NULL;
		return err;
	}
	return 0;
}

_Static_assert(SYM_MAX <= SSLSITES_MAX_NAMES, "sslsites gives the entry skips of sym_names");

/* The _ex form of each sslsites pair and the plain one it replaces. */
static const unsigned pair_syms[SSLSITES_PAIRS][2] = {
    [SSLSITES_READ] = {SYM_READ_EX, SYM_READ},
    [SSLSITES_WRITE] = {SYM_WRITE_EX, SYM_WRITE},
};

/*
 * Each read/write pair whose internal function sslsites.h resolves is
 * probed there only, with the _ex programs (same signature), and not at
 * its two exported wrappers (a call would count twice); a pair that does
 * not resolve, or whose attach there fails, keeps the exported symbols.
 * A symbol probed by name gets its probes past a leading endbr64 when a
 * push follows (CET builds; sslsites.h's skip). How many symbols (or
 * internal functions) got probes.
 */
static unsigned file_attach(struct tlstrack *t, struct tls_file *f, const char *path)
{
	bool internal[SYM_MAX] = {false};
	struct sslsites ss;
	unsigned n = 0;
	int rc;

	rc = sslsites_path(path, sym_names, SYM_MAX, &ss);
	for (unsigned p = 0; p < SSLSITES_PAIRS; p++) {
		const struct sslsites_site *site = &ss.pair[p];
		unsigned ex = pair_syms[p][0], plain = pair_syms[p][1];
		int why = rc ? rc : site->err;

		if (!why)
			why = sym_attach(t, f, path, ex, true, site->file_off);
		if (why) {
			rt_info("tls: %s: %s and %s probed at the exported symbols (%s)", path,
				sym_names[ex], sym_names[plain], strerror(-why));
			continue;
		}
		internal[plain] = internal[ex] = true;
		n++;
		rt_info("tls: %s: %s and %s probed at their internal function (0x%llx, file "
			"offset 0x%llx, a %s)",
			path, sym_names[ex], sym_names[plain], (unsigned long long)site->addr,
			(unsigned long long)site->file_off, probesite_name(site->kind));
	}
	for (unsigned s = 0; s < SYM_MAX; s++)
		if (!internal[s] && !sym_attach(t, f, path, s, false, rc ? 0 : ss.skip[s]))
			n++;
	return n;
}

/* Attaches the probes to a libssl file not seen before, reached at path;
 * whose says how it was found. Returns 1 when attached, else 0. */
static void content_of(const char *path, struct tls_content *out)
{
	struct statfs sfs;
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) || statfs(path, &sfs))
		return;
	out->known = true;
	out->overlay = sfs.f_type == OVERLAYFS_SUPER_MAGIC;
	out->ino = st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime = st.st_mtim;
}

/*
 * One file under two identities: the uprobes sit on the real inode, so a
 * second attach would count every call twice. On overlayfs the maps line
 * may show the overlay's device (kernels 6.x), one per mount: two
 * containers of one image, or the layer's file seen from the node, show
 * one libssl under several devices. Their stat() inode (the real one when
 * the layers share a filesystem), size and mtime still agree: taken as the
 * same file when one of the two was reached through overlayfs.
 */
static int file_alias(struct tlstrack *t, const struct tlstrack_lib *lib,
		      const struct tls_content *c)
{
	for (unsigned i = 0; i < t->nfiles; i++) {
		const struct tls_content *o = &t->files[i].content;

		if (!c->known || !o->known || (!c->overlay && !o->overlay) || o->ino != c->ino ||
		    o->size != c->size || o->mtime.tv_sec != c->mtime.tv_sec ||
		    o->mtime.tv_nsec != c->mtime.tv_nsec)
			continue;
		if (t->naliases < ALIASES)
			t->aliases[t->naliases++] =
			    (struct tls_alias){lib->dev_major, lib->dev_minor, lib->ino, i};
		return (int)i;
	}
	return -1;
}

static int file_add(struct tlstrack *t, const struct tlstrack_lib *lib, const char *path,
		    const char *whose)
{
	struct tls_content c;
	struct tls_file *f;
	int same;

	content_of(path, &c);
	same = file_alias(t, lib, &c);
	if (same >= 0) {
		t->st.aliases++;
		rt_info("tls: %s (%s) is the file already probed as %u:%u inode %llu, through "
			"overlayfs: not probed again",
			lib->path, whose, t->files[same].dev_major, t->files[same].dev_minor,
			(unsigned long long)t->files[same].ino);
		return 0;
	}
	if (t->nfiles >= TLSTRACK_FILES) {
		if (!t->st.files_full++)
			rt_warn("tls: more than %d libssl files: %s (%s) and later ones get no "
				"probes",
				TLSTRACK_FILES, lib->path, whose);
		return 0;
	}
	f = &t->files[t->nfiles++];
	memset(f, 0, sizeof(*f));
	f->dev_major = lib->dev_major;
	f->dev_minor = lib->dev_minor;
	f->ino = lib->ino;
	f->content = c;
	if (!file_attach(t, f, path)) {
		t->st.attach_err++;
		rt_warn("tls: no OpenSSL probe could be attached to %s (%s)", lib->path, whose);
		return 0;
	}
	t->st.files++;
	rt_info("tls: OpenSSL probes on %s (%s)", lib->path, whose);
	return 1;
}

int tlstrack_scan(struct tlstrack *t, uint32_t tgid)
{
	char name[64], path[64 + sizeof(((struct tlstrack_lib *)0)->path)];
	struct tlstrack_lib lib, prev = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int added = 0;
	FILE *m;

	snprintf(name, sizeof(name), "/proc/%u/maps", tgid);
	m = fopen(name, "re");
	if (!m)
		return -errno;
	t->st.scans++;
	while ((len = getline(&line, &cap, m)) > 0) {
		if (!tlstrack_maps_file(line, (size_t)len, &lib))
			continue;
		if (strncmp(strrchr(lib.path, '/') + 1, "libssl.so", 9)) {
			/* a file's mappings are adjacent lines: handed over once */
			if (t->libs && tlslibs_candidate(lib.path) &&
			    (lib.ino != prev.ino || lib.dev_major != prev.dev_major ||
			     lib.dev_minor != prev.dev_minor))
				tlslibs_mapped(t->libs, tgid, &lib);
			prev = lib;
			continue;
		}
		if (file_find(t, &lib))
			continue;
		snprintf(path, sizeof(path), "/proc/%u/root%s", tgid, lib.path);
		snprintf(name, sizeof(name), "of process %u", tgid);
		added += file_add(t, &lib, path, name);
	}
	free(line);
	fclose(m);
	return added;
}

/*
 * The directories the dynamic loader searches without ld.so.cache: its
 * trusted directories, the multiarch ones (Debian, Ubuntu) and
 * /usr/local/lib (in every distribution's ld.so.conf), under the root of
 * process 1 (the node's, when the agent runs in a container that sees the
 * node's processes: its own image's libssl serves nobody), or under the
 * agent's own root when that one is out of reach. A libssl only an
 * ld.so.conf entry names (/opt/...) is found as before, at the first data
 * record of a process mapping it: neither ld.so.conf nor glibc's cache
 * format is parsed (no new input surface at start-up; musl has no cache).
 */
static const char *const system_globs[] = {
    "/lib/libssl.so*",
    "/lib64/libssl.so*",
    "/usr/lib/libssl.so*",
    "/usr/lib64/libssl.so*",
    "/usr/local/lib/libssl.so*",
    "/usr/local/lib64/libssl.so*",
    "/lib/*-linux-*/libssl.so*",
    "/usr/lib/*-linux-*/libssl.so*",
    "/usr/local/lib/*-linux-*/libssl.so*",
};

#define ELF_ID_BYTES 20 /* e_ident, e_type, e_machine */

/* An ELF file of the agent's class, byte order and machine (a multiarch
 * directory holds i386 or arm64 libraries too). */
static bool native_elf(int fd)
{
	static unsigned char self[ELF_ID_BYTES];
	unsigned char id[ELF_ID_BYTES];

	if (!self[0]) {
		int s = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		bool ok = s >= 0 && pread(s, self, sizeof(self), 0) == (ssize_t)sizeof(self);

		if (s >= 0)
			close(s);
		if (!ok || memcmp(self, ELFMAG, SELFMAG)) {
			self[0] = 0;
			return false;
		}
	}
	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		return false;
	/* class and data (e_ident[4..5]), then e_machine (bytes 18..19) */
	return id[EI_CLASS] == self[EI_CLASS] && id[EI_DATA] == self[EI_DATA] &&
	       !memcmp(id + 18, self + 18, 2);
}

/* The identity of fd's file as /proc/PID/maps shows it: the agent maps one
 * page of it and finds that mapping in its own maps. 0, or -errno. */
static int maps_identity(int fd, struct tlstrack_lib *out)
{
	long page = sysconf(_SC_PAGESIZE);
	struct tlstrack_lib lib;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = -ENOENT;
	void *map;
	FILE *m;

	map = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	m = fopen("/proc/self/maps", "re");
	if (!m) {
		rc = -errno;
		goto out_unmap;
	}
	while ((len = getline(&line, &cap, m)) > 0)
		if (tlstrack_maps_file(line, (size_t)len, &lib) &&
		    lib.start == (uint64_t)(uintptr_t)map) {
			*out = lib;
			rc = 0;
			break;
		}
	free(line);
	fclose(m);
out_unmap:
	munmap(map, (size_t)page);
	return rc;
}

/* One candidate file of the start-up probe: 1 when attached now. */
static int probe_file(struct tlstrack *t, const char *path)
{
	struct tlstrack_lib lib;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && native_elf(fd) && !maps_identity(fd, &lib) &&
	    !file_find(t, &lib)) {
		rc = file_add(t, &lib, path, "a system library, at start-up");
		t->st.system += rc;
	}
	close(fd);
	return rc;
}

int tlstrack_probe_paths(struct tlstrack *t, const char *const *globs, size_t n)
{
	int added = 0;

	for (size_t i = 0; i < n; i++) {
		glob_t g;

		if (glob(globs[i], 0, NULL, &g))
			continue;
		for (size_t j = 0; j < g.gl_pathc; j++)
			added += probe_file(t, g.gl_pathv[j]);
		globfree(&g);
	}
	return added;
}

int tlstrack_probe_system(struct tlstrack *t)
{
	const size_t n = sizeof(system_globs) / sizeof(system_globs[0]);
	char paths[sizeof(system_globs) / sizeof(system_globs[0])][64];
	const char *globs[sizeof(system_globs) / sizeof(system_globs[0])];
	/* the node's root when the agent can see it, else its own */
	const char *root = access("/proc/1/root/", X_OK) ? "" : "/proc/1/root";

	for (size_t i = 0; i < n; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s%s", root, system_globs[i]);
		globs[i] = paths[i];
	}
	return tlstrack_probe_paths(t, globs, n);
}

void tlstrack_flush(struct tlstrack *t, tlslibs_fn fn, void *ctx)
{
	if (t->libs)
		tlslibs_flush(t->libs, fn, ctx);
}

struct tlslibs *tlstrack_libs(struct tlstrack *t)
{
	return t->libs;
}

void tlstrack_scan_all(struct tlstrack *t)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned long v;
	char *end;

	if (!d)
		return;
	while ((e = readdir(d))) {
		v = strtoul(e->d_name, &end, 10);
		if (*end || !v || v > UINT32_MAX)
			continue;
		tlstrack_seen(t, (uint32_t)v);
	}
	closedir(d);
}

void tlstrack_seen(struct tlstrack *t, uint32_t tgid)
{
	uint32_t *slot = &t->seen[tgid % SEEN_SLOTS];

	if (*slot == tgid + 1)
		return;
	*slot = tgid + 1;
	tlstrack_scan(t, tgid);
}

void tlstrack_forget(struct tlstrack *t, uint32_t tgid)
{
	uint32_t *slot = &t->seen[tgid % SEEN_SLOTS];

	if (*slot == tgid + 1)
		*slot = 0;
}
