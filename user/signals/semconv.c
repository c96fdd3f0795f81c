// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * semconv.c - the semantic-conventions table (attribute keys, metric
 * entries) and the OpenTelemetry-to-Prometheus name derivation. See
 * semconv.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "semconv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *key;
	bool is_int;
} attrs[SC_ATTR_COUNT] = {
    [SC_NONE] = {"", false},
    [SC_SERVICE_NAME] = {"service.name", false},
    [SC_HTTP_REQUEST_METHOD] = {"http.request.method", false},
    [SC_HTTP_RESPONSE_STATUS_CODE] = {"http.response.status_code", true},
    [SC_HTTP_ROUTE] = {"http.route", false},
    [SC_URL_PATH] = {"url.path", false},
    [SC_URL_TEMPLATE] = {"url.template", false},
    [SC_ERROR_TYPE] = {"error.type", false},
    [SC_SERVER_ADDRESS] = {"server.address", false},
    [SC_SERVER_PORT] = {"server.port", true},
    [SC_CLIENT_ADDRESS] = {"client.address", false},
    [SC_NETWORK_PEER_ADDRESS] = {"network.peer.address", false},
    [SC_NETWORK_PEER_PORT] = {"network.peer.port", true},
    [SC_NETWORK_PROTOCOL_NAME] = {"network.protocol.name", false},
    [SC_DB_SYSTEM_NAME] = {"db.system.name", false},
    [SC_DB_OPERATION_NAME] = {"db.operation.name", false},
    [SC_DB_NAMESPACE] = {"db.namespace", false},
    [SC_DB_QUERY_SUMMARY] = {"db.query.summary", false},
    [SC_DB_QUERY_TEXT] = {"db.query.text", false},
    [SC_DB_RESPONSE_STATUS_CODE] = {"db.response.status_code", false},
    [SC_OTEL_METRIC_OVERFLOW] = {"otel.metric.overflow", false},
    [SC_SAMPLING_RULE] = {"sampling.rule", false},
    [SC_REDTAP_VERSION] = {"version", false},
    [SC_REDTAP_REVISION] = {"revision", false},
    [SC_REDTAP_TYPE] = {"type", false},
    [SC_REDTAP_REASON] = {"reason", false},
    [SC_REDTAP_PROTOCOL] = {"protocol", false},
    [SC_REDTAP_SIGNAL] = {"signal", false},
    [SC_REDTAP_METRIC] = {"metric", false},
    [SC_NETWORK_PROTOCOL_VERSION] = {"network.protocol.version", false},
    [SC_RPC_SYSTEM] = {"rpc.system", false},
    [SC_RPC_SERVICE] = {"rpc.service", false},
    [SC_RPC_METHOD] = {"rpc.method", false},
    [SC_RPC_GRPC_STATUS_CODE] = {"rpc.grpc.status_code", true},
    [SC_GRPC_TYPE] = {"grpc_type", false},
    [SC_GRPC_SERVICE] = {"grpc_service", false},
    [SC_GRPC_METHOD] = {"grpc_method", false},
    [SC_GRPC_CODE] = {"grpc_code", false},
    [SC_K8S_NAMESPACE_NAME] = {"k8s.namespace.name", false},
    [SC_K8S_DEPLOYMENT_NAME] = {"k8s.deployment.name", false},
    [SC_K8S_STATEFULSET_NAME] = {"k8s.statefulset.name", false},
    [SC_K8S_POD_NAME] = {"k8s.pod.name", false},
    [SC_K8S_POD_UID] = {"k8s.pod.uid", false},
    [SC_K8S_CONTAINER_NAME] = {"k8s.container.name", false},
    [SC_K8S_POD_QOS_CLASS] = {"k8s.pod.qos_class", false},
    [SC_K8S_DAEMONSET_NAME] = {"k8s.daemonset.name", false},
    [SC_K8S_JOB_NAME] = {"k8s.job.name", false},
    [SC_CONTAINER_ID] = {"container.id", false},
    [SC_HOST_NAME] = {"host.name", false},
    [SC_HOST_ARCH] = {"host.arch", false},
    [SC_OS_TYPE] = {"os.type", false},
    [SC_CPU_MODE] = {"cpu.mode", false},
    [SC_GO_MEMORY_TYPE] = {"go.memory.type", false},
    [SC_LOG_SEVERITY] = {"severity", false},
    [SC_REDTAP_OUTCOME] = {"outcome", false},
    [SC_URL_SCHEME] = {"url.scheme", false},
    [SC_REDTAP_STACK] = {"stack", false},
    [SC_REDTAP_PROGRAM] = {"program", false},
};

