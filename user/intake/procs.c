// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * procs.c - process selection (pid, executable glob, listening port) and
 * service names read from /proc. /proc is walked once, at start-up; after
 * that the kernel's exec, fork, listen and exit records drive everything.
 * See procs.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otlp_env.h"
#include "podmeta.h"
#include "redtap/event.h"
#include "procfs.h"
#include "procs.h"

#define NBUCKETS    4096
#define SERVICE_MAX 128
#define MAX_PROCS   65536 /* entries of processes that are not selected */
#define MAX_ALL	    (4 * MAX_PROCS)

struct proc {
	uint32_t tgid;
	uint64_t start; /* start time in clock ticks (/proc/PID/stat field 22); 0 unknown */
	bool selected;
	bool named;
	char comm[16];		  /* from the exec event or a hello; fallback name */
	char hinted[SERVICE_MAX]; /* OTEL_SERVICE_NAME from a shim hello */
	char exe[64];		  /* base name of the executable */
	char service[SERVICE_MAX];
	struct proc *next;
};

struct procs {
	pid_t *pids;
	size_t npids;
	char **globs;
	size_t nglobs;
	uint16_t *ports;
	size_t nports;
	uint32_t self;
	size_t nprocs;
	size_t nselected;
	uint64_t overflows;
	uint64_t stale;	  /* entries of an earlier process with the same pid */
	uint64_t tick_ns; /* ns per clock tick */
	procs_decided_fn decided;
	void *decided_ctx;
	struct proc *buckets[NBUCKETS];
};

static struct proc **find(struct procs *p, uint32_t tgid)
{
	struct proc **pp = &p->buckets[(tgid * 2654435761u) % NBUCKETS];

	while (*pp && (*pp)->tgid != tgid)
		pp = &(*pp)->next;
	return pp;
}

/* The entry of tgid, created when absent. Entries of processes that are
 * not selected are capped at MAX_PROCS; selection may go beyond (up to
 * MAX_ALL), so that a full table never keeps a matching process from
 * being captured. NULL, counted, when there is no room. */
static struct proc *get_for(struct procs *p, uint32_t tgid, bool selecting)
{
	struct proc **pp = find(p, tgid), *pr = *pp;
	size_t unselected = p->nprocs - p->nselected;

	if (pr)
		return pr;
	if (p->nprocs >= MAX_ALL || (!selecting && unselected >= MAX_PROCS)) {
		p->overflows++;
		return NULL;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		p->overflows++;
		return NULL;
	}
	pr->tgid = tgid;
	*pp = pr;
	p->nprocs++;
	return pr;
}

static struct proc *get(struct procs *p, uint32_t tgid)
{
	return get_for(p, tgid, false);
}

static void drop(struct procs *p, struct proc **pp)
{
	struct proc *pr = *pp;

	if (pr->selected)
		p->nselected--;
	podmeta_forget(pr->tgid);
	*pp = pr->next;
	free(pr);
	p->nprocs--;
}

struct procs *procs_new(const struct procs_selectors *sel, uint32_t self_tgid)
{
	struct procs *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->self = self_tgid;
	p->tick_ns =
	    1000000000ull / (uint64_t)(sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100);
	if (sel->npids) {
		p->pids = malloc(sel->npids * sizeof(*p->pids));
		if (!p->pids)
			goto err;
		memcpy(p->pids, sel->pids, sel->npids * sizeof(*p->pids));
		p->npids = sel->npids;
	}
	if (sel->nports) {
		p->ports = malloc(sel->nports * sizeof(*p->ports));
		if (!p->ports)
			goto err;
		memcpy(p->ports, sel->ports, sel->nports * sizeof(*p->ports));
		p->nports = sel->nports;
	}
	if (sel->nexe_globs) {
		p->globs = calloc(sel->nexe_globs, sizeof(*p->globs));
		if (!p->globs)
			goto err;
		for (size_t i = 0; i < sel->nexe_globs; i++) {
			p->globs[i] = strdup(sel->exe_globs[i]);
			if (!p->globs[i])
				goto err;
			p->nglobs++;
		}
	}
	return p;
err:
	procs_free(p);
	errno = ENOMEM;
	return NULL;
}

void procs_free(struct procs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		while (p->buckets[i]) {
			struct proc *n = p->buckets[i]->next;

			free(p->buckets[i]);
			p->buckets[i] = n;
		}
	}
	for (size_t i = 0; i < p->nglobs; i++)
		free(p->globs[i]);
	free(p->globs);
	free(p->pids);
	free(p->ports);
	free(p);
}

bool procs_filtering(const struct procs *p)
{
	return p->npids || p->nglobs || p->nports;
}

static void load_name(struct proc *pr);

