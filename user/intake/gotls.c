// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gotls.c - crypto/tls.(*Conn).Read and Write probes of Go executables
 * (see gotls.h): probe points from .gopclntab and goret.c, links per file.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#include "goelf.h"
#include "goret.h"
#include "gotls.h"
#include "log.h"
#include "probesite.h"

static const char *const func_names[GOTLS_FUNCS] = {
    [GOTLS_READ] = "crypto/tls.(*Conn).Read",
    [GOTLS_WRITE] = "crypto/tls.(*Conn).Write",
    [GOTLS_HANDSHAKE] = "crypto/tls.(*Conn).handshakeContext",
};

static const char *const entry_progs[GOTLS_FUNCS] = {
    [GOTLS_READ] = "go_tls_read_enter",
    [GOTLS_WRITE] = "go_tls_write_enter",
    [GOTLS_HANDSHAKE] = "go_tls_quiet_enter",
};

static const char *const return_progs[GOTLS_FUNCS] = {
    [GOTLS_READ] = "go_tls_return",
    [GOTLS_WRITE] = "go_tls_return",
    [GOTLS_HANDSHAKE] = "go_tls_quiet_return",
};

#define LINKS (GOTLS_FUNCS * (1 + GOTLS_RETS))

struct gotls_file {
	dev_t dev;
	ino_t ino;
};

struct gotls {
	struct bpf_program *enter[GOTLS_FUNCS], *ret[GOTLS_FUNCS];
	struct gotls_file files[GOTLS_FILES];
	struct bpf_link *links[GOTLS_FILES][LINKS];
	unsigned nfiles;
	struct gotls_stats st;
};

/* The return finder for the file's code, when arguments come in registers. */
static int abi_arch(const struct goelf_info *in, enum goret_arch *arch)
{
	if (in->major != 1)
		return -ENOTSUP; /* a Go 2 would need a look first */
	if (in->machine == EM_X86_64 && in->minor >= 17)
		*arch = GORET_X86_64;
	else if (in->machine == EM_AARCH64 && in->minor >= 18)
		*arch = GORET_ARM64;
	else
		return -ENOTSUP;
	return 0;
}

static int func_offsets(const struct goelf *g, enum goret_arch arch, unsigned f,
			struct gotls_offsets *out)
{
	uint64_t entry, end;
	uint32_t rets[GOTLS_RETS], skip = 0;
	uint8_t *body;
	int n;

	n = goelf_func(g, func_names[f], &entry, &end);
	if (n)
		return n == -ENOTSUP ? -ENOENT : n;
	if (end <= entry || end - entry > GOTLS_BODY_MAX)
		return -E2BIG;
	body = malloc(end - entry);
	if (!body)
		return -ENOMEM;
	n = goelf_read(g, entry, body, end - entry);
	if (!n)
		n = goret_find(arch, body, end - entry, rets, GOTLS_RETS);
	if (n > 0 && arch == GORET_X86_64)
		skip = probesite_entry(body, end - entry, NULL);
	free(body);
	if (n < 0)
		return n;
	if (goelf_file_offset(g, entry + skip, &out->entry[f]))
		return -ENOENT;
	for (int i = 0; i < n; i++)
		if (goelf_file_offset(g, entry + rets[i], &out->ret[f][i]))
			return -ENOENT;
	out->nret[f] = (uint32_t)n;
	return 0;
}

int gotls_entry_offset(const struct goelf *g, uint64_t entry, uint64_t end, uint64_t *off)
{
	const struct goelf_info *in = goelf_info(g);
	uint8_t head[PROBESITE_CALL_SCAN];
	size_t len = end - entry < sizeof(head) ? end - entry : sizeof(head);
	uint32_t skip = 0;

	if (end > entry && in->machine == EM_X86_64 && !goelf_read(g, entry, head, len))
		skip = probesite_entry(head, len, NULL);
	return goelf_file_offset(g, entry + skip, off);
}