static char request_keys[SEMCONV_REQUEST_KEYS][SEMCONV_REQUEST_KEY_MAX + 1];

_Static_assert(SC_REQUEST_ATTR_LAST - SC_REQUEST_ATTR0 + 1 == SEMCONV_REQUEST_KEYS,
	       "one id per request key");

int semconv_set_request_keys(const char *const *keys, size_t n)
{
	if (n > SEMCONV_REQUEST_KEYS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strlen(keys[i]) > SEMCONV_REQUEST_KEY_MAX)
			return -EINVAL;
	for (size_t i = 0; i < SEMCONV_REQUEST_KEYS; i++)
		strcpy(request_keys[i], i < n ? keys[i] : "");
	return 0;
}

#define NLABEL_KEYS (SC_REQUEST_LABEL_LAST - SC_REQUEST_LABEL0 + 1)
static char label_keys[NLABEL_KEYS][SEMCONV_REQUEST_KEY_MAX + 1] = {
    "redtap.request_label.0", "redtap.request_label.1", "redtap.request_label.2",
    "redtap.request_label.3"};

_Static_assert(NLABEL_KEYS == SEMCONV_REQUEST_KEYS, "one label id per request key");

int semconv_set_label_keys(const char *const *keys, size_t n)
{
	if (n > NLABEL_KEYS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!keys[i][0] || strlen(keys[i]) > SEMCONV_REQUEST_KEY_MAX)
			return -EINVAL;
	for (size_t i = 0; i < NLABEL_KEYS; i++) {
		if (i < n)
			strcpy(label_keys[i], keys[i]);
		else
			snprintf(label_keys[i], sizeof(label_keys[i]), "redtap.request_label.%zu",
				 i);
	}
	return 0;
}

const char *semconv_key(enum semconv_attr a)
{
	if (a >= SC_REQUEST_ATTR0 && a <= SC_REQUEST_ATTR_LAST)
		return request_keys[a - SC_REQUEST_ATTR0];
	if (a >= SC_REQUEST_LABEL0 && a <= SC_REQUEST_LABEL_LAST)
		return label_keys[a - SC_REQUEST_LABEL0];
	return (unsigned)a < SC_ATTR_COUNT ? attrs[a].key : "";
}

bool semconv_omit_empty(enum semconv_attr a)
{
	return (a >= SC_K8S_NAMESPACE_NAME && a <= SC_K8S_POD_NAME) ||
	       (a >= SC_REQUEST_LABEL0 && a <= SC_REQUEST_LABEL_LAST);
}

bool semconv_is_int(enum semconv_attr a)
{
	return (unsigned)a < SC_ATTR_COUNT && attrs[a].is_int;
}

/* ---- metrics ---- */

#define ATTRS(...)                                                                                 \
	.attrs = (const enum semconv_attr[]){__VA_ARGS__},                                         \
	.nattrs = sizeof((const enum semconv_attr[]){__VA_ARGS__}) / sizeof(enum semconv_attr)

uint64_t semconv_attr_mask(const struct semconv_metric *m, const enum semconv_attr *which, size_t n)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < m->nattrs && i < 64; i++)
		for (size_t j = 0; j < n; j++)
			if (m->attrs[i] == which[j])
				mask |= 1ull << i;
	return mask;
}

/* Advice of the HTTP and database conventions for their durations, in seconds. */
static const double http_duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					       0.5,   0.75, 1,	   2.5,	 5,	7.5, 10};
static const double db_duration_buckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

const struct semconv_metric semconv_http_server_request_duration = {
    .name = "http.server.request.duration",
    .unit = "s",
    .brief = "Duration of HTTP server requests.",
    .type = METRIC_HISTOGRAM,
    .buckets = http_duration_buckets,
    .nbuckets = NELEM(http_duration_buckets),
    ATTRS(SC_SERVICE_NAME, SC_HTTP_REQUEST_METHOD, SC_HTTP_RESPONSE_STATUS_CODE, SC_HTTP_ROUTE,
	  SC_ERROR_TYPE, SC_NETWORK_PROTOCOL_VERSION, SC_URL_SCHEME, SC_REQUEST_LABELS,
	  SC_K8S_LABELS),
};

