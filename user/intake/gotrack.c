// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gotrack.c - Go processes in the intake (see gotrack.h): executables
 * inspected once per file identity, and executor ids for goroutines.
 *
 * The executor table is open-addressed by (tgid, goid) with a bounded probe
 * run; when a run is full its least recently used entry makes room (counted).
 * An evicted goroutine gets a new id when it is seen again: its later work
 * then finds no request to join (a new trace), never another request's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "goelf.h"
#include "goprobes_load.h"
#include "gotls.h"
#include "gotrack.h"
#include "jobq.h"
#include "log.h"
#include "pacer.h"
#include "tlsscan.h"

#define EXEC_SLOTS 16384 /* a power of two */
#define EXEC_PROBE 8
#define FILE_CACHE 64

struct exec_slot {
	uint64_t goid; /* 0: free */
	uint64_t used; /* tick of the last lookup */
	uint32_t tgid;
	uint32_t id;
};

struct file_entry {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	bool used;
	struct gotrack_proc proc;
};

#define SEEN_SLOTS 16384
#define JOBS	   64 /* executables queued for, being read by, or back from the reader */

/* An executable for the reader thread, and what it found. */
struct job {
	uint32_t tgid;
	uint32_t gen; /* the slot's selection generation when queued */
	bool rt_only; /* for gotrack_runtime(): cache the result, apply nothing */
	int rc;	      /* 0, or -errno of reading /proc/TGID/exe */
	struct stat st;
	struct gotrack_proc proc;
};

#define HELD_SLOTS 64
#define HELD_MAX   (sizeof(struct rt_data_event) + 1 + sizeof(struct rt_data_tail))

/* A 1-byte read held back (see gotrack_deliver()); len 0: free. */
struct held {
	uint32_t tgid, fd;
	uint32_t tid; /* the executor it goes on as (0: its own thread) */
	uint64_t goid;
	uint64_t poll;
	size_t len;
	uint8_t rec[HELD_MAX];
};

struct gotrack {
	struct exec_slot *slots; /* allocated at the first goroutine */
	uint64_t tick;
	uint32_t next_id;
	struct file_entry files[FILE_CACHE];
	unsigned next_file;
	struct gotrack_stats st;
	uint32_t *retry;	 /* tgids the reader's queue refused, direct-mapped */
	uint32_t *gen;		 /* selection generation of each seen slot */
	struct jobq rd;		 /* the reader thread (see reader_ops) */
	bool async;		 /* gotrack_async(): the event loop runs */
	uint64_t startup_ns;	 /* spent reading executables before it */
	struct gotrack_bpf *bpf; /* NULL until gotrack_bpf_init() */
	struct held held[HELD_SLOTS];
	unsigned nheld;	      /* slots in use: none is the common case */
	uint8_t held_fds[64]; /* held records by fd % 64: most records' look-up ends here */
	uint32_t *seen;	      /* tgids gotrack_select() looked at, direct-mapped */
	uint8_t *tls_of;      /* enum tlsscan_stack counted for the tgid of each seen slot */
	bool auto_select;     /* gotrack_auto() */
	bool no_owners;	      /* gotrack_owner_probes(t, false) */
	uint64_t polls;
	uint64_t widen_s; /* probes_widen()'s last second */
};

static const char *const probe_funcs[GOTRACK_PROBE_MAX] = {
    [GOTRACK_PCONN_ROUNDTRIP] = "net/http.(*persistConn).roundTrip",
    [GOTRACK_REQUEST_WRITE] = "net/http.(*Request).write",
};

static const char *const fallback_names[GOTRACK_FALLBACK_MAX] = {
    [GOTRACK_NO_OFFSETS] = "no_offsets",
    [GOTRACK_INSPECT_BUDGET] = "inspect_budget",
};

const char *gotrack_fallback_name(unsigned reason)
{
	return reason < GOTRACK_FALLBACK_MAX ? fallback_names[reason] : "unknown";
}

static const struct jobq_ops reader_ops;

struct gotrack *gotrack_new(void)
{
	struct gotrack *t = calloc(1, sizeof(*t));

	if (t) {
		t->next_id = GOTRACK_EXEC_BASE;
		jobq_init(&t->rd, &reader_ops);
	}
	return t;
}

static void bpf_free(struct gotrack_bpf *b);

void gotrack_free(struct gotrack *t)
{
	if (!t)
		return;
	jobq_stop(&t->rd);
	bpf_free(t->bpf);
	free(t->gen);
	free(t->seen);
	free(t->tls_of);
	free(t->retry);
	free(t->slots);
	free(t);
}

