// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * procfs.c - fields of /proc/PID/stat. See procfs.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int procfs_stat_field(uint32_t pid, int n, unsigned long long *out)
{
	char path[48], buf[1024], *p, *end;
	ssize_t len;
	int fd;

	if (n < 3)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	buf[len] = '\0';
	/* "pid (comm) state ...": count fields after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2; /* field 3 */
	for (int field = 3; field < n; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (end == p || errno)
		return -EINVAL;
	return 0;
}