/* url.scheme is Required on the server entries and Opt-In here: two values,
 * implied by server.port in practice, so it adds no series of its own. */
const struct semconv_metric semconv_http_client_request_duration = {
    .name = "http.client.request.duration",
    .unit = "s",
    .brief = "Duration of HTTP client requests.",
    .type = METRIC_HISTOGRAM,
    .buckets = http_duration_buckets,
    .nbuckets = NELEM(http_duration_buckets),
    ATTRS(SC_SERVICE_NAME, SC_HTTP_REQUEST_METHOD, SC_HTTP_RESPONSE_STATUS_CODE, SC_HTTP_ROUTE,
	  SC_ERROR_TYPE, SC_SERVER_ADDRESS, SC_SERVER_PORT, SC_NETWORK_PROTOCOL_VERSION,
	  SC_URL_SCHEME, SC_REQUEST_LABELS, SC_K8S_LABELS),
};

/* An UpDownCounter in the conventions: a gauge in the registry. */
const struct semconv_metric semconv_http_server_active_requests = {
    .name = "http.server.active_requests",
    .unit = "{request}",
    .brief = "Number of active HTTP server requests.",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME, SC_HTTP_REQUEST_METHOD, SC_URL_SCHEME, SC_K8S_LABELS),
};

const struct semconv_metric semconv_db_client_operation_duration = {
    .name = "db.client.operation.duration",
    .unit = "s",
    .brief = "Duration of database client operations.",
    .type = METRIC_HISTOGRAM,
    .buckets = db_duration_buckets,
    .nbuckets = NELEM(db_duration_buckets),
    ATTRS(SC_SERVICE_NAME, SC_DB_SYSTEM_NAME, SC_DB_OPERATION_NAME, SC_DB_NAMESPACE,
	  SC_SERVER_ADDRESS, SC_SERVER_PORT, SC_ERROR_TYPE, SC_DB_RESPONSE_STATUS_CODE,
	  SC_DB_QUERY_SUMMARY, SC_K8S_LABELS),
};

/* RPC conventions; seconds like the HTTP ones (the "ms" of older
 * versions of the conventions would make a second Prometheus unit). */
const struct semconv_metric semconv_rpc_server_duration = {
    .name = "rpc.server.duration",
    .unit = "s",
    .brief = "Duration of RPCs served (gRPC: from the request's HEADERS to the end of the stream).",
    .type = METRIC_HISTOGRAM,
    .buckets = http_duration_buckets,
    .nbuckets = NELEM(http_duration_buckets),
    ATTRS(SC_SERVICE_NAME, SC_RPC_SYSTEM, SC_RPC_SERVICE, SC_RPC_METHOD, SC_RPC_GRPC_STATUS_CODE,
	  SC_ERROR_TYPE, SC_NETWORK_PROTOCOL_VERSION),
};

const struct semconv_metric semconv_rpc_client_duration = {
    .name = "rpc.client.duration",
    .unit = "s",
    .brief = "Duration of RPCs made (gRPC: from the request's HEADERS to the end of the stream).",
    .type = METRIC_HISTOGRAM,
    .buckets = http_duration_buckets,
    .nbuckets = NELEM(http_duration_buckets),
    ATTRS(SC_SERVICE_NAME, SC_RPC_SYSTEM, SC_RPC_SERVICE, SC_RPC_METHOD, SC_RPC_GRPC_STATUS_CODE,
	  SC_ERROR_TYPE, SC_SERVER_ADDRESS, SC_SERVER_PORT, SC_NETWORK_PROTOCOL_VERSION),
};

/* Not a convention: go-grpc-prometheus' grpc_server_handling_seconds, with
 * its labels, bucket bounds (Prometheus' defaults) and code names, for the
 * dashboards built on it. A family rather than a recording rule: grpc_code
 * is a name where rpc.grpc.status_code is a number, and grpc_type is not an
 * attribute of the conventions at all. */
static const double grpc_handling_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					       0.5,   1,    2.5,   5,	 10};

