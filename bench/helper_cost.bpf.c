// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * helper_cost.bpf.c - one BPF helper (or nothing) per call of getppid() by
 * bench/helper_cost's own process, on sys_exit_getppid: what a helper the
 * data programs use costs when it runs hot, in a loop. The mode is set
 * before load; bench/helper_cost.c reads run_time_ns / run_cnt.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

enum {
	HC_EMPTY,	   /* the program's own entry and the pid test */
	HC_KTIME,	   /* bpf_ktime_get_ns() */
	HC_READ_KERNEL,	   /* bpf_probe_read_kernel() of HC_BYTES */
	HC_HASH,	   /* a hash look-up that hits */
	HC_RINGBUF_OUTPUT, /* bpf_ringbuf_output() of HC_BYTES, no wake-up */
	HC_RINGBUF_RESERVE, /* reserve, copy HC_BYTES, submit, no wake-up */
	HC_PERF_OUTPUT,	   /* bpf_perf_event_output() of HC_BYTES */
};
/* bench/helper_cost.c names the modes in this order (mode_names[]). */

#define HC_BYTES 200 /* about a data record with its header */

const volatile __u32 bench_tgid = 0;
const volatile __u32 mode = HC_EMPTY;

struct hc_buf {
	__u8 b[HC_BYTES + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hc_buf);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} h SEC(".maps");

__u64 sink;

SEC("tracepoint/syscalls/sys_exit_getppid")
int hc_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), one = 1, *v;
	struct hc_buf *b;
	__u32 zero = 0;
	void *r;

	if ((id >> 32) != bench_tgid)
		return 0;
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b)
		return 0;
	switch (mode) {
	case HC_KTIME:
		sink += bpf_ktime_get_ns();
		break;
	case HC_READ_KERNEL:
		bpf_probe_read_kernel(b->b, HC_BYTES, b->b + 8);
		break;
	case HC_HASH:
		v = bpf_map_lookup_elem(&h, &id);
		if (v)
			sink += *v;
		else
			bpf_map_update_elem(&h, &id, &one, BPF_ANY);
		break;
	case HC_RINGBUF_OUTPUT:
		bpf_ringbuf_output(&rb, b, HC_BYTES, BPF_RB_NO_WAKEUP);
		break;
	case HC_RINGBUF_RESERVE:
		r = bpf_ringbuf_reserve(&rb, HC_BYTES, 0);
		if (r) {
			__builtin_memcpy(r, b, HC_BYTES);
			bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
		}
		break;
	case HC_PERF_OUTPUT:
		bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, b, HC_BYTES);
		break;
	}
	return 0;
}
