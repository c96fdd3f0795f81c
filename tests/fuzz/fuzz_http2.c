// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http2.c - fuzz target for HTTP/2 and gRPC (user/proto/http2.c,
 * http2_protocol with nghttp2's HPACK inflater, run by a proto_set ahead of
 * http1_protocol as the pipeline does); input format and checks in
 * fuzz_http_conn.h, and no stream entry may outlive its connection. Seeds
 * in corpus/http2/ start with the connection preface.
 */
#include "fuzz_http_conn.h"

static void no_stream_left(struct proto_set *set)
{
	fuzz_check(http2_streams_allocated(set->inst[0]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct protocol *const protos[] = {&http2_protocol, &http1_protocol};

	return fuzz_http_run(data, size, protos, 2, no_stream_left);
}
