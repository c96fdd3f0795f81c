// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_tlsmaps.c - fuzz target for tlstrack_maps_line() and
 * tlstrack_maps_file() (user/intake/tlstrack.c): /proc/PID/maps lines name
 * files any process chose, so every byte string must parse without faults,
 * a line taken must give an absolute path, NUL-terminated within the field,
 * and a non-zero inode; a libssl line is a file line with a libssl name,
 * and tlslibs_candidate() (user/intake/tlslibs.c) never takes a libssl.
 *
 * Input: the line (an exact-size heap copy, no NUL needed).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "tlslibs.h"
#include "tlstrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlstrack_lib lib;
	char *line = malloc(size ? size : 1);
	const char *base;

	if (!line)
		abort();
	if (size)
		memcpy(line, data, size);
	if (tlstrack_maps_file(line, size, &lib)) {
		fuzz_check(fuzz_has_nul(lib.path, sizeof(lib.path)));
		fuzz_check(lib.path[0] == '/' && lib.ino != 0);
		base = strrchr(lib.path, '/') + 1;
		fuzz_check(tlstrack_maps_line(line, size, &lib) == !strncmp(base, "libssl.so", 9));
		fuzz_check(!tlslibs_candidate(lib.path) || strncmp(base, "libssl.so", 9));
	} else {
		fuzz_check(!tlstrack_maps_line(line, size, &lib));
	}
	free(line);
	return 0;
}
