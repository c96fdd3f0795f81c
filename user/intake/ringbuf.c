// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ringbuf.c - reads the BPF ring buffers, each through a small window of
 * its data area, and merges them by the records' timestamps; see
 * ringbuf.h. The kernel maps the data pages twice in a row in
 * its own address space, and lets user space map any part of that doubled
 * area. A ring no larger than its share of RB_WINDOW is mapped whole,
 * once, with RB_TAIL bytes of its second copy after it, so that a record
 * that wraps past the end still reads as one piece and nothing is ever
 * mapped again. A larger ring is read through a window of its share
 * starting at the consumer position, contiguous for the same reason, and
 * moved (mmap MAP_FIXED over itself) when the next record does not fit in
 * it. The
 * protocol is the kernel's (kernel/bpf/ringbuf.c) and libbpf's reader: an
 * 8-byte header per record whose length carries a busy bit (not committed
 * yet) and a discard bit, records padded to 8 bytes, positions that only
 * grow, read with acquire and published with release.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "ringbuf.h"

/* A ring's window (or the ring, when mapped whole) is what it costs in the
 * daemon's RSS. At 100 MB/s of records a 1 MiB window moves 100 times a
 * second; a move costs ~170 us on a PVM guest, so 512 KiB took ~9 % of the
 * daemon's CPU on nginx and 1 MiB ~6 % less of it (BENCHMARKS.md, "The
 * daemon's CPU on nginx", "Smaller series, larger windows", "Rings mapped
 * whole"). The rings share RB_WINDOW between them, each taking from
 * RB_WINDOW_MIN (many CPUs) to RB_WINDOW_MAX (one or two). A ring mapped
 * whole takes RB_TAIL more: the longest record that never has to be
 * skipped (capture.bpf.c writes at most 8.3 KiB). */
#define RB_WINDOW     (2048u << 10)
#define RB_WINDOW_MAX (1024u << 10)
#define RB_WINDOW_MIN (128u << 10)
#define RB_TAIL	      (64u << 10)
/*
 * The consumer position is published when a read ends and every this
 * many bytes during one: every program that reserves a record reads it,
 * so a store per record sent its cache line to the producing CPU once a
 * record. A ring's space comes back at most this late.
 */
#define RB_PUBLISH (32u << 10)
/* A record stamped this long after a read began means that the two clocks
 * disagree (they never should): it is handed out all the same, by stamp,
 * rather than held back for ever. */
#define RB_CLOCK_SKEW 1000000000ull

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
_Static_assert(RB_WINDOW_MAX + RB_TAIL <= RB_RESERVE - 2 * (64u << 10),
	       "a window must fit in RB_RESERVE");

/* One ring: its positions and the window over its data. */
struct rb_ring {
	unsigned long *consumer_pos;
	const unsigned long *producer_pos;
	const uint8_t *win;	 /* bytes [win_start, win_end) of the stream */
	unsigned long win_start; /* an absolute position, a multiple of align */
	unsigned long win_end;
	/* a ring in memory: its data twice in a row; a ring mapped whole: its
	 * data then RB_TAIL bytes of it again; NULL: read through windows */
	const uint8_t *doubled;
	void *resv; /* the reserved area around the window, or NULL */
	int map_fd; /* -1: a ring in memory */
	/* during a read: */
	unsigned long cons; /* the consumer position, published by publish() */
	unsigned long pub;  /* the position last published */
	unsigned long prod; /* the producer position read at the pass's start */
	const uint8_t *rec; /* the next record's body, or NULL: none (yet) */
	uint32_t body;	    /* its length */
	uint64_t ts;	    /* its timestamp (the first 8 bytes; 0 if shorter) */
};

struct rb_reader {
	struct rb_ring ring[RB_RINGS_MAX];
	unsigned n;	       /* rings */
	unsigned long win_len; /* each ring's window, <= size (mapped whole: RB_TAIL) */
	unsigned long span;    /* the bytes of a ring mapped whole, or 0 */
	unsigned long align;   /* the page size (8 for a ring in memory) */
	size_t resv_len;       /* of each ring's reserve */
	uint64_t mask;
	rb_record_fn fn;
	void *ctx;
	int epfd;
	size_t page;
	uint32_t size;
	int64_t mono_offset; /* this process's time namespace's CLOCK_MONOTONIC offset, ns */
	uint64_t moves;	     /* window moves */
	uint64_t skipped;    /* records longer than the window */
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
	r->epfd = -1;
	for (unsigned i = 0; i < RB_RINGS_MAX; i++)
		r->ring[i].map_fd = -1;
	return r;
}

