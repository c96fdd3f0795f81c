/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * promserver.h - the HTTP endpoint Prometheus scrapes, on libmicrohttpd.
 *
 * API: promserver_start() binds host:port itself (so a failure names the
 * real errno) and serves, from libmicrohttpd's own thread:
 *   GET /metrics  the registry, text 0.0.4 or OpenMetrics 1.0 as the
 *                 Accept header asks, gzip when accepted
 *   GET /healthz  "ok"
 *   GET /         a short index
 * Other paths answer 404, other methods 405. promserver_stop() accepts
 * NULL. The registry must outlive the server.
 */
#ifndef REDTAP_PROMSERVER_H
#define REDTAP_PROMSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct promserver;

struct promserver *promserver_start(const char *host, uint16_t port, struct metric_registry *r,
				    char *err, size_t errlen);
void promserver_stop(struct promserver *s);

#endif /* REDTAP_PROMSERVER_H */
