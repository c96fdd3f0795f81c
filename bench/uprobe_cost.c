// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uprobe_cost.c - what one uprobe costs by the kind of instruction it sits
 * on (issue 15 / issue 13; BENCHMARKS.md, "Per-probe cost by site"). Run by
 * bench/uprobe_cost.sh, which builds it.
 *
 * Tiny functions written in assembly each start with one instruction kind
 * (5-byte nop, 1- and 3-byte nops, push, push of r13, jcc, call, endbr64,
 * mov, sub $8,%rsp, ret). A counting uprobe (the perf "uprobe" PMU, no BPF
 * program: the trap and the kernel's way of running the probed
 * instruction are what is measured) is put on the first instruction of
 * each, then also a uretprobe, and the function is called N times; the
 * result is ns per call minus the unprobed call. The probe is on this
 * executable's own file, for this process only.
 *
 * Output: one line per kind, "kind unprobed_ns entry_ns entry+return_ns".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FN(name, body)                                                                             \
	__asm__(".text\n.globl " #name "\n.type " #name ",@function\n" #name ":\n" body            \
		"\n.size " #name ",.-" #name "\n");                                                \
	void name(void);

FN(k_nop5, ".byte 0x0f,0x1f,0x44,0x00,0x00\nret")
FN(k_nop1, "nop\nret")
FN(k_nop3, ".byte 0x0f,0x1f,0x00\nret")
FN(k_push, "push %rbp\npop %rbp\nret")
FN(k_push_r13, "push %r13\npop %r13\nret")
FN(k_jcc, "cmp %rsp,%rsp\njbe 1f\n1: ret")
FN(k_call, "call 1f\n1: add $8,%rsp\nret")
FN(k_endbr, ".byte 0xf3,0x0f,0x1e,0xfa\nret")
FN(k_mov, "mov %rdi,%rax\nret")
FN(k_sub, "sub $8,%rsp\nadd $8,%rsp\nret")
FN(k_ret, "ret")

static const struct {
	const char *name;
	void (*fn)(void);
	unsigned at; /* byte probed: the jcc after the 3-byte cmp */
} kinds[] = {
    {"nop5", k_nop5, 0},   {"nop1", k_nop1, 0},		{"nop3", k_nop3, 0},
    {"push", k_push, 0},   {"push_r13", k_push_r13, 0}, {"jcc", k_jcc, 3},
    {"call", k_call, 0},   {"endbr64", k_endbr, 0},	{"mov", k_mov, 0},
    {"sub_rsp", k_sub, 0}, {"ret", k_ret, 0},
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* File offset of addr in this executable, from /proc/self/maps. */
static int file_offset(const void *addr, char *path, size_t plen, uint64_t *off)
{
	unsigned long lo, hi, foff, a = (unsigned long)addr;
	char line[512], p[256];
	FILE *m = fopen("/proc/self/maps", "r");
	int rc = -ENOENT;

	if (!m)
		return -errno;
	while (fgets(line, sizeof(line), m)) {
		p[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %255s", &lo, &hi, &foff, p) < 3)
			continue;
		if (a >= lo && a < hi && p[0] == '/') {
			*off = foff + (a - lo);
			snprintf(path, plen, "%s", p);
			rc = 0;
			break;
		}
	}
	fclose(m);
	return rc;
}

static int probe(int type, const char *path, uint64_t off, int ret)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = (uint32_t)type;
	a.config = ret ? 1 : 0; /* format/retprobe: config:0 */
	a.config1 = (uint64_t)(uintptr_t)path;
	a.config2 = off;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* ns per call of fn over n calls, the best of 5 runs. */
static double per_call(void (*fn)(void), unsigned n)
{
	double best = 1e18;

	for (int r = 0; r < 5; r++) {
		uint64_t t0 = now_ns();

		for (unsigned i = 0; i < n; i++)
			fn();
		double ns = (double)(now_ns() - t0) / n;

		if (ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	char path[256];
	int type;
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");

	if (!f || fscanf(f, "%d", &type) != 1) {
		fprintf(stderr, "uprobe_cost: no uprobe PMU\n");
		return 1;
	}
	fclose(f);
	printf("kind unprobed_ns entry_ns entry+return_ns\n");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		double base, entry, both;
		uint64_t off = 0;
		int e, r;

		if (file_offset((const char *)kinds[k].fn + kinds[k].at, path, sizeof(path),
				&off)) {
			fprintf(stderr, "uprobe_cost: %s not found in maps\n", kinds[k].name);
			return 1;
		}
		base = per_call(kinds[k].fn, n);
		e = probe(type, path, off, 0);
		if (e < 0) {
			fprintf(stderr, "uprobe_cost: %s: %s\n", kinds[k].name, strerror(errno));
			return 1;
		}
		entry = per_call(kinds[k].fn, n);
		/* the return probe goes on the entry too (a uretprobe is set at
		 * the function's first instruction); jcc: skip it */
		r = kinds[k].at ? -1 : probe(type, path, off, 1);
		both = r >= 0 ? per_call(kinds[k].fn, n) : 0;
		if (r >= 0)
			close(r);
		close(e);
		printf("%s %.0f %.0f %.0f\n", kinds[k].name, base, entry, both);
	}
	return 0;
}
