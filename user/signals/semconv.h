/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * semconv.h - the one table of OpenTelemetry semantic conventions redtap
 * uses: attribute keys (with their type), and metric names, UCUM units,
 * instrument kinds, advised bucket boundaries and attribute lists. Every
 * other spelling is derived from it:
 *
 *  - Prometheus names follow the OpenTelemetry "Prometheus and OpenMetrics
 *    compatibility" rules: characters outside [a-zA-Z0-9_:] become '_'
 *    (runs of '_' collapse, leading and trailing ones go); the UCUM unit
 *    becomes a word appended as a suffix unless the name already ends with
 *    it ("s" -> _seconds, "By" -> _bytes; "1" -> _ratio for gauges only;
 *    annotations such as "{request}" are dropped); counters are declared
 *    without "_total", which the registry adds on exposition. Label names
 *    are attribute keys with the same character rule (http.route ->
 *    http_route).
 *  - OTLP uses the table as is (metric_family_semconv() on a family).
 *  - Spans store attribute ids (enum semconv_attr), not key strings.
 *
 * API: static const tables and pure functions; thread-safe. Families are
 * declared with semconv_family_new(), which derives the Prometheus names
 * and attaches the entry to the family for the exporters.
 */
#ifndef REDTAP_SEMCONV_H
#define REDTAP_SEMCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* Attribute ids: spans and metric entries refer to keys by these. */
enum semconv_attr {
	SC_NONE, /* not an attribute: a span attribute slot never holds it */
	SC_SERVICE_NAME,
	SC_HTTP_REQUEST_METHOD,
	SC_HTTP_RESPONSE_STATUS_CODE,
	SC_HTTP_ROUTE,
	SC_URL_PATH,
	SC_URL_TEMPLATE,
	SC_ERROR_TYPE,
	SC_SERVER_ADDRESS,
	SC_SERVER_PORT,
	SC_CLIENT_ADDRESS,
	SC_NETWORK_PEER_ADDRESS,
	SC_NETWORK_PEER_PORT,
	SC_NETWORK_PROTOCOL_NAME,
	SC_DB_SYSTEM_NAME,
	SC_DB_OPERATION_NAME,
	SC_DB_NAMESPACE,
	SC_DB_QUERY_SUMMARY,
	SC_DB_QUERY_TEXT,
	SC_DB_RESPONSE_STATUS_CODE,
	SC_OTEL_METRIC_OVERFLOW,
	SC_SAMPLING_RULE, /* why the tail decision kept a trace (tracer.h) */
	/* request-derived attributes: keys set at start (semconv_set_request_keys) */
	SC_REQUEST_ATTR0,
	SC_REQUEST_ATTR_LAST = SC_REQUEST_ATTR0 + 3,
	/* bounded metric labels of request attributes (reqlabels.h): keys set at
	 * start (semconv_set_label_keys); on /metrics left out when empty */
	SC_REQUEST_LABEL0,
	SC_REQUEST_LABEL_LAST = SC_REQUEST_LABEL0 + 3,
	/* redtap's own metrics: plain keys, so the labels read the same */
	SC_REDTAP_VERSION,
	SC_REDTAP_REVISION,
	SC_REDTAP_TYPE,
	SC_REDTAP_REASON,
	SC_REDTAP_PROTOCOL,
	SC_REDTAP_SIGNAL,
	SC_REDTAP_METRIC,
	/* HTTP/2 and gRPC (http2.h) */
	SC_NETWORK_PROTOCOL_VERSION,
	SC_RPC_SYSTEM,
	SC_RPC_SERVICE,
	SC_RPC_METHOD,
	SC_RPC_GRPC_STATUS_CODE,
	/* go-grpc-prometheus' labels, for the grpc_server_handling_seconds family */
	SC_GRPC_TYPE,
	SC_GRPC_SERVICE,
	SC_GRPC_METHOD,
	SC_GRPC_CODE,
	/* Kubernetes labels of metrics (podmeta.h), in podmeta_label_values() order;
	 * on /metrics a label with an empty value is left out (semconv_omit_empty) */
	SC_K8S_NAMESPACE_NAME,
	SC_K8S_DEPLOYMENT_NAME,
	SC_K8S_STATEFULSET_NAME,
	SC_K8S_POD_NAME,
	/* resource attributes (otlp_resource.c) */
	SC_K8S_POD_UID,
	SC_K8S_CONTAINER_NAME,
	SC_K8S_POD_QOS_CLASS,  /* redtap's: the conventions have no key for it yet */
	SC_K8S_DAEMONSET_NAME, /* owners only the pod list option knows (k8sapi.h) */
	SC_K8S_JOB_NAME,
	SC_CONTAINER_ID,
	SC_HOST_NAME,
	SC_HOST_ARCH,
	SC_OS_TYPE,
	/* process and Go runtime metrics (procmetrics.h) */
	SC_CPU_MODE,
	SC_GO_MEMORY_TYPE,
	/* zero-code logs (logs.h): plain keys, the conventions have no attribute
	 * for a record's severity (it is a field of the record) */
	SC_LOG_SEVERITY,
	SC_REDTAP_OUTCOME,
	/* HTTP: "https" on a connection whose bytes came from TLS probes */
	SC_URL_SCHEME,
	SC_REDTAP_STACK,   /* a TLS stack (tlsscan.h) */
	SC_REDTAP_PROGRAM, /* one of the agent's BPF programs (selfmetrics.h) */
	SC_ATTR_COUNT
};

