// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_procstat.c - fuzz target for the /proc/PID/stat parser of the process
 * metrics (user/signals/procmetrics.c): the command name in it is whatever
 * the process calls itself (prctl(PR_SET_NAME), up to 15 bytes, spaces and
 * parentheses included). The input is written as the stat file of a fake
 * /proc tree and read back with procmetrics_read(); on success the fields
 * must be what a second parse of the same bytes gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "procmetrics.h"

static char root[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmetrics_sample a, b;
	char path[128];
	FILE *f;
	int ra, rb;

	if (!root[0]) {
		snprintf(root, sizeof(root), "/tmp/redtap-fuzz-procstat-%d", (int)getpid());
		mkdir(root, 0700);
		snprintf(path, sizeof(path), "%s/1", root);
		mkdir(path, 0700);
	}
	snprintf(path, sizeof(path), "%s/1/stat", root);
	f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	ra = procmetrics_read(root, 1, &a);
	rb = procmetrics_read(root, 1, &b);
	fuzz_check(ra == rb);
	fuzz_check(ra == 0 || ra == -EINVAL || ra == -EIO);
	if (!ra)
		fuzz_check(a.utime == b.utime && a.stime == b.stime && a.threads == b.threads &&
			   a.start == b.start && a.rss_bytes == b.rss_bytes);
	return 0;
}
