// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * godeliver.c - the daemon's per-record Go bookkeeping (gotrack_deliver():
 * goroutine executors, held first bytes) on a synthetic
 * stream shaped like bench/gosvc's (issue 13), for instruction counts under
 * callgrind on a noisy node:
 *
 *   godeliver [-n REQUESTS] [-c CLIENTS]
 *       CLIENTS requests interleaved record by record, ten records each: a
 *       1-byte ingress read by a new background goroutine, the rest of the
 *       request by the conn.serve goroutine, the downstream HTTP write and
 *       read (writeLoop, readLoop goroutines), the PostgreSQL and Redis
 *       round trips and the response. Prints "records=<n> ns_per_record=<n>
 *       sum=<n>" (sum: what the records handed on carried, to compare two
 *       builds' behaviour).
 *
 *   valgrind --tool=callgrind --toggle-collect=gotrack_deliver bench/godeliver
 *
 * Exits 1 when a record was not handed on or lost its goroutine's thread.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gotrack.h"
#include "redtap/event.h"

#define TGID	     4242
#define PER_REQ	     10
#define REC_MAX	     1024
#define RECORD_ALIGN 8

struct sink {
	uint64_t records, sum, unthreaded;
};

/* As the pipeline takes it: the executor id beside the record, else its
 * own thread. */
static int on_record(void *ctx, const void *data, size_t len, uint32_t tid)
{
	const struct rt_data_event *ev = data;
	struct sink *s = ctx;

	if (!tid)
		tid = (uint32_t)ev->hdr.pid_tgid;
	s->records++;
	s->sum = s->sum * 31 + tid + len + ev->data[ev->cap_len - 1];
	if (tid < GOTRACK_EXEC_BASE)
		s->unthreaded++;
	return 0;
}

/* One record of the stream, written at out; its length, 8-byte aligned. */
static size_t record(uint8_t *out, uint64_t ts, uint32_t fd, uint8_t dir, uint32_t cap,
		     uint64_t goid)
{
	struct rt_data_event *ev = (struct rt_data_event *)out;
	struct rt_data_tail tail = {.goid = goid};
	size_t len = sizeof(*ev) + cap + sizeof(tail);

	memset(ev, 0, sizeof(*ev));
	ev->hdr.ts = ts;
	ev->hdr.pid_tgid = (uint64_t)TGID << 32 | (TGID + fd % 7);
	ev->hdr.len = (uint32_t)len;
	ev->hdr.type = RT_EV_DATA;
	ev->hdr.version = RT_EVENT_VERSION;
	ev->conn.gen = fd;
	ev->conn.tgid = TGID;
	ev->conn.fd = fd;
	ev->len = cap;
	ev->cap_len = cap;
	ev->dir = dir;
	memset(ev->data, 'a' + fd % 26, cap);
	memcpy(ev->data + cap, &tail, sizeof(tail));
	return (len + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
}

int main(int argc, char **argv)
{
	unsigned long nreq = 20000, clients = 32;
	struct sink sink = {0};
	struct timespec a, b;
	struct gotrack *t;
	uint8_t *buf;
	size_t cap, used = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		if (opt == 'n')
			nreq = strtoul(optarg, NULL, 10);
		else if (opt == 'c')
			clients = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (!nreq || !clients || clients > 1000)
		return 2;
	cap = nreq * PER_REQ * REC_MAX;
	buf = malloc(cap);
	t = gotrack_new();
	if (!buf || !t)
		return 1;

	/* per client: fds 10c+1.. (server, downstream, PostgreSQL, Redis),
	 * goroutines 100c+1.. (serve, writeLoop, readLoop), background reads
	 * from 1e6 on, one new goroutine per request */
	uint64_t ts = 1, bg = 1000000;

	for (unsigned long r = 0; r < nreq; r += clients) {
		for (unsigned step = 0; step < PER_REQ; step++) {
			for (unsigned long c = 0; c < clients && r + c < nreq; c++) {
				uint32_t fd = 10 * (uint32_t)c + 10;
				uint64_t g = 100 * c + 100;
				static const struct {
					uint8_t fd, dir, g;
					uint16_t cap;
				} s[PER_REQ] = {
				    {0, RT_DIR_INGRESS, 9, 1},	{0, RT_DIR_INGRESS, 0, 180},
				    {1, RT_DIR_EGRESS, 1, 120}, {1, RT_DIR_INGRESS, 2, 160},
				    {2, RT_DIR_EGRESS, 0, 90},	{2, RT_DIR_INGRESS, 0, 240},
				    {3, RT_DIR_EGRESS, 0, 40},	{3, RT_DIR_INGRESS, 0, 60},
				    {0, RT_DIR_EGRESS, 0, 300}, {0, RT_DIR_EGRESS, 0, 2},
				};

				used += record(buf + used, ts++, fd + s[step].fd, s[step].dir,
					       s[step].cap, s[step].g == 9 ? bg++ : g + s[step].g);
			}
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t off = 0, n = 0; off < used; n++) {
		const struct rt_event_hdr *h = (const void *)(buf + off);

		gotrack_deliver(t, h, h->len, on_record, &sink);
		if (n % 256 == 255)
			gotrack_flush(t, false, on_record, &sink);
		off += (h->len + RECORD_ALIGN - 1) & ~(size_t)(RECORD_ALIGN - 1);
	}
	gotrack_flush(t, true, on_record, &sink);
	clock_gettime(CLOCK_MONOTONIC, &b);

	double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);

	printf("records=%llu ns_per_record=%.1f sum=%llu first_byte_moved=%llu\n",
	       (unsigned long long)sink.records, ns / (double)(nreq * PER_REQ),
	       (unsigned long long)sink.sum,
	       (unsigned long long)gotrack_stats(t)->first_byte_moved);
	gotrack_free(t);
	free(buf);
	return sink.records == nreq * PER_REQ && !sink.unthreaded ? 0 : 1;
}