const struct semconv_metric semconv_grpc_server_handling = {
    .name = "grpc.server.handling",
    .unit = "s",
    .brief = "Histogram of response latency of gRPC calls handled by the server "
	     "(go-grpc-prometheus compatible).",
    .type = METRIC_HISTOGRAM,
    .buckets = grpc_handling_buckets,
    .nbuckets = NELEM(grpc_handling_buckets),
    ATTRS(SC_SERVICE_NAME, SC_GRPC_TYPE, SC_GRPC_SERVICE, SC_GRPC_METHOD, SC_GRPC_CODE),
};

const struct semconv_metric semconv_redtap_build_info = {
    .name = "redtap.build_info",
    .unit = "",
    .brief = "redtap build information; the value is 1.",
    .type = METRIC_GAUGE,
    ATTRS(SC_REDTAP_VERSION, SC_REDTAP_REVISION),
};

const struct semconv_metric semconv_redtap_events_received = {
    .name = "redtap.events.received",
    .unit = "{event}",
    .brief = "Records received from the kernel ring buffer, by type.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_TYPE),
};

const struct semconv_metric semconv_redtap_kernel_events_dropped = {
    .name = "redtap.kernel.events.dropped",
    .unit = "{event}",
    .brief = "Events the kernel side could not deliver, by reason.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_REASON),
};

const struct semconv_metric semconv_redtap_parse_errors = {
    .name = "redtap.parse.errors",
    .unit = "{error}",
    .brief = "Connections or records the parsers gave up on, by protocol and reason.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_PROTOCOL, SC_REDTAP_REASON),
};

