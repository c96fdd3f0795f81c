// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shimack.c - unit tests for the shim acknowledgements
 * (user/intake/shimack.c), with real process_vm_writev(2) calls into this test
 * process and into a forked child: a hello writes RT_SHIM_ACK and an
 * expiry 10 s after "now", an unaligned or unmapped address is refused,
 * drop counters become per-pid deltas, a refresh rewrites acks that are
 * 3 s old and forgets processes that are gone (but not live ones), and
 * the table is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "redtap/event.h"
#include "shimack.h"

#define SEC	  1000000000ull
#define TTL	  (10 * SEC)
#define REFRESH	  (3 * SEC)
#define MAX_SHIMS 4096

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t addr_of(volatile struct rt_shim_ack *a)
{
	return (uint64_t)(uintptr_t)a;
}

static int setup(void **state)
{
	*state = shimack_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	shimack_free(*state);
	return 0;
}

/* A hello into this process; skips the test when the kernel refuses it to
 * an unprivileged user. */
static void hello_self(struct shimack *s, volatile struct rt_shim_ack *ack, uint64_t now)
{
	uint64_t drops = 99;
	int rc = shimack_hello(s, (uint32_t)getpid(), addr_of(ack), 0, &drops, now);

	if (rc == -EPERM && geteuid() != 0) {
		print_message("process_vm_writev refused (not root): skipped\n");
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(drops, 0);
}

static void test_hello_writes_ack(void **state)
{
	static volatile struct rt_shim_ack ack;
	struct shimack *s = *state;
	uint64_t now = mono_now();

	ack.expires_ns = 0;
	ack.magic = 0;
	ack.pad0 = 0x1234;
	hello_self(s, &ack, now);
	assert_int_equal(ack.magic, RT_SHIM_ACK);
	assert_int_equal(ack.expires_ns, now + TTL);
	assert_int_equal(ack.pad0, 0);
	assert_int_equal(shimack_count(s), 1);

	/* a second hello from the same process refreshes, does not add */
	hello_self(s, &ack, now + SEC);
	assert_int_equal(ack.expires_ns, now + SEC + TTL);
	assert_int_equal(shimack_count(s), 1);
}

static void test_bad_addresses(void **state)
{
	static volatile struct rt_shim_ack ack[2];
	struct shimack *s = *state;
	uint64_t drops = 99, now = mono_now();

	memset((void *)ack, 0, sizeof(ack));
	assert_int_equal(shimack_hello(s, (uint32_t)getpid(), addr_of(ack) + 4, 3, &drops, now),
			 -EINVAL);
	assert_int_equal(drops, 0);
	assert_int_equal(shimack_count(s), 0); /* refused before registering */
	assert_int_equal(shimack_hello(s, (uint32_t)getpid(), addr_of(ack) + 1, 3, &drops, now),
			 -EINVAL);
	assert_int_equal(ack[0].magic, 0);
	assert_int_equal(ack[0].expires_ns, 0);
	assert_int_equal(ack[1].magic, 0);

	/* aligned but not mapped: the write fails and says why */
	assert_int_equal(shimack_hello(s, (uint32_t)getpid(), 8, 3, &drops, now), -EFAULT);
	assert_int_equal(drops, 3);
}

static void test_addr_zero_writes_nothing(void **state)
{
	struct shimack *s = *state;
	uint64_t drops = 99;

	/* a ring hello registers the process for its drop counters only */
	assert_int_equal(shimack_hello(s, 4242, 0, 0, &drops, mono_now()), 0);
	assert_int_equal(drops, 0);
	assert_int_equal(shimack_count(s), 1);
}

static uint64_t hello_drops(struct shimack *s, uint32_t pid, uint64_t dropped, uint64_t now)
{
	uint64_t drops = 12345;

	assert_int_equal(shimack_hello(s, pid, 0, dropped, &drops, now), 0);
	return drops;
}

static void test_drop_deltas(void **state)
{
	struct shimack *s = *state;
	uint64_t now = mono_now();

	assert_int_equal(hello_drops(s, 1001, 5, now), 5); /* first: its total */
	assert_int_equal(hello_drops(s, 1002, 40, now), 40);
	assert_int_equal(hello_drops(s, 1001, 7, now), 2); /* then the difference */
	assert_int_equal(hello_drops(s, 1001, 7, now), 0);
	assert_int_equal(hello_drops(s, 1002, 41, now), 1);
	assert_int_equal(hello_drops(s, 1001, 3, now), 0); /* lower (a new shim): 0 */
	assert_int_equal(hello_drops(s, 1001, 4, now), 1); /* counted from the new value */
	assert_int_equal(hello_drops(s, 1002, 41, now), 0);
	assert_int_equal(shimack_count(s), 2);
}

/* A live process that says hello through the ring (no address) is not
 * "gone": its drop counter baseline must survive refreshes, or every
 * hello (every 10 s) reports the shim's whole total again. */
static void test_ring_hello_survives_refresh(void **state)
{
	struct shimack *s = *state;
	uint32_t self = (uint32_t)getpid();
	uint64_t now = mono_now();

	assert_int_equal(hello_drops(s, self, 5, now), 5);
	shimack_refresh(s, now + 1 * SEC);
	shimack_refresh(s, now + 4 * SEC);
	shimack_refresh(s, now + 9 * SEC);
	assert_int_equal(shimack_count(s), 1);
	assert_int_equal(hello_drops(s, self, 7, now + 10 * SEC), 2);
}

static void test_refresh_rewrites_after_3s(void **state)
{
	static volatile struct rt_shim_ack ack;
	struct shimack *s = *state;
	uint64_t now = mono_now();

	hello_self(s, &ack, now);
	ack.magic = 0;
	ack.expires_ns = 0;
	shimack_refresh(s, now + REFRESH - 1);
	assert_int_equal(ack.magic, 0); /* not due yet */
	assert_int_equal(ack.expires_ns, 0);
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(ack.magic, RT_SHIM_ACK);
	assert_int_equal(ack.expires_ns, now + REFRESH + TTL);
	assert_int_equal(shimack_count(s), 1);

	/* the next one is due 3 s after that rewrite */
	ack.expires_ns = 0;
	shimack_refresh(s, now + 2 * REFRESH - 1);
	assert_int_equal(ack.expires_ns, 0);
	shimack_refresh(s, now + 2 * REFRESH + 5);
	assert_int_equal(ack.expires_ns, now + 2 * REFRESH + 5 + TTL);

	/* a hello counts as a write: the refresh waits 3 s after it */
	hello_self(s, &ack, now + 7 * SEC);
	ack.expires_ns = 0;
	shimack_refresh(s, now + 9 * SEC);
	assert_int_equal(ack.expires_ns, 0);
	shimack_refresh(s, now + 10 * SEC);
	assert_int_equal(ack.expires_ns, now + 10 * SEC + TTL);
}

/* Writes into a forked child (which reports what it sees), then forgets
 * the child once it has exited; this process stays registered. */
static void test_child_acked_then_forgotten(void **state)
{
	static volatile struct rt_shim_ack ack; /* same address in the child */
	struct shimack *s = *state;
	int go[2], report[2], status;
	struct rt_shim_ack seen;
	uint64_t drops, now = mono_now();
	char c = 0;
	pid_t child;
	int rc;

	hello_self(s, &ack, now);
	ack.magic = 0; /* the child starts with a blank copy */
	ack.expires_ns = 0;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(report), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct rt_shim_ack copy;

		if (read(go[0], &c, 1) != 1)
			_exit(2);
		copy.expires_ns = ack.expires_ns;
		copy.magic = ack.magic;
		copy.pad0 = ack.pad0;
		_exit(write(report[1], &copy, sizeof(copy)) == sizeof(copy) ? 0 : 3);
	}
	rc = shimack_hello(s, (uint32_t)child, addr_of(&ack), 2, &drops, now + 5);
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(read(report[0], &seen, sizeof(seen)), sizeof(seen));
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[0]);
	close(go[1]);
	close(report[0]);
	close(report[1]);

	assert_int_equal(rc, 0);
	assert_int_equal(drops, 2);
	assert_int_equal(seen.magic, RT_SHIM_ACK);
	assert_int_equal(seen.expires_ns, now + 5 + TTL);
	assert_int_equal(shimack_count(s), 2);
	assert_int_equal(ack.magic, 0); /* written into the child only */

	/* the child is gone: the next due refresh forgets it, keeps us */
	shimack_refresh(s, now + REFRESH + 5);
	assert_int_equal(shimack_count(s), 1);
	assert_int_equal(ack.magic, RT_SHIM_ACK);
	assert_int_equal(ack.expires_ns, now + REFRESH + 5 + TTL);
	/* forgotten means a later hello from that pid starts from scratch */
	assert_int_equal(hello_drops(s, (uint32_t)child, 2, now + 4 * SEC), 2);
}

