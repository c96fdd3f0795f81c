// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_shm_ring.c - fuzz target for the daemon's shared-memory ring reader
 * (user/intake/shm_ring.c). Every process that may map the ring can write
 * anything into its header and data area, so shm_ring_drain() must survive
 * any ring image: it may discard frames but never read outside the mapping,
 * hand out a record longer than it can hold, or loop.
 *
 * Input: [u64 tail][u32 head - tail][data area bytes...] written over a real
 * ring (made once, in a private temporary file) through a second mapping of
 * its file, as a hostile producer would. Every drained record goes to
 * shim_decode() like in the daemon.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "redtap/shim.h"
#include "shim_decode.h"
#include "shm_ring.h"

#define RING_BYTES (64u * 1024)

static struct shm_ring *ring;
static struct rt_shim_ring_hdr *hdr; /* our second mapping of the ring file */
static uint8_t *area;
static char path[64];
static char dir[] = "/tmp/redtap-fuzz-ring-XXXXXX";

static void cleanup(void)
{
	shm_ring_destroy(ring);
	rmdir(dir);
}

static void setup(void)
{
	int fd;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/ring", dir);
	ring = shm_ring_create(path, RING_BYTES);
	if (!ring)
		abort();
	atexit(cleanup);
	fd = open(shm_ring_path(ring), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		abort();
	hdr = mmap(NULL, RT_SHIM_RING_HDR_SIZE + RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	close(fd);
	if (hdr == MAP_FAILED)
		abort();
	fuzz_check(hdr->data_size == RING_BYTES);
	area = (uint8_t *)hdr + RT_SHIM_RING_HDR_SIZE;
}

struct seen {
	int n;
};

static void on_record(void *ctx, const void *rec, size_t len)
{
	struct seen *s = ctx;
	uint8_t *copy;
	struct db_op op;

	fuzz_check(len > 0 && len <= RING_BYTES);
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, rec, len);
	shim_decode(copy, len, &op);
	free(copy);
	s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct seen seen = {0};
	uint64_t tail, head;
	size_t n = RING_BYTES;
	const uint8_t *p;
	int got;

	if (!ring)
		setup();
	tail = (uint64_t)fuzz_take_u(&in, 4) << 32 | fuzz_take_u(&in, 4);
	head = tail + fuzz_take_u(&in, 4);
	p = fuzz_take(&in, &n);
	memset(area, 0, RING_BYTES);
	memcpy(area, p, n);
	__atomic_store_n(&hdr->tail, tail, __ATOMIC_RELEASE);
	__atomic_store_n(&hdr->head, head, __ATOMIC_RELEASE);
	/* Twice: the second pass starts from whatever state the first left. */
	for (int pass = 0; pass < 2; pass++) {
		got = shm_ring_drain(ring, on_record, &seen);
		fuzz_check(got >= 0 && got <= (int)(RING_BYTES / RT_SHIM_FRAME_HDR));
	}
	/* A frame is at least 16 bytes (header + 8-byte aligned payload). */
	fuzz_check(seen.n <= (int)(RING_BYTES / 16) * 2);
	return 0;
}
