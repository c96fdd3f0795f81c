// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_httptrack.c - fuzz target for the HTTP/1 exchange tracker
 * (user/proto/httptrack.c, http1_protocol, run by a proto_set as the
 * pipeline does); input format and checks in fuzz_http_conn.h.
 */
#include "fuzz_http_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct protocol *const protos[] = {&http1_protocol};

	return fuzz_http_run(data, size, protos, 1, NULL);
}
