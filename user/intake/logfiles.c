// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * logfiles.c - log files matched by path globs (logs.files). See
 * logfiles.h.
 *
 * The table is a ring of LOGFILES_MAX slots indexed by id: ids only grow,
 * so a new file takes the slot of the oldest one, whose kernel mark is
 * removed first. Look-ups by id are direct; look-ups by identity scan the
 * ring, which only happens when a file is decided (rare: the kernel
 * reports an identity only until it is decided).
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "logfiles.h"

#define BRACKET_MAX 64	   /* bytes of one [...] expression */
#define GLOB_STEPS  100000 /* matching work per path: no pathological backtracking */

_Static_assert(LOGFILES_PATH_MAX >= RT_FILE_PATH_MAX, "a record's path fits");

struct entry {
	uint32_t id; /* 0: free */
	uint32_t dev;
	uint64_t ino;
	char path[LOGFILES_PATH_MAX];
};

struct logfiles {
	char **globs;
	size_t nglobs;
	uint32_t next_id;
	logfiles_mark_fn mark;
	void *mark_ctx;
	struct logfiles_stats st;
	struct entry e[LOGFILES_MAX];
};

/* The ']' that ends the bracket expression at g ('['), or NULL. */
static const char *bracket_end(const char *g)
{
	const char *p = g + 1;

	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']')
		p++;
	if (!*p || p - g + 2 > BRACKET_MAX)
		return NULL;
	return p;
}

static bool gm(const char *g, const char *s, unsigned *steps)
{
	for (;;) {
		if (!*steps)
			return false;
		(*steps)--;
		if (!*g)
			return !*s;
		if (g[0] == '*' && g[1] == '*') {
			while (*g == '*')
				g++;
			/* "a/ ** /b" also matches "a/b" */
			if (*g == '/' && gm(g + 1, s, steps))
				return true;
			for (const char *t = s;; t++) {
				if (gm(g, t, steps))
					return true;
				if (!*t)
					return false;
			}
		}
		if (*g == '*') {
			g++;
			for (const char *t = s;; t++) {
				if (gm(g, t, steps))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*g == '?') {
			if (*s == '/')
				return false;
			g++;
			s++;
			continue;
		}
		if (*g == '[') {
			const char *end = bracket_end(g);

			if (end) {
				char pat[BRACKET_MAX], c[2] = {*s, 0};

				memcpy(pat, g, (size_t)(end - g + 1));
				pat[end - g + 1] = '\0';
				if (*s == '/' || fnmatch(pat, c, FNM_PATHNAME))
					return false;
				g = end + 1;
				s++;
				continue;
			}
		}
		if (*g == '\\' && g[1])
			g++;
		if (*g != *s)
			return false;
		g++;
		s++;
	}
}

bool logfiles_glob_match(const char *glob, const char *path)
{
	unsigned steps = GLOB_STEPS;

	return gm(glob, path, &steps);
}

bool logfiles_match(const struct logfiles *lf, const char *path)
{
	if (strlen(path) >= LOGFILES_PATH_MAX)
		return false;
	for (size_t i = 0; i < lf->nglobs; i++)
		if (logfiles_glob_match(lf->globs[i], path))
			return true;
	return false;
}

struct logfiles *logfiles_new(const char *const *globs, size_t nglobs)
{
	struct logfiles *lf;

	if (nglobs > LOGFILES_GLOBS) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < nglobs; i++) {
		if (!globs[i] || globs[i][0] != '/' || strlen(globs[i]) >= LOGFILES_PATH_MAX) {
			errno = EINVAL;
			return NULL;
		}
	}
	lf = calloc(1, sizeof(*lf));
	if (!lf || !(lf->globs = calloc(nglobs + 1, sizeof(*lf->globs)))) {
		free(lf);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < nglobs; i++) {
		lf->globs[i] = strdup(globs[i]);
		if (!lf->globs[i]) {
			lf->nglobs = i;
			logfiles_free(lf);
			errno = ENOMEM;
			return NULL;
		}
	}
	lf->nglobs = nglobs;
	lf->next_id = 1;
	return lf;
}

void logfiles_free(struct logfiles *lf)
{
	if (!lf)
		return;
	for (size_t i = 0; i < lf->nglobs; i++)
		free(lf->globs[i]);
	free(lf->globs);
	free(lf);
}

void logfiles_set_mark(struct logfiles *lf, logfiles_mark_fn fn, void *ctx)
{
	lf->mark = fn;
	lf->mark_ctx = ctx;
}

static void mark(struct logfiles *lf, uint32_t dev, uint64_t ino, uint32_t id, bool del)
{
	if (lf->mark)
		lf->mark(lf->mark_ctx, dev, ino, id, del);
}

