// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_otlp_response.c - fuzz target for what the OTLP exporter reads from
 * the collector: the partial_success of an Export{Trace,Metrics}Service
 * response body (user/export/otlp_pb.c through otlp_traces_partial() and
 * otlp_metrics_partial()) and the Retry-After header value
 * (otlp_retry_after_parse(), user/export/otlp_retry.c).
 *
 * Input: byte 0 picks the parser (bit 0: traces or metrics; bit 1: Retry-After),
 * byte 1 the message buffer size; the rest is the body or header value.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "otlp_encode.h"
#include "otlp_retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t msglen, len;
	uint8_t *body;
	int64_t rejected;
	uint64_t delay;
	char *msg, *v;
	int ret;

	if (size < 2)
		return 0;
	msglen = data[1];
	len = size - 2;
	if (data[0] & 2) {
		v = fuzz_strdup(data + 2, len);
		delay = 12345;
		ret = otlp_retry_after_parse(v, 1700000000, &delay);
		fuzz_check(ret == 0 || ret == -EINVAL);
		if (ret == 0)
			fuzz_check(delay <= 24ull * 3600 * 1000);
		free(v);
		return 0;
	}
	body = malloc(len ? len : 1);
	msg = malloc(msglen ? msglen : 1);
	if (!body || !msg)
		abort();
	memcpy(body, data + 2, len);
	if (data[0] & 1)
		ret = otlp_metrics_partial(body, len, &rejected, msg, msglen);
	else
		ret = otlp_traces_partial(body, len, &rejected, msg, msglen);
	fuzz_check(ret == 0 || ret == -EINVAL);
	if (ret == 0 && msglen)
		fuzz_check(fuzz_has_nul(msg, msglen));
	free(msg);
	free(body);
	return 0;
}
