// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shm_ring.c - CMocka tests of the shim's shared-memory ring: the
 * daemon side (user/intake/shm_ring.c) with the shim's own producer
 * (preload/ring_write.c, compiled in here): order and content across many
 * wraparounds, a full ring counting drops, several producer threads and
 * processes at once (every record arrives exactly once or is counted), a
 * live ring refusing a second daemon and a stale one being replaced, a
 * producer that dies mid-frame, a scribbled header, and the default path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "shm_ring.h"
/* The producer lives in the shim; test the very same code. */
#include "../../preload/ring_write.c"

#define RING_BYTES (64 * 1024)

struct rec {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;
	uint8_t fill[300];
};

struct sink {
	uint64_t count;
	uint32_t next[16]; /* next expected seq per producer */
	int bad;
};

static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/redtap-test-ring-%d", (int)getpid());
	return 0;
}

/* A failed test leaves its ring behind: do not let it fail the next one. */
static int fresh(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	return fresh(state);
}

/* Maps the ring file as the shim does (an independent mapping). */
static struct rt_shim_ring_hdr *map_ring(size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDWR);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	*size = (size_t)st.st_size;
	return p == MAP_FAILED ? NULL : p;
}

static size_t rec_len(uint32_t seq)
{
	return offsetof(struct rec, fill) + (seq * 37u) % sizeof(((struct rec *)0)->fill);
}

static int put(struct rt_shim_ring_hdr *h, uint32_t producer, uint32_t seq)
{
	struct rec r;
	size_t len = rec_len(seq);

	r.producer = producer;
	r.seq = seq;
	r.len = (uint32_t)len;
	memset(r.fill, (int)(seq & 0xff), len - offsetof(struct rec, fill));
	return shim_ring_write(h, h->data_size, &r, len);
}

static void on_rec(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;
	struct rec r;
	size_t i;

	memcpy(&r, buf, len < sizeof(r) ? len : sizeof(r));
	if (len != r.len || r.producer >= 16 || r.seq < s->next[r.producer]) {
		s->bad++;
		return;
	}
	for (i = 0; i < len - offsetof(struct rec, fill); i++)
		if (r.fill[i] != (uint8_t)(r.seq & 0xff))
			s->bad++;
	s->next[r.producer] = r.seq + 1;
	s->count++;
}

static void test_create_destroy(void **state)
{
	struct shm_ring *r = shm_ring_create(path, 1000);
	struct stat st;

	(void)state;
	assert_non_null(r);
	assert_string_equal(shm_ring_path(r), path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, RT_SHIM_RING_HDR_SIZE + 64 * 1024); /* rounded up */
	assert_int_equal(shm_ring_dropped(r), 0);
	shm_ring_destroy(r);
	assert_int_not_equal(stat(path, &st), 0);
	shm_ring_destroy(NULL);
}

static void test_order_and_wraparound(void **state)
{
	struct shm_ring *r = shm_ring_create(path, RING_BYTES);
	struct rt_shim_ring_hdr *h;
	struct sink s = {0};
	uint32_t seq = 0;
	size_t size;
	int lap, i;

	(void)state;
	h = map_ring(&size);
	assert_non_null(h);
	/* about 40 laps of the ring, in batches that straddle its end */
	for (lap = 0; lap < 400; lap++) {
		for (i = 0; i < 37; i++)
			assert_int_equal(put(h, 0, seq++), 0);
		assert_int_equal(shm_ring_drain(r, on_rec, &s), 37);
	}
	assert_int_equal(s.count, seq);
	assert_int_equal(s.bad, 0);
	assert_true(h->head > 30ull * RING_BYTES);
	assert_int_equal(shm_ring_dropped(r), 0);
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 0);
	munmap(h, size);
	shm_ring_destroy(r);
}

static void test_full_counts_drops(void **state)
{
	struct shm_ring *r = shm_ring_create(path, RING_BYTES);
	struct rt_shim_ring_hdr *h;
	struct sink s = {0};
	uint8_t big[RING_BYTES];
	int ok = 0, full = 0, i;
	size_t size;

	(void)state;
	h = map_ring(&size);
	for (i = 0; i < 1000; i++) {
		int rc = put(h, 0, (uint32_t)i);

		if (rc == 0)
			ok++;
		else if (rc == -ENOSPC)
			full++;
	}
	assert_true(ok > 100);
	assert_int_equal(ok + full, 1000);
	assert_int_equal(shm_ring_dropped(r), (uint64_t)full);
	assert_int_equal(shm_ring_drain(r, on_rec, &s), ok);
	assert_int_equal(s.bad, 0);
	/* room again after the drain */
	assert_int_equal(put(h, 0, 5000), 0);
	/* refused outright: empty and oversized records */
	assert_int_equal(shim_ring_write(h, h->data_size, big, 0), -EINVAL);
	assert_int_equal(shim_ring_write(h, h->data_size, big, sizeof(big)), -EINVAL);
	munmap(h, size);
	shm_ring_destroy(r);
}

