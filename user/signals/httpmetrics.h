/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * httpmetrics.h - the HTTP RED metrics of OpenTelemetry's semantic
 * conventions (entries of semconv.h; Prometheus names derived from them),
 * fed with finished exchanges from httptrack:
 *   http_server_request_duration_seconds  (http.server.request.duration)
 *   http_client_request_duration_seconds  (http.client.request.duration)
 *   http_server_active_requests           (http.server.active_requests)
 * and, for gRPC calls (x->grpc) instead of the HTTP ones:
 *   rpc_server_duration_seconds           (rpc.server.duration)
 *   rpc_client_duration_seconds           (rpc.client.duration)
 *   grpc_server_handling_seconds          (go-grpc-prometheus' view, semconv.c)
 *
 * API: httpmetrics_new() registers the families in a registry (which owns
 * them); httpmetrics_start()/httpmetrics_done() take the httptrack
 * callbacks' exchanges plus the service name. One thread at a time calls
 * httpmetrics_start()/httpmetrics_done() (the pipeline's: they keep memos of
 * recent series, see httpmetrics.c); the registry may be read meanwhile.
 */
#ifndef REDTAP_HTTPMETRICS_H
#define REDTAP_HTTPMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrack.h"
#include "metrics.h"
#include "route.h"

struct httpmetrics;

struct httpmetrics *httpmetrics_new(struct metric_registry *r, size_t max_series);

/*
 * The configured routes (borrowed; may be NULL). A 404 answer of a server is
 * reported with an empty http_route unless its route is one of these patterns: paths
 * that do not exist are chosen by the client, and would otherwise fill the
 * series cap ("/a", "/b", ...).
 */
void httpmetrics_set_routes(struct httpmetrics *m, const struct route_table *routes);
void httpmetrics_free(struct httpmetrics *m); /* NULL ok; families stay in the registry */

/* Counts a server exchange as in flight (inflight.h; x keeps where), and
 * httpmetrics_done() counts it as over. The gauge shows the counts from the
 * next httpmetrics_flush() on; an exchange that starts and ends between
 * two flushes never moves it. */
void httpmetrics_start(struct httpmetrics *m, struct http_exchange *x, const char *service);
/* exemplar: the exchange's span is exported, so its trace and span ids
 * are attached to the histogram bucket as an exemplar. */
void httpmetrics_done(struct httpmetrics *m, const struct http_exchange *x, const char *service,
		      bool exemplar);

/* Applies the in-flight counts changed since the last flush to the gauge:
 * the pipeline calls it once a drain of the event loop. */
void httpmetrics_flush(struct httpmetrics *m);

/* The families it records into (for per-metric self-metrics): fills up
 * to max pointers, returns how many. */
size_t httpmetrics_families(const struct httpmetrics *m, const struct metric_family **out,
			    size_t max);

/* The label positions (bit i: label i) of family f, one of m's HTTP
 * families, whose values a memo's key determines, so that a recall does not
 * compare them again: those of the method, status code, protocol version
 * and scheme, found by attribute in the family's label list. 0 for another
 * family. Exposed for tests. */
uint64_t httpmetrics_memo_keyed(const struct httpmetrics *m, const struct metric_family *f);

/* Writes server.address for a client exchange: the Host header's host, or
 * the peer's IP address. Exposed for tests. */
void httpmetrics_server_address(const struct http_exchange *x, char *out, size_t outlen);

/* url.scheme of an exchange: "https" when its connection's bytes came from
 * the TLS probes (conn->tls), else "http". A static string. */
const char *httpmetrics_url_scheme(const struct http_exchange *x);

#endif /* REDTAP_HTTPMETRICS_H */
