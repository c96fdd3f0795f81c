// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shimack.c - unit tests for the shim acknowledgements
 * (user/intake/shimack.c), with real /proc/PID/mem writes into this test
 * process and into forked children. The file that must hold the ack is
 * this test binary (shimack_set_lib_glob): its section RT_SHIM_ACK_SECTION
 * plays the shim's.
 * A hello writes RT_SHIM_ACK and an expiry 10 s after "now" and leaves the
 * nonce alone; it is refused (and nothing written) for an unaligned
 * address, an address outside a private writable mapping of that file
 * (heap, stack, read-only data), anywhere but the start of the ack
 * section (.data), another file name, a wrong or zero nonce;
 * a refresh re-reads the nonce; exec and shimack_forget() end the writes;
 * drop counters become bounded per-pid deltas; the table is bounded, per uid
 * too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "redtap/event.h"
#include "redtap/shim.h"
#include "shimack.h"

#define SEC	  1000000000ull
#define TTL	  (10 * SEC)
#define REFRESH	  (3 * SEC)
#define MAX_SHIMS 4096
#define NONCE	  0x5eed5eed12345678ull
#define UID	  1000

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* The one place a hello may name, as in libredtap.so. Tests that fork see
 * it at the same address in the child. */
static volatile struct rt_shim_ack sec_ack
    __attribute__((used, aligned(16), section(RT_SHIM_ACK_SECTION))) = {.nonce = NONCE};

static uint64_t addr_of(volatile struct rt_shim_ack *a)
{
	return (uint64_t)(uintptr_t)a;
}

static int setup(void **state)
{
	struct shimack *s = shimack_new();

	sec_ack.expires_ns = 0;
	sec_ack.magic = 0;
	sec_ack.nonce = NONCE;
	if (!s || shimack_set_lib_glob(s, "test_shimack*"))
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	shimack_free(*state);
	return 0;
}

static int hello_at(struct shimack *s, uint32_t pid, uint64_t addr, uint64_t nonce,
		    uint64_t dropped, uint64_t *drops, uint64_t now)
{
	struct shimack_hello_in in = {
	    .pid = pid, .uid = UID, .addr = addr, .nonce = nonce, .dropped = dropped};

	return shimack_hello(s, &in, drops, now);
}

