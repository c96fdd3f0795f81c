/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp_encode.h - spans and metric snapshots to OTLP protobuf request
 * bodies, and the partial_success of the responses.
 *
 * Traces: one ExportTraceServiceRequest; spans are grouped into one
 * ResourceSpans per (pid, service_name), each with one ScopeSpans (scope
 * "redtap"), in the order the groups first appear.
 *
 * Metrics: one ExportMetricsServiceRequest with every series of the
 * snapshot: histograms as cumulative explicit-bucket Histogram points (with
 * exemplars), counters as cumulative monotonic Sum (with the series' one
 * exemplar, if any), gauges as Gauge, with the names, units and attribute
 * keys of their semconv.h entry (a family declared without one keeps its
 * Prometheus name and label names, and its unit word goes back to UCUM).
 * The service.name attribute picks the ResourceMetrics (and is not a point
 * attribute); families without it (redtap's own) and overflow series
 * (attribute otel.metric.overflow=true) go to the resource of redtap
 * itself. Empty label values are left out, as Prometheus treats them as
 * absent. Families without series are skipped.
 *
 * API: encoders return 0 and a malloc()ed body in *out (the caller frees
 * it), or -ENOMEM. They keep no state but r's pid cache, so one r per
 * thread.
 */
#ifndef REDTAP_OTLP_ENCODE_H
#define REDTAP_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "logs.h"
#include "metrics.h"
#include "otlp_resource.h"
#include "span.h"

int otlp_encode_traces(struct otlp_resource_ctx *r, const struct span *const *spans, size_t n,
		       uint8_t **out, size_t *outlen);

/* Log records (user/signals/logs.h): one ResourceLogs per (pid, service). */
int otlp_encode_logs(struct otlp_resource_ctx *r, const struct log_record *const *recs, size_t n,
		     uint8_t **out, size_t *outlen);

/* start_ns: the stable start of the cumulative points (agent start, unix ns);
 * now_ns: their time. */
int otlp_encode_metrics(struct otlp_resource_ctx *r, const struct metric_snapshot *snap,
			uint64_t start_ns, uint64_t now_ns, uint8_t **out, size_t *outlen);

/*
 * The partial_success of an Export{Trace,Metrics}ServiceResponse: *rejected
 * spans or data points and the collector's message (truncated into msg).
 * An empty body means full success. Returns 0, or -EINVAL when the body is
 * not such a response.
 */
int otlp_traces_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
			size_t msglen);
int otlp_metrics_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg,
			 size_t msglen);
int otlp_logs_partial(const uint8_t *body, size_t len, int64_t *rejected, char *msg, size_t msglen);

/* Shared by the encoders (otlp_pb.c): pack m into a malloc'd body (0 or
 * -ENOMEM); read the partial_success of a response of descriptor d. */
int otlp_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *outlen);
int otlp_pb_partial(const ProtobufCMessageDescriptor *d, const uint8_t *body, size_t len,
		    int64_t *rejected, char *msg, size_t msglen);

#endif /* REDTAP_OTLP_ENCODE_H */
