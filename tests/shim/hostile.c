// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hostile.c - what an unprivileged local user can send the agent through
 * the shim's ioctl channel without the shim, for tests/e2e/test_hostile_shim*.sh.
 * Built without PIE, so that `hostile addr` prints the address `victim`
 * will have in every run.
 *
 *   hostile addr                    prints &victim and the nonce it holds
 *   hostile target SECONDS          keeps victim for SECONDS, then exits 0
 *                                   if nobody wrote it, 1 (and says what) if
 *                                   someone did
 *   hostile hello ADDR NONCE [PROG ARGS...]
 *                                   sends a hello that claims an ack at ADDR
 *                                   holding NONCE (hex), for this process,
 *                                   then execs PROG
 *   hostile flood SECONDS SERVICE   sends fake Redis operations as fast as
 *                                   it can for SECONDS, and every 100 ms a
 *                                   hello naming SERVICE; prints how many
 *                                   operations
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "redtap/event.h"
#include "redtap/shim.h"

#define VICTIM_NONCE 0x1122334455667788ull

/* Looks like an ack (even in an ack section, even holding a known nonce),
 * but lives in a program that is not the shim. */
volatile struct rt_shim_ack victim
    __attribute__((used, aligned(16), section(RT_SHIM_ACK_SECTION))) = {.nonce = VICTIM_NONCE};

struct wire {
	struct rt_shim_msg msg;
	union {
		struct rt_shim_hdr hdr;
		struct rt_shim_hello hello;
		struct rt_shim_op op;
	} u;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hdr_fill(struct rt_shim_hdr *h, uint16_t type, uint32_t len)
{
	h->magic = RT_SHIM_REC_MAGIC;
	h->len = len;
	h->pid = (uint32_t)getpid();
	h->tid = (uint32_t)syscall(SYS_gettid);
	h->type = type;
	h->version = RT_SHIM_REC_VERSION;
}

static void send_wire(struct wire *w)
{
	w->msg.magic = RT_SHIM_MAGIC;
	w->msg.len = w->u.hdr.len;
	ioctl(RT_SHIM_IOCTL_FD, RT_SHIM_IOCTL_CMD, w);
}

static void send_hello(uint64_t addr, uint64_t nonce, const char *service)
{
	struct wire w;

	memset(&w, 0, sizeof(w));
	hdr_fill(&w.u.hdr, RT_SHIM_REC_HELLO, sizeof(w.u.hello));
	w.u.hello.start_ns = mono_ns();
	w.u.hello.ack_addr = addr;
	w.u.hello.ack_nonce = nonce;
	w.u.hello.dropped_full = 1ull << 40; /* an implausible loss report */
	w.u.hello.features = RT_SHIM_FEAT_IOCTL | RT_SHIM_FEAT_HIREDIS;
	snprintf((char *)w.u.hello.service_name, sizeof(w.u.hello.service_name), "%s", service);
	snprintf((char *)w.u.hello.comm, sizeof(w.u.hello.comm), "hostile");
	send_wire(&w);
}

static int cmd_target(int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		if (victim.magic || victim.expires_ns || victim.nonce != VICTIM_NONCE)
			break;
		usleep(100000);
	}
	if (victim.magic || victim.expires_ns || victim.nonce != VICTIM_NONCE) {
		printf("WRITTEN magic=%#x expires=%llu\n", (unsigned)victim.magic,
		       (unsigned long long)victim.expires_ns);
		return 1;
	}
	printf("intact\n");
	return 0;
}

static int cmd_flood(int seconds, const char *service)
{
	uint64_t end = mono_ns() + (uint64_t)seconds * 1000000000ull, n = 0, next_hello = 0;
	struct wire w;

	memset(&w, 0, sizeof(w));
	hdr_fill(&w.u.hdr, RT_SHIM_REC_OP, sizeof(w.u.op));
	w.u.op.system = RT_SHIM_SYS_REDIS;
	w.u.op.kind = RT_SHIM_KIND_COMMAND;
	w.u.op.server_port = 6379;
	snprintf((char *)w.u.op.operation, sizeof(w.u.op.operation), "FORGED");
	snprintf((char *)w.u.op.server_address, sizeof(w.u.op.server_address), "10.9.8.7");
	while (mono_ns() < end) {
		if (mono_ns() >= next_hello) {
			/* again and again: the first ones may come before selection */
			send_hello((uint64_t)(uintptr_t)&victim, VICTIM_NONCE, service);
			next_hello = mono_ns() + 100000000ull;
		}
		for (int i = 0; i < 256; i++) {
			w.u.op.start_ns = mono_ns();
			w.u.op.end_ns = w.u.op.start_ns + 1000;
			send_wire(&w);
		}
		n += 256;
	}
	printf("%llu\n", (unsigned long long)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "addr")) {
		printf("%llx %llx\n", (unsigned long long)(uintptr_t)&victim,
		       (unsigned long long)VICTIM_NONCE);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "target"))
		return cmd_target(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "hello")) {
		send_hello(strtoull(argv[2], NULL, 16), strtoull(argv[3], NULL, 16), "forged");
		if (argc > 4) {
			execv(argv[4], argv + 4);
			perror("exec");
			return 127;
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "flood"))
		return cmd_flood(atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: hostile addr | target SECONDS | hello ADDR NONCE [PROG ARGS...] | "
			"flood SECONDS SERVICE\n");
	return 2;
}