static bool exe_matches(const struct procs *p, uint32_t tgid)
{
	char link[64], path[4096];
	const char *base;
	ssize_t n;

	if (!p->nglobs)
		return false;
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < p->nglobs; i++) {
		const char *subject = strchr(p->globs[i], '/') ? path : base;

		if (fnmatch(p->globs[i], subject, 0) == 0)
			return true;
	}
	return false;
}

/* Socket inodes of TCP sockets listening on one of the selected ports. */
static size_t listening_inodes(const struct procs *p, unsigned long *out, size_t max)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char line[512];
	size_t n = 0;

	for (size_t f = 0; f < 2; f++) {
		FILE *fp = fopen(files[f], "re");

		if (!fp)
			continue;
		while (n < max && fgets(line, sizeof(line), fp)) {
			unsigned port, state;
			unsigned long inode;

			if (sscanf(line,
				   " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*s %*s %*s %*s "
				   "%*s %lu",
				   &port, &state, &inode) != 3 ||
			    state != 0x0A)
				continue;
			for (size_t i = 0; i < p->nports; i++)
				if (p->ports[i] == port)
					out[n++] = inode;
		}
		fclose(fp);
	}
	return n;
}

static bool owns_inode(uint32_t tgid, const unsigned long *inodes, size_t ninodes)
{
	char dirpath[64], link[320], target[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "/proc/%u/fd", tgid);
	d = opendir(dirpath);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		unsigned long inode;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dirpath, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		for (size_t i = 0; i < ninodes; i++)
			if (inodes[i] == inode)
				found = true;
	}
	closedir(d);
	return found;
}

static bool wanted(const struct procs *p, uint32_t tgid, const unsigned long *inodes,
		   size_t ninodes)
{
	if (tgid == p->self)
		return false;
	for (size_t i = 0; i < p->npids; i++)
		if ((uint32_t)p->pids[i] == tgid)
			return true;
	if (exe_matches(p, tgid))
		return true;
	return ninodes && owns_inode(tgid, inodes, ninodes);
}

static void set_selected(struct procs *p, uint32_t tgid, bool on, procs_select_fn fn, void *ctx)
{
	struct proc *pr = on ? get_for(p, tgid, true) : *find(p, tgid);

	if (!pr) {
		/* no room to remember it (counted): capture it all the same */
		if (on)
			fn(ctx, tgid, on);
		return;
	}
	if (pr->selected == on)
		return;
	pr->selected = on;
	if (on)
		p->nselected++;
	else
		p->nselected--;
	fn(ctx, tgid, on);
}

/* The kernel holds tgid pending until told that its selection is decided. */
static void decided(struct procs *p, uint32_t tgid)
{
	if (p->decided)
		p->decided(p->decided_ctx, tgid);
}

static uint64_t ticks(const struct procs *p, uint64_t start_ns)
{
	return start_ns / p->tick_ns;
}

/* The entry of tgid if it is the process that started at start (ticks; 0:
 * unknown). An entry of an earlier process with the same pid (its exit
 * record was lost) is dropped. */
static struct proc *current(struct procs *p, uint32_t tgid, uint64_t start)
{
	struct proc **pp = find(p, tgid);

	if (*pp && start && (*pp)->start && (*pp)->start != start) {
		p->stale++;
		drop(p, pp);
	}
	return *pp;
}

/* The parent's tgid, 0 when unknown. */
static uint32_t parent_of(uint32_t tgid)
{
	unsigned long long ppid;

	return procfs_stat_field(tgid, 4, &ppid) ? 0 : (uint32_t)ppid;
}

static bool is_selected(struct procs *p, uint32_t tgid)
{
	struct proc *pr = *find(p, tgid);

	return pr && pr->selected;
}

void procs_scan(struct procs *p, procs_select_fn fn, void *ctx)
{
	unsigned long inodes[256];
	size_t ninodes = 0;
	struct dirent *de;
	DIR *d;

	if (!procs_filtering(p))
		return;
	if (p->nports)
		ninodes = listening_inodes(p, inodes, 256);
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long tgid = strtoul(de->d_name, &end, 10);

		if (*end || !tgid)
			continue;
		if (is_selected(p, (uint32_t)tgid))
			continue;
		/* Children of selected processes (pre-forked workers) are
		 * selected too; the kernel does it for forks it sees after
		 * the parent was selected, this catches the earlier ones. */
		if (wanted(p, (uint32_t)tgid, inodes, ninodes) ||
		    (tgid != p->self && is_selected(p, parent_of((uint32_t)tgid)))) {
			struct proc *pr;
			unsigned long long start;

			set_selected(p, (uint32_t)tgid, true, fn, ctx);
			pr = *find(p, (uint32_t)tgid);
			if (pr && !procfs_stat_field((uint32_t)tgid, 22, &start))
				pr->start = start;
		}
		/* A process that stops listening stays selected until it exits:
		 * its open connections still matter. */
	}
	closedir(d);
}