const struct semconv_metric semconv_redtap_connections_untracked = {
    .name = "redtap.connections.untracked",
    .unit = "{connection}",
    .brief = "Connections not tracked because the connection table was full.",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_connections_recreated = {
    .name = "redtap.connections.recreated",
    .unit = "{connection}",
    .brief = "Kernel connection entries evicted while their socket lived and re-created; the "
	     "connection went on.",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_processes_untracked = {
    .name = "redtap.processes.untracked",
    .unit = "{process}",
    .brief = "Processes the process table had no room for (selected ones are captured all the "
	     "same, under unknown_service).",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_shim_events_dropped = {
    .name = "redtap.shim.events.dropped",
    .unit = "{event}",
    .brief = "Shim events lost on the way to the agent.",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_instrumented_processes = {
    .name = "redtap.instrumented.processes",
    .unit = "{process}",
    .brief = "Processes selected for instrumentation (or seen with traffic when every process "
	     "is instrumented).",
    .type = METRIC_GAUGE,
};

const struct semconv_metric semconv_redtap_otlp_export_errors = {
    .name = "redtap.otlp.export.errors",
    .unit = "{request}",
    .brief = "OTLP export requests that failed for good, by signal.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_SIGNAL),
};

const struct semconv_metric semconv_redtap_otlp_dropped = {
    .name = "redtap.otlp.dropped",
    .unit = "{span}",
    .brief = "Spans dropped before export (queue full or delivery failed).",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_SIGNAL),
};

const struct semconv_metric semconv_redtap_otlp_exported = {
    .name = "redtap.otlp.exported",
    .unit = "{span}",
    .brief = "Spans accepted by the OTLP endpoint.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_SIGNAL),
};

const struct semconv_metric semconv_redtap_metric_series = {
    .name = "redtap.metric.series",
    .unit = "{series}",
    .brief = "Active series per metric, the overflow series excluded.",
    .type = METRIC_GAUGE,
    ATTRS(SC_REDTAP_METRIC),
};

const struct semconv_metric semconv_redtap_metric_series_overflow = {
    .name = "redtap.metric.series.overflow",
    .unit = "{observation}",
    .brief = "Observations folded into the overflow series because the metric reached its "
	     "series cap.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_METRIC),
};

const struct semconv_metric semconv_redtap_metric_series_evicted = {
    .name = "redtap.metric.series.evicted",
    .unit = "{series}",
    .brief = "Series removed to give a service below its fair share of a full metric room.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_METRIC),
};

const struct semconv_metric semconv_redtap_tls_unsupported_processes = {
    .name = "redtap.tls.unsupported.processes",
    .unit = "{process}",
    .brief = "Selected processes whose executable, or a shared library they map, carries a TLS "
	     "stack the OpenSSL probes cannot see (boringssl, rustls, openssl_static, "
	     "openssl_exported): detected, not probed; their connections stay opaque.",
    .type = METRIC_GAUGE,
    ATTRS(SC_REDTAP_STACK),
};

const struct semconv_metric semconv_redtap_go_goroutine_unknown = {
    .name = "redtap.go.goroutine.unknown",
    .unit = "{event}",
    .brief = "Go work parented by thread instead of goroutine, by reason: records whose "
	     "goroutine could not be read (read_fault, system_goroutine) and Go processes "
	     "whose goid offset or TLS mode is unknown (no_offsets) or whose executable "
	     "waits for the reading budget (inspect_budget).",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_REASON),
};

const struct semconv_metric semconv_redtap_shim_rejected = {
    .name = "redtap.shim.rejected",
    .unit = "{record}",
    .brief = "Shim hellos refused (unverified acknowledgement address, table full) and drop "
	     "reports cut as implausible, by reason.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_REASON),
};

const struct semconv_metric semconv_redtap_http_requests_unseen = {
    .name = "redtap.http.requests.unseen",
    .unit = "{request}",
    .brief = "HTTP/1 responses counted for requests a capture gap hid (pipelined past the "
	     "captured prefix): method _OTHER, route _unseen.",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_connections_own = {
    .name = "redtap.connections.own",
    .unit = "{connection}",
    .brief = "Connections left out because the agent is their other end (its OTLP export to "
	     "a selected collector on this node).",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_traces_budget_dropped = {
    .name = "redtap.traces.budget.dropped",
    .unit = "{span}",
    .brief = "Spans of traces the tail decision kept but the per-node span budget "
	     "(traces.budget) dropped.",
    .type = METRIC_COUNTER,
};

const struct semconv_metric semconv_redtap_sql_summaries_skipped = {
    .name = "redtap.sql.summaries.skipped",
    .unit = "{statement}",
    .brief = "Statements summarised by the tokenizer only, because the SQL parser's time budget "
	     "was spent or the text too long or deep.",
    .type = METRIC_COUNTER,
};

/* What the agent itself costs (selfmetrics.c): its own process under the
 * process.* conventions' names and units, in the redtap namespace so that
 * they never mix with the instrumented services' process.* series, and the
 * time the kernel spent in its BPF programs (the instrumented processes'
 * syscalls and probes run them), counted while kernel.bpf_stats_enabled is 1. */
const struct semconv_metric semconv_redtap_process_cpu_time = {
    .name = "redtap.process.cpu.time",
    .unit = "s",
    .brief = "CPU seconds used by the agent's own process, by mode (user, system).",
    .type = METRIC_COUNTER,
    ATTRS(SC_CPU_MODE),
};

const struct semconv_metric semconv_redtap_process_memory_usage = {
    .name = "redtap.process.memory.usage",
    .unit = "By",
    .brief = "Resident memory of the agent's own process.",
    .type = METRIC_GAUGE,
};

const struct semconv_metric semconv_redtap_bpf_program_run_time = {
    .name = "redtap.bpf.program.run.time",
    .unit = "s",
    .brief = "Time the kernel spent running each of the agent's BPF programs, counted "
	     "while kernel.bpf_stats_enabled is 1.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_PROGRAM),
};

const struct semconv_metric semconv_redtap_bpf_program_runs = {
    .name = "redtap.bpf.program.runs",
    .unit = "{run}",
    .brief = "Runs of each of the agent's BPF programs, counted while "
	     "kernel.bpf_stats_enabled is 1.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_PROGRAM),
};

/* OS process metrics (procmetrics.c): the conventions' names, summed over
 * the processes of a service. UpDownCounters are gauges in the registry. */
const struct semconv_metric semconv_process_cpu_time = {
    .name = "process.cpu.time",
    .unit = "s",
    .brief = "Total CPU seconds of the service's processes, by mode (user, system).",
    .type = METRIC_COUNTER,
    ATTRS(SC_SERVICE_NAME, SC_CPU_MODE),
};

const struct semconv_metric semconv_process_memory_usage = {
    .name = "process.memory.usage",
    .unit = "By",
    .brief = "Resident memory of the service's processes.",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_process_thread_count = {
    .name = "process.thread.count",
    .unit = "{thread}",
    .brief = "Threads of the service's processes.",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_process_unix_file_descriptor_count = {
    .name = "process.unix.file_descriptor.count",
    .unit = "{file_descriptor}",
    .brief = "Open file descriptors of the service's processes.",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

/* Go runtime metrics (goruntime.h), summed over the Go processes of a
 * service: the conventions' go.* names where they have one; go.memory.heap.live,
 * go.gc.cycles and go.gc.pause.time are redtap's, in the same namespace. */
const struct semconv_metric semconv_go_goroutine_count = {
    .name = "go.goroutine.count",
    .unit = "{goroutine}",
    .brief = "Count of live goroutines (as runtime.NumGoroutine counts them).",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_go_processor_limit = {
    .name = "go.processor.limit",
    .unit = "{thread}",
    .brief = "The number of OS threads that can execute user-level Go code simultaneously "
	     "(GOMAXPROCS).",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_go_memory_gc_goal = {
    .name = "go.memory.gc.goal",
    .unit = "By",
    .brief = "Heap size target for the end of the GC cycle (MemStats.NextGC).",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_go_memory_heap_live = {
    .name = "go.memory.heap.live",
    .unit = "By",
    .brief = "Heap bytes live at the last GC plus allocated since (runtime gcController.heapLive, "
	     "close to MemStats.HeapAlloc).",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_go_gc_cycles = {
    .name = "go.gc.cycles",
    .unit = "{gc_cycle}",
    .brief = "Completed GC cycles (MemStats.NumGC).",
    .type = METRIC_COUNTER,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_go_gc_pause_time = {
    .name = "go.gc.pause.time",
    .unit = "s",
    .brief = "Total stop-the-world GC pause time (MemStats.PauseTotalNs).",
    .type = METRIC_COUNTER,
    ATTRS(SC_SERVICE_NAME),
};

/* An UpDownCounter in the conventions: a gauge in the registry. */
const struct semconv_metric semconv_go_memory_used = {
    .name = "go.memory.used",
    .unit = "By",
    .brief = "Memory used by the Go runtime (MemStats.Sys - MemStats.HeapReleased), by "
	     "go.memory.type: stack (MemStats.StackInuse), other (the rest).",
    .type = METRIC_GAUGE,
    ATTRS(SC_SERVICE_NAME, SC_GO_MEMORY_TYPE),
};

const struct semconv_metric semconv_go_memory_allocated = {
    .name = "go.memory.allocated",
    .unit = "By",
    .brief = "Memory allocated to the heap by the application (MemStats.TotalAlloc).",
    .type = METRIC_COUNTER,
    ATTRS(SC_SERVICE_NAME),
};

const struct semconv_metric semconv_redtap_go_runtime_unread = {
    .name = "redtap.go.runtime.unread",
    .unit = "{process}",
    .brief = "Go processes whose runtime metrics are not read, by reason: no_symbols (stripped, "
	     "-s), no_offsets (no DWARF and a Go version the table does not know), read_fault "
	     "(a read of its memory failed or gave implausible values; counted per read).",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_REASON),
};

/* Zero-code logs (logs.c): log.records is redtap's (the conventions have no
 * count of log records); severity is the record's severity text. */
const struct semconv_metric semconv_log_records = {
    .name = "log.records",
    .unit = "{record}",
    .brief = "Log lines the applications wrote, by service and severity (zero-code log capture).",
    .type = METRIC_COUNTER,
    ATTRS(SC_SERVICE_NAME, SC_LOG_SEVERITY),
};

const struct semconv_metric semconv_redtap_log_lines = {
    .name = "redtap.log.lines",
    .unit = "{line}",
    .brief = "Log lines of zero-code log capture, by outcome.",
    .type = METRIC_COUNTER,
    ATTRS(SC_REDTAP_OUTCOME),
};

/* ---- OpenTelemetry -> Prometheus ---- */

/* UCUM units and their Prometheus words (the compatibility spec's table, in part). */
static const struct {
	const char *ucum, *word;
} units[] = {
    {"d", "days"},	    {"h", "hours"},	    {"min", "minutes"},	   {"s", "seconds"},
    {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"},
    {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"}, {"KBy", "kilobytes"},
    {"MBy", "megabytes"},   {"GBy", "gigabytes"},   {"%", "percent"},	   {"Hz", "hertz"},
    {"1", "ratio"},
};

static bool prom_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ':';
}

int semconv_prom_sanitize(const char *otel, char *out, size_t outlen)
{
	size_t n = 0;

	if (!otel || !outlen)
		return -EINVAL;
	for (const char *c = otel; *c; c++) {
		char ch = prom_char(*c) ? *c : '_';

		if (ch == '_' && (n == 0 || out[n - 1] == '_'))
			continue; /* no leading '_', no runs */
		if (n + 1 >= outlen)
			return -ENAMETOOLONG;
		out[n++] = ch;
	}
	while (n && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	if (!n || (out[0] >= '0' && out[0] <= '9'))
		return -EINVAL;
	return 0;
}

const char *semconv_prom_unit(const char *ucum, enum metric_type type)
{
	if (!ucum || !ucum[0] || ucum[0] == '{')
		return NULL;
	if (!strcmp(ucum, "1"))
		return type == METRIC_GAUGE ? "ratio" : NULL;
	for (size_t i = 0; i < NELEM(units); i++)
		if (!strcmp(ucum, units[i].ucum))
			return units[i].word;
	return NULL; /* not in the table: redtap declares none */
}

const char *semconv_ucum_unit(const char *prom_unit)
{
	if (!prom_unit)
		return "";
	for (size_t i = 0; i < NELEM(units); i++)
		if (!strcmp(prom_unit, units[i].word))
			return units[i].ucum;
	return prom_unit;
}

static bool ends_with_word(const char *name, const char *word)
{
	size_t ln = strlen(name), lw = strlen(word);

	return ln > lw && name[ln - lw - 1] == '_' && !strcmp(name + ln - lw, word);
}

int semconv_prom_name(const struct semconv_metric *m, char *out, size_t outlen)
{
	const char *unit = semconv_prom_unit(m->unit, m->type);
	int err = semconv_prom_sanitize(m->name, out, outlen);
	size_t n;

	if (err)
		return err;
	n = strlen(out);
	/* the registry adds a counter's _total itself */
	if (m->type == METRIC_COUNTER && ends_with_word(out, "total"))
		out[n -= 6] = '\0';
	/* A gauge "x.thing.count" of unit {thing}: _count names a histogram's
	 * or summary's sample count in Prometheus (promtool rejects it on
	 * anything else), so it is "x_things". */
	if (m->type == METRIC_GAUGE && ends_with_word(out, "count") && m->unit[0] == '{') {
		size_t lu = strcspn(m->unit + 1, "}");

		if (n > 6 + lu && !strncmp(out + n - 6 - lu, m->unit + 1, lu) &&
		    (n - 6 - lu == 0 || out[n - 7 - lu] == '_')) {
			out[n - 6] = 's';
			out[n -= 5] = '\0';
		}
	}
	if (unit && !ends_with_word(out, unit)) {
		if (n + 1 + strlen(unit) + 1 > outlen)
			return -ENAMETOOLONG;
		out[n] = '_';
		strcpy(out + n + 1, unit);
	}
	return 0;
}

struct metric_family *semconv_family_new(struct metric_registry *r, const struct semconv_metric *m,
					 size_t max_series)
{
	char name[SEMCONV_NAME_MAX], labels[SC_ATTR_COUNT][SEMCONV_NAME_MAX];
	const char *label_ptrs[SC_ATTR_COUNT];
	int err;

	if (!m || m->nattrs > SC_ATTR_COUNT) {
		errno = EINVAL;
		return NULL;
	}
	err = semconv_prom_name(m, name, sizeof(name));
	for (size_t i = 0; !err && i < m->nattrs; i++) {
		err = semconv_prom_sanitize(semconv_key(m->attrs[i]), labels[i], sizeof(labels[i]));
		label_ptrs[i] = labels[i];
	}
	if (err) {
		errno = -err;
		return NULL;
	}
	return metric_family_new_sc(r, m->type, name, m->brief, semconv_prom_unit(m->unit, m->type),
				    label_ptrs, m->nattrs, m->buckets, m->nbuckets, max_series, m);
}
