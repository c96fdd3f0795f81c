/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ownconn.h - the agent's own connections, recognised at their other end.
 *
 * The agent's process is never selected (the kernel side filters its tgid
 * out), but a selected process on the same node may be the other end of
 * the agent's sockets: an OpenTelemetry collector receiving its OTLP
 * export would trace each export as a server span, exported in turn. The
 * exporter publishes the 4-tuple of each connection libcurl opens
 * (otlp_http.c, before the first request is sent on it); the pipeline
 * leaves out a connection whose local end is that connection's peer and
 * whose remote end is the agent's socket (pipeline.c, unless
 * capture.own_traffic is set), and counts it
 * (redtap_connections_own_total). Scrapes of the agent's own /metrics are
 * not left out: the scraper is a program of the node like any other, and
 * a scrape causes no further traffic.
 *
 * API: ownconn_add() from any thread; ownconn_match() from the event loop.
 * Process-wide, bounded: the last OWNCONN_MAX connections are kept (the
 * exporter keeps one or two connections alive). Thread-safe (one mutex).
 */
#ifndef REDTAP_OWNCONN_H
#define REDTAP_OWNCONN_H

#include <stdbool.h>

#include "redtap/event.h"

#define OWNCONN_MAX 64

/* The agent connected from local_ip:local_port to peer_ip:peer_port
 * (numeric IPv4 or IPv6 text, as libcurl reports them). 0, or -EINVAL
 * when an address does not parse (nothing is kept). */
int ownconn_add(const char *local_ip, int local_port, const char *peer_ip, int peer_port);

/* True when a connection with these endpoints, as a selected process sees
 * them, is the other end of one of the agent's own connections. */
bool ownconn_match(const struct rt_endpoint *local, const struct rt_endpoint *remote);

/* Forgets every connection (tests). */
void ownconn_reset(void);

#endif /* REDTAP_OWNCONN_H */
