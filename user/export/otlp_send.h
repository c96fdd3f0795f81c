/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_send.h - delivers one OTLP request body: retries on 429/502/503/504
 * and connection failures (Retry-After first, else backoff with jitter)
 * until a deadline, never on other answers; reads partial_success; logs
 * failures at most once per OTLP_LOG_INTERVAL_MS per signal (with a count
 * of the ones not logged) so a collector that is down or refuses everything
 * does not flood the log.
 *
 * API: fill a struct otlp_sender (zero the rest), then otlp_send() per
 * request. One sender per thread.
 */
#ifndef REDTAP_OTLP_SEND_H
#define REDTAP_OTLP_SEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp_http.h"

#define OTLP_LOG_INTERVAL_MS 60000

struct otlp_sender {
	struct otlp_http *http;
	const char *what;    /* "traces" or "metrics", for the log */
	unsigned timeout_ms; /* one request */
	/* the response's partial_success (otlp_traces_partial or otlp_metrics_partial) */
	int (*partial)(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
		       size_t msglen);
	/*
	 * Waits ms, or less when woken to stop; returns false when the send
	 * must stop now. NULL: nanosleep.
	 */
	bool (*sleep)(void *ctx, uint64_t ms);
	void *sleep_ctx;
	const _Atomic uint64_t *abort_at_ns; /* hard stop (shutdown); may be NULL */
	uint64_t seed;			     /* backoff jitter state */
	/* log rate limit (private) */
	uint64_t last_log_ns;
	uint64_t unlogged;
};

struct otlp_send_result {
	long status;	  /* last HTTP status, 0 when none */
	unsigned retries; /* requests sent again */
	int64_t rejected; /* partial_success count on success */
};

/*
 * Sends body until it is accepted (2xx: returns 0), refused for good
 * (another status: -EPROTO), or deadline_ns (CLOCK_MONOTONIC) or the abort
 * time passes first (-ETIMEDOUT). -ENOMEM when out of memory. Failures and
 * partial successes are logged (rate-limited).
 */
int otlp_send(struct otlp_sender *s, const uint8_t *body, size_t len, uint64_t deadline_ns,
	      struct otlp_send_result *res);

#endif /* REDTAP_OTLP_SEND_H */
