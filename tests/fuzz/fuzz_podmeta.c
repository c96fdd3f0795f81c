// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_podmeta.c - fuzz target for the container and pod identity parsers
 * (user/intake/podmeta.c): the daemon reads /proc/PID/cgroup (paths a local
 * user with cgroup delegation names) and /proc/PID/environ (every byte the
 * process's owner chooses) of every instrumented process.
 *
 * Input: byte 0 splits the rest: the first (byte 0 * len / 255) bytes are the
 * cgroup text, the rest the environ block, each in an exact-size buffer.
 * Checks that every field found is NUL-terminated in bounds and that values
 * are only set inside a pod.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "podmeta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct podmeta m;
	size_t len, cut;
	char *cg, *env;

	if (!size)
		return 0;
	len = size - 1;
	cut = (size_t)data[0] * len / 255;
	cg = malloc(cut ? cut : 1);
	env = malloc(len - cut ? len - cut : 1);
	if (!cg || !env)
		abort();
	memcpy(cg, data + 1, cut);
	memcpy(env, data + 1 + cut, len - cut);
	memset(&m, 0, sizeof(m));
	podmeta_parse_cgroup(cg, cut, &m);
	podmeta_parse_environ(env, len - cut, &m);
	fuzz_check(fuzz_has_nul(m.container_id, sizeof(m.container_id)));
	fuzz_check(fuzz_has_nul(m.pod_uid, sizeof(m.pod_uid)));
	fuzz_check(fuzz_has_nul(m.pod_name, sizeof(m.pod_name)));
	fuzz_check(fuzz_has_nul(m.namespace_name, sizeof(m.namespace_name)));
	fuzz_check(fuzz_has_nul(m.container_name, sizeof(m.container_name)));
	fuzz_check(fuzz_has_nul(m.workload, sizeof(m.workload)));
	fuzz_check(m.pod_uid[0] || (!m.pod_name[0] && !m.namespace_name[0] && !m.workload[0]));
	fuzz_check(!m.container_id[0] || strlen(m.container_id) == 64);
	free(env);
	free(cg);
	return 0;
}