static void test_hello_to_dead_pid(void **state)
{
	static volatile struct rt_shim_ack ack;
	struct shimack *s = *state;
	uint64_t drops, now = mono_now();
	pid_t child;
	int status;

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(shimack_hello(s, (uint32_t)child, addr_of(&ack), 0, &drops, now), -ESRCH);
	assert_int_equal(shimack_count(s), 1);
	shimack_refresh(s, now + REFRESH - 1);
	assert_int_equal(shimack_count(s), 1);
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(shimack_count(s), 0);
}

static void test_table_bound(void **state)
{
	struct shimack *s = *state;
	uint64_t drops, now = mono_now();

	for (uint32_t pid = 1; pid <= MAX_SHIMS; pid++)
		assert_int_equal(shimack_hello(s, pid, 0, 0, &drops, now), 0);
	assert_int_equal(shimack_count(s), MAX_SHIMS);
	assert_int_equal(shimack_hello(s, MAX_SHIMS + 1, 0, 9, &drops, now), -ENOSPC);
	assert_int_equal(drops, 0);
	assert_int_equal(shimack_count(s), MAX_SHIMS);
	/* known pids still update */
	assert_int_equal(shimack_hello(s, 77, 0, 9, &drops, now), 0);
	assert_int_equal(drops, 9);
}

static void test_free_null(void **state)
{
	(void)state;
	shimack_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hello_writes_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_addr_zero_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_deltas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_hello_survives_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_rewrites_after_3s, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_acked_then_forgotten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hello_to_dead_pid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_bound, setup, teardown),
	    cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
