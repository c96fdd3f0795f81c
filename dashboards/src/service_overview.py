"""Service overview (RED): rate, errors and duration of HTTP and gRPC servers, per service."""

from grafana import Dashboard, prom, timeseries, stat, heatmap, table
from redtap import (HTTP_SERVER, RPC_SERVER, ROUTE, SERVICE, ERR, RI, variables, route_var,
                    sum_rate, error_ratio, quantile)

M = HTTP_SERVER
COUNT = M + "_count"
ERR_STEPS = [(None, "green"), (0.01, "orange"), (0.05, "red")]
LAT_STEPS = [(None, "green"), (0.5, "orange"), (1, "red")]


def build():
    d = Dashboard(
        "redtap-service-overview", "redtap / Service overview (RED)",
        "Request rate, errors and latency of every HTTP server redtap sees, per service and "
        "route, from http_server_request_duration_seconds (HTTP/1.1 and HTTP/2), and of "
        "every gRPC server per method, from rpc_server_duration_seconds. Latency panels "
        "show exemplars: click a point to open its trace.",
        variables(route_var()), tags=["red", "http"])

    d.row("Summary")
    d.add(stat("Request rate", "Requests per second, all selected services and routes.",
               prom(sum_rate(COUNT, ROUTE)), "reqps"), 6, 4)
    d.add(stat("Error ratio", "Share of requests with an error_type (5xx status, or the "
               "connection closed before a response).",
               prom(error_ratio(M, ROUTE)), "percentunit", ERR_STEPS, decimals=2), 6, 4)
    d.add(stat("p95 latency", "95th percentile of the request duration.",
               prom(quantile(0.95, M, ROUTE)), "s", LAT_STEPS), 6, 4)
    d.add(stat("In flight", "Requests received and not yet answered.",
               prom("sum(http_server_active_requests{%s})" % SERVICE), "short"), 6, 4)

    d.row("Rate")
    d.add(timeseries("Requests by service", "Requests per second by service.",
                     [prom(sum_rate(COUNT, ROUTE, "service_name"), "{{service_name}}")],
                     "reqps"), 12, 8)
    d.add(timeseries("Requests by status code", "Requests per second by HTTP status code "
                     "(empty code: no response).",
                     [prom(sum_rate(COUNT, ROUTE, "http_response_status_code"),
                           "{{http_response_status_code}}")], "reqps", stack=True), 12, 8)
    d.add(timeseries("Requests by HTTP version", "Requests per second by "
                     "network_protocol_version: 1.1 or 2 (gRPC calls are in the gRPC row).",
                     [prom(sum_rate(COUNT, ROUTE, "network_protocol_version"),
                           "HTTP/{{network_protocol_version}}")], "reqps", stack=True), 12, 7)
    d.add(timeseries("Requests by scheme", "Requests per second by url_scheme: https for "
                     "the plaintext redtap takes from the TLS library (OpenSSL), http for "
                     "the rest.",
                     [prom(sum_rate(COUNT, ROUTE, "url_scheme"), "{{url_scheme}}")], "reqps",
                     stack=True), 12, 7)

    d.row("Errors")
    d.add(timeseries("Error ratio by service", "Share of failed requests per service.",
                     [prom(error_ratio(M, ROUTE, "service_name"), "{{service_name}}")],
                     "percentunit", max_=None, steps=ERR_STEPS), 12, 8)
    d.add(timeseries("Errors by type", "Failed requests per second by error_type.",
                     [prom("%s or on() vector(0)" % sum_rate(COUNT, ROUTE + ", " + ERR,
                                                             "service_name, error_type"),
                           "{{service_name}} {{error_type}}")], "reqps", stack=True), 12, 8)

    d.row("Duration")
    d.add(timeseries("Latency percentiles", "p50, p95 and p99 of the request duration. "
                     "Exemplars link to traces.",
                     [prom(quantile(q, M, ROUTE), "p%g" % (q * 100), exemplar=True)
                      for q in (0.5, 0.95, 0.99)], "s"), 12, 8)
    d.add(heatmap("Latency distribution", "Requests per duration bucket over time; "
                  "exemplars link to traces.",
                  prom("sum by (le) (increase(%s_bucket{%s}[%s]))" % (M, ROUTE, RI), "{{le}}",
                       exemplar=True, fmt="heatmap")), 12, 8)
    d.add(timeseries("p95 latency by service", "95th percentile per service.",
                     [prom(quantile(0.95, M, ROUTE, "service_name"), "{{service_name}}",
                           exemplar=True)], "s"), 12, 8)
    d.add(timeseries("Average latency by service", "Mean request duration per service "
                     "(_sum / _count).",
                     [prom("%s / %s" % (sum_rate(M + "_sum", ROUTE, "service_name"),
                                        sum_rate(COUNT, ROUTE, "service_name")),
                           "{{service_name}}")], "s"), 12, 8)

    d.row("Routes")
    by = "service_name, http_route"
    d.add(table("Route summary", "Per route over the selected time range: request rate, "
                "error ratio and p95 latency.",
                [prom(sum_rate(COUNT, ROUTE, by, "$__range"), instant=True, fmt="table"),
                 prom(error_ratio(M, ROUTE, by, "$__range"), instant=True, fmt="table"),
                 prom(quantile(0.95, M, ROUTE, by, "$__range"), instant=True, fmt="table")],
                {"Value #A": ("Requests/s", "reqps"), "Value #B": ("Error ratio", "percentunit"),
                 "Value #C": ("p95", "s")}, sort_by="Requests/s"), 24, 9)
    d.add(timeseries("Requests by route", "Requests per second per route.",
                     [prom(sum_rate(COUNT, ROUTE, by), "{{service_name}} {{http_route}}")],
                     "reqps"), 8, 8)
    d.add(timeseries("Error ratio by route", "Share of failed requests per route.",
                     [prom(error_ratio(M, ROUTE, by), "{{service_name}} {{http_route}}")],
                     "percentunit", steps=ERR_STEPS), 8, 8)
    d.add(timeseries("p95 latency by route", "95th percentile per route; exemplars link to "
                     "traces.",
                     [prom(quantile(0.95, M, ROUTE, by), "{{service_name}} {{http_route}}",
                           exemplar=True)], "s"), 8, 8)

    d.row("gRPC")
    rpc_by = "service_name, rpc_service, rpc_method"
    rpc_legend = "{{service_name}} {{rpc_service}}/{{rpc_method}}"
    d.add(timeseries("gRPC calls by method", "Calls per second per method; a streaming call "
                     "counts once, when it closes.",
                     [prom(sum_rate(RPC_SERVER + "_count", SERVICE, rpc_by), rpc_legend)],
                     "reqps"), 8, 8)
    d.add(timeseries("gRPC error ratio by method", "Share of calls that failed by the server "
                     "rule (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, "
                     "DATA_LOSS).",
                     [prom(error_ratio(RPC_SERVER, SERVICE, rpc_by), rpc_legend)],
                     "percentunit", steps=ERR_STEPS), 8, 8)
    d.add(timeseries("gRPC p95 latency by method", "95th percentile of the call duration, "
                     "HEADERS to end of stream; exemplars link to traces.",
                     [prom(quantile(0.95, RPC_SERVER, SERVICE, rpc_by), rpc_legend,
                           exemplar=True)], "s"), 8, 8)

    d.row("Saturation")
    d.add(timeseries("In-flight requests by method", "Requests received and not yet answered, "
                     "by service and method.",
                     [prom("sum by (service_name, http_request_method) "
                           "(http_server_active_requests{%s})" % SERVICE,
                           "{{service_name}} {{http_request_method}}")], "short"), 24, 7)

    # the process level of the golden signals; Go services in detail on their own dashboard
    go_link = [{"asDropdown": False, "icon": "dashboard", "includeVars": True, "keepTime": True,
                "tags": [], "targetBlank": False, "title": "Go Runtime Overview", "tooltip": "",
                "type": "link", "url": "/d/redtap-go-runtime"}]
    d.row("Process")
    d.add(timeseries("CPU by service", "CPU seconds per second of the service's processes "
                     "(process_cpu_time_seconds_total); Go services: see the Go Runtime "
                     "Overview (panel link).",
                     [prom("sum by (service_name) (rate(process_cpu_time_seconds_total{%s}[%s]))"
                           % (SERVICE, RI), "{{service_name}}")], "s", links=go_link), 12, 7)
    d.add(timeseries("Resident memory by service", "Resident memory of the service's "
                     "processes (process_memory_usage_bytes).",
                     [prom("sum by (service_name) (process_memory_usage_bytes{%s})" % SERVICE,
                           "{{service_name}}")], "bytes", links=go_link), 12, 7)
    return d
