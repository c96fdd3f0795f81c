/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * promserver.h - the HTTP endpoint Prometheus scrapes, on libmicrohttpd.
 *
 * API: promserver_start() binds host:port itself (so a failure names the
 * real errno) and serves, from libmicrohttpd's own threads:
 *   GET /metrics  the registry, text 0.0.4 or OpenMetrics 1.0 as the
 *                 Accept header asks, gzip when accepted
 *   GET /healthz  "ok", or 503 with the reason when the event loop has not
 *                 called promserver_beat() for stall_ms
 *   GET /         a short index
 * Other paths answer 404, other methods 405. promserver_stop() accepts
 * NULL. The registry must outlive the server.
 *
 * Denial of service: the server runs a small thread pool on epoll, so idle
 * connections hold no thread; a connection idle for timeout_s is closed;
 * at most max_conns connections are open, and at most max_conns_per_ip from
 * one non-loopback address (loopback peers are local users, bounded by
 * max_conns only, so that one of them cannot lock out the local scraper).
 *
 * Access: with a token file, /metrics needs "Authorization: Bearer TOKEN"
 * (401 otherwise; /healthz and / stay open). With a certificate and key
 * (PEM files) it speaks HTTPS only.
 *
 * Thread-safety: promserver_beat() may be called from any thread, lock-free.
 */
#ifndef REDTAP_PROMSERVER_H
#define REDTAP_PROMSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define PROMSERVER_STALL_MS	    5000 /* /healthz fails after this long without a beat */
#define PROMSERVER_MAX_CONNS	    1024
#define PROMSERVER_MAX_CONNS_PER_IP 32
#define PROMSERVER_TIMEOUT_S	    5
#define PROMSERVER_THREADS	    2

struct promserver_opts {
	const char *host; /* "" = every interface */
	uint16_t port;
	const char *tls_cert_file;     /* PEM; with tls_key_file: HTTPS. NULL or "" = HTTP */
	const char *tls_key_file;      /* PEM private key */
	const char *token_file;	       /* holds the bearer token; NULL or "" = no auth */
	unsigned int max_conns;	       /* 0 = PROMSERVER_MAX_CONNS */
	unsigned int max_conns_per_ip; /* 0 = PROMSERVER_MAX_CONNS_PER_IP */
	unsigned int timeout_s;	       /* 0 = PROMSERVER_TIMEOUT_S */
	unsigned int stall_ms;	       /* 0 = PROMSERVER_STALL_MS */
};

struct promserver;

/*
 * Starts serving. Returns NULL with errno and a sentence in err: the listen
 * errno, EINVAL for an unreadable or empty token, certificate or key file (or
 * only one of the two TLS files), ENOTSUP when libmicrohttpd lacks TLS.
 */
struct promserver *promserver_start(const struct promserver_opts *o, struct metric_registry *r,
				    char *err, size_t errlen);
void promserver_stop(struct promserver *s);

/* The event loop made progress at mono_ns (CLOCK_MONOTONIC). NULL is ok. */
void promserver_beat(struct promserver *s, uint64_t mono_ns);

/* Whether the address is a loopback one (127/8, ::1, ::ffff:127/104). */
bool promserver_is_loopback(const void *sockaddr);

#endif /* REDTAP_PROMSERVER_H */