/* A hello into this process; skips the test when the kernel refuses it. */
static void hello_self(struct shimack *s, volatile struct rt_shim_ack *ack, uint64_t now)
{
	uint64_t drops = 99;
	int rc = hello_at(s, (uint32_t)getpid(), addr_of(ack), NONCE, 0, &drops, now);

	if (rc == -EACCES && geteuid() != 0) {
		print_message("/proc/self/mem refused: skipped\n");
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(drops, 0);
}

static void test_hello_writes_ack(void **state)
{
	struct shimack *s = *state;
	uint64_t now = mono_now();

	sec_ack.expires_ns = 0;
	sec_ack.magic = 0;
	sec_ack.flags = 0x1234;
	hello_self(s, &sec_ack, now);
	assert_int_equal(sec_ack.magic, RT_SHIM_ACK);
	assert_int_equal(sec_ack.expires_ns, now + TTL);
	/* flags written whole: the daemon reads batches */
	assert_int_equal(sec_ack.flags, RT_SHIM_ACK_F_BATCH);
	assert_int_equal(shimack_count(s), 1);

	/* a second hello from the same process refreshes, does not add */
	hello_self(s, &sec_ack, now + SEC);
	assert_int_equal(sec_ack.expires_ns, now + SEC + TTL);
	assert_int_equal(shimack_count(s), 1);
}

static const struct rt_shim_ack ro_ack = {.nonce = NONCE}; /* .rodata: r--p */

/* Refused: nothing registered as acknowledged, nothing written. */
static void refused(struct shimack *s, uint64_t addr, uint64_t nonce, int want)
{
	uint64_t drops = 99;

	assert_int_equal(hello_at(s, (uint32_t)getpid(), addr, nonce, 3, &drops, mono_now()), want);
}

static void test_bad_addresses(void **state)
{
	static volatile struct rt_shim_ack ack[2] = {{.nonce = NONCE}, {.nonce = NONCE}};
	struct shimack *s = *state;
	struct shimack_stats st;
	struct rt_shim_ack stack = {.nonce = NONCE};
	struct rt_shim_ack *heap =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t drops = 99;

	assert_true(heap != MAP_FAILED);
	heap->nonce = NONCE;
	assert_int_equal(
	    hello_at(s, (uint32_t)getpid(), addr_of(ack) + 4, NONCE, 3, &drops, mono_now()),
	    -EINVAL);
	assert_int_equal(drops, 0);
	assert_int_equal(shimack_count(s), 0); /* refused before registering */
	refused(s, addr_of(ack) + 1, NONCE, -EINVAL);
	refused(s, 1ull << 60, NONCE, -EINVAL);
	refused(s, 8, NONCE, -EPERM);				 /* not mapped */
	refused(s, (uint64_t)(uintptr_t)heap, NONCE, -EPERM);	 /* anonymous */
	refused(s, (uint64_t)(uintptr_t)&stack, NONCE, -EPERM);	 /* the stack */
	refused(s, (uint64_t)(uintptr_t)&ro_ack, NONCE, -EPERM); /* read-only */
	refused(s, addr_of(ack), NONCE, -EPERM);		 /* .data, not the section */
	refused(s, addr_of(&sec_ack) + 8, NONCE, -EPERM);	 /* inside the section */
	refused(s, addr_of(&sec_ack), NONCE + 1, -EPERM);	 /* wrong nonce */
	refused(s, addr_of(&sec_ack), 0, -EPERM);		 /* no nonce */
	assert_int_equal(shimack_set_lib_glob(s, "libredtap*.so"), 0);
	refused(s, addr_of(&sec_ack), NONCE, -EPERM); /* not in the shim's file */
	assert_int_equal(heap->magic, 0);
	assert_int_equal(stack.magic, 0);
	assert_int_equal(ro_ack.magic, 0);
	assert_int_equal(ack[0].magic, 0);
	assert_int_equal(ack[0].expires_ns, 0);
	assert_int_equal(ack[1].magic, 0);
	assert_int_equal(sec_ack.magic, 0);
	shimack_stats(s, &st);
	assert_int_equal(st.acked, 0);
	assert_true(st.refused >= 10);
	/* the first refusal registered the pid for its drop counter only */
	assert_int_equal(shimack_count(s), 1);
	munmap(heap, 4096);
}

static void test_addr_zero_writes_nothing(void **state)
{
	struct shimack *s = *state;
	uint64_t drops = 99;

	/* a ring hello registers the process for its drop counters only */
	assert_int_equal(hello_at(s, 4242, 0, 0, 0, &drops, mono_now()), 0);
	assert_int_equal(drops, 0);
	assert_int_equal(shimack_count(s), 1);
}

static uint64_t hello_drops(struct shimack *s, uint32_t pid, uint64_t dropped, uint64_t now)
{
	uint64_t drops = 12345;

	assert_int_equal(hello_at(s, pid, 0, 0, dropped, &drops, now), 0);
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
	struct shimack *s = *state;
	uint64_t now = mono_now();

	hello_self(s, &sec_ack, now);
	sec_ack.magic = 0;
	sec_ack.expires_ns = 0;
	shimack_refresh(s, now + REFRESH - 1);
	assert_int_equal(sec_ack.magic, 0); /* not due yet */
	assert_int_equal(sec_ack.expires_ns, 0);
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(sec_ack.magic, RT_SHIM_ACK);
	assert_int_equal(sec_ack.expires_ns, now + REFRESH + TTL);
	assert_int_equal(shimack_count(s), 1);

	/* the next one is due 3 s after that rewrite */
	sec_ack.expires_ns = 0;
	shimack_refresh(s, now + 2 * REFRESH - 1);
	assert_int_equal(sec_ack.expires_ns, 0);
	shimack_refresh(s, now + 2 * REFRESH + 5);
	assert_int_equal(sec_ack.expires_ns, now + 2 * REFRESH + 5 + TTL);

	/* a hello counts as a write: the refresh waits 3 s after it */
	hello_self(s, &sec_ack, now + 7 * SEC);
	sec_ack.expires_ns = 0;
	shimack_refresh(s, now + 9 * SEC);
	assert_int_equal(sec_ack.expires_ns, 0);
	shimack_refresh(s, now + 10 * SEC);
	assert_int_equal(sec_ack.expires_ns, now + 10 * SEC + TTL);
}

/* Writes into a forked child (which reports what it sees), then forgets
 * the child once it has exited; this process stays registered. */
/* sec_ack has the same address in the child. */
static void test_child_acked_then_forgotten(void **state)
{
	struct shimack *s = *state;
	int go[2], report[2], status;
	struct rt_shim_ack seen;
	uint64_t drops, now = mono_now();
	char c = 0;
	pid_t child;
	int rc;

	hello_self(s, &sec_ack, now);
	sec_ack.magic = 0; /* the child starts with a blank copy */
	sec_ack.expires_ns = 0;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(report), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct rt_shim_ack copy;

		if (read(go[0], &c, 1) != 1)
			_exit(2);
		copy.expires_ns = sec_ack.expires_ns;
		copy.magic = sec_ack.magic;
		copy.flags = sec_ack.flags;
		_exit(write(report[1], &copy, sizeof(copy)) == sizeof(copy) ? 0 : 3);
	}
	rc = hello_at(s, (uint32_t)child, addr_of(&sec_ack), NONCE, 2, &drops, now + 5);
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
	assert_int_equal(seen.flags, RT_SHIM_ACK_F_BATCH);
	assert_int_equal(seen.expires_ns, now + 5 + TTL);
	assert_int_equal(shimack_count(s), 2);
	assert_int_equal(sec_ack.magic, 0); /* written into the child only */

	/* the child is gone: the next due refresh forgets it, keeps us */
	shimack_refresh(s, now + REFRESH + 5);
	assert_int_equal(shimack_count(s), 1);
	assert_int_equal(sec_ack.magic, RT_SHIM_ACK);
	assert_int_equal(sec_ack.expires_ns, now + REFRESH + 5 + TTL);
	/* forgotten means a later hello from that pid starts from scratch */
	assert_int_equal(hello_drops(s, (uint32_t)child, 2, now + 4 * SEC), 2);
}