const struct gotrack_stats *gotrack_stats(const struct gotrack *t)
{
	return &t->st;
}

/*
 * Where a net/http persistConn's socket fd is, for the single roundTrip
 * probe: member offsets from DWARF, the two itabs from the symbol table.
 * False (two probes) for a stripped or position-independent executable,
 * whose itab addresses are unknown or move.
 */
static bool http_fd_layout(const struct goelf *g, bool pie, struct rt_go_http *h)
{
	struct goelf_field f[] = {
	    {.type = "net/http.persistConn", .path = "conn"},
	    {.type = "crypto/tls.Conn", .path = "conn"},
	    {.type = "net.TCPConn", .path = "conn.fd"},
	    {.type = "net.netFD", .path = "pfd.Sysfd"},
	};
	uint64_t tcp, tls, size;

	if (pie || goelf_fields(g, f, 4) != 4 ||
	    goelf_sym(g, "go.itab.*net.TCPConn,net.Conn", &tcp, &size) || !tcp)
		return false;
	if (goelf_sym(g, "go.itab.*crypto/tls.Conn,net.Conn", &tls, &size))
		tls = 0; /* no TLS client in this program */
	h->tcp_itab = tcp;
	h->tls_itab = tls;
	h->pconn_conn = f[0].off;
	h->tls_conn = f[1].off;
	h->tcp_netfd = f[2].off;
	h->netfd_sysfd = f[3].off;
	return true;
}

static void describe(const struct goelf *g, struct gotrack_proc *out)
{
	const struct goelf_info *in = goelf_info(g);

	memset(out, 0, sizeof(*out));
	out->is_go = in->is_go;
	if (!in->is_go)
		return;
	snprintf(out->version, sizeof(out->version), "%s", in->version);
	out->pie = in->pie;
	out->rt_err = goruntime_layout(g, &out->rt);
	if (!in->goid_off || in->tls == GOELF_TLS_UNKNOWN)
		return;
	out->tracked = true;
	out->go.g_tls_off = in->g_tls_off;
	out->go.goid_off = in->goid_off;
	/* entry probes find the goroutine through the same TLS path */
	for (unsigned i = 0; i < GOTRACK_PROBE_MAX; i++) {
		uint64_t entry, end, off;

		if (goelf_func(g, probe_funcs[i], &entry, &end) == 0 &&
		    gotls_entry_offset(g, entry, end, &off) == 0)
			out->probe_off[i] = off;
	}
	out->http_fd =
	    out->probe_off[GOTRACK_PCONN_ROUNDTRIP] && http_fd_layout(g, in->pie, &out->http);
	gotls_offsets(g, &out->tls);
}

/* Reads the executable at path: 0 with *out filled, or -errno. Touches no
 * shared state: the reader thread runs it. */
static int inspect_file(const char *path, struct stat *st, struct gotrack_proc *out)
{
	struct goelf *g;

	if (stat(path, st))
		return -errno;
	g = goelf_open(path);
	if (!g) {
		if (errno != ENOEXEC)
			return -errno;
		memset(out, 0, sizeof(*out));
		return 0;
	}
	describe(g, out);
	goelf_free(g);
	if (!out->is_go) { /* Go's crypto/tls is gotls.h's */
		int stack = tlsscan_path(path);

		out->tls_stack = stack > 0 ? (uint8_t)stack : TLSSCAN_NONE;
	}
	return 0;
}

/* A TLS stack the OpenSSL probes cannot see (tlsscan.h): logged once per
 * executable read, with the process it was read for. */
static void tls_log(uint32_t tgid, const struct gotrack_proc *gp)
{
	char link[32], exe[256];
	ssize_t n;

	if (!gp->tls_stack)
		return;
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	rt_info("tls: %s (process %u): TLS stack %s, which the OpenSSL probes cannot see: not "
		"probed, its connections stay opaque",
		exe[0] ? exe : "?", tgid, tlsscan_name(gp->tls_stack));
}

/* redtap_tls_unsupported_processes: selected process tgid runs an
 * executable, or maps a library (tlslibs.h), with such a stack (one count
 * per seen slot: the first stack found). */
void gotrack_tls_stack(struct gotrack *t, uint32_t tgid, unsigned stack)
{
	unsigned slot = tgid % SEEN_SLOTS;

	if (!stack || stack >= TLSSCAN_MAX || !t->seen || t->seen[slot] != tgid)
		return;
	if (!t->tls_of)
		t->tls_of = calloc(SEEN_SLOTS, sizeof(*t->tls_of));
	if (!t->tls_of || t->tls_of[slot])
		return;
	t->tls_of[slot] = (uint8_t)stack;
	t->st.tls_unsupported[stack]++;
}

