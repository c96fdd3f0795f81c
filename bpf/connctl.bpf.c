// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * connctl.bpf.c - how the daemon changes its own fields of a connection
 * entry (capture.bpf.c's "conns", conns.bpf.h): a BPF_PROG_TYPE_SYSCALL
 * program, run by user/intake/connctl.c through BPF_PROG_TEST_RUN with a
 * struct rt_connctl (include/redtap/connctl.h) as its context. Never
 * attached; the capture programs' hot path does not change.
 *
 * A lookup and a whole-value update from user space would write back what
 * it read: a tls or cap_bytes the kernel set in between was lost, and an
 * entry that became another connection (same fd, new generation) was
 * overwritten with the old one. Here the entry is changed in place, only
 * while it is still generation gen, and only its daemon-owned field, by a
 * compare-and-swap on the 32-bit word that holds opaque, tls and cap_bytes
 * (the kernel programs store to those bytes in place, without atomics; a
 * store of theirs between our read and our swap makes the swap fail, and
 * we read again).
 *
 * What remains is what the kernel programs' own in-place writes have too:
 * an entry deleted and its preallocated element given to another
 * connection between the generation check and the swap.
 *
 * Syscall programs are sleepable (libbpf loads SEC("syscall") with
 * BPF_F_SLEEPABLE); sleepable programs may use hash and LRU hash maps.
 * Kernel 5.14 or newer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "redtap/connctl.h"
#include "conns.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ENOENT 2
#define EBUSY  16
#define EINVAL 22
#define ESTALE 116

/* Swaps tried before giving up: the kernel stores to the word at most a
 * few times in a connection's life (tls once, cap_bytes once or twice). */
#define CAS_TRIES 8

/* The entry's flags word (RT_CONN_FLAGS_OFF), as bytes. */
struct conn_flags {
	__u8 opaque;
	__u8 tls;
	__u16 cap_bytes;
};

/* word with op applied: opaque set, or cap_bytes raised to value. */
static __always_inline __u32 apply(__u32 word, __u32 op, __u32 value)
{
	struct conn_flags f;

	__builtin_memcpy(&f, &word, sizeof(f));
	if (op == RT_CONNCTL_OPAQUE)
		f.opaque = 1;
	else if (f.cap_bytes < value)
		f.cap_bytes = (__u16)value;
	__builtin_memcpy(&word, &f, sizeof(word));
	return word;
}

SEC("syscall")
int conn_set(struct rt_connctl *ctx)
{
	struct rt_connctl ctl = *ctx;
	struct conn_key key = {.tgid = ctl.tgid, .fd = ctl.fd};
	struct conn_info *ci;
	__u32 *word, old, new;

	if ((ctl.op != RT_CONNCTL_OPAQUE && ctl.op != RT_CONNCTL_WIDE) ||
	    ctl.value > RT_CAPTURE_MAX)
		return -EINVAL;
	ci = bpf_map_lookup_elem(&conns, &key);
	if (!ci)
		return -ENOENT;
	word = (__u32 *)((__u8 *)ci + RT_CONN_FLAGS_OFF);
	for (int i = 0; i < CAS_TRIES; i++) {
		if (ci->gen != ctl.gen)
			return -ESTALE;
		old = *(volatile __u32 *)word;
		new = apply(old, ctl.op, ctl.value);
		if (new == old)
			return 0; /* already so (the kernel saw the preface) */
		if (__sync_val_compare_and_swap(word, old, new) == old)
			return 0;
	}
	return -EBUSY;
}
