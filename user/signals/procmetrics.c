// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * procmetrics.c - process.* metrics of the instrumented processes, read
 * from /proc on the sweep and summed per service. See procmetrics.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "goruntime.h"
#include "procmetrics.h"
#include "semconv.h"

#define SERVICE_MAX 128
#define ROOT_MAX    256

enum go_state { GO_UNKNOWN, GO_READABLE, GO_NONE };
enum unread_reason { UNREAD_NO_SYMBOLS, UNREAD_NO_OFFSETS, UNREAD_READ_FAULT, UNREAD_MAX };

static const char *const unread_names[UNREAD_MAX] = {"no_symbols", "no_offsets", "read_fault"};

struct pm_proc {
	uint32_t pid;
	uint64_t start, utime, stime;
	bool seen;
	enum go_state go;
	struct goruntime_layout layout;
	uint64_t bias, gc_cycles, pause_ns, allocated; /* counters: what was added already */
};

struct pm_service {
	char name[SERVICE_MAX];
	uint64_t rss, threads, fds;
	bool seen;
	bool go; /* a Go process of it was read this round */
	uint64_t goroutines, maxprocs, heap, goal;
	bool mem; /* a Go process of it gave memory figures this round */
	uint64_t stack, other;
};

enum { MEM_STACK, MEM_OTHER, MEM_TYPES };

static const char *const mem_types[MEM_TYPES] = {"stack", "other"};

struct procmetrics {
	char root[ROOT_MAX];
	double tick_s;
	struct metric_family *cpu, *mem, *threads, *fds;
	struct pm_proc procs[PROCMETRICS_MAX_PROCS];
	size_t nprocs;
	struct pm_service svcs[PROCMETRICS_MAX_SERVICES];
	size_t nsvcs;
	size_t nread; /* processes read this round */
	uint64_t skipped;
	/* Go runtime */
	bool read_go; /* root is the real /proc: Go processes are read */
	struct metric_family *goroutines, *maxprocs, *heap, *goal, *gc_cycles, *pause;
	struct metric_family *mem_used, *allocated;
	struct metric_series *unread[UNREAD_MAX];
	procmetrics_go_fn go_fn; /* the layouts of Go executables (never read here) */
	void *go_ctx;
};

/* Reads at most len - 1 bytes of root/pid/name, NUL-terminated: the length or -errno. */
static ssize_t read_small(const char *root, uint32_t pid, const char *name, char *buf, size_t len)
{
	char path[ROOT_MAX + 48];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/%s", root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Fields of a stat line, numbered as in proc(5), after the last ')'. */
static int stat_fields(char *buf, const int *want, uint64_t *out, size_t n)
{
	char *p = strrchr(buf, ')');
	size_t got = 0;
	int field = 3;

	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	while (got < n && *p) {
		char *end;

		if (field == want[got]) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				return -EINVAL;
			out[got++] = v;
		}
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
		field++;
	}
	return got == n ? 0 : -EINVAL;
}