/* Before the slot changes hands (on) or its process leaves (off). */
static void tls_forget(struct gotrack *t, unsigned slot, uint32_t tgid, bool on)
{
	if (!t->tls_of || !t->tls_of[slot] || (!on && t->seen[slot] != tgid))
		return;
	t->st.tls_unsupported[t->tls_of[slot]]--;
	t->tls_of[slot] = TLSSCAN_NONE;
}

static bool cache_find(struct gotrack *t, const struct stat *st, struct gotrack_proc *out)
{
	for (unsigned i = 0; i < FILE_CACHE; i++) {
		struct file_entry *fe = &t->files[i];

		if (fe->used && fe->dev == st->st_dev && fe->ino == st->st_ino &&
		    fe->mtime.tv_sec == st->st_mtim.tv_sec &&
		    fe->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			*out = fe->proc;
			return true;
		}
	}
	return false;
}

static void cache_put(struct gotrack *t, const struct stat *st, const struct gotrack_proc *p)
{
	struct file_entry *fe = &t->files[t->next_file++ % FILE_CACHE];

	fe->used = true;
	fe->dev = st->st_dev;
	fe->ino = st->st_ino;
	fe->mtime = st->st_mtim;
	fe->proc = *p;
}

static void count_proc(struct gotrack *t, const struct gotrack_proc *p)
{
	if (p->is_go) {
		t->st.processes++;
		if (!p->tracked)
			t->st.fallback[GOTRACK_NO_OFFSETS]++;
	}
}

int gotrack_inspect_path(struct gotrack *t, const char *path, struct gotrack_proc *out)
{
	struct stat st;
	int rc;

	if (stat(path, &st))
		return -errno;
	if (!cache_find(t, &st, out)) {
		rc = inspect_file(path, &st, out);
		if (rc)
			return rc;
		cache_put(t, &st, out);
	}
	count_proc(t, out);
	return 0;
}

int gotrack_inspect(struct gotrack *t, uint32_t tgid, struct gotrack_proc *out)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	return gotrack_inspect_path(t, path, out);
}

static uint32_t exec_hash(uint32_t tgid, uint64_t goid)
{
	uint64_t h = (goid ^ ((uint64_t)tgid << 40)) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32);
}

uint32_t gotrack_executor(struct gotrack *t, uint32_t tgid, uint64_t goid)
{
	uint32_t h = exec_hash(tgid, goid);
	struct exec_slot *s, *victim = NULL;

	if (!t->slots) {
		t->slots = calloc(EXEC_SLOTS, sizeof(*t->slots));
		if (!t->slots)
			return 0;
	}
	t->tick++;
	/* Slots are never emptied and a new goroutine takes the first free
	 * one of its window: a free slot ends the search. */
	for (unsigned i = 0; i < EXEC_PROBE; i++) {
		s = &t->slots[(h + i) & (EXEC_SLOTS - 1)];
		if (s->goid == goid && s->tgid == tgid) {
			s->used = t->tick;
			return s->id;
		}
		if (!s->goid) {
			victim = s;
			break;
		}
	}
	if (!victim) { /* a full window: the least recently used goes */
		victim = &t->slots[h & (EXEC_SLOTS - 1)];
		for (unsigned i = 1; i < EXEC_PROBE; i++) {
			s = &t->slots[(h + i) & (EXEC_SLOTS - 1)];
			if (s->used < victim->used)
				victim = s;
		}
		t->st.exec_evicted++;
	}
	victim->goid = goid;
	victim->tgid = tgid;
	victim->used = t->tick;
	victim->id = t->next_id;
	t->next_id = t->next_id == UINT32_MAX ? GOTRACK_EXEC_BASE : t->next_id + 1;
	return victim->id;
}

/* --- the kernel side --- */

#define PROBED_MAX 256 /* Go processes with entry probes at once */

struct probed {
	uint32_t tgid;
	bool one;	    /* roundTrip alone, by socket: probes_widen() may add write */
	uint64_t write_off; /* Request.write's probe offset, for probes_widen() */
	struct bpf_link *links[GOTRACK_PROBE_MAX];
};

struct gotrack_bpf {
	struct goprobes_bpf *skel; /* NULL: no entry probes */
	int procs_fd, unknown_fd;
	gotrack_mark_fn mark; /* the go bits (gotrack.h) */
	void *mark_ctx;
	struct gotls *tls; /* crypto/tls probes, NULL without */
	struct probed probed[PROBED_MAX];
};

