// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_logfiles.c - unit tests of user/intake/logfiles.c (logs.files): the
 * glob dialect, the marks written for matching and non-matching files,
 * eviction of the oldest mark, the checks on RT_EV_FILE_OPEN records and
 * the one-time scan of a process's fds (a fake /proc of symlinks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "logfiles.h"

struct marks {
	int n, dels;
	uint32_t last_dev, last_id;
	uint64_t last_ino;
};

static int record_mark(void *ctx, uint32_t dev, uint64_t ino, uint32_t id, bool del)
{
	struct marks *m = ctx;

	if (del) {
		m->dels++;
		return 0;
	}
	m->n++;
	m->last_dev = dev;
	m->last_ino = ino;
	m->last_id = id;
	return 0;
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(logfiles_glob_match("/var/log/nginx/*.log", "/var/log/nginx/error.log"));
	assert_false(logfiles_glob_match("/var/log/nginx/*.log", "/var/log/nginx/a/error.log"));
	assert_false(logfiles_glob_match("/var/log/nginx/*.log", "/var/log/nginx/error.log.1"));
	assert_true(logfiles_glob_match("/srv/app/logs/**.log", "/srv/app/logs/a.log"));
	assert_true(logfiles_glob_match("/srv/app/logs/**.log", "/srv/app/logs/x/y/a.log"));
	assert_false(logfiles_glob_match("/srv/app/logs/**.log", "/srv/app/other/a.log"));
	assert_true(logfiles_glob_match("/srv/**/x.log", "/srv/x.log"));
	assert_true(logfiles_glob_match("/srv/**/x.log", "/srv/a/b/x.log"));
	assert_true(logfiles_glob_match("/l/app-?.log", "/l/app-1.log"));
	assert_false(logfiles_glob_match("/l/app-?.log", "/l/app-12.log"));
	assert_true(logfiles_glob_match("/l/[ae]*.log", "/l/access.log"));
	assert_false(logfiles_glob_match("/l/[!ae]*.log", "/l/access.log"));
	assert_true(logfiles_glob_match("/l/a\\*.log", "/l/a*.log"));
	assert_false(logfiles_glob_match("/l/a\\*.log", "/l/ab.log"));
	assert_false(logfiles_glob_match("/l/[abc", "/l/a"));
	assert_true(logfiles_glob_match("/l/[abc", "/l/[abc"));
	/* pathological backtracking gives up instead of spinning */
	assert_false(
	    logfiles_glob_match("/**a**a**a**a**a**a**a**a**a**a**b",
				"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_new_rejects(void **state)
{
	const char *rel[] = {"logs/*.log"};
	const char *ok[] = {"/a/*.log", "/b/**.log"};
	struct logfiles *lf;

	(void)state;
	assert_null(logfiles_new(rel, 1));
	lf = logfiles_new(ok, 2);
	assert_non_null(lf);
	assert_true(logfiles_match(lf, "/b/c/d.log"));
	assert_false(logfiles_match(lf, "/c/d.log"));
	logfiles_free(lf);
	logfiles_free(NULL);
}

static void test_decide_and_evict(void **state)
{
	const char *g[] = {"/logs/*.log"};
	struct logfiles *lf = logfiles_new(g, 1);
	struct logfiles_stats st;
	struct marks m = {0};
	uint32_t id, id2;
	char p[64];

	(void)state;
	assert_non_null(lf);
	logfiles_set_mark(lf, record_mark, &m);
	id = logfiles_decide(lf, 8, 100, "/logs/app.log");
	assert_int_not_equal(id, 0);
	assert_int_equal(m.last_id, id);
	assert_int_equal(m.last_ino, 100);
	assert_string_equal(logfiles_path(lf, id), "/logs/app.log");
	/* the same identity again: the same id */
	assert_int_equal(logfiles_decide(lf, 8, 100, "/logs/app.log"), id);
	/* not matching: marked 0, no path */
	assert_int_equal(logfiles_decide(lf, 8, 101, "/data/db.bin"), 0);
	assert_int_equal(m.last_id, 0);
	assert_null(logfiles_path(lf, 0));
	assert_null(logfiles_path(lf, id + 1));
	/* LOGFILES_MAX more files: the first mark is removed, its id forgotten */
	for (int i = 0; i < LOGFILES_MAX; i++) {
		snprintf(p, sizeof(p), "/logs/f%d.log", i);
		id2 = logfiles_decide(lf, 8, 1000 + (uint64_t)i, p);
		assert_int_not_equal(id2, 0);
	}
	assert_null(logfiles_path(lf, id));
	assert_string_equal(logfiles_path(lf, id2), p);
	assert_int_equal(m.dels, 1);
	logfiles_stats(lf, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.marked, LOGFILES_MAX + 1);
	logfiles_free(lf);
}

static void test_on_open_checks(void **state)
{
	const char *g[] = {"/logs/*.log"};
	struct logfiles *lf = logfiles_new(g, 1);
	struct rt_file_event ev;
	struct logfiles_stats st;
	struct marks m = {0};

	(void)state;
	assert_non_null(lf);
	logfiles_set_mark(lf, record_mark, &m);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = RT_EV_FILE_OPEN;
	ev.hdr.len = sizeof(ev);
	ev.hdr.pid_tgid = (uint64_t)999999999 << 32;
	ev.dev = 5;
	ev.ino = 77;
	ev.fd = 3;
	strcpy(ev.path, "/logs/app.log");
	ev.path_len = (uint32_t)strlen(ev.path) + 1;
	logfiles_on_open(lf, &ev, sizeof(ev));
	assert_int_equal(m.n, 1);
	assert_int_equal(m.last_ino, 77);
	assert_int_not_equal(m.last_id, 0);

	/* too short, no path, a length past the array */
	logfiles_on_open(lf, &ev, sizeof(ev) - 1);
	ev.path_len = 0;
	logfiles_on_open(lf, &ev, sizeof(ev));
	ev.path_len = RT_FILE_PATH_MAX + 1;
	logfiles_on_open(lf, &ev, sizeof(ev));
	/* a cut path, a relative path, "..": each needs
	 * /proc/PID/fd, which does not exist for this pid: nothing marked */
	memset(ev.path, 'a', sizeof(ev.path));
	ev.path[0] = '/';
	ev.path_len = RT_FILE_PATH_MAX;
	ev.flags = RT_FILE_F_CUT;
	logfiles_on_open(lf, &ev, sizeof(ev));
	ev.flags = 0;
	strcpy(ev.path, "app.log");
	ev.path_len = 8;
	logfiles_on_open(lf, &ev, sizeof(ev));
	strcpy(ev.path, "/logs/../etc/x.log");
	ev.path_len = (uint32_t)strlen(ev.path) + 1;
	logfiles_on_open(lf, &ev, sizeof(ev));
	assert_int_equal(m.n, 1);
	logfiles_stats(lf, &st);
	assert_int_equal(st.bad, 3);
	assert_int_equal(st.unresolved, 3);
	assert_int_equal(st.opens, 4);
	logfiles_free(lf);
}

/* A fake /proc: root/42/fd/{3,4,5} -> a matching file, another file, a
 * matching name that is a directory. */
static void test_scan(void **state)
{
	char root[] = "/tmp/rt-logfiles-XXXXXX", d[128], f[128], link[160], glob[128];
	const char *g[] = {glob};
	struct logfiles *lf;
	struct marks m = {0};
	struct stat st;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(glob, sizeof(glob), "%s/files/*.log", root);
	snprintf(d, sizeof(d), "%s/files", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/files/dir.log", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/42", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(d, sizeof(d), "%s/42/fd", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(f, sizeof(f), "%s/files/app.log", root);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(link, sizeof(link), "%s/3", d);
	assert_int_equal(symlink(f, link), 0);
	snprintf(f, sizeof(f), "%s/files/data.bin", root);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(link, sizeof(link), "%s/4", d);
	assert_int_equal(symlink(f, link), 0);
	snprintf(f, sizeof(f), "%s/files/dir.log", root);
	snprintf(link, sizeof(link), "%s/5", d);
	assert_int_equal(symlink(f, link), 0);

	lf = logfiles_new(g, 1);
	assert_non_null(lf);
	logfiles_set_mark(lf, record_mark, &m);
	assert_int_equal(logfiles_scan(lf, root, 42), 1);
	assert_int_equal(m.n, 1);
	snprintf(f, sizeof(f), "%s/files/app.log", root);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(m.last_ino, st.st_ino);
	assert_int_equal(m.last_dev, logfiles_kdev(st.st_dev));
	assert_string_equal(logfiles_path(lf, m.last_id), f);
	assert_true(logfiles_scan(lf, root, 43) < 0); /* no such process */
	logfiles_free(lf);

	snprintf(link, sizeof(link), "rm -rf '%s'", root);
	assert_int_equal(system(link), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_new_rejects),
	    cmocka_unit_test(test_decide_and_evict),
	    cmocka_unit_test(test_on_open_checks),
	    cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