static void test_hello_to_dead_pid(void **state)
{
	struct shimack *s = *state;
	uint64_t drops, now = mono_now();
	pid_t child;
	int status;

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(hello_at(s, (uint32_t)child, addr_of(&sec_ack), NONCE, 0, &drops, now),
			 -ESRCH);
	assert_int_equal(shimack_count(s), 1);
	shimack_refresh(s, now + REFRESH - 1);
	assert_int_equal(shimack_count(s), 1);
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(shimack_count(s), 0);
}

static void test_table_bound(void **state)
{
	struct shimack *s = *state;
	struct shimack_hello_in in = {0};
	uint64_t drops, now = mono_now();

	/* one uid gets SHIMACK_PER_UID entries, no more */
	for (uint32_t pid = 1; pid <= SHIMACK_PER_UID; pid++)
		assert_int_equal(hello_at(s, pid, 0, 0, 0, &drops, now), 0);
	assert_int_equal(hello_at(s, 100000, 0, 0, 9, &drops, now), -ENOSPC);
	assert_int_equal(drops, 0);
	/* the others fill the table */
	for (uint32_t pid = SHIMACK_PER_UID + 1; pid <= MAX_SHIMS; pid++) {
		in.pid = pid;
		in.uid = 2000 + pid % 64;
		assert_int_equal(shimack_hello(s, &in, &drops, now), 0);
	}
	assert_int_equal(shimack_count(s), MAX_SHIMS);
	in.pid = MAX_SHIMS + 1;
	in.uid = 7;
	assert_int_equal(shimack_hello(s, &in, &drops, now), -ENOSPC);
	assert_int_equal(shimack_count(s), MAX_SHIMS);
	/* known pids still update */
	assert_int_equal(hello_at(s, 77, 0, 0, 9, &drops, now), 0);
	assert_int_equal(drops, 9);
	/* forgetting makes room */
	shimack_forget(s, 77);
	assert_int_equal(shimack_count(s), MAX_SHIMS - 1);
	assert_int_equal(shimack_hello(s, &in, &drops, now), 0);
}