static const char *const unknown_names[RT_GO_UNKNOWN_MAX] = {
    [RT_GO_READ_FAULT] = "read_fault",
    [RT_GO_SYSTEM] = "system_goroutine",
};

const char *gotrack_unknown_name(unsigned reason)
{
	if (reason < RT_GO_UNKNOWN_MAX)
		return unknown_names[reason];
	return gotrack_fallback_name(reason - RT_GO_UNKNOWN_MAX);
}

int gotrack_bpf_init(struct gotrack *t, struct bpf_object *capture_obj, gotrack_mark_fn mark,
		     void *ctx)
{
	struct gotrack_bpf *b;

	b = t->bpf = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mark = mark;
	b->mark_ctx = ctx;
	b->procs_fd = bpf_object__find_map_fd_by_name(capture_obj, "go_procs");
	b->unknown_fd = bpf_object__find_map_fd_by_name(capture_obj, "go_unknown");
	if (b->procs_fd < 0 || b->unknown_fd < 0)
		return -ENOENT;
	b->tls = gotls_new(capture_obj);
	b->skel = goprobes_load(capture_obj);
	return b->skel ? 0 : -errno;
}

struct bpf_object *gotrack_bpf_object(const struct gotrack *t)
{
	return t && t->bpf && t->bpf->skel ? t->bpf->skel->obj : NULL;
}

static struct probed *probed_find(struct gotrack_bpf *b, uint32_t tgid)
{
	for (unsigned i = 0; i < PROBED_MAX; i++)
		if (b->probed[i].tgid == tgid)
			return &b->probed[i];
	return NULL;
}

static void probes_detach(struct gotrack_bpf *b, struct probed *p)
{
	if (p->tgid)
		bpf_map_delete_elem(bpf_map__fd(b->skel->maps.go_http), &p->tgid);
	for (unsigned i = 0; i < GOTRACK_PROBE_MAX; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	p->tgid = 0;
}

static void bpf_free(struct gotrack_bpf *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < PROBED_MAX; i++)
		if (b->probed[i].tgid)
			probes_detach(b, &b->probed[i]);
	gotls_free(b->tls);
	goprobes_bpf__destroy(b->skel);
	free(b);
}

/* The owner maps (RT_GO_OWNER_*) that probes_attach() gives process gp
 * probes to fill, which also picks its probes: with the socket's fd,
 * roundTrip alone (one trap a request); else both or none (the writer
 * probe alone would only clear owners). Its go_procs entry says so before
 * they are attached, and its egress records look the others up no more. */
static uint32_t probes_owners(const struct gotrack *t, const struct gotrack_proc *gp)
{
	if (!t->bpf->skel || t->no_owners)
		return 0;
	if (gp->http_fd)
		return RT_GO_OWNER_FD;
	if (gp->probe_off[GOTRACK_PCONN_ROUNDTRIP] && gp->probe_off[GOTRACK_REQUEST_WRITE])
		return RT_GO_OWNER_WRITER;
	return 0;
}

/* Adds RT_GO_OWNER_WRITER to tgid's go_procs entry: 0, or -1 when it has
 * none (any more) or it cannot be written. */
static int owners_add_writer(struct gotrack_bpf *b, uint32_t tgid)
{
	struct rt_go_proc go;

	if (bpf_map_lookup_elem(b->procs_fd, &tgid, &go))
		return -1;
	go.owners |= RT_GO_OWNER_WRITER;
	return bpf_map_update_elem(b->procs_fd, &tgid, &go, BPF_EXIST) ? -1 : 0;
}

void gotrack_owner_probes(struct gotrack *t, bool on)
{
	t->no_owners = !on;
}

