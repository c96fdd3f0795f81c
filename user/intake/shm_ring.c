// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shm_ring.c - creates, heartbeats and drains the shim's shared-memory ring
 * (see shm_ring.h and include/redtap/shim.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../preload/ring_path.h"
#include "log.h"
#include "redtap/shim.h"
#include "shm_ring.h"

#define RING_MIN      (64u * 1024)
#define RING_MAX      (1ull << 30)
#define RING_SCRATCH  65536u	    /* larger frames are skipped */
#define RING_STALL_NS 2000000000ull /* an unfinished frame blocks at most this long */

struct shm_ring {
	struct rt_shim_ring_hdr *h;
	uint8_t *data;
	size_t map_size;
	uint64_t data_size;
	uint64_t skipped;   /* frames the reader discarded */
	uint64_t stall_pos; /* tail position seen unfinished ... */
	uint64_t stall_ns;  /* ... since then */
	dev_t dev;
	ino_t ino;
	char *path;
	uint8_t scratch[RING_SCRATCH];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *shm_ring_default_path(void)
{
	static char buf[PATH_MAX];

	if (!ring_path_default(buf, sizeof(buf), getenv("REDTAP_SHIM_RING"), geteuid(), NULL, 0))
		return NULL;
	return buf;
}

/*
 * When path is the default ring path, makes sure its directory exists and
 * that only this user can write it (nobody else can then plant files
 * there). 0 or -errno, with the reason logged.
 */
static int ensure_dir(const char *path)
{
	char want[PATH_MAX], dir[PATH_MAX];
	uid_t uid = geteuid();
	struct stat st;

	if (!ring_path_default(want, sizeof(want), NULL, uid, dir, sizeof(dir)) ||
	    strcmp(path, want) || !dir[0])
		return 0; /* an explicit path: the operator chose the directory */
	if (mkdir(dir, uid == 0 ? 0755 : 0700) && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st))
		return -errno;
	if (!ring_path_dir_ok(&st, uid)) {
		rt_err("shim ring: %s must be a directory owned by uid %u that only it can "
		       "write; remove it or set REDTAP_SHIM_RING",
		       dir, (unsigned)uid);
		return -EPERM;
	}
	return 0;
}

/* 0 if there is no live ring at path (a stale one of ours is removed),
 * -EBUSY if there is, -EEXIST if something else is there. Never blocks. */
static int remove_stale(const char *path)
{
	struct rt_shim_ring_hdr hdr;
	uint64_t now = mono_ns();
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rt_err("shim ring: %s exists and cannot be opened (%s): not ours", path,
		       strerror(errno));
		return -EEXIST;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		rt_err("shim ring: %s exists and is not a regular file of uid %u: not ours", path,
		       (unsigned)geteuid());
		return -EEXIST;
	}
	n = pread(fd, &hdr, sizeof(hdr), 0);
	close(fd);
	if (n == (ssize_t)sizeof(hdr) && hdr.magic == RT_SHIM_RING_MAGIC && hdr.heartbeat_ns &&
	    now - hdr.heartbeat_ns < RT_SHIM_RING_STALE_NS && hdr.daemon_pid &&
	    (kill((pid_t)hdr.daemon_pid, 0) == 0 || errno == EPERM))
		return -EBUSY;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static uint64_t round_size(size_t bytes)
{
	uint64_t size = RING_MIN;

	while (size < bytes && size < RING_MAX)
		size <<= 1;
	return size;
}

struct shm_ring *shm_ring_create(const char *path, size_t bytes)
{
	struct shm_ring *r;
	struct stat st;
	void *p;
	int fd, err;

	if (!path)
		path = shm_ring_default_path();
	if (!path) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->path = strdup(path);
	if (!r->path) {
		err = -ENOMEM;
		goto err_free;
	}
	r->data_size = round_size(bytes);
	r->map_size = RT_SHIM_RING_HDR_SIZE + r->data_size;
	err = ensure_dir(path);
	if (err)
		goto err_free;
	err = remove_stale(path);
	if (err)
		goto err_free;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
		  0600);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	if (fchmod(fd, 0600) || ftruncate(fd, (off_t)r->map_size) || fstat(fd, &st)) {
		err = -errno;
		goto err_unlink;
	}
	/* Every page backed now: a full tmpfs must not SIGBUS us or a shim later. */
	err = -posix_fallocate(fd, 0, (off_t)r->map_size);
	if (err) {
		rt_err("shim ring: cannot allocate %zu bytes for %s: %s", r->map_size, path,
		       strerror(-err));
		goto err_unlink;
	}
	p = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto err_unlink;
	}
	close(fd);
	r->h = p;
	r->data = (uint8_t *)p + RT_SHIM_RING_HDR_SIZE;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->h->version = RT_SHIM_RING_VERSION;
	r->h->data_size = r->data_size;
	r->h->daemon_pid = (uint32_t)getpid();
	shm_ring_heartbeat(r);
	__atomic_store_n(&r->h->magic, RT_SHIM_RING_MAGIC, __ATOMIC_RELEASE);
	rt_debug("shim ring %s: %llu bytes", path, (unsigned long long)r->data_size);
	return r;

