// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * curl_lazy.c - the libcurl functions the daemon calls (OTLP export,
 * otlp_http.c; the Kubernetes pod list, k8sapi.c), loaded with dlopen() on
 * first use instead of linked: libcurl and what it needs (OpenSSL, Kerberos,
 * LDAP, SSH, RTMP, PSL...) cost the daemon about 3 MiB of VmRSS in
 * relocated data and pages touched at load even when nothing is exported
 * (BENCHMARKS.md, issue 13). The callers keep using <curl/curl.h>; these
 * definitions take the place of libcurl's own. Without libcurl.so.4 every
 * call fails cleanly (NULL handles, CURLE_FAILED_INIT) and the first says
 * why once.
 */
#define CURL_DISABLE_TYPECHECK /* the setopt/getinfo macros would hide the definitions */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>

#include "log.h"

#define CURL_SONAME "libcurl.so.4"

static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} fn;
static int loaded; /* 1: every pointer in fn is set */
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define LOAD(h, field, name)                                                                       \
	do {                                                                                       \
		*(void **)&fn.field = dlsym(h, name);                                              \
		if (!fn.field)                                                                     \
			goto fail;                                                                 \
	} while (0)

static void load(void)
{
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		rt_warn("OTLP export and the Kubernetes pod list need %s: %s", CURL_SONAME,
			dlerror());
		return;
	}
	LOAD(h, global_init, "curl_global_init");
	LOAD(h, easy_init, "curl_easy_init");
	LOAD(h, easy_setopt, "curl_easy_setopt");
	LOAD(h, easy_perform, "curl_easy_perform");
	LOAD(h, easy_getinfo, "curl_easy_getinfo");
	LOAD(h, easy_cleanup, "curl_easy_cleanup");
	LOAD(h, easy_strerror, "curl_easy_strerror");
	LOAD(h, slist_append, "curl_slist_append");
	LOAD(h, slist_free_all, "curl_slist_free_all");
	loaded = 1;
	return;
fail:
	rt_warn("%s lacks a function the daemon calls: %s", CURL_SONAME, dlerror());
	dlclose(h);
}

static int ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

/* One argument after the option, whose type the option's number range
 * says (CURLOPTTYPE_*), as libcurl itself reads it. */
CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		rc = fn.easy_setopt(h, opt, va_arg(ap, long));
	} else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	} else if (opt < CURLOPTTYPE_OFF_T) {
		void (*f)(void) = va_arg(ap, void (*)(void));

		rc = fn.easy_setopt(h, opt, f);
	} else if (opt < CURLOPTTYPE_BLOB) {
		rc = fn.easy_setopt(h, opt, va_arg(ap, curl_off_t));
	} else {
		rc = fn.easy_setopt(h, opt, va_arg(ap, void *));
	}
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *h)
{
	return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

/* Every CURLINFO takes one pointer. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = fn.easy_getinfo(h, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

void curl_easy_cleanup(CURL *h)
{
	if (h && ready())
		fn.easy_cleanup(h);
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? fn.easy_strerror(code) : CURL_SONAME " could not be loaded";
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (l && ready())
		fn.slist_free_all(l);
}