static void probes_attach(struct gotrack *t, uint32_t tgid, const struct gotrack_proc *gp)
{
	struct gotrack_bpf *b = t->bpf;
	struct bpf_program *progs[GOTRACK_PROBE_MAX] = {
	    [GOTRACK_PCONN_ROUNDTRIP] = b->skel->progs.go_pconn_roundtrip,
	    [GOTRACK_REQUEST_WRITE] = b->skel->progs.go_request_write,
	};
	uint32_t owners = probes_owners(t, gp);
	unsigned n = GOTRACK_PROBE_MAX;
	struct probed *p;
	char exe[32];

	if (!owners)
		return;
	if (owners & RT_GO_OWNER_FD) {
		progs[GOTRACK_PCONN_ROUNDTRIP] = b->skel->progs.go_pconn_roundtrip_fd;
		n = GOTRACK_PCONN_ROUNDTRIP + 1;
	}
	if (probed_find(b, tgid))
		return;
	p = probed_find(b, 0);
	if (!p) {
		t->st.probe_failed++;
		return;
	}
	p->tgid = tgid;
	p->one = gp->http_fd;
	p->write_off = gp->probe_off[GOTRACK_REQUEST_WRITE];
	if (gp->http_fd &&
	    bpf_map_update_elem(bpf_map__fd(b->skel->maps.go_http), &tgid, &gp->http, BPF_ANY)) {
		t->st.probe_failed++;
		probes_detach(b, p);
		return;
	}
	snprintf(exe, sizeof(exe), "/proc/%u/exe", tgid);
	for (unsigned i = 0; i < n; i++) {
		p->links[i] =
		    bpf_program__attach_uprobe(progs[i], false, (pid_t)tgid, exe, gp->probe_off[i]);
		if (!p->links[i]) {
			rt_debug("go: no entry probe %u on process %u: %s", i, tgid,
				 strerror(errno));
			t->st.probe_failed++;
			probes_detach(b, p);
			return;
		}
	}
	t->st.probed++;
	t->st.probed_one += gp->http_fd;
	rt_debug("go: process %u: net/http %s", tgid,
		 gp->http_fd ? "roundTrip probe by socket" : "roundTrip and write probes");
}

/*
 * Once a second: a process probed by socket alone whose roundTrip met a
 * connection it cannot follow (a user's dialer's own net.Conn) gets the
 * Request.write probe too, as a stripped build has, for its later requests.
 */
static void probes_widen(struct gotrack *t)
{
	struct gotrack_bpf *b = t->bpf;
	struct timespec now;
	struct rt_go_http h;
	int fd;

	if (!b || !b->skel || clock_gettime(CLOCK_MONOTONIC_COARSE, &now) ||
	    (uint64_t)now.tv_sec == t->widen_s)
		return;
	t->widen_s = (uint64_t)now.tv_sec;
	fd = bpf_map__fd(b->skel->maps.go_http);
	for (unsigned i = 0; i < PROBED_MAX; i++) {
		struct probed *p = &b->probed[i];
		char exe[32];

		if (!p->tgid || !p->one || bpf_map_lookup_elem(fd, &p->tgid, &h) || !h.unresolved)
			continue;
		p->one = false;
		/* the writer goroutine's owners are looked up before it has any */
		if (!p->write_off || owners_add_writer(b, p->tgid)) {
			t->st.probe_failed += !!p->write_off;
			continue;
		}
		snprintf(exe, sizeof(exe), "/proc/%u/exe", p->tgid);
		p->links[GOTRACK_REQUEST_WRITE] = bpf_program__attach_uprobe(
		    b->skel->progs.go_request_write, false, (pid_t)p->tgid, exe, p->write_off);
		if (!p->links[GOTRACK_REQUEST_WRITE]) {
			t->st.probe_failed++;
			continue;
		}
		t->st.probed_one--;
		rt_info("go: process %u: a net/http connection not over a socket the probe reads: "
			"roundTrip and write probes from now on",
			p->tgid);
	}
}

/* The reader thread's job: reads the executable of j->tgid. */
static void reader_run(void *job)
{
	struct job *j = job;
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u/exe", j->tgid);
	j->rc = inspect_file(path, &j->st, &j->proc);
}

/* A job for the runtime layout only is one too many when its tgid is
 * queued, being read or back; another when queued for the same selection. */
static bool reader_dup(const void *old, const void *job, enum jobq_where where)
{
	const struct job *o = old, *j = job;

	return o->tgid == j->tgid && (j->rt_only || (where == JOBQ_QUEUED && o->gen == j->gen));
}

/*
 * The reader thread: reading a Go executable (its DWARF) takes 100-250 ms,
 * so the event loop never does it. It queues a job, the reader reads at most
 * GOTRACK_INSPECT_MS of each second, and gotrack_flush() applies what came
 * back (jobq.h).
 */
static const struct jobq_ops reader_ops = {
    .size = sizeof(struct job),
    .cap = JOBS,
    .ms_per_s = GOTRACK_INSPECT_MS,
    .run = reader_run,
    .dup = reader_dup,
};

/* Queues tgid for the reader: 0 (queued, or as good as: see reader_dup()),
 * or -errno when the queue is full or the reader cannot start. */
