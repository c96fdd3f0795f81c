// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ringbuf.c - reads the BPF ring buffer through a small window of its data
 * area; see ringbuf.h. The kernel maps the data pages twice in a row in
 * its own address space, and lets user space map any part of that doubled
 * area: a window of RB_WINDOW bytes starting at the consumer position is
 * therefore contiguous even where records wrap, and is moved (mmap
 * MAP_FIXED over itself) when the next record does not fit in it. The
 * protocol is the kernel's (kernel/bpf/ringbuf.c) and libbpf's reader: an
 * 8-byte header per record whose length carries a busy bit (not committed
 * yet) and a discard bit, records padded to 8 bytes, positions that only
 * grow, read with acquire and published with release.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "ringbuf.h"

/* The window's size (or the ring's, when smaller): what the ring costs in
 * the daemon's RSS. At 100 MB/s of records it moves 100 times a second; a
 * move costs ~170 us on a PVM guest, so 512 KiB took ~9 % of the daemon's
 * CPU on nginx and 1 MiB ~6 % less of it (BENCHMARKS.md, "The daemon's CPU
 * on nginx"). */
#define RB_WINDOW (1024u << 10)

/*
 * The window lives at a fixed address in the middle of a reserved,
 * inaccessible area of RB_RESERVE bytes aligned to it (one page-middle-
 * directory entry, 2 MiB on x86-64), so that the page table under the
 * window always has other mappings in its range: moving the window then
 * only replaces the window's entries. Alone in its range, every move freed
 * the page table, and freeing a page table sends a TLB flush to every CPU
 * that may still hold the daemon's tables, lazily too: an interrupt of the
 * very processes it observes, 50 times a second at 55 000 req/s (issue 9,
 * BENCHMARKS.md). The reserve is address space only, never resident.
 */
#define RB_RESERVE (2ul << 20)
/* the window, a page in, must end inside the aligned RB_RESERVE (pages are
 * at most 64 KiB): a larger one would be mapped over whatever lies beyond */
_Static_assert(RB_WINDOW <= RB_RESERVE - 2 * (64u << 10), "RB_WINDOW must fit in RB_RESERVE");

struct rb_reader {
	unsigned long *consumer_pos;
	const unsigned long *producer_pos;
	const uint8_t *win;	 /* bytes [win_start, win_start + win_len) of the stream */
	unsigned long win_start; /* an absolute position, a multiple of align */
	unsigned long win_len;	 /* <= size */
	unsigned long align;	 /* the page size (8 for a ring in memory) */
	const uint8_t *doubled;	 /* a ring in memory: its data twice in a row */
	void *resv;		 /* the reserved area around the window, or NULL */
	size_t resv_len;
	uint64_t mask;
	rb_record_fn fn;
	void *ctx;
	int map_fd; /* -1: a ring in memory */
	int epfd;
	size_t page;
	uint32_t size;
	uint64_t moves;	  /* window moves */
	uint64_t skipped; /* records longer than the window */
};

static struct rb_reader *reader_alloc(uint32_t size, rb_record_fn fn, void *ctx)
{
	struct rb_reader *r;

