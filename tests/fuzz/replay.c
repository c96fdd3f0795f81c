// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * replay.c - a plain-C driver for a fuzz target: feeds every file of the
 * directories or files given on the command line (default: the target's corpus/ and
 * regress/ folders, compiled in as FUZZ_DIRS) to LLVMFuzzerTestOneInput, so
 * the seeds and every crash input found so far are replayed by `make unit`
 * (and under ASan/UBSan by the unit-asan suite) without clang or libFuzzer.
 * tests/fuzz/pending/ is never replayed: it holds crashes not yet fixed.
 * Exits 0 when every input ran; a crash aborts the process.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_DIRS
#define FUZZ_DIRS ""
#endif

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int err = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		err = -EIO;
		goto out_close;
	}
	/* Exact-size buffer: ASan sees any read past the input. */
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out_close;
	}
	if (size && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		err = -EIO;
		goto out_free;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)size);
out_free:
	free(buf);
out_close:
	fclose(f);
	return err;
}

/* Replays every regular file in dir (or dir itself when it is a file; a
 * missing dir is empty); returns the count or -errno. */
static int replay_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	struct stat st;
	int n = 0, err;
	DIR *dp;

	if (!stat(dir, &st) && S_ISREG(st.st_mode))
		return replay_file(dir) ? -EIO : 1;
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		err = replay_file(path);
		if (err) {
			fprintf(stderr, "replay: %s: %s\n", path, strerror(-err));
			closedir(dp);
			return err;
		}
		n++;
	}
	closedir(dp);
	return n;
}

int main(int argc, char **argv)
{
	char dirs[] = FUZZ_DIRS;
	int total = 0, n;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			n = replay_dir(argv[i]);
			if (n < 0)
				return 1;
			total += n;
		}
	} else {
		for (char *save, *d = strtok_r(dirs, ":", &save); d;
		     d = strtok_r(NULL, ":", &save)) {
			n = replay_dir(d);
			if (n < 0)
				return 1;
			total += n;
		}
	}
	printf("%s: %d inputs replayed\n", argv[0], total);
	return total > 0 ? 0 : 1;
}