static int reader_queue(struct gotrack *t, uint32_t tgid, uint32_t gen, bool rt_only)
{
	struct job j = {.tgid = tgid, .gen = gen, .rt_only = rt_only};
	int rc = jobq_queue(&t->rd, &j);

	return rc == -EEXIST ? 0 : rc;
}

/* Makes selected Go process tgid readable by goroutine. */
static void apply(struct gotrack *t, uint32_t tgid, const struct gotrack_proc *gp)
{
	struct gotrack_bpf *b = t->bpf;
	struct rt_go_proc go = gp->go, had;

	count_proc(t, gp);
	gotrack_tls_stack(t, tgid, gp->tls_stack);
	if (!gp->is_go)
		return;
	if (!gp->tracked) {
		rt_info("go: process %u (%s) stays on threads: goid offset or TLS mode unknown",
			tgid, gp->version[0] ? gp->version : "unknown version");
		return;
	}
	/* never fewer owners than the probes already attached fill (a
	 * process widened by probes_widen() has both) */
	go.owners = probes_owners(t, gp);
	if (!bpf_map_lookup_elem(b->procs_fd, &tgid, &had))
		go.owners |= had.owners;
	if (b->mark(b->mark_ctx, tgid, true) ||
	    bpf_map_update_elem(b->procs_fd, &tgid, &go, BPF_ANY))
		return;
	if (b->skel)
		probes_attach(t, tgid, gp);
	if (b->tls)
		gotls_attach(b->tls, tgid, &gp->tls, &gp->go);
	rt_debug("go: process %u (%s) by goroutine, goid at %u, g at tp%+d", tgid, gp->version,
		 gp->go.goid_off, gp->go.g_tls_off);
}

static void retry_mark(struct gotrack *t, uint32_t tgid, bool on)
{
	if (on && !t->retry)
		t->retry = calloc(SEEN_SLOTS, sizeof(*t->retry));
	if (!t->retry)
		return;
	if (on)
		t->retry[tgid % SEEN_SLOTS] = tgid;
	else if (t->retry[tgid % SEEN_SLOTS] == tgid)
		t->retry[tgid % SEEN_SLOTS] = 0;
}

/* Applies what the reader found, for the processes still selected as
 * they were when queued. */
static void reader_collect(struct gotrack *t)
{
	struct gotrack_proc known;
	unsigned n;
	struct job *got = jobq_take(&t->rd, &n);

	for (unsigned i = 0; i < n; i++) {
		unsigned slot = got[i].tgid % SEEN_SLOTS;

		if (got[i].rc)
			continue; /* gone before it could be read */
		/* a file read twice (two processes queued at once) is logged once */
		if (!cache_find(t, &got[i].st, &known))
			tls_log(got[i].tgid, &got[i].proc);
		cache_put(t, &got[i].st, &got[i].proc);
		if (!got[i].rt_only && t->seen && t->seen[slot] == got[i].tgid &&
		    t->gen[slot] == got[i].gen)
			apply(t, got[i].tgid, &got[i].proc);
	}
}

int gotrack_runtime(struct gotrack *t, uint32_t tgid, struct goruntime_layout *l, bool *pie)
{
	struct gotrack_proc gp;
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	if (stat(path, &st))
		return -ESRCH; /* gone, or a kernel thread */
	if (!cache_find(t, &st, &gp)) {
		reader_queue(t, tgid, 0, true); /* full: a later call queues it */
		return -EAGAIN;
	}
	if (!gp.is_go)
		return -ENOEXEC;
	if (gp.rt_err)
		return gp.rt_err;
	*l = gp.rt;
	*pie = gp.pie;
	return 0;
}

void gotrack_async(struct gotrack *t)
{
	t->async = true;
}

