/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * otlp.h - the OTLP/HTTP (protobuf) exporter for traces and metrics.
 *
 * API: otlp_config_from_env() fills a struct otlp_config from the standard
 * OTEL_* variables (or otlp_config_init() gives the defaults, both signals
 * disabled, for a caller that fills it itself). otlp_exporter_new() starts
 * one background thread per enabled signal: the traces thread sends the
 * spans queued by otlp_export_span() in batches (by size or delay), the
 * metrics thread sends the whole registry every metric_interval_ms as
 * cumulative points. otlp_exporter_free() flushes within a time limit and
 * stops both.
 *
 * Delivery: retries only on 429/502/503/504 and connection failures,
 * honouring Retry-After (but never sooner than otlp_retry_after_floor_ms()),
 * else exponential backoff with jitter, within a bounded time per batch
 * (OTEL_BSP_EXPORT_TIMEOUT); other answers are not retried. The collector
 * is not trusted: each request ends at its timeout, response bodies are read
 * up to 1 MiB and kept up to 64 KiB, headers up to 64 KiB (otlp_http.h). Memory stays
 * bounded when the collector is down: the span queue drops its OLDEST span
 * when full and counts it.
 *
 * Ownership: the exporter copies the config and every span; it keeps the
 * registry pointer, so the registry must outlive the exporter.
 *
 * Thread-safety: otlp_export_span() and otlp_exporter_stats() may be called
 * from any thread and never block on I/O. new/free are not concurrent with
 * anything else on the same exporter.
 */
#ifndef REDTAP_OTLP_H
#define REDTAP_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logs.h"
#include "metrics.h"
#include "span.h"

enum otlp_signal { OTLP_TRACES = 0, OTLP_METRICS = 1, OTLP_LOGS = 2 };
#define OTLP_SIGNALS 3

/* Per-signal compression override; 0 inherits the generic `gzip`. */
enum otlp_compression {
	OTLP_COMPRESSION_INHERIT = 0,
	OTLP_COMPRESSION_NONE,
	OTLP_COMPRESSION_GZIP
};

/*
 * All strings are owned by the struct. Numbers left at 0 take their default
 * in otlp_exporter_new().
 */
struct otlp_config {
	char traces_url[1024], metrics_url[1024]; /* "" = signal disabled */
	char headers[4096];	     /* "k=v,k2=v2" from OTEL_EXPORTER_OTLP_HEADERS, decoded */
	unsigned timeout_ms;	     /* OTEL_EXPORTER_OTLP_TIMEOUT: one request, default 10000 */
	bool gzip;		     /* OTEL_EXPORTER_OTLP_COMPRESSION=gzip */
	unsigned metric_interval_ms; /* OTEL_METRIC_EXPORT_INTERVAL, default 60000 */
	size_t queue_max_spans;	     /* OTEL_BSP_MAX_QUEUE_SIZE, default 2048 */
	size_t batch_max_spans;	     /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512 */
	unsigned batch_delay_ms;     /* OTEL_BSP_SCHEDULE_DELAY, default 5000 */
	char resource_attrs[2048];   /* the agent's OTEL_RESOURCE_ATTRIBUTES, as set (encoded) */

	/* Per-signal settings; the per-signal variable wins over the generic one. */
	char traces_headers[4096];   /* OTEL_EXPORTER_OTLP_TRACES_HEADERS; "" = headers */
	char metrics_headers[4096];  /* OTEL_EXPORTER_OTLP_METRICS_HEADERS; "" = headers */
	unsigned traces_timeout_ms;  /* OTEL_EXPORTER_OTLP_TRACES_TIMEOUT; 0 = timeout_ms */
	unsigned metrics_timeout_ms; /* OTEL_EXPORTER_OTLP_METRICS_TIMEOUT; 0 = timeout_ms */
	enum otlp_compression traces_compression;  /* OTEL_EXPORTER_OTLP_TRACES_COMPRESSION */
	enum otlp_compression metrics_compression; /* OTEL_EXPORTER_OTLP_METRICS_COMPRESSION */
	/* Total time one batch may take, retries included. */
	unsigned batch_export_timeout_ms;  /* OTEL_BSP_EXPORT_TIMEOUT, default 30000 */
	unsigned metric_export_timeout_ms; /* OTEL_METRIC_EXPORT_TIMEOUT, default 30000 */

