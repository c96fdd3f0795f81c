/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * kfeatures.h - what the running kernel lets the capture programs do
 * beyond the 5.15 floor of README's requirements, decided before they are
 * loaded (capture.c sets the object's load-time switches from it; the
 * kernel-side tests do the same).
 *
 * Untrusted loads: bpf_rdonly_cast() to a struct type and to void (6.17 on)
 * turns a kernel pointer the verifier cannot vouch for into one it loads
 * through directly (a load that reads 0 where it would fault), instead of
 * a bpf_probe_read_kernel() call. On kernels before that the kfunc is
 * missing (before 6.2), refused to tracepoint programs, or refuses void,
 * so the programs keep their helper calls there. Decided by the kernel's
 * release, not by a trial load: a kernel that backported it only loses the
 * faster path.
 */
#ifndef REDTAP_KFEATURES_H
#define REDTAP_KFEATURES_H

#include <stdbool.h>

/* Whether a release string as uname(2) gives it ("6.18.44-fc-v1300",
 * "5.15.0-91-generic") is at least major.minor; false when it does not
 * start with two numbers. */
bool kfeatures_release_at_least(const char *release, unsigned major, unsigned minor);

/* Whether the running kernel allows the untrusted loads (6.17 on). */
bool kfeatures_untrusted_loads(void);

#endif /* REDTAP_KFEATURES_H */
