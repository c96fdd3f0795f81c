// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ownconn.c - the 4-tuples of the agent's own connections, published by
 * the OTLP exporter and matched by the pipeline. See ownconn.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "ownconn.h"

struct own {
	uint8_t local[16], peer[16]; /* IPv6 or IPv4-mapped, as rt_endpoint */
	uint16_t local_port, peer_port;
};

static struct {
	pthread_mutex_t mu;
	struct own e[OWNCONN_MAX];
	unsigned n, next;
} own = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Numeric text to the 16 bytes of an rt_endpoint; false if it is none. */
static bool parse_ip(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return true;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

static bool port_ok(int port)
{
	return port > 0 && port < 65536;
}

int ownconn_add(const char *local_ip, int local_port, const char *peer_ip, int peer_port)
{
	struct own o;

	if (!local_ip || !peer_ip || !port_ok(local_port) || !port_ok(peer_port) ||
	    !parse_ip(local_ip, o.local) || !parse_ip(peer_ip, o.peer))
		return -EINVAL;
	o.local_port = (uint16_t)local_port;
	o.peer_port = (uint16_t)peer_port;
	pthread_mutex_lock(&own.mu);
	for (unsigned i = 0; i < own.n; i++) {
		if (!memcmp(&own.e[i], &o, sizeof(o))) {
			pthread_mutex_unlock(&own.mu); /* a reused connection */
			return 0;
		}
	}
	own.e[own.next] = o;
	own.next = (own.next + 1) % OWNCONN_MAX;
	if (own.n < OWNCONN_MAX)
		own.n++;
	pthread_mutex_unlock(&own.mu);
	return 0;
}

bool ownconn_match(const struct rt_endpoint *local, const struct rt_endpoint *remote)
{
	bool hit = false;

	pthread_mutex_lock(&own.mu);
	for (unsigned i = 0; i < own.n && !hit; i++) {
		const struct own *o = &own.e[i];

		/* their local end is our peer, their remote end our socket */
		hit = o->peer_port == local->port && o->local_port == remote->port &&
		      !memcmp(o->peer, local->addr, 16) && !memcmp(o->local, remote->addr, 16);
	}
	pthread_mutex_unlock(&own.mu);
	return hit;
}

void ownconn_reset(void)
{
	pthread_mutex_lock(&own.mu);
	own.n = own.next = 0;
	pthread_mutex_unlock(&own.mu);
}