static uint64_t count_fds(const char *root, uint32_t pid)
{
	char path[ROOT_MAX + 32];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (n < PROCMETRICS_MAX_FDS && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int procmetrics_read_stat(const char *root, uint32_t pid, struct procmetrics_sample *out)
{
	/* utime, stime, num_threads, starttime, rss (pages) */
	static const int want[] = {14, 15, 20, 22, 24};
	uint64_t v[5];
	char buf[1024];
	ssize_t n = read_small(root, pid, "stat", buf, sizeof(buf));
	long page = sysconf(_SC_PAGESIZE);
	int err;

	if (n < 0)
		return (int)n;
	err = stat_fields(buf, want, v, 5);
	if (err)
		return err;
	out->utime = v[0];
	out->stime = v[1];
	out->threads = v[2];
	out->start = v[3];
	out->rss_bytes = v[4] * (uint64_t)(page > 0 ? page : 4096);
	out->fds = 0;
	return 0;
}

int procmetrics_read(const char *root, uint32_t pid, struct procmetrics_sample *out)
{
	int err = procmetrics_read_stat(root, pid, out);

	if (!err)
		out->fds = count_fds(root, pid);
	return err;
}

struct procmetrics *procmetrics_new(struct metric_registry *r, size_t max_series, const char *root)
{
	struct procmetrics *pm = calloc(1, sizeof(*pm));
	struct metric_family *f;
	long tck = sysconf(_SC_CLK_TCK);

	if (!pm)
		return NULL;
	snprintf(pm->root, sizeof(pm->root), "%s", root ? root : "/proc");
	pm->tick_s = 1.0 / (double)(tck > 0 ? tck : 100);
	pm->cpu = semconv_family_new(r, &semconv_process_cpu_time, max_series);
	pm->mem = semconv_family_new(r, &semconv_process_memory_usage, max_series);
	pm->threads = semconv_family_new(r, &semconv_process_thread_count, max_series);
	pm->fds = semconv_family_new(r, &semconv_process_unix_file_descriptor_count, max_series);
	pm->read_go = !root || !strcmp(root, "/proc");
	pm->goroutines = semconv_family_new(r, &semconv_go_goroutine_count, max_series);
	pm->maxprocs = semconv_family_new(r, &semconv_go_processor_limit, max_series);
	pm->heap = semconv_family_new(r, &semconv_go_memory_heap_live, max_series);
	pm->goal = semconv_family_new(r, &semconv_go_memory_gc_goal, max_series);
	pm->gc_cycles = semconv_family_new(r, &semconv_go_gc_cycles, max_series);
	pm->pause = semconv_family_new(r, &semconv_go_gc_pause_time, max_series);
	pm->mem_used = semconv_family_new(r, &semconv_go_memory_used, max_series);
	pm->allocated = semconv_family_new(r, &semconv_go_memory_allocated, max_series);
	f = semconv_family_new(r, &semconv_redtap_go_runtime_unread, 0);
	for (unsigned i = 0; i < UNREAD_MAX && f; i++) {
		const char *vals[] = {unread_names[i]};

		pm->unread[i] = metric_series_get(f, vals);
		metric_counter_add(pm->unread[i], 0);
	}
	if (!pm->cpu || !pm->mem || !pm->threads || !pm->fds || !pm->goroutines || !pm->maxprocs ||
	    !pm->heap || !pm->goal || !pm->gc_cycles || !pm->pause || !pm->mem_used ||
	    !pm->allocated || !f) {
		free(pm);
		return NULL;
	}
	return pm;
}

void procmetrics_free(struct procmetrics *pm)
{
	free(pm);
}

void procmetrics_set_go(struct procmetrics *pm, procmetrics_go_fn fn, void *ctx)
{
	pm->go_fn = fn;
	pm->go_ctx = ctx;
}

void procmetrics_begin(struct procmetrics *pm)
{
	for (size_t i = 0; i < pm->nprocs; i++)
		pm->procs[i].seen = false;
	for (size_t i = 0; i < pm->nsvcs; i++) {
		pm->svcs[i].seen = false;
		pm->svcs[i].rss = pm->svcs[i].threads = pm->svcs[i].fds = 0;
		pm->svcs[i].go = false;
		pm->svcs[i].goroutines = pm->svcs[i].maxprocs = 0;
		pm->svcs[i].heap = pm->svcs[i].goal = 0;
		pm->svcs[i].mem = false;
		pm->svcs[i].stack = pm->svcs[i].other = 0;
	}
	pm->nread = 0;
}

static struct pm_service *service(struct procmetrics *pm, const char *name)
{
	struct pm_service *s;

	for (size_t i = 0; i < pm->nsvcs; i++)
		if (!strncmp(pm->svcs[i].name, name, SERVICE_MAX - 1))
			return &pm->svcs[i];
	if (pm->nsvcs == PROCMETRICS_MAX_SERVICES)
		return NULL;
	s = &pm->svcs[pm->nsvcs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static struct pm_proc *proc_entry(struct procmetrics *pm, uint32_t pid)
{
	for (size_t i = 0; i < pm->nprocs; i++)
		if (pm->procs[i].pid == pid)
			return &pm->procs[i];
	if (pm->nprocs == PROCMETRICS_MAX_PROCS)
		return NULL;
	memset(&pm->procs[pm->nprocs], 0, sizeof(pm->procs[0]));
	pm->procs[pm->nprocs].pid = pid;
	return &pm->procs[pm->nprocs++];
}

static void cpu_add(struct procmetrics *pm, const char *svc, const char *mode, uint64_t ticks)
{
	const char *vals[] = {svc, mode};

	metric_counter_add(metric_series_get(pm->cpu, vals), (double)ticks * pm->tick_s);
}

static void unread(struct procmetrics *pm, enum unread_reason r)
{
	metric_counter_add(pm->unread[r], 1);
}

/* Decides once per process whether its Go runtime can be read, when the
 * layout of its executable is known (go_fn; until then, every round). */
static void go_decide(struct procmetrics *pm, struct pm_proc *p)
{
	bool pie = false;
	int err = pm->go_fn ? pm->go_fn(pm->go_ctx, p->pid, &p->layout, &pie) : -ENOSYS;

	if (err == -EAGAIN)
		return; /* not read yet: the next round */
	p->go = GO_NONE;
	if (err == -ENOENT || err == -ENOTSUP) {
		unread(pm, err == -ENOTSUP ? UNREAD_NO_OFFSETS : UNREAD_NO_SYMBOLS);
		return;
	}
	if (err)
		return; /* not Go, gone, or no one to ask */
	if (goruntime_bias(p->pid, pie, &p->bias)) {
		unread(pm, UNREAD_READ_FAULT);
		return;
	}
	p->go = GO_READABLE;
}

static void counter(struct metric_family *f, const char *svc, double v)
{
	const char *vals[] = {svc};

	metric_counter_add(metric_series_get(f, vals), v);
}

static void go_read(struct procmetrics *pm, struct pm_proc *p, struct pm_service *s)
{
	struct goruntime_sample g;

	if (p->go == GO_UNKNOWN)
		go_decide(pm, p);
	if (p->go != GO_READABLE)
		return;
	if (goruntime_read(p->pid, &p->layout, p->bias, &g)) {
		unread(pm, UNREAD_READ_FAULT);
		return;
	}
	s->go = true;
	s->goroutines += g.goroutines;
	s->maxprocs += g.gomaxprocs;
	s->heap += g.heap_live;
	s->goal += g.gc_goal;
	counter(pm->gc_cycles, s->name,
		g.gc_cycles > p->gc_cycles ? g.gc_cycles - p->gc_cycles : 0);
	counter(pm->pause, s->name,
		g.pause_total_ns > p->pause_ns ? (double)(g.pause_total_ns - p->pause_ns) / 1e9
					       : 0);
	if (g.gc_cycles > p->gc_cycles)
		p->gc_cycles = g.gc_cycles;
	if (g.pause_total_ns > p->pause_ns)
		p->pause_ns = g.pause_total_ns;
	if (!g.has_mem)
		return;
	s->mem = true;
	s->stack += g.mem_stack;
	s->other += g.mem_used - g.mem_stack;
	counter(pm->allocated, s->name,
		g.allocated > p->allocated ? g.allocated - p->allocated : 0);
	if (g.allocated > p->allocated)
		p->allocated = g.allocated;
}

void procmetrics_add(struct procmetrics *pm, uint32_t pid, const char *name)
{
	struct procmetrics_sample smp;
	struct pm_service *s;
	struct pm_proc *p;

	if (pm->nread == PROCMETRICS_MAX_PROCS) {
		for (size_t i = 0; i < pm->nprocs; i++)
			if (pm->procs[i].pid == pid)
				pm->procs[i].seen = true; /* keep its CPU mark for the next round */
		pm->skipped++;
		return;
	}
	pm->nread++;
	if (procmetrics_read(pm->root, pid, &smp))
		return; /* gone, or nothing to read: no sample this round */
	s = service(pm, name);
	p = proc_entry(pm, pid);
	if (!s || !p) {
		pm->skipped++;
		return;
	}
	if (p->start != smp.start) { /* new here, or the pid names another process */
		uint32_t keep = p->pid;

		memset(p, 0, sizeof(*p));
		p->pid = keep;
		p->start = smp.start;
	}
	/* a process's times never go back; if they do, it lies: add nothing */
	cpu_add(pm, s->name, "user", smp.utime > p->utime ? smp.utime - p->utime : 0);
	cpu_add(pm, s->name, "system", smp.stime > p->stime ? smp.stime - p->stime : 0);
	if (smp.utime > p->utime)
		p->utime = smp.utime;
	if (smp.stime > p->stime)
		p->stime = smp.stime;
	p->seen = true;
	s->seen = true;
	s->rss += smp.rss_bytes;
	s->threads += smp.threads;
	s->fds += smp.fds;
	if (pm->read_go)
		go_read(pm, p, s);
}

static void gauge(struct metric_family *f, const char *svc, uint64_t v)
{
	const char *vals[] = {svc};

	metric_gauge_set(metric_series_get(f, vals), (double)v);
}

static void mem_gauge(struct procmetrics *pm, const char *svc, int type, uint64_t v)
{
	const char *vals[] = {svc, mem_types[type]};

	metric_gauge_set(metric_series_get(pm->mem_used, vals), (double)v);
}

void procmetrics_end(struct procmetrics *pm)
{
	size_t keep = 0;

	for (size_t i = 0; i < pm->nsvcs; i++) {
		struct pm_service *s = &pm->svcs[i];

		gauge(pm->mem, s->name, s->rss);
		gauge(pm->threads, s->name, s->threads);
		gauge(pm->fds, s->name, s->fds);
		if (s->go) {
			gauge(pm->goroutines, s->name, s->goroutines);
			gauge(pm->maxprocs, s->name, s->maxprocs);
			gauge(pm->heap, s->name, s->heap);
			gauge(pm->goal, s->name, s->goal);
		}
		if (s->mem) {
			mem_gauge(pm, s->name, MEM_STACK, s->stack);
			mem_gauge(pm, s->name, MEM_OTHER, s->other);
		}
		if (s->seen) /* a service with no process left is 0 once, then forgotten */
			pm->svcs[keep++] = *s;
	}
	pm->nsvcs = keep;
	keep = 0;
	for (size_t i = 0; i < pm->nprocs; i++)
		if (pm->procs[i].seen)
			pm->procs[keep++] = pm->procs[i];
	pm->nprocs = keep;
}

uint64_t procmetrics_skipped(const struct procmetrics *pm)
{
	return pm->skipped;
}
