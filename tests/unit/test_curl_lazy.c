// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_curl_lazy.c - unit tests for the lazily loaded libcurl
 * (user/export/curl_lazy.c): the binary does not link libcurl, yet a
 * transfer runs through the forwarded functions, and each kind of
 * curl_easy_setopt() argument (long, pointer, function, curl_off_t) and a
 * curl_easy_getinfo() pointer reach libcurl intact. The transfer reads a
 * local file (file://), so no network is involved.
 */
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

struct sink {
	size_t bytes;
	int calls;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;

	(void)p;
	s->bytes += size * n;
	s->calls++;
	return size * n;
}

/* The path of a temporary file of n bytes; the caller unlinks it. */
static void make_file(char *path, size_t len, size_t n)
{
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/test_curl_lazy.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);
}

static int has_curl(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	return strstr(info->dlpi_name, "libcurl") != NULL;
}

static void test_not_linked_until_used(void **state)
{
	(void)state;
	/* no DT_NEEDED: nothing of libcurl is mapped before the first call */
	assert_int_equal(dl_iterate_phdr(has_curl, NULL), 0);
	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	assert_int_not_equal(dl_iterate_phdr(has_curl, NULL), 0);
}

static void test_transfer(void **state)
{
	char path[64], url[128], *eff = NULL;
	struct sink s = {0};
	long code = -1;
	CURL *h;

	(void)state;
	make_file(path, sizeof(path), 5000);
	snprintf(url, sizeof(url), "file://%s", path);
	h = curl_easy_init();
	assert_non_null(h);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_URL, url), CURLE_OK); /* pointer */
	assert_int_equal(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data), CURLE_OK);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_WRITEDATA, &s), CURLE_OK);
	assert_int_equal(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L), CURLE_OK); /* long */
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(s.bytes, 5000);
	assert_true(s.calls > 0);
	assert_int_equal(curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff), CURLE_OK);
	assert_string_equal(eff, url);
	assert_int_equal(curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
	assert_int_equal(code, 0); /* file:// has none */

	/* curl_off_t: the last 10 bytes only */
	s = (struct sink){0};
	assert_int_equal(curl_easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)4990),
			 CURLE_OK);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	assert_int_equal(s.bytes, 10);
	assert_non_null(strstr(curl_easy_strerror(CURLE_FILESIZE_EXCEEDED), "size"));
	curl_easy_cleanup(h);
	unlink(path);
}

static void test_slist(void **state)
{
	struct curl_slist *l = NULL;

	(void)state;
	l = curl_slist_append(l, "a: 1");
	assert_non_null(l);
	l = curl_slist_append(l, "b: 2");
	assert_string_equal(l->data, "a: 1");
	assert_string_equal(l->next->data, "b: 2");
	curl_slist_free_all(l);
	curl_slist_free_all(NULL);
	curl_easy_cleanup(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_linked_until_used),
	    cmocka_unit_test(test_transfer),
	    cmocka_unit_test(test_slist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