/* The request labels of the HTTP duration entries (reqlabels.h), before the
 * Kubernetes ones. */
#define SC_REQUEST_LABELS                                                                          \
	SC_REQUEST_LABEL0, SC_REQUEST_LABEL0 + 1, SC_REQUEST_LABEL0 + 2, SC_REQUEST_LABEL_LAST

/* Appended to the attributes of the HTTP and database entries (k8slabels.h). */
#define SC_K8S_LABELS                                                                              \
	SC_K8S_NAMESPACE_NAME, SC_K8S_DEPLOYMENT_NAME, SC_K8S_STATEFULSET_NAME, SC_K8S_POD_NAME

/* The OpenTelemetry key of an attribute ("" for SC_NONE and out of range). */
const char *semconv_key(enum semconv_attr a);
/* Whether the conventions type the attribute as an integer (ports, HTTP status). */
bool semconv_is_int(enum semconv_attr a);

/* The keys of SC_REQUEST_ATTR0 + i (traces.header_attributes), at most
 * SEMCONV_REQUEST_KEY_MAX bytes each; the rest read "". Process-wide: call
 * it before any span is exported. -EINVAL for too many or too long keys. */
#define SEMCONV_REQUEST_KEYS	4
#define SEMCONV_REQUEST_KEY_MAX 32
int semconv_set_request_keys(const char *const *keys, size_t n);
/* The keys of SC_REQUEST_LABEL0 + i (traces.attribute_labels), same bounds;
 * a slot without a key reads "redtap.request_label.<i>" (its values are
 * always empty, so it never shows). Before the families are declared. */
int semconv_set_label_keys(const char *const *keys, size_t n);
/* Whether a label of this attribute is left out of /metrics when its value is
 * empty (the Kubernetes labels and the request labels: output without them
 * stays as it was). */
bool semconv_omit_empty(enum semconv_attr a);

/* One metric as the conventions declare it. */
struct semconv_metric {
	const char *name;  /* OpenTelemetry name, e.g. "http.server.request.duration" */
	const char *unit;  /* UCUM, e.g. "s", "{request}"; "" when none */
	const char *brief; /* the description (HELP) */
	enum metric_type type;
	const double *buckets; /* histograms: advised explicit bounds */
	size_t nbuckets;
	const enum semconv_attr *attrs; /* label order of the family */
	size_t nattrs;
};

/* The positions in m's attribute list (its label order) of the attributes of
 * which, as bits: bit i set when m->attrs[i] is one of them. Positions past
 * 63 are left out. Lets a caller name labels by attribute, never by number. */
uint64_t semconv_attr_mask(const struct semconv_metric *m, const enum semconv_attr *which,
			   size_t n);

