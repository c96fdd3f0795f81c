"""Catalog of the series redtap exports on /metrics.

This is the one place that lists metric names, their types, labels and
histogram bucket bounds as the agent exports them. The SLO rule generator
uses it to validate thresholds against bucket bounds, and the dashboard and
rule checks use it to reject queries that name a metric or label the agent
does not export (a typo there would otherwise show up only as "No data").

Keep it in step with the agent's exporter (user/signals/httpmetrics.c, user/signals/dbmetrics.c,
user/signals/selfmetrics.c) and DESIGN.md.
"""

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
DB_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)
# grpc_server_handling_seconds: go-grpc-prometheus' (Prometheus' default) bounds.
GRPC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# Labels Prometheus adds to every scraped series.
SCRAPE_LABELS = ("job", "instance")

# The label an overflow series carries instead of its usual labels.
OVERFLOW_LABEL = "otel_metric_overflow"

# The request labels (traces.attribute_labels) are named by the user; these
# are the names the shipped rules and dashboards use (README: request labels).
REQUEST_LABELS = ("tenant", "tenant_bucket", "channel")
_HTTP_SERVER_LABELS = ("service_name", "http_request_method", "http_response_status_code",
                       "http_route", "error_type", "network_protocol_version",
                       "url_scheme") + REQUEST_LABELS
_RPC_LABELS = ("service_name", "rpc_system", "rpc_service", "rpc_method", "rpc_grpc_status_code",
               "error_type", "network_protocol_version")

# name -> (type, labels, buckets or None)
METRICS = {
    "http_server_request_duration_seconds":
        ("histogram", _HTTP_SERVER_LABELS, HTTP_BUCKETS),
    "http_client_request_duration_seconds":
        ("histogram", _HTTP_SERVER_LABELS + ("server_address", "server_port"), HTTP_BUCKETS),
    "http_server_active_requests":
        ("gauge", ("service_name", "http_request_method", "url_scheme"), None),
    "db_client_operation_duration_seconds":
        ("histogram", ("service_name", "db_system_name", "db_operation_name", "db_namespace",
                       "server_address", "server_port", "error_type", "db_response_status_code",
                       "db_query_summary"), DB_BUCKETS),
    "rpc_server_duration_seconds": ("histogram", _RPC_LABELS, HTTP_BUCKETS),
    "rpc_client_duration_seconds":
        ("histogram", _RPC_LABELS + ("server_address", "server_port"), HTTP_BUCKETS),
    "grpc_server_handling_seconds":
        ("histogram", ("service_name", "grpc_type", "grpc_service", "grpc_method", "grpc_code"),
         GRPC_BUCKETS),
    "redtap_build_info": ("gauge", ("version", "revision"), None),
    "redtap_events_received_total": ("counter", ("type",), None),
    "redtap_kernel_events_dropped_total": ("counter", ("reason",), None),
    "redtap_parse_errors_total": ("counter", ("protocol",), None),
    "redtap_metric_series": ("gauge", ("metric",), None),
    "redtap_metric_series_overflow_total": ("counter", ("metric",), None),
    "redtap_instrumented_processes": ("gauge", (), None),
    "redtap_shim_events_dropped_total": ("counter", (), None),
    "redtap_connections_untracked_total": ("counter", (), None),
    "redtap_otlp_export_errors_total": ("counter", ("signal",), None),
    "redtap_otlp_dropped_total": ("counter", ("signal",), None),
    "redtap_go_runtime_unread_total": ("counter", ("reason",), None),
    "redtap_tls_unsupported_processes": ("gauge", ("stack",), None),
    "process_cpu_time_seconds_total": ("counter", ("service_name", "cpu_mode"), None),
    "process_memory_usage_bytes": ("gauge", ("service_name",), None),
    "process_threads": ("gauge", ("service_name",), None),
    "process_unix_file_descriptors": ("gauge", ("service_name",), None),
    "go_goroutines": ("gauge", ("service_name",), None),
    "go_processor_limit": ("gauge", ("service_name",), None),
    "go_memory_gc_goal_bytes": ("gauge", ("service_name",), None),
    "go_memory_heap_live_bytes": ("gauge", ("service_name",), None),
    "go_gc_cycles_total": ("counter", ("service_name",), None),
    "go_gc_pause_time_seconds_total": ("counter", ("service_name",), None),
    "go_memory_used_bytes": ("gauge", ("service_name", "go_memory_type"), None),
    "go_memory_allocated_bytes_total": ("counter", ("service_name",), None),
    "log_records_total": ("counter", ("service_name", "severity"), None),
    "redtap_log_lines_total": ("counter", ("outcome",), None),
    "redtap_process_cpu_time_seconds_total": ("counter", ("cpu_mode",), None),
    "redtap_process_memory_usage_bytes": ("gauge", (), None),
    "redtap_bpf_program_run_time_seconds_total": ("counter", ("program",), None),
    "redtap_bpf_program_runs_total": ("counter", ("program",), None),
}

# Series Prometheus itself writes for every scrape target.
SCRAPE_SERIES = ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                 "scrape_samples_post_metric_relabeling", "scrape_series_added")


def series_labels():
    """Return {series name: frozenset of label names} for every exported series.

    Histograms expand to _bucket (with le), _sum and _count; every series
    also has the scrape labels, and the histograms and the gauge of active
    requests may carry the overflow label instead of their own.
    """
    out = {}
    for name, (kind, labels, _buckets) in METRICS.items():
        base = set(labels) | set(SCRAPE_LABELS)
        if not name.startswith("redtap_"):
            base.add(OVERFLOW_LABEL)
        if kind == "histogram":
            out[name + "_bucket"] = frozenset(base | {"le"})
            out[name + "_sum"] = frozenset(base)
            out[name + "_count"] = frozenset(base)
        else:
            out[name] = frozenset(base)
    for name in SCRAPE_SERIES:
        out[name] = frozenset(SCRAPE_LABELS)
    return out


def buckets(metric):
    """Return the bucket bounds of histogram `metric`, or None if it is not one."""
    entry = METRICS.get(metric)
    if entry is None or entry[0] != "histogram":
        return None
    return entry[2]


def le_matcher(bound):
    """Return a PromQL regex (as the text inside the quotes) matching bucket `bound`.

    The text format writes an integral bound as "1" and OpenMetrics as
    "1.0"; Prometheus 2.x keeps the label as scraped, so a rule must accept
    both spellings or it silently matches nothing.
    """
    text = format_bound(bound)
    escaped = text.replace(".", "\\\\.")
    if "." in text or "e" in text:
        return escaped
    return escaped + "(\\\\.0)?"


def format_bound(bound):
    """Return the shortest decimal text of a bucket bound: 1 -> "1", 0.25 -> "0.25"."""
    text = repr(float(bound))
    return text[:-2] if text.endswith(".0") else text
