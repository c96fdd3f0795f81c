// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_logfiles.c - fuzz target for user/intake/logfiles.c (logs.files):
 * the RT_EV_FILE_OPEN records the kernel side builds from a path any
 * selected process passes to open(2), and the glob matcher (globs are the
 * operator's, paths anyone's).
 *
 * First byte even: the rest is a record (cut or zero-padded to the record's
 * size, of the length given), for a process that does not exist, so that a
 * path that needs /proc is never resolved; whatever it marks must be an
 * absolute path, shorter than the bound, matching a glob. Odd: the rest is
 * "GLOB\0PATH"; matching must end, and a glob without special characters
 * matches exactly itself.
 */
#include "fuzz.h"
#include "logfiles.h"

static const char *const globs[] = {"/tmp/**.log", "/var/log/*/[a-z]*.log", "/srv/**/x?.log"};

static int no_mark(void *ctx, uint32_t dev, uint64_t ino, uint32_t id, bool del)
{
	(void)ctx;
	(void)dev;
	(void)ino;
	(void)id;
	(void)del;
	return 0;
}

static void record(const uint8_t *data, size_t size)
{
	static struct logfiles *lf;
	struct rt_file_event ev;
	struct logfiles_stats st;
	const char *p;

	if (!lf) {
		lf = logfiles_new(globs, sizeof(globs) / sizeof(globs[0]));
		fuzz_check(lf != NULL);
		logfiles_set_mark(lf, no_mark, NULL);
	}
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
	ev.hdr.pid_tgid = 0xffffffffull << 32; /* no such process: /proc is never read */
	logfiles_on_open(lf, &ev, size);
	logfiles_stats(lf, &st);
	p = logfiles_path(lf, (uint32_t)st.marked);
	if (st.marked && p) {
		fuzz_check(p[0] == '/');
		fuzz_check(strlen(p) < LOGFILES_PATH_MAX);
		fuzz_check(logfiles_match(lf, p));
	}
}

static void glob(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), *path;
	size_t glen = strnlen(s, size);

	path = glen < size ? s + glen + 1 : s + size;
	(void)logfiles_glob_match(s, path);
	if (!strpbrk(s, "*?[\\"))
		fuzz_check(logfiles_glob_match(s, s));
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		glob(data + 1, size - 1);
	else
		record(data + 1, size - 1);
	return 0;
}
