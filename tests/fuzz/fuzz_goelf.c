// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_goelf.c - fuzz target for the Go ELF inspector (user/intake/goelf.c):
 * the daemon opens the executable of every selected process, which any local
 * user can craft. The input is the whole ELF image; every lookup the daemon
 * makes (symbols, .gopclntab functions, file offsets, reads) runs on it.
 * Checks that a version, when found, is a NUL-terminated "go1.N..." string and
 * that function bounds are ordered. goruntime_layout() (the Go runtime
 * metrics' DWARF member lookups and symbols) runs on it too.
 */
#include <errno.h>

#include "fuzz.h"
#include "goelf.h"
#include "goruntime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct goelf_info *in;
	struct goelf *g = goelf_open_mem(data, size);
	uint64_t a, b, off;
	uint8_t buf[16];
	struct goruntime_layout l;

	if (!g)
		return 0;
	in = goelf_info(g);
	fuzz_check(fuzz_has_nul(in->version, sizeof(in->version)));
	if (in->version[0])
		fuzz_check(strncmp(in->version, "go", 2) == 0);
	if (in->goid_src == GOELF_SRC_NONE)
		fuzz_check(in->goid_off == 0);
	if (goelf_func(g, "main.main", &a, &b) == 0) {
		fuzz_check(a < b);
		goelf_file_offset(g, a, &off);
	}
	if (goelf_sym(g, "runtime.buildVersion", &a, &b) == 0)
		goelf_read(g, a, buf, sizeof(buf));
	/* the Go runtime metrics' layout: DWARF member paths, symbols */
	if (goruntime_layout(g, &l) == 0)
		fuzz_check(l.allglen && l.sched && l.memstats);
	goelf_free(g);
	return 0;
}