int gotls_offsets(const struct goelf *g, struct gotls_offsets *out)
{
	const struct goelf_info *in = goelf_info(g);
	enum goret_arch arch = GORET_X86_64;

	memset(out, 0, sizeof(*out));
	out->err = in->is_go ? abi_arch(in, &arch) : -ENOENT;
	for (unsigned f = 0; !out->err && f < GOTLS_FUNCS; f++)
		out->err = func_offsets(g, arch, f, out);
	if (out->err) {
		int err = out->err;

		memset(out, 0, sizeof(*out));
		out->err = err;
	}
	return out->err;
}

struct gotls *gotls_new(struct bpf_object *capture_obj)
{
	struct gotls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	for (unsigned f = 0; f < GOTLS_FUNCS; f++) {
		t->enter[f] = bpf_object__find_program_by_name(capture_obj, entry_progs[f]);
		t->ret[f] = bpf_object__find_program_by_name(capture_obj, return_progs[f]);
		if (!t->enter[f] || !t->ret[f]) {
			free(t);
			return NULL;
		}
	}
	return t;
}

static void links_free(struct bpf_link **links)
{
	for (unsigned i = 0; i < LINKS; i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

void gotls_free(struct gotls *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nfiles; i++)
		links_free(t->links[i]);
	free(t);
}

const struct gotls_stats *gotls_stats(const struct gotls *t)
{
	return &t->st;
}

/* The return probes first: an entry without its returns would leave the
 * goroutine marked inside a call (until the LRU drops it). */
static int file_attach(struct gotls *t, struct bpf_link **links, const char *exe,
		       const struct gotls_offsets *o, uint64_t cookie)
{
	struct bpf_uprobe_opts opts = {.sz = sizeof(opts), .bpf_cookie = cookie};
	unsigned n = 0;

	for (unsigned f = 0; f < GOTLS_FUNCS; f++)
		for (uint32_t i = 0; i < o->nret[f] && i < GOTLS_RETS; i++) {
			links[n] = bpf_program__attach_uprobe_opts(t->ret[f], -1, exe, o->ret[f][i],
								   &opts);
			if (!links[n++])
				return -errno;
		}
	for (unsigned f = 0; f < GOTLS_FUNCS; f++) {
		links[n] =
		    bpf_program__attach_uprobe_opts(t->enter[f], -1, exe, o->entry[f], &opts);
		if (!links[n++])
			return -errno;
	}
	return 0;
}

int gotls_attach(struct gotls *t, uint32_t tgid, const struct gotls_offsets *o,
		 const struct rt_go_proc *go)
{
	uint64_t cookie = (uint64_t)(uint32_t)go->g_tls_off | (uint64_t)go->goid_off << 32;
	struct bpf_link **links;
	char exe[32];
	struct stat st;
	int rc;

	if (o->err)
		return o->err;
	if (!o->entry[GOTLS_READ] || !o->entry[GOTLS_WRITE] || !o->entry[GOTLS_HANDSHAKE])
		return -ENOENT; /* not looked for (no goroutine ids) */
	snprintf(exe, sizeof(exe), "/proc/%u/exe", tgid);
	if (stat(exe, &st))
		return -errno;
	for (unsigned i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == st.st_dev && t->files[i].ino == st.st_ino)
			return 0;
	if (t->nfiles >= GOTLS_FILES) {
		if (t->st.failed++ == 0)
			rt_warn("tls: more than %u Go executables use crypto/tls: process %u and "
				"later ones are not probed",
				GOTLS_FILES, tgid);
		return -ENOSPC;
	}
	links = t->links[t->nfiles];
	rc = file_attach(t, links, exe, o, cookie);
	if (rc) {
		links_free(links);
		t->st.failed++;
		rt_info("tls: no Go crypto/tls probes on process %u: %s", tgid, strerror(-rc));
		return rc;
	}
	t->files[t->nfiles].dev = st.st_dev;
	t->files[t->nfiles].ino = st.st_ino;
	t->nfiles++;
	t->st.files++;
	rt_info("tls: Go crypto/tls probes on the executable of process %u (%u+%u+%u returns)",
		tgid, o->nret[GOTLS_READ], o->nret[GOTLS_WRITE], o->nret[GOTLS_HANDSHAKE]);
	return 0;
}