void gotrack_select(struct gotrack *t, uint32_t tgid, bool on)
{
	struct gotrack_bpf *b = t->bpf;
	struct gotrack_proc gp;
	unsigned slot = tgid % SEEN_SLOTS;
	struct probed *p;
	char path[32];
	struct stat st;

	if (!b || b->procs_fd < 0 || !tgid)
		return;
	if (!t->seen) {
		t->seen = calloc(SEEN_SLOTS, sizeof(*t->seen));
		t->gen = calloc(SEEN_SLOTS, sizeof(*t->gen));
		if (!t->seen || !t->gen) {
			free(t->seen);
			free(t->gen);
			t->seen = t->gen = NULL;
			return;
		}
	}
	t->gen[slot]++; /* what the reader has queued for the slot is stale */
	tls_forget(t, slot, tgid, on);
	if (on)
		t->seen[slot] = tgid;
	else if (t->seen[slot] == tgid)
		t->seen[slot] = 0;
	retry_mark(t, tgid, false);
	if (!on) {
		bpf_map_delete_elem(b->procs_fd, &tgid);
		b->mark(b->mark_ctx, tgid, false);
		p = b->skel ? probed_find(b, tgid) : NULL;
		if (p)
			probes_detach(b, p);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	if (stat(path, &st))
		return;
	if (cache_find(t, &st, &gp)) {
		apply(t, tgid, &gp);
		return;
	}
	/* Before the event loop runs, the processes already there are read
	 * at once (up to GOTRACK_STARTUP_MS in all), so that they are
	 * followed by goroutine from the agent's first record on. */
	if (!t->async && t->startup_ns < GOTRACK_STARTUP_MS * 1000000ull) {
		uint64_t t0 = pacer_now_ns();
		int rc = inspect_file(path, &st, &gp);

		t->startup_ns += pacer_now_ns() - t0;
		if (!rc) {
			cache_put(t, &st, &gp);
			tls_log(tgid, &gp);
			apply(t, tgid, &gp);
		}
		return;
	}
	if (reader_queue(t, tgid, t->gen[slot], false)) {
		/* the queue is full: a later data record tries again */
		t->st.fallback[GOTRACK_INSPECT_BUDGET]++;
		retry_mark(t, tgid, true);
	}
}

/* A data or log record that carries a goroutine id: its tail, else false. */
static bool goroutine_of(const void *data, size_t len, uint64_t *goid)
{
	const struct rt_data_event *ev = data;
	struct rt_data_tail tail;

	if (len < sizeof(*ev) || (ev->hdr.type != RT_EV_DATA && ev->hdr.type != RT_EV_LOG) ||
	    ev->cap_len > RT_CAPTURE_MAX || len < sizeof(*ev) + ev->cap_len + sizeof(tail) ||
	    ev->hdr.len < sizeof(*ev) + ev->cap_len + sizeof(tail))
		return false;
	memcpy(&tail, ev->data + ev->cap_len, sizeof(tail));
	*goid = tail.goid;
	return tail.goid != 0;
}

/*
 * Held 1-byte reads. net/http's server starts a background read
 * (net/http.(*connReader).backgroundRead, one byte) while a handler runs,
 * and stops it only after the response went out: a keep-alive client's next
 * request often loses its first byte to that goroutine, and the request
 * would be attributed to it instead of the conn.serve goroutine that reads
 * the rest and runs the handler. So a 1-byte ingress read of a Go process
 * waits for the next record of its connection: when that is a read of the
 * same process with a goroutine id, the byte goes on as that goroutine's.
 * Order per connection is kept (a held record always goes first); a record
 * held across two polls goes on as it was.
 */
static struct held *held_find(struct gotrack *t, uint32_t tgid, uint32_t fd)
{
	if (!t->held_fds[fd % 64])
		return NULL;
	/* up to the last slot in use: a few at most, at the front (held_free()) */
	for (unsigned i = 0, used = 0; i < HELD_SLOTS && used < t->nheld; i++) {
		if (!t->held[i].len)
			continue;
		if (t->held[i].tgid == tgid && t->held[i].fd == fd)
			return &t->held[i];
		used++;
	}
	return NULL;
}

static struct held *held_free(struct gotrack *t)
{
	for (unsigned i = 0; i < HELD_SLOTS; i++)
		if (!t->held[i].len)
			return &t->held[i];
	return NULL;
}

/* The connection a data, conn or close record is about. */
static bool conn_of(const void *data, size_t len, uint32_t *tgid, uint32_t *fd)
{
	const struct rt_event_hdr *h = data;
	struct rt_conn_id id;

	if (len < sizeof(*h) + sizeof(id) ||
	    (h->type != RT_EV_DATA && h->type != RT_EV_CONN_OPEN && h->type != RT_EV_CONN_CLOSE))
		return false;
	memcpy(&id, (const uint8_t *)data + sizeof(*h), sizeof(id));
	*tgid = id.tgid;
	*fd = id.fd;
	return true;
}

static int held_release(struct gotrack *t, struct held *hd, gotrack_record_fn fn, void *ctx)
{
	size_t len = hd->len;

	hd->len = 0;
	t->nheld--;
	t->held_fds[hd->fd % 64]--;
	return fn(ctx, hd->rec, len, hd->tid);
}

/* fn(data, tid), with the first non-zero result of the two calls. */
static int pass(int rc, gotrack_record_fn fn, void *ctx, const void *data, size_t len, uint32_t tid)
{
	int r = fn(ctx, data, len, tid);

	return rc ? rc : r;
}

void gotrack_auto(struct gotrack *t)
{
	struct dirent *de;
	DIR *d;

	t->auto_select = true;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end == '\0' && pid > 0 && pid <= UINT32_MAX && pid != (unsigned long)getpid())
			gotrack_select(t, (uint32_t)pid, true);
	}
	closedir(d);
}

