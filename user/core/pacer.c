// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pacer.c - a reader thread's share of each second (see pacer.h).
 */
#include <time.h>

#include "pacer.h"

#define NS_PER_S 1000000000ull

uint64_t pacer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void pacer_init(struct pacer *p, unsigned ms_per_s)
{
	*p = (struct pacer){.ms_per_s = ms_per_s};
}

void pacer_begin(struct pacer *p)
{
	uint64_t t0 = pacer_now_ns();

	if (t0 / NS_PER_S != p->sec) {
		p->sec = t0 / NS_PER_S;
		p->spent_ns = 0;
	}
	if (p->spent_ns >= p->ms_per_s * 1000000ull) {
		struct timespec ts = {0, (long)(NS_PER_S - t0 % NS_PER_S)};

		nanosleep(&ts, NULL);
		t0 = pacer_now_ns();
		p->sec = t0 / NS_PER_S;
		p->spent_ns = 0;
	}
	p->t0 = t0;
}

void pacer_end(struct pacer *p)
{
	p->spent_ns += pacer_now_ns() - p->t0;
}
