/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * resolve.h - finds the real libpq and hiredis functions behind the shim's
 * wrappers, lazily, on first use.
 *
 * API: SHIM_REAL(lib, fn) evaluates to a pointer of fn's type to the real
 * function (or NULL when the library cannot be found), cached in a static
 * per wrapper. Resolution tries dlsym(RTLD_NEXT), then dlopen(soname,
 * RTLD_NOLOAD | RTLD_LAZY) of the library's usual sonames, then every loaded
 * object whose file name contains the library's stem: the last two find a
 * library that an extension module loaded RTLD_LOCAL (psycopg2, PHP, Ruby)
 * and so is not in the global scope that RTLD_NEXT searches. A pointer to the
 * shim's own wrapper is never returned. dlerror() is cleared after failures
 * so the host's view of it is unchanged; errno is kept.
 *
 * Thread-safety: any thread; two threads resolving at once store the same
 * pointer. The first resolution takes the dynamic loader's lock once.
 */
#ifndef REDTAP_PRELOAD_RESOLVE_H
#define REDTAP_PRELOAD_RESOLVE_H

enum shim_lib {
	SHIM_LIB_PQ = 0,
	SHIM_LIB_HIREDIS = 1,
};

void *shim_resolve(void **cache, enum shim_lib lib, const char *name, const void *self);

/* The dlopen handle style lookup of another symbol of the same library as
 * a resolved function (for feature and version detection). NULL if absent. */
void *shim_resolve_sibling(const void *resolved, const char *name);

#define SHIM_REAL(lib, fn)                                                                         \
	({                                                                                         \
		static void *real_cache_;                                                          \
		(__typeof__(&fn))shim_resolve(&real_cache_, lib, #fn, (const void *)&fn);          \
	})

#endif /* REDTAP_PRELOAD_RESOLVE_H */