/* Makes ring g's window start at the page holding absolute position pos. */
static int window_at(struct rb_reader *r, struct rb_ring *g, unsigned long pos)
{
	unsigned long start = pos & ~(r->align - 1);
	void *w;

	if (g->doubled) {
		/* in memory or mapped whole: only the pointer moves, up to the
		 * end of what is there when the ring is mapped whole */
		g->win = g->doubled + (start & r->mask);
		g->win_end = start + (r->span ? r->span - (start & r->mask) : r->win_len);
	} else {
		w = mmap((void *)g->win, r->win_len, PROT_READ, MAP_SHARED | MAP_FIXED, g->map_fd,
			 (off_t)(2 * r->page + (start & r->mask)));
		if (w == MAP_FAILED)
			return -errno;
		g->win = w;
		g->win_end = start + r->win_len;
	}
	g->win_start = start;
	if (!r->span)
		r->moves++;
	return 0;
}

/* The longest record (header included) that a window always holds whole
 * from wherever in it a record starts. A moving window starts at the page
 * of the record's start, so a page of it may lie before. A ring mapped
 * whole reaches at least RB_TAIL past any start (its window starts at most
 * a page before the record, and at most a page before the ring's last
 * page), so all of RB_TAIL is room, with pages of 64 KiB too. */
static unsigned long room(const struct rb_reader *r)
{
	return r->span ? r->win_len : r->win_len - r->align;
}

static bool in_window(const struct rb_ring *g, unsigned long pos, unsigned long n)
{
	return g->win && pos >= g->win_start && pos + n <= g->win_end;
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
static void prefetch_next(const struct rb_ring *g, unsigned long next)
{
	const uint8_t *p;

	if (!in_window(g, next, 128))
		return;
	p = g->win + (next - g->win_start);
	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
}

static unsigned long padded(uint32_t body)
{
	return (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
}

/* A read starts at the published consumer position (the unit tests move it). */
static void read_start(struct rb_ring *g)
{
	g->cons = g->pub = __atomic_load_n(g->consumer_pos, __ATOMIC_RELAXED);
}

/* Gives the kernel back the space read so far. */
static void publish(struct rb_ring *g)
{
	__atomic_store_n(g->consumer_pos, g->cons, __ATOMIC_RELEASE);
	g->pub = g->cons;
}

/* Consumes bytes of ring g, publishing every RB_PUBLISH bytes. */
static void advance(struct rb_ring *g, unsigned long bytes)
{
	g->cons += bytes;
	if (g->cons - g->pub >= RB_PUBLISH)
		publish(g);
}

/*
 * Finds ring g's next record to hand out, before its producer position
 * prod: skips (and consumes) discarded records and records longer than
 * the window, and moves the window so that the record is inside it.
 * 1 with g->rec and g->body set; 0 when there is none yet (the ring is
 * read up to prod, or its next record is not committed); -errno when the
 * window cannot move.
 */
static int ring_next(struct rb_reader *r, struct rb_ring *g, unsigned long prod)
{
	unsigned long cons;
	int rc;

	g->rec = NULL;
	while ((cons = g->cons) < prod) {
		const uint32_t *hdr;
		uint32_t len, body;

		if (!in_window(g, cons, BPF_RINGBUF_HDR_SZ) && (rc = window_at(r, g, cons)))
			return rc;
		hdr = (const uint32_t *)(g->win + (cons - g->win_start));
		len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			return 0; /* not committed yet: the next read takes it */
		body = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			/* a record longer than a window (capture.bpf.c writes
			 * at most 8.3 KiB; the smallest window is 64 KiB, as is
			 * RB_TAIL) is skipped like a discarded one, and counted */
			if (body + BPF_RINGBUF_HDR_SZ <= room(r)) {
				if (!in_window(g, cons, BPF_RINGBUF_HDR_SZ + body) &&
				    (rc = window_at(r, g, cons)))
					return rc;
				g->rec = g->win + (cons - g->win_start) + BPF_RINGBUF_HDR_SZ;
				g->body = body;
				return 1;
			}
			r->skipped++;
		}
		advance(g, padded(body));
	}
	return 0;
}

/* Hands ring g's record found by ring_next() to the callback and consumes
 * it (also when the callback fails: its value is returned). */
static int ring_deliver(struct rb_reader *r, struct rb_ring *g)
{
	int rc;

	prefetch_next(g, g->cons + padded(g->body));
	rc = r->fn(r->ctx, (void *)g->rec, g->body);
	advance(g, padded(g->body)); /* after the callback: publishing frees the bytes */
	return rc;
}

/* One ring: every committed record in order, until none is left (the
 * producer position read again each time the reader catches up). */
static int consume_one(struct rb_reader *r)
{
	struct rb_ring *g = &r->ring[0];
	unsigned long prod = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE), next;
	int n = 0, rc;

	read_start(g);
	for (;;) {
		while ((rc = ring_next(r, g, prod)) > 0) {
			rc = ring_deliver(r, g);
			if (rc < 0)
				goto out;
			n++;
		}
		if (rc < 0 || g->cons != prod) /* an error, or a record not committed yet */
			break;
		next = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE);
		if (next == prod)
			break; /* caught up */
		prod = next;
	}
	if (rc >= 0)
		rc = n;