	/* Logs (zero-code log capture, user/signals/logs.h): the batch log
	 * record processor's settings, and the signal's own overrides. */
	char logs_url[1024];			/* "" = logs disabled */
	char logs_headers[4096];		/* OTEL_EXPORTER_OTLP_LOGS_HEADERS */
	unsigned logs_timeout_ms;		/* OTEL_EXPORTER_OTLP_LOGS_TIMEOUT */
	enum otlp_compression logs_compression; /* OTEL_EXPORTER_OTLP_LOGS_COMPRESSION */
	size_t queue_max_logs;			/* OTEL_BLRP_MAX_QUEUE_SIZE, default 2048 */
	size_t batch_max_logs;			/* OTEL_BLRP_MAX_EXPORT_BATCH_SIZE, default 512 */
	unsigned logs_delay_ms;			/* OTEL_BLRP_SCHEDULE_DELAY, default 1000 */
	unsigned logs_export_timeout_ms;	/* OTEL_BLRP_EXPORT_TIMEOUT, default 30000 */
};

/* Defaults, both signals disabled. */
void otlp_config_init(struct otlp_config *c);

/*
 * Fills c from the environment: OTEL_EXPORTER_OTLP_ENDPOINT (base URL:
 * /v1/traces and /v1/metrics are appended to its path),
 * OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT (used as-is), _HEADERS,
 * _TIMEOUT, _COMPRESSION and _PROTOCOL (generic and per signal; only
 * http/protobuf is supported), OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER
 * ("none" disables a signal; "otlp" with no endpoint uses
 * http://localhost:4318), OTEL_SDK_DISABLED, OTEL_METRIC_EXPORT_INTERVAL and
 * _TIMEOUT, OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES. Empty variables count as
 * unset; a value that does not parse is logged (rt_warn) and ignored, as the
 * specification asks. No endpoint at all disables both signals (returns 0).
 * Returns -EINVAL with one sentence in err for an unsupported protocol or
 * an endpoint that is not an http:// or https:// URL (or too long).
 */
int otlp_config_from_env(struct otlp_config *c, char *err, size_t errlen);

struct otlp_exporter;

/*
 * Starts the exporter thread(s): traces when c->traces_url is set, metrics
 * when c->metrics_url is set and reg is not NULL. Returns NULL and errno:
 * EINVAL (a URL libcurl rejects), ENOMEM, or the pthread_create error.
 */
struct otlp_exporter *otlp_exporter_new(const struct otlp_config *c, struct metric_registry *reg);

/*
 * Queues a copy of a finished span. Never blocks on I/O: when the queue is
 * full the OLDEST queued span is dropped and counted. A no-op when traces are
 * disabled or e is NULL.
 */
void otlp_export_span(struct otlp_exporter *e, const struct span *s);

/*
 * Queues a copy of a log record (logs.h), like a span: never blocks on I/O,
 * the OLDEST queued record is dropped and counted when the queue is full.
 * A no-op when logs are disabled (no logs_url) or e is NULL.
 */
void otlp_export_log(struct otlp_exporter *e, const struct log_record *r);

/*
 * Sends what it can within timeout_ms (the queued spans, and one last
 * metrics export), then stops the threads and frees everything. Spans still
 * queued then are counted as dropped. NULL is ok.
 */
void otlp_exporter_free(struct otlp_exporter *e, unsigned timeout_ms);

struct otlp_stats {
	uint64_t spans_exported;  /* accepted by the collector (minus partial rejects) */
	uint64_t spans_dropped;	  /* queue overflow, and batches that could not be delivered */
	uint64_t metrics_exports; /* successful metrics requests */
	uint64_t export_errors[OTLP_SIGNALS]; /* failed batches, by enum otlp_signal */
	uint64_t retries;		      /* requests sent again after a retryable failure */
	uint64_t logs_exported;		      /* log records accepted by the collector */
	uint64_t logs_dropped; /* queue overflow, and batches that could not be delivered */
};

/* A consistent-enough copy of the counters (each one read atomically). */
void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *out);

#endif /* REDTAP_OTLP_H */