err_unlink:
	unlink(path);
	close(fd);
err_free:
	free(r->path);
	free(r);
	errno = -err;
	return NULL;
}

void shm_ring_heartbeat(struct shm_ring *r)
{
	__atomic_store_n(&r->h->heartbeat_ns, mono_ns(), __ATOMIC_RELEASE);
}

uint64_t shm_ring_dropped(const struct shm_ring *r)
{
	return __atomic_load_n(&r->h->dropped, __ATOMIC_RELAXED) + r->skipped;
}

const char *shm_ring_path(const struct shm_ring *r)
{
	return r->path;
}

/* Copies n bytes at position pos out of the ring (n <= data_size). */
static void ring_copy(const struct shm_ring *r, uint64_t pos, void *dst, uint64_t n)
{
	uint64_t off = pos & (r->data_size - 1);
	uint64_t first = r->data_size - off < n ? r->data_size - off : n;

	memcpy(dst, r->data + off, first);
	if (first < n)
		memcpy((uint8_t *)dst + first, r->data, n - first);
}

/* Zeroes n bytes at position pos, so later frames start from zero words. */
static void ring_zero(struct shm_ring *r, uint64_t pos, uint64_t n)
{
	uint64_t off = pos & (r->data_size - 1);
	uint64_t first = r->data_size - off < n ? r->data_size - off : n;

	memset(r->data + off, 0, first);
	if (first < n)
		memset(r->data, 0, n - first);
}

static void ring_advance(struct shm_ring *r, uint64_t tail, uint64_t n)
{
	ring_zero(r, tail, n);
	__atomic_store_n(&r->h->tail, tail + n, __ATOMIC_RELEASE);
}

/* The frame at tail is not READY. Returns bytes to skip, 0 to wait. */
static uint64_t ring_stalled(struct shm_ring *r, uint64_t tail, uint64_t avail, uint32_t word)
{
	uint64_t now = mono_ns(), len, total;

	if (r->stall_pos != tail || !r->stall_ns) {
		r->stall_pos = tail;
		r->stall_ns = now;
		return 0;
	}
	if (now - r->stall_ns < RING_STALL_NS)
		return 0;
	r->stall_ns = 0;
	r->skipped++;
	len = word & RT_SHIM_FRAME_LEN_MASK;
	total = RT_SHIM_FRAME_HDR + ((len + 7) & ~7ull);
	if ((word & RT_SHIM_FRAME_BUSY) && total <= avail)
		return total;
	return avail; /* nothing to go by: give up everything reserved so far */
}

int shm_ring_drain(struct shm_ring *r, void (*cb)(void *ctx, const void *rec, size_t len),
		   void *ctx)
{
	uint64_t head = __atomic_load_n(&r->h->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->h->tail, __ATOMIC_RELAXED);
	int n = 0;

	if (head - tail > r->data_size || (head & 7)) {
		/* Someone scribbled on the header: start over at an aligned head. */
		uint64_t aligned = (head + 7) & ~7ull;

		r->skipped++;
		if (aligned != head &&
		    !__atomic_compare_exchange_n(&r->h->head, &head, aligned, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return 0; /* a producer moved it meanwhile: next time */
		memset(r->data, 0, r->data_size);
		__atomic_store_n(&r->h->tail, aligned, __ATOMIC_RELEASE);
		return 0;
	}
	while (tail != head) {
		uint32_t *wp = (uint32_t *)(r->data + (tail & (r->data_size - 1)));
		uint32_t word = __atomic_load_n(wp, __ATOMIC_ACQUIRE);
		uint64_t avail = head - tail, len, total;

		if (!(word & RT_SHIM_FRAME_READY)) {
			total = ring_stalled(r, tail, avail, word);
			if (!total)
				break;
			ring_advance(r, tail, total);
			tail += total;
			continue;
		}
		len = word & RT_SHIM_FRAME_LEN_MASK;
		total = RT_SHIM_FRAME_HDR + ((len + 7) & ~7ull);
		if (!len || total > avail) {
			r->skipped++;
			ring_advance(r, tail, avail);
			tail = head;
			break;
		}
		if (len <= RING_SCRATCH) {
			ring_copy(r, tail + RT_SHIM_FRAME_HDR, r->scratch, len);
			cb(ctx, r->scratch, len);
			n++;
		} else {
			r->skipped++;
		}
		ring_advance(r, tail, total);
		tail += total;
	}
	return n;
}

void shm_ring_destroy(struct shm_ring *r)
{
	struct stat st;

	if (!r)
		return;
	if (!lstat(r->path, &st) && st.st_dev == r->dev && st.st_ino == r->ino)
		unlink(r->path);
	munmap(r->h, r->map_size);
	free(r->path);
	free(r);
}