out:
	publish(g);
	return rc;
}

/* ring_next() for the merge: the next record with its stamp. */
static int ring_head(struct rb_reader *r, struct rb_ring *g)
{
	int rc = ring_next(r, g, g->prod);

	if (g->rec)
		g->ts = g->body >= sizeof(uint64_t) ? *(const uint64_t *)g->rec : 0;
	return rc;
}

/*
 * Several rings, one pass: of the records committed when the pass starts
 * and stamped at or before until, always the one with the earliest stamp
 * next (each ring is in stamp order but for preemption between a stamp
 * and its reservation, and a ring's own order is always kept).
 *
 * Why until: a record B of a thread that follows its record A on another
 * CPU was stamped after A was committed (A's program ends before B's
 * system call starts). So if B was stamped at or before until, taken
 * before any producer position is read, A was committed before those
 * reads too: a pass never hands out B without A, whichever ring each
 * one is in. Records stamped later wait for the next pass.
 */
static int consume_pass(struct rb_reader *r, uint64_t until)
{
	struct rb_ring *best;
	int n = 0, rc;

	for (unsigned i = 0; i < r->n; i++) {
		struct rb_ring *g = &r->ring[i];

		read_start(g);
		g->prod = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE);
	}
	for (unsigned i = 0; i < r->n; i++) {
		rc = ring_head(r, &r->ring[i]);
		if (rc < 0)
			goto out;
	}
	for (;;) {
		best = NULL;
		for (unsigned i = 0; i < r->n; i++) {
			struct rb_ring *g = &r->ring[i];

			if (g->rec && (g->ts <= until || g->ts - until > RB_CLOCK_SKEW) &&
			    (!best || g->ts < best->ts))
				best = g;
		}
		if (!best)
			break;
		rc = ring_deliver(r, best);
		if (rc < 0)
			goto out;
		n++;
		rc = ring_head(r, best);
		if (rc < 0)
			goto out;
	}
	rc = n;
out:
	for (unsigned i = 0; i < r->n; i++)
		publish(&r->ring[i]);
	return rc;
}

/* bpf_ktime_get_ns()'s clock: CLOCK_MONOTONIC as the kernel's initial
 * time namespace reads it. */
static uint64_t now_ns(const struct rb_reader *r)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec - (uint64_t)r->mono_offset;
}

int64_t rb_timens_offset(const char *text)
{
	const char *p = strstr(text, "monotonic");
	long long sec, nsec;

	if (!p || sscanf(p, "monotonic %lld %lld", &sec, &nsec) != 2)
		return 0;
	return (int64_t)sec * 1000000000ll + nsec;
}

/* A daemon in a time namespace reads CLOCK_MONOTONIC shifted by its
 * offsets (/proc/self/timens_offsets, Linux 5.6), the programs' stamps
 * are not. */
static int64_t own_timens_offset(void)
{
	char buf[256];
	FILE *f = fopen("/proc/self/timens_offsets", "re");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return rb_timens_offset(buf);
}

int rb_reader_consume_until(struct rb_reader *r, uint64_t until)
{
	if (r->n == 1)
		return consume_one(r);
	return consume_pass(r, until);
}

int rb_reader_consume(struct rb_reader *r)
{
	int n = 0, k;

	if (r->n == 1)
		return consume_one(r);
	/* pass after pass while records come, as consume_one() does */
	do {
		k = consume_pass(r, now_ns(r));
		if (k < 0)
			return k;
		n += k;
	} while (k > 0);
	return n;
}

static void ring_wrap(struct rb_ring *g, unsigned long *consumer_pos,
		      const unsigned long *producer_pos, const void *doubled)
{
	g->consumer_pos = consumer_pos;
	g->producer_pos = producer_pos;
	g->doubled = doubled;
}

/* A reader of one ring in memory, read through win_len bytes past any
 * start, the ring and span bytes of it mapped whole (0: through windows). */
static struct rb_reader *wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
			      const void *doubled, uint32_t size, uint32_t win_len,
			      unsigned long span, rb_record_fn fn, void *ctx)
{
	struct rb_reader *r = reader_alloc(size, fn, ctx);

	if (!r)
		return NULL;
	if (win_len < 16 || win_len > size || win_len % 8) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	ring_wrap(&r->ring[0], consumer_pos, producer_pos, doubled);
	r->n = 1;
	r->win_len = win_len;
	r->span = span;
	r->align = 8;
	return r;
}