/* The conventions' entries (http.*, db.*) and redtap's own (redtap.*). */
extern const struct semconv_metric semconv_http_server_request_duration;
extern const struct semconv_metric semconv_http_client_request_duration;
extern const struct semconv_metric semconv_http_server_active_requests;
extern const struct semconv_metric semconv_db_client_operation_duration;
extern const struct semconv_metric semconv_rpc_server_duration;
extern const struct semconv_metric semconv_rpc_client_duration;
extern const struct semconv_metric semconv_grpc_server_handling;
extern const struct semconv_metric semconv_redtap_build_info;
extern const struct semconv_metric semconv_redtap_events_received;
extern const struct semconv_metric semconv_redtap_process_cpu_time;
extern const struct semconv_metric semconv_redtap_process_memory_usage;
extern const struct semconv_metric semconv_redtap_bpf_program_run_time;
extern const struct semconv_metric semconv_redtap_bpf_program_runs;
extern const struct semconv_metric semconv_redtap_kernel_events_dropped;
extern const struct semconv_metric semconv_redtap_parse_errors;
extern const struct semconv_metric semconv_redtap_connections_untracked;
extern const struct semconv_metric semconv_redtap_connections_recreated;
extern const struct semconv_metric semconv_redtap_processes_untracked;
extern const struct semconv_metric semconv_redtap_shim_events_dropped;
extern const struct semconv_metric semconv_redtap_instrumented_processes;
extern const struct semconv_metric semconv_redtap_otlp_export_errors;
extern const struct semconv_metric semconv_redtap_otlp_dropped;
extern const struct semconv_metric semconv_redtap_otlp_exported;
extern const struct semconv_metric semconv_redtap_metric_series;
extern const struct semconv_metric semconv_redtap_metric_series_overflow;
extern const struct semconv_metric semconv_redtap_metric_series_evicted;
extern const struct semconv_metric semconv_redtap_shim_rejected;
extern const struct semconv_metric semconv_redtap_go_goroutine_unknown;
extern const struct semconv_metric semconv_redtap_tls_unsupported_processes;
extern const struct semconv_metric semconv_redtap_sql_summaries_skipped;
extern const struct semconv_metric semconv_redtap_http_requests_unseen;
extern const struct semconv_metric semconv_redtap_connections_own;
extern const struct semconv_metric semconv_redtap_traces_budget_dropped;
extern const struct semconv_metric semconv_process_cpu_time;
extern const struct semconv_metric semconv_process_memory_usage;
extern const struct semconv_metric semconv_process_thread_count;
extern const struct semconv_metric semconv_process_unix_file_descriptor_count;
extern const struct semconv_metric semconv_go_goroutine_count;
extern const struct semconv_metric semconv_go_processor_limit;
extern const struct semconv_metric semconv_go_memory_gc_goal;
extern const struct semconv_metric semconv_go_memory_heap_live;
extern const struct semconv_metric semconv_go_gc_cycles;
extern const struct semconv_metric semconv_go_gc_pause_time;
extern const struct semconv_metric semconv_go_memory_used;
extern const struct semconv_metric semconv_go_memory_allocated;
extern const struct semconv_metric semconv_redtap_go_runtime_unread;
extern const struct semconv_metric semconv_log_records;
extern const struct semconv_metric semconv_redtap_log_lines;

/* Enough for any derived name (longer names are refused with -ENAMETOOLONG). */
#define SEMCONV_NAME_MAX 128

/*
 * The Prometheus spelling of an OpenTelemetry name (metric or attribute key)
 * by the character rule, into out. Returns 0, -EINVAL when nothing is left,
 * or -ENAMETOOLONG.
 */
int semconv_prom_sanitize(const char *otel, char *out, size_t outlen);

/* The Prometheus unit word of a UCUM unit for a family of this type (see
 * above), or NULL when the unit adds no suffix. */
const char *semconv_prom_unit(const char *ucum, enum metric_type type);

/* The UCUM unit of a Prometheus unit word (the table above read backwards,
 * for families declared without an entry); "" for NULL, the word itself
 * when unknown. */
const char *semconv_ucum_unit(const char *prom_unit);

/* The Prometheus family name of an entry (without a counter's _total). Same
 * returns as semconv_prom_sanitize(). */
int semconv_prom_name(const struct semconv_metric *m, char *out, size_t outlen);

/*
 * Declares the entry's family in a registry (metric_family_new_sc() with the
 * derived names; the family points back at m, which must be static). NULL and
 * errno as metric_family_new(), or ENAMETOOLONG.
 */
struct metric_family *semconv_family_new(struct metric_registry *r, const struct semconv_metric *m,
					 size_t max_series);

#endif /* REDTAP_SEMCONV_H */
