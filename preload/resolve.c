// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * resolve.c - lazy lookup of the real libpq / hiredis symbols (see resolve.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>

#include "core.h"
#include "resolve.h"

#define SCAN_MAX  8
#define SCAN_PATH 256

static const char *const pq_sonames[] = {"libpq.so.5", "libpq.so", NULL};
static const char *const hiredis_sonames[] = {
    "libhiredis.so.1.1.0",
    "libhiredis.so.1.0.0",
    "libhiredis.so.1",
    "libhiredis.so.0.14",
    "libhiredis.so.0.13",
    "libhiredis.so",
    NULL,
};
static const char *const lib_stems[] = {"libpq", "libhiredis"};

struct scan {
	const char *stem;
	int n;
	char paths[SCAN_MAX][SCAN_PATH];
};

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *sc = data;
	const char *base;
	size_t len;

	(void)size;
	if (!info->dlpi_name || !info->dlpi_name[0] || sc->n == SCAN_MAX)
		return 0;
	base = strrchr(info->dlpi_name, '/');
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, sc->stem, strlen(sc->stem)))
		return 0;
	len = shim_strnlen(info->dlpi_name, SCAN_PATH);
	if (len == SCAN_PATH)
		return 0;
	memcpy(sc->paths[sc->n], info->dlpi_name, len + 1);
	sc->n++;
	return 0;
}

static void *lookup_in(const char *file, const char *name, const void *self)
{
	void *h = dlopen(file, RTLD_NOLOAD | RTLD_LAZY);
	void *p;

	if (!h)
		return NULL;
	p = dlsym(h, name);
	dlclose(h); /* NOLOAD took a reference; the library stays loaded */
	return p == self ? NULL : p;
}

static void *find_symbol(enum shim_lib lib, const char *name, const void *self)
{
	const char *const *sonames = lib == SHIM_LIB_PQ ? pq_sonames : hiredis_sonames;
	struct scan sc;
	void *p;
	int i;

	p = dlsym(RTLD_NEXT, name);
	if (p && p != self)
		return p;
	for (i = 0; sonames[i]; i++) {
		p = lookup_in(sonames[i], name, self);
		if (p)
			return p;
	}
	/* Collect names first: no dlopen from inside dl_iterate_phdr. */
	sc.stem = lib_stems[lib];
	sc.n = 0;
	dl_iterate_phdr(scan_cb, &sc);
	for (i = 0; i < sc.n; i++) {
		p = lookup_in(sc.paths[i], name, self);
		if (p)
			return p;
	}
	return NULL;
}

void *shim_resolve(void **cache, enum shim_lib lib, const char *name, const void *self)
{
	void *p = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	int saved;

	if (shim_likely(p != NULL))
		return p;
	saved = errno;
	p = find_symbol(lib, name, self);
	if (p)
		__atomic_store_n(cache, p, __ATOMIC_RELEASE);
	else
		dlerror();
	errno = saved;
	return p;
}

void *shim_resolve_sibling(const void *resolved, const char *name)
{
	Dl_info info;
	void *p = NULL;
	int saved = errno;

	if (resolved && dladdr(resolved, &info) && info.dli_fname)
		p = lookup_in(info.dli_fname, name, NULL);
	if (!p)
		dlerror();
	errno = saved;
	return p;
}
