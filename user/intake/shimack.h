/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shimack.h - acknowledges LD_PRELOAD shims that reach the agent through
 * the ioctl channel. BPF programs cannot write user memory here, so the
 * daemon writes a struct rt_shim_ack (include/redtap/event.h) into the
 * shim with process_vm_writev(2) when it says hello, and refreshes it
 * every few seconds; the shim uses the channel only while the ack has not
 * expired, so a shim whose agent went away stops by itself.
 *
 * API: shimack_hello() registers (or refreshes) a shim; shimack_refresh()
 * rewrites every registered ack whose refresh is due and forgets processes
 * that are gone. Bounded table; not thread-safe (event loop).
 */
#ifndef REDTAP_SHIMACK_H
#define REDTAP_SHIMACK_H

#include <stddef.h>
#include <stdint.h>

struct shimack;

struct shimack *shimack_new(void);
void shimack_free(struct shimack *s); /* NULL ok */

/* pid in the agent's pid namespace; addr in that process (0: nothing to
 * acknowledge, e.g. a hello that came through the ring). dropped is the
 * shim's cumulative loss counter; *new_drops gets what it lost since its
 * previous hello. 0 or -errno. */
int shimack_hello(struct shimack *s, uint32_t pid, uint64_t addr, uint64_t dropped,
		  uint64_t *new_drops, uint64_t now_ns);
void shimack_refresh(struct shimack *s, uint64_t now_ns);
size_t shimack_count(const struct shimack *s);

#endif /* REDTAP_SHIMACK_H */