struct rb_reader *rb_reader_wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
				 const void *doubled, uint32_t size, uint32_t window,
				 rb_record_fn fn, void *ctx)
{
	return wrap(consumer_pos, producer_pos, doubled, size, window, 0, fn, ctx);
}

struct rb_reader *rb_reader_wrap_whole(unsigned long *consumer_pos,
				       const unsigned long *producer_pos, const void *data,
				       uint32_t size, uint32_t tail, rb_record_fn fn, void *ctx)
{
	return wrap(consumer_pos, producer_pos, data, size, tail, (unsigned long)size + tail, fn,
		    ctx);
}

int rb_reader_wrap_add(struct rb_reader *r, unsigned long *consumer_pos,
		       const unsigned long *producer_pos, const void *doubled)
{
	if (r->n >= RB_RINGS_MAX || r->ring[0].map_fd >= 0)
		return -EINVAL;
	ring_wrap(&r->ring[r->n++], consumer_pos, producer_pos, doubled);
	return 0;
}

/* Maps ring g of map_fd: its two position pages and its window in a
 * reserve of its own. */
static int ring_map(struct rb_reader *r, struct rb_ring *g, int map_fd)
{
	struct epoll_event ev = {.events = EPOLLIN};
	void *m;

	g->map_fd = map_fd;
	/* the consumer page is the only writable one */
	m = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	g->consumer_pos = m;
	m = mmap(NULL, r->page, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (m == MAP_FAILED)
		return -errno;
	g->producer_pos = m;
	/* twice the alignment, so an aligned RB_RESERVE lies inside; the
	 * window a page in from its start (it is at most RB_WINDOW_MAX) */
	m = mmap(NULL, r->resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	g->resv = m;
	g->win = (const uint8_t *)(((uintptr_t)m + RB_RESERVE - 1) & ~(RB_RESERVE - 1)) + r->page;
	if (r->span) {
		m = mmap((void *)g->win, r->span, PROT_READ, MAP_SHARED | MAP_FIXED, map_fd,
			 (off_t)(2 * r->page));
		if (m == MAP_FAILED)
			return -errno;
		g->doubled = m;
	}
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		return -errno;
	return window_at(r, g, __atomic_load_n(g->consumer_pos, __ATOMIC_ACQUIRE));
}

struct rb_reader *rb_reader_new(const int *map_fds, unsigned n, uint32_t size, rb_record_fn fn,
				void *ctx)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long win;
	struct rb_reader *r;
	int e;

	if (page <= 0 || size % (uint32_t)page || !n || n > RB_RINGS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	r = reader_alloc(size, fn, ctx);
	if (!r)
		return NULL;
	r->page = (size_t)page;
	r->align = (unsigned long)page;
	win = RB_WINDOW / n < RB_WINDOW_MIN ? RB_WINDOW_MIN : RB_WINDOW / n;
	if (win > RB_WINDOW_MAX)
		win = RB_WINDOW_MAX;
	if (size <= win) {
		/* mapped whole: the same RSS as a window, and never moved */
		r->win_len = size < RB_TAIL ? size : RB_TAIL;
		r->span = size + r->win_len;
	} else {
		r->win_len = win;
	}
	r->resv_len = 2 * RB_RESERVE;
	r->mono_offset = own_timens_offset();
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto err;
	for (r->n = 0; r->n < n; r->n++) {
		e = ring_map(r, &r->ring[r->n], map_fds[r->n]);
		if (e) {
			r->n++; /* mapped in part: rb_reader_free() unmaps it */
			errno = -e;
			goto err;
		}
	}
	return r;
err:
	e = errno;
	rb_reader_free(r);
	errno = e;
	return NULL;
}

int rb_reader_poll(struct rb_reader *r, int timeout_ms)
{
	struct epoll_event ev[RB_RINGS_MAX];

	if (r->epfd >= 0 && timeout_ms != 0 &&
	    epoll_wait(r->epfd, ev, RB_RINGS_MAX, timeout_ms) < 0)
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

unsigned rb_reader_rings(const struct rb_reader *r)
{
	return r->n;
}

void rb_reader_free(struct rb_reader *r)
{
	if (!r)
		return;
	if (r->epfd >= 0)
		close(r->epfd);
	for (unsigned i = 0; i < r->n; i++) {
		struct rb_ring *g = &r->ring[i];

		if (g->map_fd < 0)
			continue; /* a ring in memory */
		/* mapped by rb_reader_new, maybe partly */
		if (g->resv) /* the window is inside */
			munmap(g->resv, r->resv_len);
		if (g->producer_pos)
			munmap((void *)g->producer_pos, r->page);
		if (g->consumer_pos)
			munmap(g->consumer_pos, r->page);
	}
	free(r);
}
