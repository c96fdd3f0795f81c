// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fake_agent.c - stands in for the agent in the shim tests: preloaded in
 * front of libredtap.so, it catches the shim's magic ioctl (as the eBPF
 * program does) and appends the message to $FAKE_AGENT_OUT as
 * [u32 len][u8 1][data]; when the message is a hello, it acknowledges it by
 * writing struct rt_shim_ack at the address the hello carries (as the daemon
 * does through /proc/PID/mem), valid for $FAKE_AGENT_TTL_MS (default 60 s)
 * - unless $FAKE_AGENT_NOACK is set or $FAKE_AGENT_ACK_LIMIT messages were
 * seen already (an agent that went away). Other ioctls go to libc.
 * Test code only: it opens and writes a file per message.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "redtap/event.h"
#include "redtap/shim.h"

int ioctl(int fd, unsigned long req, ...);

static unsigned long count;

static void ack(const struct rt_shim_msg *m)
{
	const struct rt_shim_hello *h = (const void *)m->data;
	const char *ttl = getenv("FAKE_AGENT_TTL_MS");
	const char *limit = getenv("FAKE_AGENT_ACK_LIMIT");
	struct rt_shim_ack *a;
	struct timespec ts;

	if (getenv("FAKE_AGENT_NOACK") || (limit && count > strtoul(limit, NULL, 10)))
		return;
	if (m->len < sizeof(*h) || h->hdr.magic != RT_SHIM_REC_MAGIC ||
	    h->hdr.type != RT_SHIM_REC_HELLO || !h->ack_addr)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	a = (struct rt_shim_ack *)(uintptr_t)h->ack_addr;
	a->expires_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
			(ttl ? strtoull(ttl, NULL, 10) : 60000) * 1000000ull;
	__atomic_store_n(&a->magic, RT_SHIM_ACK, __ATOMIC_RELEASE);
}

int ioctl(int fd, unsigned long req, ...)
{
	int (*real)(int, unsigned long, void *);
	const char *out = getenv("FAKE_AGENT_OUT");
	struct rt_shim_msg *m;
	va_list ap;
	void *arg;
	int o;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != RT_SHIM_IOCTL_FD || req != RT_SHIM_IOCTL_CMD) {
		real = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
		return real(fd, req, arg);
	}
	m = arg;
	__atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
	if (m->magic == RT_SHIM_MAGIC && m->len <= RT_SHIM_MSG_MAX && out &&
	    (o = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		uint8_t hdr[5] = {(uint8_t)m->len, (uint8_t)(m->len >> 8), 0, 0, 1};

		if (write(o, hdr, sizeof(hdr)) == sizeof(hdr) && write(o, m->data, m->len) < 0)
			hdr[4] = 0;
		close(o);
		ack(m);
	}
	errno = EBADF;
	return -1;
}
