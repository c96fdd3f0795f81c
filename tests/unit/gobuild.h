/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gobuild.h - builds small Go programs for the unit tests that read Go
 * executables (test_goelf, test_gotls): writes sources into a temporary
 * directory, runs `go build` offline in GOPATH mode (Debian's golang-go, no module proxy).
 */
#ifndef REDTAP_TEST_GOBUILD_H
#define REDTAP_TEST_GOBUILD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Writes text as dir/sub/main.go, making dir/sub. 0 or -1. */
static inline int gobuild_source(const char *dir, const char *sub, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	if (mkdir(p, 0755) && errno != EEXIST)
		return -1;
	snprintf(p, sizeof(p), "%s/%s/main.go", dir, sub);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Builds dir/src into dir/out with extra go build flags, cgo on or off. 0 or -1. */
static inline int gobuild(const char *dir, const char *out, const char *src, const char *flags,
			  int cgo)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= "
		 "GOCACHE=/tmp/redtap-gocache CGO_ENABLED=%d go build %s -o %s %s >/dev/null 2>&1",
		 dir, cgo, flags, out, src);
	return system(cmd) == 0 ? 0 : -1;
}

/* Removes dir and what was built in it. 0 or -1. */
static inline int gobuild_rmdir(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif /* REDTAP_TEST_GOBUILD_H */