struct producer {
	struct rt_shim_ring_hdr *h;
	uint32_t id;
	uint32_t n;
	uint32_t dropped;
	int done; /* set when the last record is put */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		if (put(p->h, p->id, i)) {
			/* full: counted as dropped; back off so that the reader
			 * catches up however slow it runs (a sanitizer, a loaded
			 * node): a drop costs a millisecond, which bounds them */
			p->dropped++;
			usleep(1000);
		}
		if (i % 32 == 31)
			usleep(50); /* let the reader keep up most of the time */
	}
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* True once the four threads have put their last record and both child
 * processes have exited (their statuses kept in status[]). */
static bool producers_done(struct producer *prod, pid_t *kids, int *status, bool *reaped)
{
	bool all = true;
	int i;

	for (i = 0; i < 4; i++)
		all &= __atomic_load_n(&prod[i].done, __ATOMIC_ACQUIRE) != 0;
	for (i = 0; i < 2; i++) {
		if (!reaped[i] && waitpid(kids[i], &status[i], WNOHANG) == kids[i])
			reaped[i] = true;
		all &= reaped[i];
	}
	return all;
}

static void test_multi_producer(void **state)
{
	struct shm_ring *r = shm_ring_create(path, 1 << 20);
	struct producer prod[4];
	pthread_t t[4];
	struct sink s = {0};
	uint64_t dropped = 0;
	pid_t kids[2];
	bool reaped[2] = {false, false};
	size_t size;
	int i, status[2];

	(void)state;
	/* two processes ... */
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct producer p = {map_ring(&size), (uint32_t)(10 + i), 20000, 0, 0};

			produce(&p);
			_exit(p.dropped > 255 ? 255 : (int)p.dropped);
		}
	}
	/* ... and four threads, while this thread drains */
	for (i = 0; i < 4; i++) {
		prod[i] = (struct producer){map_ring(&size), (uint32_t)i, 20000, 0, 0};
		pthread_create(&t[i], NULL, produce, &prod[i]);
	}
	/* drain for as long as anyone produces, however slow the machine (a
	 * sanitizer, a loaded node), within a bound of 60 s */
	for (i = 0; i < 60000 && !producers_done(prod, kids, status, reaped); i++) {
		shm_ring_drain(r, on_rec, &s);
		usleep(1000);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		dropped += prod[i].dropped;
		munmap(prod[i].h, size);
	}
	for (i = 0; i < 2; i++) {
		if (!reaped[i])
			waitpid(kids[i], &status[i], 0);
		assert_true(WIFEXITED(status[i]));
	}
	while (shm_ring_drain(r, on_rec, &s) > 0)
		;
	assert_int_equal(s.bad, 0);
	/* every record arrived exactly once, or was counted as dropped */
	assert_int_equal(s.count + shm_ring_dropped(r), 6 * 20000);
	assert_true(dropped <= shm_ring_dropped(r));
	assert_true(s.count > 60000);
	shm_ring_destroy(r);
}

static void test_live_and_stale(void **state)
{
	struct shm_ring *a = shm_ring_create(path, RING_BYTES), *b;
	struct rt_shim_ring_hdr *h;
	size_t size;

	(void)state;
	assert_non_null(a);
	/* a second daemon must not take over a live ring */
	b = shm_ring_create(path, RING_BYTES);
	assert_null(b);
	assert_int_equal(errno, EBUSY);
	/* its heartbeat goes stale: the next daemon replaces it */
	h = map_ring(&size);
	h->heartbeat_ns -= RT_SHIM_RING_STALE_NS + 1000000000ull;
	munmap(h, size);
	b = shm_ring_create(path, RING_BYTES);
	assert_non_null(b);
	/* a's destroy must not unlink b's file */
	shm_ring_destroy(a);
	assert_int_equal(access(path, F_OK), 0);
	shm_ring_heartbeat(b);
	shm_ring_destroy(b);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void test_dead_producer(void **state)
{
	struct shm_ring *r = shm_ring_create(path, RING_BYTES);
	struct rt_shim_ring_hdr *h;
	struct sink s = {0};
	size_t size;

	(void)state;
	h = map_ring(&size);
	assert_int_equal(put(h, 0, 0), 0);
	/* a producer reserves 64 bytes, writes its BUSY word, and dies */
	*(uint32_t *)((uint8_t *)h + RT_SHIM_RING_HDR_SIZE + (h->head & (h->data_size - 1))) =
	    RT_SHIM_FRAME_BUSY | 56;
	h->head += 64;
	assert_int_equal(put(h, 0, 1), 0);
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 1); /* stops at the stuck frame */
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 0);
	sleep(3);
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 1); /* skipped, the next arrives */
	assert_int_equal(s.count, 2);
	assert_int_equal(s.bad, 0);
	assert_int_equal(shm_ring_dropped(r), 1);
	munmap(h, size);
	shm_ring_destroy(r);
}

