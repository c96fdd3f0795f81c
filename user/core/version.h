/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * version.h - redtap's version and the git revision it was built from.
 * The definitions live in $(OUTPUT)/version.c, which the Makefile rewrites
 * only when either changes, so a new commit relinks instead of rebuilding.
 */
#ifndef REDTAP_VERSION_H
#define REDTAP_VERSION_H

extern const char redtap_version[];
extern const char redtap_git_rev[];

#endif /* REDTAP_VERSION_H */
