/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * inflight.h - the HTTP server's in-flight requests (the gauge
 * http.server.active_requests), counted per process, service, method and
 * scheme in a small table and applied to the gauge's series once per
 * drain of the event loop: one series look-up per key and drain instead
 * of a look-up and two gauge updates per exchange (issue 13: those were a
 * tenth of the daemon's instructions per nginx exchange). The gauge is
 * exact at every flush and lags the records by at most one drain.
 *
 * Each slot remembers the series it has applied its count to and how
 * much, so the count moves whole to another series when the labels it is
 * looked up with change (a service renamed, pod labels found later): the
 * gauge never keeps a 1 for a request that is over. A series holding a
 * slot's count is not zero, and the registry never removes a gauge that
 * is not zero, so the pointer stays valid while it matters.
 *
 * One thread at a time (the pipeline's); the registry may be read
 * meanwhile.
 */
#ifndef REDTAP_INFLIGHT_H
#define REDTAP_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "httptrack.h"
#include "metrics.h"

#define INFLIGHT_SLOTS	     128 /* a power of two, INFLIGHT_WAYS or more */
#define INFLIGHT_WAYS	     4	 /* slots a key may take */
#define INFLIGHT_SERVICE_MAX 128 /* a longer service name takes the caller's own path */

/* What a slot counts: the labels' sources. */
struct inflight_key {
	uint32_t tgid;
	uint8_t method; /* enum http1_method */
	bool tls;
	char service[INFLIGHT_SERVICE_MAX];
};

/* The gauge series for key's labels now (NULL: none can be had). */
typedef struct metric_series *(*inflight_find_fn)(void *ctx, const struct inflight_key *key);

struct inflight;

struct inflight *inflight_new(void);
void inflight_free(struct inflight *t); /* NULL ok */

/* Counts server exchange x of service (its labels: method and whether
 * TLS carried it) as started, and notes its slot in x; false when the
 * key's slots are all taken or the service name is too long: the caller
 * updates the gauge itself. */
bool inflight_start(struct inflight *t, struct http_exchange *x, const char *service,
		    uint8_t method, bool tls);

/* Counts x as over; false when inflight_start() did not count it. */
bool inflight_done(struct inflight *t, const struct http_exchange *x);

/* Applies every count changed since the last flush to the series find()
 * names for its key. */
void inflight_flush(struct inflight *t, inflight_find_fn find, void *ctx);

#endif /* REDTAP_INFLIGHT_H */