	if (!size || (size & (size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->size = size;
	r->mask = size - 1;
	r->fn = fn;
	r->ctx = ctx;
	r->map_fd = -1;
	r->epfd = -1;
	return r;
}

/* Makes the window start at the page holding absolute position pos. */
static int window_at(struct rb_reader *r, unsigned long pos)
{
	unsigned long start = pos & ~(r->align - 1);
	void *w;

	if (r->map_fd < 0) {
		r->win = r->doubled + (start & r->mask);
	} else {
		w = mmap((void *)r->win, r->win_len, PROT_READ, MAP_SHARED | MAP_FIXED, r->map_fd,
			 (off_t)(2 * r->page + (start & r->mask)));
		if (w == MAP_FAILED)
			return -errno;
		r->win = w;
	}
	r->win_start = start;
	r->moves++;
	return 0;
}

static bool in_window(const struct rb_reader *r, unsigned long pos, unsigned long n)
{
	return r->win && pos >= r->win_start && pos + n <= r->win_start + r->win_len;
}

/*
 * Starts loading the first two cache lines of the record at next (its
 * header and the start of its body) while the callback handles this one:
 * the kernel wrote them on either CPU some time ago, and without this
 * nearly all the samples of capture's on_record() and of gotrack_deliver()
 * were their first loads of the header and of the data record's lengths
 * (issue 9, BENCHMARKS.md). A hint only: nothing is read if next is not in
 * the window, and a record not committed yet is loaded again when read.
 */
static void prefetch_next(const struct rb_reader *r, unsigned long next)
{
	const uint8_t *p;

	if (!in_window(r, next, 128))
		return;
	p = r->win + (next - r->win_start);
	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
}

struct rb_reader *rb_reader_wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
				 const void *doubled, uint32_t size, uint32_t window,
				 rb_record_fn fn, void *ctx)
{
	struct rb_reader *r = reader_alloc(size, fn, ctx);

	if (!r)
		return NULL;
	if (window < 16 || window > size || window % 8) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->consumer_pos = consumer_pos;
	r->producer_pos = producer_pos;
	r->doubled = doubled;
	r->win_len = window;
	r->align = 8;
	return r;
}

struct rb_reader *rb_reader_new(int map_fd, uint32_t size, rb_record_fn fn, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct rb_reader *r;
	long page = sysconf(_SC_PAGESIZE);
	void *m;
	int e;

	if (page <= 0 || size % (uint32_t)page) {
		errno = EINVAL;
		return NULL;
	}
	r = reader_alloc(size, fn, ctx);
	if (!r)
		return NULL;
	r->page = (size_t)page;
	r->align = (unsigned long)page;
	r->map_fd = map_fd;
	r->win_len = size < RB_WINDOW ? size : RB_WINDOW;
	/* the consumer page is the only writable one */
	m = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (m == MAP_FAILED)
		goto err;
	r->consumer_pos = m;
	m = mmap(NULL, r->page, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (m == MAP_FAILED)
		goto err;
	r->producer_pos = m;
	/* twice the alignment, so an aligned RB_RESERVE lies inside; the
	 * window a page in from its start (it is at most RB_WINDOW) */
	r->resv_len = 2 * RB_RESERVE;
	m = mmap(NULL, r->resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		goto err;
	r->resv = m;
	r->win = (const uint8_t *)(((uintptr_t)m + RB_RESERVE - 1) & ~(RB_RESERVE - 1)) + r->page;
	e = window_at(r, __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE));
	if (e) {
		errno = -e;
		goto err;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto err;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		goto err;
	return r;
err:
	e = errno;
	rb_reader_free(r);
	errno = e;
	return NULL;
}

int rb_reader_consume(struct rb_reader *r)
{
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE), prod;
	int n = 0, rc;
	bool more;

	do {
		more = false;
		prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			const uint32_t *hdr;
			uint32_t len, body;

			if (!in_window(r, cons, BPF_RINGBUF_HDR_SZ) && (rc = window_at(r, cons)))
				return rc;
			hdr = (const uint32_t *)(r->win + (cons - r->win_start));
			len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT)
				return n; /* not committed yet: the next poll takes it */
			more = true;
			body = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			/* a record longer than a window (capture.bpf.c writes
			 * at most 8.3 KiB; the smallest window is 64 KiB) is
			 * skipped like a discarded one, and counted */
			if (!(len & BPF_RINGBUF_DISCARD_BIT) &&
			    body + BPF_RINGBUF_HDR_SZ + r->align > r->win_len)
				r->skipped++;
			if (!(len & BPF_RINGBUF_DISCARD_BIT) &&
			    body + BPF_RINGBUF_HDR_SZ + r->align <= r->win_len) {
				if (!in_window(r, cons, BPF_RINGBUF_HDR_SZ + body) &&
				    (rc = window_at(r, cons)))
					return rc;
				prefetch_next(r, cons + ((body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul));
				rc = r->fn(
				    r->ctx,
				    (void *)(r->win + (cons - r->win_start) + BPF_RINGBUF_HDR_SZ),
				    body);
				cons += (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
				__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
				if (rc < 0)
					return rc;
				n++;
				continue;
			}
			cons += (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
		}
	} while (more);
	return n;
}

int rb_reader_poll(struct rb_reader *r, int timeout_ms)
{
	struct epoll_event ev;

	if (r->epfd >= 0 && timeout_ms != 0 && epoll_wait(r->epfd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return rb_reader_consume(r);
}

uint64_t rb_reader_skipped(const struct rb_reader *r)
{
	return r->skipped;
}

uint64_t rb_reader_moves(const struct rb_reader *r)
{
	return r->moves;
}

void rb_reader_free(struct rb_reader *r)
{
	if (!r)
		return;
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->map_fd >= 0) { /* mapped by rb_reader_new, maybe partly */
		if (r->resv)  /* the window is inside */
			munmap(r->resv, r->resv_len);
		if (r->producer_pos)
			munmap((void *)r->producer_pos, r->page);
		if (r->consumer_pos)
			munmap(r->consumer_pos, r->page);
	}
	free(r);
}