/* Self-reported losses grow by what the time since the last hello allows. */
static void test_drops_bounded(void **state)
{
	struct shimack *s = *state;
	struct shimack_stats st;
	uint64_t now = mono_now();

	assert_int_equal(hello_drops(s, 3001, 1ull << 40, now), SHIMACK_DROPS_BURST);
	assert_int_equal(hello_drops(s, 3001, (1ull << 40) + 10, now + SEC), 10);
	assert_int_equal(hello_drops(s, 3001, (1ull << 41), now + 3 * SEC),
			 SHIMACK_DROPS_BURST + 2 * SHIMACK_DROPS_PER_S);
	shimack_stats(s, &st);
	assert_true(st.drops_capped > (1ull << 40));
}

/* The same pid under another uid is another process: starts afresh. */
static void test_uid_change_is_new_process(void **state)
{
	struct shimack *s = *state;
	struct shimack_hello_in in = {.pid = 4001, .uid = 1, .dropped = 50};
	uint64_t drops, now = mono_now();

	assert_int_equal(shimack_hello(s, &in, &drops, now), 0);
	assert_int_equal(drops, 50);
	in.uid = 2;
	assert_int_equal(shimack_hello(s, &in, &drops, now), 0);
	assert_int_equal(drops, 50); /* not a delta against the other process */
	assert_int_equal(shimack_count(s), 1);
}

/* Forgetting (exec/exit records) stops the writes at once. */
static void test_forget_stops_writes(void **state)
{
	struct shimack *s = *state;
	uint64_t now = mono_now();

	hello_self(s, &sec_ack, now);
	shimack_forget(s, (uint32_t)getpid());
	assert_int_equal(shimack_count(s), 0);
	sec_ack.magic = 0;
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(sec_ack.magic, 0);
}

/* A refresh re-reads the nonce: once it is gone, nothing more is written. */
static void test_refresh_checks_nonce(void **state)
{
	struct shimack *s = *state;
	uint64_t now = mono_now();

	hello_self(s, &sec_ack, now);
	sec_ack.magic = 0;
	sec_ack.expires_ns = 0;
	sec_ack.nonce = NONCE ^ 1;
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(sec_ack.magic, 0);
	assert_int_equal(sec_ack.expires_ns, 0);
	assert_int_equal(shimack_count(s), 0);
	sec_ack.nonce = NONCE;
}

/* A child acked, then exec'd: the kept fd belongs to the old address space,
 * the refresh writes nothing and forgets it. */
static void test_exec_ends_writes(void **state)
{
	struct shimack *s = *state;
	int go[2], status;
	uint64_t drops, now = mono_now();
	char c = 0;
	pid_t child;

	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		execl("/bin/sleep", "sleep", "2", (char *)NULL);
		_exit(3);
	}
	close(go[0]);
	assert_int_equal(hello_at(s, (uint32_t)child, addr_of(&sec_ack), NONCE, 0, &drops, now), 0);
	assert_int_equal(write(go[1], &c, 1), 1);
	close(go[1]);
	/* wait until the exec happened: /proc/PID/exe changes */
	for (int i = 0; i < 200; i++) {
		char path[64], exe[256] = "";

		snprintf(path, sizeof(path), "/proc/%d/exe", (int)child);
		if (readlink(path, exe, sizeof(exe) - 1) > 0 && strstr(exe, "sleep"))
			break;
		usleep(10000);
	}
	assert_int_equal(shimack_count(s), 1);
	shimack_refresh(s, now + REFRESH);
	assert_int_equal(shimack_count(s), 0);
	/* and a new hello for the exec'd program is refused: no shim there */
	assert_int_equal(hello_at(s, (uint32_t)child, addr_of(&sec_ack), NONCE, 0, &drops, now),
			 -EPERM);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
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
	    cmocka_unit_test_setup_teardown(test_drops_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uid_change_is_new_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget_stops_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_checks_nonce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_ends_writes, setup, teardown),
	    cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
