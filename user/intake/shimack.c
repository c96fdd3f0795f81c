// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shimack.c - writes struct rt_shim_ack into shim processes with
 * process_vm_writev(2). See shimack.h.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "log.h"
#include "redtap/event.h"
#include "shimack.h"

#define MAX_SHIMS  4096
#define ACK_TTL_NS (10ull * 1000000000ull) /* how long an ack stays valid */
#define REFRESH_NS (3ull * 1000000000ull)  /* how often it is renewed */

struct shim_entry {
	uint32_t pid;
	uint64_t addr;
	uint64_t written_ns;
	uint64_t dropped; /* the shim's loss counter at its last hello */
};

struct shimack {
	struct shim_entry e[MAX_SHIMS];
	size_t n;
};

struct shimack *shimack_new(void)
{
	return calloc(1, sizeof(struct shimack));
}

void shimack_free(struct shimack *s)
{
	free(s);
}

size_t shimack_count(const struct shimack *s)
{
	return s->n;
}

static int write_ack(uint32_t pid, uint64_t addr, uint64_t now)
{
	struct rt_shim_ack ack = {.expires_ns = now + ACK_TTL_NS, .magic = RT_SHIM_ACK};
	struct iovec local = {.iov_base = &ack, .iov_len = sizeof(ack)};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof(ack)};

	if (process_vm_writev((pid_t)pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(ack))
		return -errno;
	return 0;
}

int shimack_hello(struct shimack *s, uint32_t pid, uint64_t addr, uint64_t dropped,
		  uint64_t *new_drops, uint64_t now)
{
	struct shim_entry *e = NULL;
	int rc = 0;

	*new_drops = 0;
	if (addr & 7)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].pid == pid)
			e = &s->e[i];
	if (!e) {
		if (s->n == MAX_SHIMS)
			return -ENOSPC;
		e = &s->e[s->n++];
		memset(e, 0, sizeof(*e));
		e->pid = pid;
	}
	if (dropped > e->dropped)
		*new_drops = dropped - e->dropped;
	e->dropped = dropped;
	e->written_ns = now;
	if (!addr)
		return 0;
	e->addr = addr;
	rc = write_ack(pid, addr, now);
	if (rc)
		rt_debug("cannot acknowledge the shim in process %u: %s", pid, strerror(-rc));
	return rc;
}

void shimack_refresh(struct shimack *s, uint64_t now)
{
	for (size_t i = 0; i < s->n;) {
		struct shim_entry *e = &s->e[i];

		if (now - e->written_ns < REFRESH_NS) {
			i++;
			continue;
		}
		if (e->addr ? write_ack(e->pid, e->addr, now) == 0
			    : kill((pid_t)e->pid, 0) == 0 || errno == EPERM) {
			e->written_ns = now;
			i++;
			continue;
		}
		/* Gone (or exec'd into something else): forget it. */
		*e = s->e[--s->n];
	}
}
