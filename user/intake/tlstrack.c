// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tlstrack.c - libssl files of selected processes, found in
 * /proc/PID/maps and probed once per file (see tlstrack.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"
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

struct tls_file {
	unsigned dev_major, dev_minor;
	uint64_t ino;
	struct bpf_link *entry[SYM_MAX], *ret[SYM_MAX];
};

struct tlstrack {
	struct tlstrack_progs progs;
	struct tls_file files[TLSTRACK_FILES];
	unsigned nfiles;
	uint32_t seen[SEEN_SLOTS]; /* tgid + 1 of a scanned process; 0: free */
	struct tlstrack_stats st;
};

struct tlstrack *tlstrack_new(const struct tlstrack_progs *progs)
{
	struct tlstrack *t = calloc(1, sizeof(*t));

	if (t)
		t->progs = *progs;
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
	free(t);
}

const struct tlstrack_stats *tlstrack_stats(const struct tlstrack *t)
{
	return &t->st;
}

bool tlstrack_maps_line(const char *line, size_t len, struct tlstrack_lib *out)
{
	char buf[LINE_MAX_BYTES];
	const char *path, *base;
	unsigned long long ino;
	size_t plen;
	int off = -1;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	/* "start-end perms offset major:minor inode   path" */
	if (sscanf(buf, "%*[0-9a-f]-%*[0-9a-f] %*4s %*[0-9a-f] %x:%x %llu %n", &out->dev_major,
		   &out->dev_minor, &ino, &off) != 3 ||
	    off <= 0 || !ino)
		return false;
	path = buf + off;
	plen = strlen(path);
	if (path[0] != '/' || plen >= sizeof(out->path))
		return false;
	if (plen > 10 && !strcmp(path + plen - 10, " (deleted)"))
		return false;
	base = strrchr(path, '/') + 1;
	if (strncmp(base, "libssl.so", 9))
		return false;
	out->ino = ino;
	memcpy(out->path, path, plen + 1);
	return true;
}

static struct tls_file *file_find(struct tlstrack *t, const struct tlstrack_lib *lib)
{
	for (unsigned i = 0; i < t->nfiles; i++)
		if (t->files[i].ino == lib->ino && t->files[i].dev_major == lib->dev_major &&
		    t->files[i].dev_minor == lib->dev_minor)
			return &t->files[i];
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

static struct bpf_link *attach(struct bpf_program *prog, const char *path, const char *sym,
			       bool ret)
{
	struct bpf_uprobe_opts o = {.sz = sizeof(o), .func_name = sym, .retprobe = ret};

	return bpf_program__attach_uprobe_opts(prog, -1, path, 0, &o);
}

/* The return probe first: an entry without its return would leave the
 * thread marked inside an SSL call. */
static unsigned file_attach(struct tlstrack *t, struct tls_file *f, const char *path)
{
	unsigned n = 0;

	for (unsigned s = 0; s < SYM_MAX; s++) {
		f->ret[s] = attach(t->progs.ret, path, sym_names[s], true);
		if (!f->ret[s]) {
			rt_debug("tls: %s in %s: no return probe (%s)", sym_names[s], path,
				 strerror(errno));
			continue;
		}
		f->entry[s] = attach(sym_prog(&t->progs, s), path, sym_names[s], false);
		if (!f->entry[s]) {
			rt_debug("tls: %s in %s: no entry probe (%s)", sym_names[s], path,
				 strerror(errno));
			bpf_link__destroy(f->ret[s]);
			f->ret[s] = NULL;
			continue;
		}
		n++;
	}
	return n;
}

int tlstrack_scan(struct tlstrack *t, uint32_t tgid)
{
	char name[64], path[64 + sizeof(((struct tlstrack_lib *)0)->path)];
	struct tlstrack_lib lib;
	struct tls_file *f;
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
		if (!tlstrack_maps_line(line, (size_t)len, &lib) || file_find(t, &lib))
			continue;
		if (t->nfiles >= TLSTRACK_FILES) {
			if (!t->st.files_full++)
				rt_warn("tls: more than %d libssl files: %s (of process %u) and "
					"later ones get no probes",
					TLSTRACK_FILES, lib.path, tgid);
			continue;
		}
		f = &t->files[t->nfiles++];
		memset(f, 0, sizeof(*f));
		f->dev_major = lib.dev_major;
		f->dev_minor = lib.dev_minor;
		f->ino = lib.ino;
		snprintf(path, sizeof(path), "/proc/%u/root%s", tgid, lib.path);
		if (file_attach(t, f, path)) {
			t->st.files++;
			added++;
			rt_info("tls: OpenSSL probes on %s (of process %u)", lib.path, tgid);
		} else {
			t->st.attach_err++;
			rt_warn("tls: no OpenSSL probe could be attached to %s (of process %u)",
				lib.path, tgid);
		}
	}
	free(line);
	fclose(m);
	return added;
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