static void test_scribbled_header(void **state)
{
	struct shm_ring *r = shm_ring_create(path, RING_BYTES);
	struct rt_shim_ring_hdr *h;
	struct sink s = {0};
	size_t size;

	(void)state;
	h = map_ring(&size);
	h->head = 0x123456789ull; /* far beyond tail */
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 0);
	assert_int_equal(h->tail, h->head);
	assert_int_equal(put(h, 0, 0), 0);
	assert_true(shm_ring_drain(r, on_rec, &s) >= 1);
	/* a frame word claiming more bytes than were reserved */
	*(uint32_t *)((uint8_t *)h + RT_SHIM_RING_HDR_SIZE + (h->head & (h->data_size - 1))) =
	    RT_SHIM_FRAME_READY | 5000;
	h->head += 16;
	assert_int_equal(shm_ring_drain(r, on_rec, &s), 0);
	assert_int_equal(h->tail, h->head);
	assert_int_equal(s.bad, 0);
	munmap(h, size);
	shm_ring_destroy(r);
}

static void test_default_path(void **state)
{
	char want[64];
	struct stat st;

	(void)state;
	setenv("REDTAP_SHIM_RING", "/tmp/custom-ring", 1);
	assert_string_equal(shm_ring_default_path(), "/tmp/custom-ring");
	unsetenv("REDTAP_SHIM_RING");
	if (geteuid() == 0) {
		assert_string_equal(shm_ring_default_path(), "/run/redtap/shim-ring");
		return;
	}
	snprintf(want, sizeof(want), "/run/user/%u", (unsigned)geteuid());
	if (lstat(want, &st) || st.st_uid != geteuid())
		snprintf(want, sizeof(want), "/dev/shm/redtap-%u", (unsigned)geteuid());
	strcat(want, "/shim-ring");
	assert_string_equal(shm_ring_default_path(), want);
}

/* Whatever another user left at the path, create neither blocks nor
 * trusts it: a FIFO (open would block), a symlink, a file of another
 * owner are refused with EEXIST and left alone. */
static void test_planted_files_refused(void **state)
{
	struct shm_ring *r;

	(void)state;
	assert_int_equal(mkfifo(path, 0666), 0);
	errno = 0;
	r = shm_ring_create(path, 1 << 16);
	assert_null(r);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(symlink("/etc/passwd", path), 0);
	r = shm_ring_create(path, 1 << 16);
	assert_null(r);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(unlink(path), 0);

	if (geteuid() == 0) {
		int fd = open(path, O_CREAT | O_WRONLY, 0600);

		assert_true(fd >= 0);
		assert_int_equal(fchown(fd, 65534, 65534), 0);
		close(fd);
		r = shm_ring_create(path, 1 << 16);
		assert_null(r);
		assert_int_equal(errno, EEXIST);
		assert_int_equal(unlink(path), 0);
	}
}

/* Every byte of the ring is allocated when create returns. */
static void test_fully_allocated(void **state)
{
	struct shm_ring *r = shm_ring_create(path, 1 << 20);
	struct stat st;

	(void)state;
	assert_non_null(r);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= (uint64_t)st.st_size);
	shm_ring_destroy(r);
}

/* The default directory is made private, and refused when it is not. */
static void test_default_dir(void **state)
{
	char dir[128];
	const char *p;
	struct shm_ring *r;
	struct stat st;

	(void)state;
	if (geteuid() == 0) {
		print_message("root uses /run/redtap: skipped\n");
		skip();
	}
	unsetenv("REDTAP_SHIM_RING");
	p = shm_ring_default_path();
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = 0;
	if (strncmp(dir, "/dev/shm/", 9)) {
		print_message("the default is in /run/user: skipped\n");
		skip();
	}
	r = shm_ring_create(NULL, 1 << 16);
	assert_non_null(r);
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode) && (st.st_mode & 0077) == 0);
	shm_ring_destroy(r);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_null(shm_ring_create(NULL, 1 << 16));
	assert_int_equal(errno, EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_create_destroy, fresh),
	    cmocka_unit_test_setup(test_planted_files_refused, fresh),
	    cmocka_unit_test_setup(test_fully_allocated, fresh),
	    cmocka_unit_test_setup(test_default_dir, fresh),
	    cmocka_unit_test_setup(test_order_and_wraparound, fresh),
	    cmocka_unit_test_setup(test_full_counts_drops, fresh),
	    cmocka_unit_test_setup(test_multi_producer, fresh),
	    cmocka_unit_test_setup(test_live_and_stale, fresh),
	    cmocka_unit_test_setup(test_dead_producer, fresh),
	    cmocka_unit_test_setup(test_scribbled_header, fresh),
	    cmocka_unit_test_setup(test_default_path, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
