/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_retry.h - the OTLP/HTTP retry policy as pure functions: which
 * answers are retried, the Retry-After header, and exponential backoff
 * with jitter.
 *
 * API: no state but the caller's random seed; thread-safe.
 */
#ifndef REDTAP_OTLP_RETRY_H
#define REDTAP_OTLP_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define OTLP_BACKOFF_INITIAL_MS 1000
#define OTLP_BACKOFF_MAX_MS	16000
/* Least pause honoured for a Retry-After at the first two retries (see below). */
#define OTLP_RETRY_AFTER_MIN_MS 250

/* Whether an HTTP status is retried (OTLP/HTTP spec: 429, 502, 503, 504). */
bool otlp_status_retryable(long status);

/*
 * Parses a Retry-After value: delay-seconds ("120") or an HTTP-date in any
 * of the three RFC 9110 forms (IMF-fixdate, RFC 850, asctime), relative to
 * now (unix seconds). A date in the past gives 0. The delay is capped at one
 * day. Returns 0 and *delay_ms, or -EINVAL when the value is neither.
 */
int otlp_retry_after_parse(const char *value, time_t now, uint64_t *delay_ms);

/*
 * The least pause before retry number attempt (1 = first retry) when the
 * collector sent a Retry-After: OTLP_RETRY_AFTER_MIN_MS for the first two,
 * then doubling up to OTLP_BACKOFF_MAX_MS. A shorter Retry-After (such as
 * "0") is raised to it, so that a collector cannot make the exporter spin.
 */
uint64_t otlp_retry_after_floor_ms(unsigned attempt);

/*
 * The pause before retry number attempt (1 = first retry): the exponential
 * ceiling min(MAX, INITIAL * 2^(attempt-1)) with "equal jitter", i.e. a
 * random value in [ceiling/2, ceiling]. *seed is a xorshift state (any
 * non-zero value) that the call advances.
 */
uint64_t otlp_backoff_ms(unsigned attempt, uint64_t *seed);

#endif /* REDTAP_OTLP_RETRY_H */
