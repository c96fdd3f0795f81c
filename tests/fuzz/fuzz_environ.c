// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_environ.c - fuzz target for the service-name lookup in a process's
 * environment (procs_service_from_environ(), user/intake/procs.c): the daemon
 * reads /proc/PID/environ of selected processes, whose owner chooses every
 * byte (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES with percent-encoding).
 *
 * Input: byte 0 is the output buffer size - 1; the rest is the environ block
 * (NUL-separated KEY=VALUE strings, possibly without a final NUL), in an
 * exact-size buffer. Checks that the name found is NUL-terminated in bounds.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "procs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outlen, len;
	char *env, *out;

	if (!size)
		return 0;
	outlen = (size_t)data[0] + 1;
	len = size - 1;
	env = malloc(len ? len : 1);
	out = malloc(outlen);
	if (!env || !out)
		abort();
	memcpy(env, data + 1, len);
	memset(out, 0x55, outlen);
	if (procs_service_from_environ(env, len, out, outlen))
		fuzz_check(fuzz_has_nul(out, outlen));
	free(out);
	free(env);
	return 0;
}