/* Process bookkeeping from the record stream: an exit undoes what
 * gotrack_select() did, an exec looks at the new program of a process it
 * had looked at (the selection outlives an exec); without a selection, a
 * process is looked at on its first data record. */
static void follow_process(struct gotrack *t, const struct rt_event_hdr *h)
{
	uint32_t tgid = (uint32_t)(h->pid_tgid >> 32);
	bool known = t->seen && t->seen[tgid % SEEN_SLOTS] == tgid;

	if (h->type == RT_EV_PROC_EXIT) {
		gotrack_select(t, tgid, false);
	} else if (h->type == RT_EV_PROC_EXEC && (known || t->auto_select)) {
		gotrack_select(t, tgid, false);
		gotrack_select(t, tgid, true);
	} else if (h->type == RT_EV_DATA && ((t->auto_select && !known) ||
					     (t->retry && t->retry[tgid % SEEN_SLOTS] == tgid))) {
		gotrack_select(t, tgid, true);
	}
}

int gotrack_deliver(struct gotrack *t, const void *data, size_t len, gotrack_record_fn fn,
		    void *ctx)
{
	const struct rt_data_event *ev = data;
	uint32_t tgid, fd, id;
	struct held *hd;
	uint64_t goid;
	int rc = 0;

	if (len >= sizeof(ev->hdr) && t->bpf)
		follow_process(t, &ev->hdr);

	if (t->nheld && conn_of(data, len, &tgid, &fd) && (hd = held_find(t, tgid, fd))) {
		/* the next read of the connection takes the held byte */
		if (ev->hdr.type == RT_EV_DATA && ev->dir == RT_DIR_INGRESS &&
		    goroutine_of(data, len, &goid) && goid != hd->goid &&
		    (id = gotrack_executor(t, hd->tgid, goid))) {
			hd->tid = id;
			t->st.first_byte_moved++;
		}
		rc = held_release(t, hd, fn, ctx);
	}
	/* no goroutine, or no memory for an executor: the record's own thread */
	if (!goroutine_of(data, len, &goid))
		return pass(rc, fn, ctx, data, len, 0);
	tgid = (uint32_t)(ev->hdr.pid_tgid >> 32);
	id = gotrack_executor(t, tgid, goid);
	if (id && ev->hdr.type == RT_EV_DATA && ev->dir == RT_DIR_INGRESS && ev->cap_len == 1 &&
	    ev->len == 1 && len <= HELD_MAX && (hd = held_free(t))) {
		memcpy(hd->rec, data, len); /* the ring buffer's slot is not ours past this call */
		hd->len = len;
		hd->tgid = tgid;
		hd->fd = ev->conn.fd;
		hd->tid = id;
		hd->goid = goid;
		hd->poll = t->polls;
		t->nheld++;
		t->held_fds[hd->fd % 64]++;
		return rc;
	}
	return pass(rc, fn, ctx, data, len, id);
}

int gotrack_flush(struct gotrack *t, bool all, gotrack_record_fn fn, void *ctx)
{
	int rc = 0, r;

	reader_collect(t);
	for (unsigned i = 0; t->nheld && i < HELD_SLOTS; i++) {
		struct held *hd = &t->held[i];

		if (hd->len && (all || hd->poll != t->polls)) {
			r = held_release(t, hd, fn, ctx);
			rc = rc ? rc : r;
		}
	}
	probes_widen(t);
	t->polls++;
	return rc;
}

int gotrack_unknown(const struct gotrack *t, uint64_t out[GOTRACK_UNKNOWN_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, GOTRACK_UNKNOWN_MAX * sizeof(out[0]));
	for (unsigned i = 0; i < GOTRACK_FALLBACK_MAX; i++)
		out[RT_GO_UNKNOWN_MAX + i] = t->st.fallback[i];
	if (!t->bpf || t->bpf->unknown_fd < 0 || ncpus <= 0)
		return -ENOENT;
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < RT_GO_UNKNOWN_MAX; k++) {
		if (bpf_map_lookup_elem(t->bpf->unknown_fd, &k, vals))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}
