// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bound.bpf.c - lower bounds of the agent's cost, for `make bench`'s HTTP
 * part (variant bound_record; bound_clock and bound_lookup on request) and
 * bench/syscall_cost.sh, loaded by bench/floor.c --bound LEVEL: the floor's
 * empty programs, except that each data syscall's
 * exit does the least that any design timing and attributing every data
 * syscall must do, and nothing else (no payload, no protocol, no daemon):
 *
 *   clock   the syscall's fd from the saved registers and one clock read,
 *           kept in a per-CPU slot: no look-up at all.
 *   lookup  the syscall's fd from the saved registers, one hash look-up of
 *           (tgid, fd) in a table of connections, one clock read, the
 *           entry updated. In-kernel framing of requests, sending one
 *           compact record per exchange, still pays this on every
 *           syscall.
 *   record  the same plus one 32-byte record into this CPU's ring: what a
 *           design that sends a record per data syscall pays at least.
 *
 * An fd is entered into the table the first time it is seen (sockets or
 * not, all processes), so that at steady state every syscall is a hit, as
 * the agent's look-up of a tracked socket is. What the workload loses
 * above the floor with these attached bounds from below what the agent's
 * own work above the floor can cost (issue 13's target: a quarter of the
 * floor's). Built only by `make bench-progs`, never with the product.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "redtap/event.h"
#include "tracepoints.h"
#include "empty_prog.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* How much each data syscall does (set by the loader). */
enum bound_level { BOUND_CLOCK = 1, BOUND_LOOKUP, BOUND_RECORD };
const volatile __u32 level = BOUND_LOOKUP;

struct bound_key {
	__u32 tgid;
	__u32 fd;
};

struct bound_conn {
	__u64 last_ns;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct bound_key);
	__type(value, struct bound_conn);
} bound_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bound_conn);
} bound_slot SEC(".maps");

struct bound_rec {
	__u64 ts;
	__u64 pid_tgid;
	__s64 ret;
	__u32 fd;
	__u32 dir;
};

/* One ring per CPU (CPU c writes ring c % BOUND_RINGS), as the agent's;
 * bench/floor.c drains every map named ring<n>. */
#define BOUND_RINGS 4
struct bound_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
};
struct bound_ring ring0 SEC(".maps"), ring1 SEC(".maps"), ring2 SEC(".maps"), ring3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BOUND_RINGS);
	__type(key, __u32);
	__array(values, struct bound_ring);
} bound_rings SEC(".maps") = {
    .values = {&ring0, &ring1, &ring2, &ring3},
};

static __always_inline int bound_exit(struct trace_event_raw_sys_exit *ctx, __u32 dir)
{
	struct pt_regs *regs;
	struct bound_conn *c, fresh = {};
	struct bound_key k;
	struct bound_rec r;
	long ret = ctx->ret;
	__u64 id;
	__u32 cpu;
	void *rb;

	if (ret <= 0)
		return 0;
	id = bpf_get_current_pid_tgid();
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	k.tgid = id >> 32;
	k.fd = PT_REGS_PARM1_SYSCALL(regs);
	if (level == BOUND_CLOCK) {
		__u32 zero = 0;

		c = bpf_map_lookup_elem(&bound_slot, &zero); /* inlined: an address */
		if (c) {
			c->last_ns = bpf_ktime_get_ns();
			c->bytes += k.fd;
		}
		return 0;
	}
	c = bpf_map_lookup_elem(&bound_conns, &k);
	if (!c) {
		bpf_map_update_elem(&bound_conns, &k, &fresh, BPF_NOEXIST);
		return 0;
	}
	c->last_ns = bpf_ktime_get_ns();
	c->bytes += ret;
	if (level != BOUND_RECORD)
		return 0;
	cpu = bpf_get_smp_processor_id() % BOUND_RINGS;
	rb = bpf_map_lookup_elem(&bound_rings, &cpu);
	if (!rb)
		return 0;
	r.ts = c->last_ns;
	r.pid_tgid = id;
	r.ret = ret;
	r.fd = k.fd;
	r.dir = dir;
	bpf_ringbuf_output(rb, &r, sizeof(r), BPF_RB_NO_WAKEUP);
	return 0;
}

#define BOUND_DATA_PROG(sys, args, dir)                                                            \
	SEC("tracepoint/syscalls/sys_exit_" #sys)                                                  \
	int bound_exit_##sys(struct trace_event_raw_sys_exit *ctx)                                 \
	{                                                                                          \
		return bound_exit(ctx, dir);                                                       \
	}

RT_DATA_SYSCALLS(BOUND_DATA_PROG)
RT_OTHER_PROGS(FLOOR_PROG)
RT_LOGFILE_PROGS(FLOOR_PROG)
