/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tracer.h - builds spans from HTTP exchanges and shim DB/cache operations,
 * parents them, samples them, and hands kept spans to an emit callback
 * (the OTLP exporter).
 *
 * Parenting, in order of precedence, for a span that starts:
 *  - a server request with a valid W3C traceparent continues that trace
 *    (remote parent; tracestate is kept);
 *  - a server request on a connection whose client side is a process on
 *    this node becomes the child of that client span (local link);
 *  - a client request made by a thread while that thread serves a request
 *    becomes that request's child; so does a DB/cache operation whose start
 *    falls within a request of its thread (reqhist.h: by time, as a shim
 *    record may arrive after its thread moved on to another request);
 *  - anything else starts a new trace.
 * Sampling: the head decision (OTEL_TRACES_SAMPLER, parent-based by
 * default) is taken when a trace starts here. Spans are held until the
 * trace's local root ends; the trace is then kept (the rule, in this
 * order, becomes the root's sampling.rule attribute) if any span failed
 * ("error"), the root was slower than its threshold ("slow"), it is
 * head-sampled ("head"), its route is critical and the trace id falls
 * within critical_floor ("critical"), or within the adaptive rate of its
 * service and route (sampler.h: "adaptive.error_ratio",
 * "adaptive.latency"). A kept trace then takes its spans from the node's
 * budget, or is dropped. Spans ending after that follow the decision.
 * Memory is bounded: when the buffer is full the oldest trace is decided
 * early (kept when head-sampled or failed, as by the sweep and the flush).
 * Not thread-safe: the event loop owns it.
 */
#ifndef REDTAP_TRACER_H
#define REDTAP_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrack.h"
#include "sampler.h"
#include "shim_decode.h"
#include "span.h"

struct tracer_opts {
	struct sampler sampler;
	uint64_t slow_ns;	      /* keep traces whose root is slower; 0: off */
	const char *slow_routes;      /* "/route=ms,..." per-route thresholds (copied) */
	char *const *critical_routes; /* keep traces of these routes (copied) */
	size_t ncritical;
	double critical_floor; /* ... at this rate at least; 0: 1 (all of them) */
	double error_ratio;    /* adaptive rates: error ratio threshold; 0: off */
	uint64_t window_ns;    /* adaptive rates: the sliding window; 0: 60 s */
	double budget;	       /* spans per second per node; 0: no cap */
	/* request attributes: the first n http_exchange.captured values become
	 * SC_REQUEST_ATTR0 + i on the server span and on every client and DB span
	 * made while serving it (traces.header_attributes) */
	size_t nrequest_attrs;
	/* ... of which the last nbaggage come from entries of the W3C baggage
	 * header, captured at index baggage_header: entry baggage_keys[j] is
	 * request attribute nrequest_attrs - nbaggage + j (traces.baggage_attributes) */
	size_t nbaggage;
	const char *const *baggage_keys;
	size_t baggage_header;
	/* a request whose captured header critical_header has exactly this value
	 * (NULL: none) is critical as a critical route is */
	const char *critical_value;
	size_t critical_header;
};

struct tracer_stats {
	uint64_t spans_emitted;
	uint64_t traces_kept;
	uint64_t traces_dropped;
	uint64_t early_decisions;    /* buffer full: decided before the root ended */
	uint64_t budget_traces;	     /* dropped over the span budget */
	uint64_t budget_spans;	     /* ... and their spans */
	uint64_t adaptive_untracked; /* requests of routes beyond the adaptive cap */
};

/* Spans held while their trace is undecided: the tracer's largest allocation,
 * TRACER_POOL_SPANS * sizeof(struct span) (bench/BENCHMARKS.md). */
#define TRACER_POOL_SPANS 2048

typedef void (*tracer_emit_fn)(void *ctx, const struct span *s);
struct tracer;

struct tracer *tracer_new(const struct tracer_opts *o, tracer_emit_fn emit, void *ctx);
void tracer_free(struct tracer *t); /* NULL ok; buffered spans are dropped */

/* Fills x->trace when an exchange starts. */
void tracer_http_start(struct tracer *t, struct http_exchange *x);
/* Builds the span of a finished exchange. Returns true when the span will
 * be exported (its ids may then serve as an exemplar). */
bool tracer_http_done(struct tracer *t, const struct http_exchange *x, const char *service,
		      const char *exe);
/* ids (may be NULL) receive the operation's trace and span ids. */
bool tracer_db_op(struct tracer *t, const struct db_op *op, const char *service, const char *exe,
		  uint8_t trace_id[16], uint8_t span_id[8]);

/* The trace and span of the request thread tid serves now, and whether
 * that trace is head-sampled; false when it serves none (or t is NULL).
 * The same lookup that parents client and DB spans: logs use it. */
bool tracer_thread_context(struct tracer *t, uint32_t tid, uint8_t trace_id[16], uint8_t span_id[8],
			   bool *sampled);

/* Decides traces whose root never ended (older than 30 s). */
void tracer_sweep(struct tracer *t, uint64_t now_mono_ns);
/* Decides every trace still held, as the sweep would (kept when head-sampled
 * or failed): on shutdown, before the exporter's last flush. NULL ok. */
void tracer_flush(struct tracer *t);
void tracer_stats(const struct tracer *t, struct tracer_stats *out);

/* Parses a threshold list "MS[,ROUTE=MS...]" (REDTAP_TRACES_SLOW_MS) into
 * the default and the per-route part. -EINVAL for a malformed list. */
int tracer_parse_slow(const char *s, uint64_t *default_ns, const char **routes);

/* Parses traces.header_attributes, "Header=key[,Header=key...]" (at most
 * HTTP1_CAPTURE_MAX pairs; header names of HTTP1_CAPTURE_NAME bytes of
 * token characters, keys of SEMCONV_REQUEST_KEY_MAX bytes of [A-Za-z0-9._-]).
 * headers and keys (may be NULL) receive the pairs; *n their count.
 * -EINVAL for a malformed list. */
int tracer_parse_header_attrs(const char *s, char headers[][HTTP1_CAPTURE_NAME + 1],
			      char keys[][SEMCONV_REQUEST_KEY_MAX + 1], size_t *n);

/* The value of entry key of a W3C baggage header ("k=v;props,k2=v2"),
 * percent-decoded and cut to fit out; false (out "") when absent. */
bool tracer_baggage_get(const char *baggage, const char *key, char *out, size_t outlen);

/* Parses traces.critical_header, "Header=value" (a header name as above, a
 * value of 1..HTTP1_CAPTURE_VALUE - 1 visible characters); "" is none.
 * header and value (may be NULL) receive them. -EINVAL when malformed. */
int tracer_parse_critical_header(const char *s, char header[HTTP1_CAPTURE_NAME + 1],
				 char value[HTTP1_CAPTURE_VALUE]);

/* The largest threshold accepted: a day. */
#define TRACER_SLOW_MAX_MS 86400000.0

/* Parses a W3C traceparent value. Exposed for tests. */
bool tracer_parse_traceparent(const char *tp, uint8_t trace_id[16], uint8_t span_id[8],
			      bool *sampled);

#endif /* REDTAP_TRACER_H */
