// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_shim_decode.c - fuzz target for the shim record decoder
 * (user/intake/shim_decode.c): any local process can send it any bytes
 * through the ioctl channel or the shared-memory ring.
 *
 * Input: the record itself, in an exact-size heap buffer. Checks that a
 * record is never read past len and that every decoded string is
 * NUL-terminated. Query text export is switched on so the sanitiser runs too.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "shim_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct db_op op;
	uint8_t *buf;

	if (!init) {
		shim_decode_set_query_text(true);
		init = true;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	if (size)
		memcpy(buf, data, size);
	memset(&op, 0, sizeof(op));
	if (shim_decode(buf, size, &op) == 0) {
		fuzz_check(fuzz_has_nul(op.operation, sizeof(op.operation)));
		fuzz_check(fuzz_has_nul(op.query_summary, sizeof(op.query_summary)));
		fuzz_check(fuzz_has_nul(op.namespace_, sizeof(op.namespace_)));
		fuzz_check(fuzz_has_nul(op.server_address, sizeof(op.server_address)));
		fuzz_check(fuzz_has_nul(op.error_type, sizeof(op.error_type)));
		fuzz_check(fuzz_has_nul(op.status_code, sizeof(op.status_code)));
		fuzz_check(fuzz_has_nul(op.query_text, sizeof(op.query_text)));
		fuzz_check(fuzz_has_nul(op.service_name, sizeof(op.service_name)));
		fuzz_check(fuzz_has_nul(op.comm, sizeof(op.comm)));
		fuzz_check(op.is_hello || op.system != NULL);
	}
	free(buf);
	return 0;
}
