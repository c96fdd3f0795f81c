// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ringbuf.c - reads the BPF ring buffer with its data area mapped once; a
 * record that wraps past the end is reassembled in a bounce buffer. The
 * protocol is the kernel's (kernel/bpf/ringbuf.c) and libbpf's reader: an
 * 8-byte header per record whose length carries a busy bit (not committed
 * yet) and a discard bit, records padded to 8 bytes, positions that only
 * grow, read with acquire and published with release. See ringbuf.h.
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

struct rb_reader {
	unsigned long *consumer_pos;
	const unsigned long *producer_pos;
	const uint8_t *data;
	uint64_t mask;
	rb_record_fn fn;
	void *ctx;
	uint8_t *bounce; /* a wrapped record, reassembled */
	size_t bounce_cap;
	int epfd; /* -1: a ring in memory */
	size_t page;
	uint32_t size;
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
	return r;
}

struct rb_reader *rb_reader_wrap(unsigned long *consumer_pos, const unsigned long *producer_pos,
				 const void *data, uint32_t size, rb_record_fn fn, void *ctx)
{
	struct rb_reader *r = reader_alloc(size, fn, ctx);

	if (!r)
		return NULL;
	r->consumer_pos = consumer_pos;
	r->producer_pos = producer_pos;
	r->data = data;
	return r;
}

struct rb_reader *rb_reader_new(int map_fd, uint32_t size, rb_record_fn fn, void *ctx)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct rb_reader *r;
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;
	int e;

	if (page <= 0 || size % (uint32_t)page) {
		errno = EINVAL;
		return NULL;
	}
	r = reader_alloc(size, fn, ctx);
	if (!r)
		return NULL;
	r->page = (size_t)page;
	/* the consumer page is the only writable one */
	cons = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED)
		goto err;
	r->consumer_pos = cons;
	/* the producer page, then the data once (the kernel maps only the
	 * part asked for) */
	prod = mmap(NULL, r->page + size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (prod == MAP_FAILED)
		goto err;
	r->producer_pos = prod;
	r->data = (const uint8_t *)prod + r->page;
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

/* The record of len bytes at ring offset off, in one piece. */
static void *record_at(struct rb_reader *r, uint64_t off, uint32_t len)
{
	uint64_t first = r->size - off;
	uint8_t *b;

	if (len <= first)
		return (void *)(r->data + off);
	if (r->bounce_cap < len) {
		b = realloc(r->bounce, len);
		if (!b)
			return NULL;
		r->bounce = b;
		r->bounce_cap = len;
	}
	memcpy(r->bounce, r->data + off, first);
	memcpy(r->bounce + first, r->data, len - first);
	return r->bounce;
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
			const uint32_t *hdr = (const uint32_t *)(r->data + (cons & r->mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint32_t body = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			unsigned long at = cons + BPF_RINGBUF_HDR_SZ;
			void *rec;

			if (len & BPF_RINGBUF_BUSY_BIT)
				return n; /* not committed yet: the next poll takes it */
			more = true;
			cons += (body + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
			if (!(len & BPF_RINGBUF_DISCARD_BIT) &&
			    body <= r->size - BPF_RINGBUF_HDR_SZ) {
				rec = record_at(r, at & r->mask, body);
				rc = rec ? r->fn(r->ctx, rec, body) : 0;
				if (rc < 0) {
					__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
					return rc;
				}
				n++;
			}
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

void rb_reader_free(struct rb_reader *r)
{
	if (!r)
		return;
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->page) { /* mapped by rb_reader_new, maybe partly */
		if (r->producer_pos)
			munmap((void *)r->producer_pos, r->page + r->size);
		if (r->consumer_pos)
			munmap(r->consumer_pos, r->page);
	}
	free(r->bounce);
	free(r);
}
