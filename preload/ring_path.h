/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ring_path.h - where the shared-memory ring of a daemon without eBPF lives.
 * Shared by the daemon (user/intake/shm_ring.c creates it there) and the
 * shim (preload/transport.c looks for it there), so that both always agree;
 * static inline because the shim links nothing of the daemon. No stdio, no
 * allocation: the shim calls it.
 *
 * The ring is never at a predictable name in a world-writable directory
 * (any user could plant a FIFO or a fake ring there): it is
 * RING_PATH_FILE inside a directory only the daemon's user can write:
 *   - $REDTAP_SHIM_RING, when set, names the file itself (the operator's
 *     choice; the daemon still creates it exclusively and checks it);
 *   - uid 0: /run/redtap/;
 *   - others: /run/user/<uid>/ when it is a directory the uid owns that
 *     nobody else can write (systemd's XDG_RUNTIME_DIR), else
 *     /dev/shm/redtap-<uid>/, which the daemon creates with mode 0700 and
 *     refuses to use unless it is such a directory.
 *
 * API: ring_path_dir_ok() says whether st describes a directory owned by uid
 * that group and others cannot write. ring_path_default() writes the path
 * for uid (env: the value of $REDTAP_SHIM_RING or NULL) into buf; when
 * dir is not NULL it gets the directory (empty for an explicit path).
 * Returns the length, or 0 when buf is too small.
 */
#ifndef REDTAP_RING_PATH_H
#define REDTAP_RING_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define RING_PATH_FILE	   "shim-ring"
#define RING_PATH_ROOT_DIR "/run/redtap"
#define RING_PATH_USER_DIR "/run/user/"
#define RING_PATH_SHM_DIR  "/dev/shm/redtap-"

static inline bool ring_path_dir_ok(const struct stat *st, uid_t uid)
{
	return S_ISDIR(st->st_mode) && st->st_uid == uid && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Appends s to buf (used bytes *n, room size); false when it does not fit. */
static inline bool ring_path_add(char *buf, size_t size, size_t *n, const char *s)
{
	while (*s) {
		if (*n + 1 >= size)
			return false;
		buf[(*n)++] = *s++;
	}
	buf[*n] = 0;
	return true;
}

static inline bool ring_path_add_uint(char *buf, size_t size, size_t *n, unsigned v)
{
	char digits[12];
	int k = 0;

	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k) {
		char one[2] = {digits[--k], 0};

		if (!ring_path_add(buf, size, n, one))
			return false;
	}
	return true;
}

static inline size_t ring_path_default(char *buf, size_t size, const char *env, uid_t uid,
				       char *dir, size_t dir_size)
{
	struct stat st;
	size_t n = 0, d;

	if (!size)
		return 0;
	buf[0] = 0;
	if (dir && dir_size)
		dir[0] = 0;
	if (env && *env)
		return ring_path_add(buf, size, &n, env) ? n : 0;
	if (uid == 0) {
		if (!ring_path_add(buf, size, &n, RING_PATH_ROOT_DIR))
			return 0;
	} else {
		if (!ring_path_add(buf, size, &n, RING_PATH_USER_DIR) ||
		    !ring_path_add_uint(buf, size, &n, (unsigned)uid))
			return 0;
		if (lstat(buf, &st) || !ring_path_dir_ok(&st, uid)) {
			n = 0;
			if (!ring_path_add(buf, size, &n, RING_PATH_SHM_DIR) ||
			    !ring_path_add_uint(buf, size, &n, (unsigned)uid))
				return 0;
		}
	}
	d = n;
	if (dir && dir_size) {
		if (d >= dir_size)
			return 0;
		for (size_t i = 0; i <= d; i++)
			dir[i] = buf[i];
	}
	if (!ring_path_add(buf, size, &n, "/") || !ring_path_add(buf, size, &n, RING_PATH_FILE))
		return 0;
	return n;
}

#endif /* REDTAP_RING_PATH_H */