static void exec_start(struct procs *p, uint32_t tgid, uint64_t start, const char *comm,
		       procs_select_fn fn, void *ctx)
{
	struct proc *pr = current(p, tgid, start);
	bool want;

	if (pr)
		pr->named = false; /* a new program may have a new name */
	podmeta_forget(tgid);	   /* and a new environment */
	want = procs_filtering(p) && wanted(p, tgid, NULL, 0);
	/* Resolve the name now, while the process most likely lives; when
	 * selecting, only the selected ones are named. */
	if (comm && comm[0] && (!procs_filtering(p) || want || pr)) {
		pr = get_for(p, tgid, want);
		if (pr) {
			if (start)
				pr->start = start;
			snprintf(pr->comm, sizeof(pr->comm), "%.15s", comm);
			load_name(pr);
		}
	}
	if (!procs_filtering(p))
		return;
	/* Children it forked before this decision come as fork records. */
	if (want)
		set_selected(p, tgid, true, fn, ctx);
	else if (pr && pr->selected && p->nglobs && !p->npids && !p->nports)
		set_selected(p, tgid, false, fn, ctx); /* exec'd into something else */
	decided(p, tgid);
}

void procs_exec(struct procs *p, uint32_t tgid, const char *comm, procs_select_fn fn, void *ctx)
{
	exec_start(p, tgid, 0, comm, fn, ctx);
}

void procs_exit(struct procs *p, uint32_t tgid)
{
	struct proc **pp = find(p, tgid);

	if (*pp)
		drop(p, pp);
}

static void on_fork(struct procs *p, uint32_t child, uint32_t parent, uint64_t start,
		    procs_select_fn fn, void *ctx)
{
	struct proc *pr;

	if (!procs_filtering(p))
		return;
	current(p, child, start);
	if (child != p->self && is_selected(p, parent)) {
		set_selected(p, child, true, fn, ctx);
		pr = *find(p, child);
		if (pr)
			pr->start = start;
	}
	decided(p, child);
}

static void on_listen(struct procs *p, uint32_t tgid, uint16_t port, procs_select_fn fn, void *ctx)
{
	if (!procs_filtering(p))
		return;
	for (size_t i = 0; i < p->nports; i++)
		if (p->ports[i] == port && tgid != p->self)
			set_selected(p, tgid, true, fn, ctx);
	decided(p, tgid);
}

void procs_record(struct procs *p, const void *rec, size_t len, procs_select_fn fn, void *ctx)
{
	const struct rt_event_hdr *h = rec;
	const struct rt_proc_event *pe = rec;
	uint32_t tgid;
	uint64_t start = 0;

	if (len < sizeof(*h) || h->len > len)
		return;
	tgid = (uint32_t)(h->pid_tgid >> 32);
	/* start_ns was appended: taken only when the record holds it */
	if (h->len >= RT_OFFSETOF(struct rt_proc_event, start_ns) + sizeof(pe->start_ns) &&
	    h->type != RT_EV_LISTEN)
		start = ticks(p, pe->start_ns);
	switch (h->type) {
	case RT_EV_PROC_EXEC:
		if (h->len >= RT_OFFSETOF(struct rt_proc_event, start_ns)) {
			char comm[sizeof(pe->comm) + 1];

			snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(pe->comm), pe->comm);
			exec_start(p, tgid, start, comm, fn, ctx);
		}
		break;
	case RT_EV_PROC_FORK:
		if (h->len >= RT_OFFSETOF(struct rt_proc_event, comm))
			on_fork(p, tgid, pe->ppid, start, fn, ctx);
		break;
	case RT_EV_LISTEN:
		if (h->len >= sizeof(struct rt_listen_event))
			on_listen(p, tgid, ((const struct rt_listen_event *)rec)->port, fn, ctx);
		break;
	case RT_EV_PROC_EXIT: {
		struct proc **pp = find(p, tgid);

		/* an exit of an earlier process with this pid leaves the new one */
		if (*pp && !(start && (*pp)->start && (*pp)->start != start))
			drop(p, pp);
		break;
	}
	default:
		break;
	}
}

void procs_set_decided(struct procs *p, procs_decided_fn fn, void *ctx)
{
	p->decided = fn;
	p->decided_ctx = ctx;
}

uint64_t procs_overflows(const struct procs *p)
{
	return p->overflows;
}

uint64_t procs_stale(const struct procs *p)
{
	return p->stale;
}

struct name_search {
	char *out;
	size_t outlen;
	bool found;
};