uint32_t logfiles_decide(struct logfiles *lf, uint32_t dev, uint64_t ino, const char *path)
{
	struct entry *e;
	uint32_t id;

	for (size_t i = 0; i < LOGFILES_MAX; i++) {
		e = &lf->e[i];
		if (e->id && e->dev == dev && e->ino == ino) {
			mark(lf, dev, ino, e->id, false); /* the kernel may have evicted it */
			return e->id;
		}
	}
	if (!logfiles_match(lf, path)) {
		mark(lf, dev, ino, 0, false);
		return 0;
	}
	id = lf->next_id++;
	if (!lf->next_id)
		lf->next_id = 1;
	e = &lf->e[id % LOGFILES_MAX];
	if (e->id) {
		mark(lf, e->dev, e->ino, 0, true);
		lf->st.evicted++;
	}
	e->id = id;
	e->dev = dev;
	e->ino = ino;
	snprintf(e->path, sizeof(e->path), "%s", path);
	lf->st.marked++;
	mark(lf, dev, ino, id, false);
	return id;
}

const char *logfiles_path(const struct logfiles *lf, uint32_t id)
{
	const struct entry *e;

	if (!lf || !id)
		return NULL;
	e = &lf->e[id % LOGFILES_MAX];
	return e->id == id ? e->path : NULL;
}

uint32_t logfiles_kdev(uint64_t st_dev)
{
	return (uint32_t)(major(st_dev) << 20 | (minor(st_dev) & 0xfffff));
}

/* A path taken as it is: absolute, without "." or ".." components or "//". */
static bool clean_abs(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *c = p; (c = strchr(c, '/')); c++) {
		if (c[1] == '/')
			return false;
		if (c[1] == '.' &&
		    (c[2] == '/' || !c[2] || (c[2] == '.' && (c[3] == '/' || !c[3]))))
			return false;
	}
	return true;
}

/* The absolute path of /proc/PID/fd/FD when it still holds (dev, ino). */
static bool resolve(const char *proc, uint32_t tgid, uint32_t fd, uint32_t dev, uint64_t ino,
		    char *out, size_t cap)
{
	char link[96];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%u/fd/%u", proc, tgid, fd);
	n = readlink(link, out, cap - 1);
	if (n <= 0 || (size_t)n >= cap - 1)
		return false;
	out[n] = '\0';
	if (out[0] != '/' || stat(link, &st) || !S_ISREG(st.st_mode))
		return false;
	return st.st_ino == ino && logfiles_kdev(st.st_dev) == dev;
}

void logfiles_on_open(struct logfiles *lf, const void *rec, size_t len)
{
	const struct rt_file_event *ev = rec;
	char path[LOGFILES_PATH_MAX];
	uint32_t tgid;

	if (len < sizeof(*ev) || ev->hdr.len < sizeof(*ev) || ev->path_len == 0 ||
	    ev->path_len > RT_FILE_PATH_MAX) {
		lf->st.bad++;
		return;
	}
	lf->st.opens++;
	tgid = (uint32_t)(ev->hdr.pid_tgid >> 32);
	/* bounded and NUL-terminated here, whatever the record says */
	memcpy(path, ev->path, ev->path_len);
	path[ev->path_len - 1] = '\0';
	if ((ev->flags & RT_FILE_F_CUT) || strlen(path) != ev->path_len - 1 || !clean_abs(path)) {
		if (!resolve("/proc", tgid, ev->fd, ev->dev, ev->ino, path, sizeof(path))) {
			lf->st.unresolved++;
			return;
		}
	}
	logfiles_decide(lf, ev->dev, ev->ino, path);
}

int logfiles_scan(struct logfiles *lf, const char *proc, uint32_t tgid)
{
	char dir[80], path[LOGFILES_PATH_MAX], link[128];
	struct dirent *d;
	struct stat st;
	int n = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%u/fd", proc, tgid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		ssize_t len;

		if (d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(link, sizeof(link), "%s/%.16s", dir, d->d_name) >=
		    sizeof(link))
			continue;
		len = readlink(link, path, sizeof(path) - 1);
		if (len <= 0 || (size_t)len >= sizeof(path) - 1)
			continue;
		path[len] = '\0';
		if (path[0] != '/' || !logfiles_match(lf, path))
			continue;
		if (stat(link, &st) || !S_ISREG(st.st_mode))
			continue;
		n += logfiles_decide(lf, logfiles_kdev(st.st_dev), st.st_ino, path) != 0;
	}
	closedir(dp);
	return n;
}

void logfiles_stats(const struct logfiles *lf, struct logfiles_stats *out)
{
	*out = lf->st;
}
