/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pacer.h - keeps a background reader thread (Go executables, shared
 * libraries) to at most a given share of each second of CPU, so a burst of
 * files to read never takes a core from the observed processes.
 */
#ifndef REDTAP_PACER_H
#define REDTAP_PACER_H

#include <stdint.h>

struct pacer {
	unsigned ms_per_s; /* the share: milliseconds of work per second */
	uint64_t sec;	   /* the second the spent time belongs to */
	uint64_t spent_ns;
	uint64_t t0; /* the start of the work in progress */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pacer_now_ns(void);

void pacer_init(struct pacer *p, unsigned ms_per_s);

/* Before one piece of work: sleeps to the next second when this second's
 * share is spent. */
void pacer_begin(struct pacer *p);

/* After it: charges the time since pacer_begin(). */
void pacer_end(struct pacer *p);

#endif
