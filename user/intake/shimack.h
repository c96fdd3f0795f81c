/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shimack.h - acknowledges LD_PRELOAD shims that reach the agent through
 * the ioctl channel. BPF programs cannot write user memory here, so the
 * daemon writes the first RT_SHIM_ACK_WRITE bytes of a struct rt_shim_ack
 * (include/redtap/event.h) into the shim when it says hello, and refreshes
 * them every few seconds; the shim uses the channel only while the ack has
 * not expired, so a shim whose agent went away stops by itself.
 *
 * A hello is a claim by an unprivileged process; the daemon writes only
 * when all of this holds (docs/shim.md, "The acknowledgement"):
 *   - /proc/PID/mem is opened first; the fd is bound to the address space
 *     of that moment, so after exec or pid reuse writes through it go
 *     nowhere. The fd is kept for refreshes and closed when the entry goes.
 *   - /proc/PID/maps shows the whole ack inside a private, writable,
 *     file-backed mapping whose file name matches the shim's (libredtap*.so
 *     by default) and the same file (device, inode) is also mapped
 *     executable in that process;
 *   - the address is exactly where that mapping puts the start of the
 *     file's RT_SHIM_ACK_SECTION section (include/redtap/shim.h; section
 *     headers read from /proc/PID/map_files, else from the path inside the
 *     process's root - containers - and the file must still have that
 *     device and inode), so no other byte of the shim can be the target;
 *   - the struct read back through the fd carries the hello's nonce (the
 *     shim draws it at start-up) - before every write, refreshes included.
 * Entries go away on shimack_forget() (the caller passes every exec and exit
 * record, in record order), when a write fails, and when a process is gone.
 *
 * API: shimack_hello() registers (or refreshes) a shim; shimack_refresh()
 * rewrites every registered ack whose refresh is due and forgets processes
 * that are gone. The table is bounded (SHIMACK_MAX, and SHIMACK_PER_UID for
 * one uid); self-reported drop counters grow by at most SHIMACK_DROPS_PER_S
 * per second between hellos. Not thread-safe (event loop).
 */
#ifndef REDTAP_SHIMACK_H
#define REDTAP_SHIMACK_H

#include <stddef.h>
#include <stdint.h>

#define SHIMACK_MAX	    4096
#define SHIMACK_PER_UID	    512
#define SHIMACK_DROPS_PER_S 100000ull /* plausible self-reported losses per second */
#define SHIMACK_DROPS_BURST 1000ull   /* ... plus this much at any hello, the first included */

struct shimack;

/* One hello, as decoded (shim_decode.h) plus what the kernel said. */
struct shimack_hello_in {
	uint32_t pid;	  /* in the agent's pid namespace */
	uint32_t uid;	  /* the sender's uid as the kernel saw it */
	uint64_t addr;	  /* its struct rt_shim_ack; 0: nothing to acknowledge (ring hello) */
	uint64_t nonce;	  /* the nonce the hello claims is at addr */
	uint64_t dropped; /* the shim's cumulative loss counter */
};

/* Why hellos were refused or reports were cut, for self-metrics. */
struct shimack_stats {
	uint64_t acked;	       /* acknowledgements written (hellos and refreshes) */
	uint64_t refused;      /* hellos whose address, mapping or nonce did not check out */
	uint64_t table_full;   /* hellos refused because the table or the uid's share was full */
	uint64_t drops_capped; /* reported drops discarded as implausible */
};

struct shimack *shimack_new(void);
void shimack_free(struct shimack *s); /* NULL ok */

/* fnmatch(3) pattern on the base name of the file that must hold the ack;
 * default "libredtap*.so". For tests. 0 or -ENAMETOOLONG. */
int shimack_set_lib_glob(struct shimack *s, const char *glob);

/* *new_drops gets what the shim lost since its previous hello (bounded).
 * 0, or -errno: -EINVAL unaligned address, -EPERM the address is not in the
 * shim's writable mapping or the nonce differs, -ENOSPC table full, -ESRCH
 * the process is gone, other -errno from /proc. */
int shimack_hello(struct shimack *s, const struct shimack_hello_in *h, uint64_t *new_drops,
		  uint64_t now_ns);

/* The process exec'd or exited: forget it (closes its fd). */
void shimack_forget(struct shimack *s, uint32_t pid);

void shimack_refresh(struct shimack *s, uint64_t now_ns);

/* Finds section RT_SHIM_ACK_SECTION (a writable PROGBITS section) in the
 * 64-bit ELF file fd, from its section headers only (at most 512 headers and
 * a 64 KiB name table are read): *off and *size get its file offset and size.
 * 0, -ENOENT, -EIO for a malformed file, -ENOMEM. The shim's file is the
 * shimmed process's to craft (tests/fuzz/fuzz_shimack.c). */
int shimack_find_section(int fd, uint64_t *off, uint64_t *size);

size_t shimack_count(const struct shimack *s);
void shimack_stats(const struct shimack *s, struct shimack_stats *out);

#endif /* REDTAP_SHIMACK_H */
