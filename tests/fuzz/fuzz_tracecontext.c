// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_tracecontext.c - fuzz target for W3C trace context handling in
 * user/signals/tracer.c: tracer_parse_traceparent(), and a server span built
 * by the tracer from a request whose traceparent, tracestate and path come
 * from the input (all three are remote-client-controlled header values).
 *
 * Input: "traceparent\0tracestate\0path", each field truncated to what
 * http1.c would hand over. Checks: a parsed traceparent never has zero ids;
 * the span continues exactly the trace the header names (else is a root);
 * tracestate is only kept with a valid traceparent (W3C trace context 3.3).
 */
#include <stdbool.h>

#include "fuzz.h"
#include "tracer.h"

struct got {
	struct span s;
	int n;
};

static void emit(void *ctx, const struct span *s)
{
	struct got *g = ctx;

	g->s = *s;
	g->n++;
}

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* Copies the next NUL-terminated field of the input into out (truncated). */
static void field(struct fuzz_in *in, char *out, size_t outsz)
{
	const uint8_t *nul = memchr(in->p, 0, in->left);
	size_t n = nul ? (size_t)(nul - in->p) : in->left;
	size_t take = n + (nul != NULL);

	snprintf(out, outsz, "%.*s", (int)n, (const char *)in->p);
	fuzz_take(in, &take);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tracer *t;
	static struct got got;
	struct fuzz_in in = {data, size};
	uint8_t tid[16], sid[8];
	struct http_exchange x;
	struct conn cn;
	bool sampled, ok;
	char *tp;

	if (!t) {
		struct tracer_opts o = {.sampler = {.root = SAMPLER_ALWAYS_ON}};

		t = tracer_new(&o, emit, &got);
		if (!t)
			abort();
	}
	/* The parser on the raw input, as a string. */
	tp = fuzz_strdup(data, size);
	if (tracer_parse_traceparent(tp, tid, sid, &sampled))
		fuzz_check(!zero(tid, 16) && !zero(sid, 8));
	free(tp);

	memset(&x, 0, sizeof(x));
	memset(&cn, 0, sizeof(cn));
	field(&in, x.traceparent, sizeof(x.traceparent));
	field(&in, x.tracestate, sizeof(x.tracestate));
	field(&in, x.path, sizeof(x.path));
	snprintf(x.route, sizeof(x.route), "/r");
	x.server = true;
	x.tgid = 100;
	x.tid = 101;
	x.method = HTTP1_M_GET;
	x.status = 200;
	x.start_ns = 1000;
	x.end_ns = 2000;
	x.conn = &cn;
	ok = tracer_parse_traceparent(x.traceparent, tid, sid, &sampled);
	got.n = 0;
	tracer_http_start(t, &x);
	fuzz_check(x.trace.valid);
	tracer_http_done(t, &x, "svc", "exe");
	tracer_sweep(t, UINT64_MAX / 2);
	if (!got.n)
		return 0; /* the parent said "not sampled" */
	fuzz_check(strlen(span_get(&got.s, SPAN_TRACESTATE)) < HTTP1_TRACESTATE_MAX);
	if (ok) {
		fuzz_check(memcmp(got.s.trace_id, tid, 16) == 0);
		fuzz_check(memcmp(got.s.parent_span_id, sid, 8) == 0);
	} else {
		fuzz_check(zero(got.s.parent_span_id, 8));
		fuzz_check(span_get(&got.s, SPAN_TRACESTATE)[0] == '\0');
	}
	return 0;
}
