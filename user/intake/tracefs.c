// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tracefs.c - mounts tracefs when neither of its usual places has it
 * (tracefs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tracefs.h"

int tracefs_ensure(char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (stat(TRACEFS "/events", &st) == 0 || stat(TRACEFS_DEBUGFS "/events", &st) == 0)
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0)
		return 1;
	e = errno;
	snprintf(err, errlen,
		 "tracefs is not mounted and mounting it on " TRACEFS
		 " failed (%s); mount it with: mount -t tracefs nodev " TRACEFS,
		 strerror(e));
	return -e;
}
