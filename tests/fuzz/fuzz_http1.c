// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http1.c - fuzz target for the HTTP/1.x sniffer and stream parser
 * (user/proto/http1.c), which parse bytes any remote client or server sends.
 *
 * Input: byte 0 picks requests or responses (bit 0) and whether to call
 * http1_stream_end_unknown() between chunks (bit 1); then chunks of
 * [u16 cap_len][u16 unseen bytes][cap_len bytes]. Each chunk is copied into an
 * exact-size buffer. Checks the documented invariants of every head,
 * captured request headers (http1_capture_set()) included.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "http1.h"

struct counts {
	unsigned heads, ends;
	bool busy_head; /* a head was reported and its end not yet */
	bool is_request;
};

static unsigned on_head(void *ctx, const struct http1_head *h)
{
	struct counts *c = ctx;

	char buf[HTTP1_TRACESTATE_MAX];

	/* strings within their bounds, never NULL, readable to their length */
	fuzz_check(h->path && h->path_len < HTTP1_PATH_MAX);
	fuzz_check(h->host && h->host_len < HTTP1_HOST_MAX);
	fuzz_check(h->traceparent && (h->traceparent_len == 0 || h->traceparent_len == 55));
	fuzz_check(h->tracestate && h->tracestate_len < HTTP1_TRACESTATE_MAX);
	fuzz_check(http1_head_copy(buf, sizeof(buf), h->path, h->path_len) == h->path_len);
	fuzz_check(http1_head_copy(buf, sizeof(buf), h->host, h->host_len) == h->host_len);
	fuzz_check(http1_head_copy(buf, sizeof(buf), h->tracestate, h->tracestate_len) ==
		   h->tracestate_len);
	fuzz_check(http1_head_copy(buf, sizeof(buf), h->traceparent, h->traceparent_len) ==
		   h->traceparent_len);
	fuzz_check(h->traceparent_len == 0 || strlen(buf) == 55);
	fuzz_check(h->is_request == c->is_request);
	if (!h->is_request && !h->truncated)
		fuzz_check(h->status >= 100 && h->status <= 599);
	fuzz_check(h->version_minor == 0 || h->version_minor == 1);
	fuzz_check((const char *)http1_method_name(h->method) != NULL);
	for (int i = 0; i < HTTP1_CAPTURE_MAX; i++) {
		fuzz_check(h->captured[i] && h->captured_len[i] < HTTP1_CAPTURE_VALUE);
		fuzz_check(http1_head_copy(buf, sizeof(buf), h->captured[i], h->captured_len[i]) ==
			   h->captured_len[i]);
		fuzz_check(h->is_request || !h->captured_len[i]);
	}
	c->heads++;
	/* Every other head claims no body, as a HEAD response would. */
	return (c->heads & 1) ? HTTP1_F_NO_BODY : 0;
}

static void on_end(void *ctx)
{
	struct counts *c = ctx;

	c->ends++;
	fuzz_check(c->ends <= c->heads);
}

static void on_error(void *ctx, enum http1_error reason)
{
	(void)ctx;
	fuzz_check(reason < HTTP1_E_MAX);
}

static const struct http1_callbacks cbs = {
    .on_head = on_head,
    .on_end = on_end,
    .on_error = on_error,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct counts c = {0};
	struct http1_stream s;
	unsigned mode;
	uint8_t *det;

	static const char *const captured[] = {"x-tenant-id", "baggage", "a"};

	if (!size)
		return 0;
	http1_capture_set(captured, 3);
	/* The sniffer sees the raw input. */
	det = malloc(size);
	if (!det)
		abort();
	memcpy(det, data, size);
	fuzz_check(http1_detect(det, size) <= HTTP1_DETECT_MORE);
	free(det);

	mode = fuzz_take_u(&in, 1);
	c.is_request = !(mode & 1);
	http1_stream_init(&s, c.is_request ? HTTP1_REQUESTS : HTTP1_RESPONSES, &cbs, &c);
	while (in.left) {
		size_t cap = fuzz_take_u(&in, 2);
		uint64_t unseen = fuzz_take_u(&in, 2);
		uint8_t *chunk = fuzz_take_copy(&in, &cap);

		http1_stream_feed(&s, chunk, cap, cap + unseen);
		free(chunk);
		if ((mode & 2) && http1_stream_framing_unknown(&s))
			http1_stream_end_unknown(&s);
	}
	http1_stream_close(&s);
	fuzz_check(!http1_stream_busy(&s));
	return 0;
}