static int take_service_name(void *ctx, const char *key, const char *val)
{
	struct name_search *ns = ctx;

	if (strcmp(key, "service.name") != 0 || !val[0])
		return 0;
	snprintf(ns->out, ns->outlen, "%s", val);
	ns->found = true;
	return 1; /* stop */
}

bool procs_service_from_environ(const char *env, size_t len, char *out, size_t outlen)
{
	struct name_search ns = {.out = out, .outlen = outlen};
	const char *end = env + len, *s;

	for (s = env; s < end; s += strnlen(s, (size_t)(end - s)) + 1) {
		size_t n = strnlen(s, (size_t)(end - s));

		if (n > 18 && strncmp(s, "OTEL_SERVICE_NAME=", 18) == 0) {
			snprintf(out, outlen, "%.*s", (int)(n - 18), s + 18);
			return true; /* OTEL_SERVICE_NAME wins (OTel SDK rule) */
		}
		if (!ns.found && n > 25 && strncmp(s, "OTEL_RESOURCE_ATTRIBUTES=", 25) == 0) {
			/* the same parser as the exporter's: trimmed, percent-decoded */
			char list[4096];

			snprintf(list, sizeof(list), "%.*s", (int)(n - 25), s + 25);
			otlp_kv_parse(list, true, take_service_name, &ns);
		}
	}
	return ns.found;
}

static void load_name(struct proc *pr)
{
	struct podmeta pm;
	char path[64], buf[32768];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/environ", pr->tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	pr->service[0] = '\0';
	if (n > 0)
		procs_service_from_environ(buf, (size_t)n, pr->service, sizeof(pr->service));
	if (!pr->service[0] && pr->hinted[0])
		snprintf(pr->service, sizeof(pr->service), "%s", pr->hinted);
	snprintf(path, sizeof(path), "/proc/%u/exe", pr->tgid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		const char *base;

		buf[n] = '\0';
		/* A replaced binary reads "/path (deleted)". */
		if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
			buf[n - 10] = '\0';
		base = strrchr(buf, '/');
		snprintf(pr->exe, sizeof(pr->exe), "%.*s", (int)sizeof(pr->exe) - 1,
			 base ? base + 1 : buf);
	} else {
		snprintf(pr->exe, sizeof(pr->exe), "%s", pr->comm);
	}
	if (pr->service[0])
		goto done;
	/* in a container: the pod's app label (pod list option), its name, then the
	 * pod's workload (podmeta.h) */
	podmeta_get(pr->tgid, &pm);
	if (pm.app[0] || pm.container_name[0] || pm.workload[0]) {
		snprintf(pr->service, sizeof(pr->service), "%.*s", (int)sizeof(pr->service) - 1,
			 pm.app[0]		? pm.app
			 : pm.container_name[0] ? pm.container_name
						: pm.workload);
		goto done;
	}
	if (pr->exe[0]) {
		snprintf(pr->service, sizeof(pr->service), "%s", pr->exe);
		goto done;
	}
	if (pr->comm[0]) {
		snprintf(pr->service, sizeof(pr->service), "%s", pr->comm);
		goto done;
	}
	snprintf(path, sizeof(path), "/proc/%u/comm", pr->tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, pr->service, sizeof(pr->service) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		pr->service[n] = '\0';
		pr->service[strcspn(pr->service, "\n")] = '\0';
	} else {
		snprintf(pr->service, sizeof(pr->service), "unknown_service");
	}
done:
	pr->named = true;
}

const char *procs_service_name(struct procs *p, uint32_t tgid)
{
	struct proc *pr = get(p, tgid);

	if (!pr)
		return "unknown_service";
	if (!pr->named)
		load_name(pr);
	return pr->service;
}

void procs_hint(struct procs *p, uint32_t tgid, const char *service, const char *comm)
{
	struct proc *pr = get(p, tgid);

	if (!pr)
		return;
	snprintf(pr->hinted, sizeof(pr->hinted), "%s", service ? service : "");
	if (comm && comm[0])
		snprintf(pr->comm, sizeof(pr->comm), "%.15s", comm);
	load_name(pr);
}

const char *procs_exe_name(struct procs *p, uint32_t tgid)
{
	struct proc *pr = get(p, tgid);

	if (!pr)
		return "";
	if (!pr->named)
		load_name(pr);
	return pr->exe;
}

size_t procs_instrumented(const struct procs *p)
{
	return procs_filtering(p) ? p->nselected : p->nprocs;
}

void procs_for_each(const struct procs *p, size_t max, procs_each_fn fn, void *ctx)
{
	bool all = !procs_filtering(p);
	size_t n = 0;

	for (size_t b = 0; b < NBUCKETS && n < max; b++)
		for (const struct proc *pr = p->buckets[b]; pr && n < max; pr = pr->next)
			if (all || pr->selected) {
				fn(ctx, pr->tgid);
				n++;
			}
}
