/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * transport.h - how the shim's records reach the daemon: the ioctl channel
 * seen by the agent's eBPF program (include/redtap/event.h), or the
 * shared-memory ring of a daemon running without eBPF (include/redtap/shim.h).
 *
 * API: transport_init() once (from shim_init) with $REDTAP_SHIM_RING and
 * $REDTAP_SHIM_TRANSPORT ("auto", "ioctl", "ring" or "off"); then
 * transport_probe() says hello (through the ioctl, and by mapping the ring
 * if there is one). The ioctl channel is used only while the agent's
 * acknowledgement is valid: the daemon writes struct rt_shim_ack (whose
 * address and nonce every hello carries) into this process through
 * /proc/PID/mem and keeps pushing its expiry forward; the ring is used only while its daemon's
 * heartbeat is fresh. While neither holds, transport_ready() probes again at
 * most every TRANSPORT_PROBE_NS, so a process with no agent pays nothing else.
 * transport_send() sends one record built by core.c; a record that finds
 * the channel full or the agent gone is counted as dropped. The ring is
 * looked for where preload/ring_path.h says; it is mapped only when it is a
 * fully allocated regular file of ours or root's. Writers hold a reference
 * on a mapped ring while they write; rings no longer in use are unmapped
 * at the next probe once nobody holds them, so any number of daemon
 * restarts can be followed.
 *
 * Thread-safety: everything may be called from any thread, never blocks,
 * never allocates. No file descriptor stays open.
 */
#ifndef REDTAP_PRELOAD_TRANSPORT_H
#define REDTAP_PRELOAD_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

#define TRANSPORT_PROBE_NS 5000000000ull /* retry finding a listener at most this often */
#define TRANSPORT_HELLO_NS                                                                         \
	10000000000ull /* keepalive hello with drop counters; the                                  \
			* agent's ack should last longer than this */

struct transport_stats {
	uint64_t sent;
	uint64_t dropped;
};

void transport_init(const char *ring_path, const char *mode);
void transport_probe(uint64_t now);
bool transport_ready(uint64_t now);
void transport_send(struct shim_wire *w, uint64_t now);
void transport_stats(struct transport_stats *st);
void transport_after_fork(void);
/* Address of the struct rt_shim_ack the agent writes, and the random nonce
 * stored in it (for the hello record; the agent checks both). */
uint64_t transport_ack_addr(void);
uint64_t transport_ack_nonce(void);

#endif /* REDTAP_PRELOAD_TRANSPORT_H */
