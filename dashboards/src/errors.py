"""Error correlation: failing routes and error types next to the downstream errors behind them."""

from grafana import Dashboard, prom, timeseries, table
from redtap import (HTTP_SERVER, HTTP_CLIENT, DB, RPC_SERVER, RPC_CLIENT, ROUTE, SERVICE, ERR,
                    variables, route_var, sum_rate, error_ratio, quantile, or_zero)

COUNT = HTTP_SERVER + "_count"
# Log records by severity (zero-code log capture, REDTAP_LOGS=true; docs/logs.md).
LOGS = "log_records_total"
LOG_ERR = SERVICE + ', severity=~"ERROR|FATAL"'
ERR_STEPS = [(None, "green"), (0.01, "orange"), (0.05, "red")]


def build():
    d = Dashboard(
        "redtap-errors", "redtap / Error correlation",
        "Where requests fail and what failed underneath: HTTP error ratios by route and "
        "error type, side by side with the database, cache and outgoing HTTP errors of the "
        "same services over the same time, and the error-log rate of the same services "
        "(zero-code log capture). Exemplars on the failed-request latency and on the error-log "
        "rate link to the traces of failing requests and error lines.",
        variables(route_var()), tags=["errors", "http", "database"])

    d.row("Incoming HTTP errors")
    by_route = "service_name, http_route"
    d.add(timeseries("Error ratio by route", "Share of failed requests per route.",
                     [prom(error_ratio(HTTP_SERVER, ROUTE, by_route),
                           "{{service_name}} {{http_route}}")], "percentunit",
                     steps=ERR_STEPS), 12, 8)
    d.add(timeseries("Errors by type", "Failed requests per second by error_type: a status "
                     "code for 5xx, connection_closed when no response was sent.",
                     [prom(or_zero(sum_rate(COUNT, ROUTE + ", " + ERR,
                                            "service_name, error_type")),
                           "{{service_name}} {{error_type}}")], "reqps", stack=True), 12, 8)
    failing = sum_rate(COUNT, ROUTE + ", " + ERR, by_route + ", error_type", "$__range")
    d.add(table("Failing routes", "Routes with errors over the selected time range: failed "
                "requests per second by error type, and their share of the route's requests.",
                [prom(failing, instant=True, fmt="table"),
                 prom("%s / on (service_name, http_route) group_left () %s"
                      % (failing, sum_rate(COUNT, ROUTE, by_route, "$__range")),
                      instant=True, fmt="table")],
                {"Value #A": ("Errors/s", "reqps"), "Value #B": ("Share of route",
                                                                "percentunit")},
                sort_by="Errors/s"), 12, 8)
    d.add(timeseries("Latency of failed requests", "p95 duration of failed requests; "
                     "exemplars link to their traces.",
                     [prom(quantile(0.95, HTTP_SERVER, ROUTE + ", " + ERR, "service_name"),
                           "{{service_name}} failed p95", exemplar=True),
                      prom(quantile(0.95, HTTP_SERVER, ROUTE, "service_name"),
                           "{{service_name}} all p95", exemplar=True)], "s"), 12, 8)

    d.row("gRPC errors")
    d.add(timeseries("gRPC server errors by code", "Failed calls per second served by the "
                     "selected services, by method and status code name.",
                     [prom(or_zero(sum_rate(RPC_SERVER + "_count", SERVICE + ", " + ERR,
                                            "service_name, rpc_method, error_type")),
                           "{{service_name}} {{rpc_method}} {{error_type}}")], "reqps",
                     stack=True), 12, 8)
    d.add(timeseries("gRPC calls that failed for the caller", "Failed outgoing calls per "
                     "second by server and status (a client fails on any code but OK).",
                     [prom(or_zero(sum_rate(RPC_CLIENT + "_count", SERVICE + ", " + ERR,
                                            "service_name, server_address, error_type")),
                           "{{service_name}} → {{server_address}} {{error_type}}")], "reqps",
                     stack=True), 12, 8)

    d.row("Errors underneath")
    d.add(timeseries("Database errors by SQLSTATE / Redis error", "Failed database and cache "
                     "operations per second of the selected services.",
                     [prom(or_zero(sum_rate(DB + "_count", SERVICE + ", " + ERR,
                                            "service_name, db_system_name, "
                                            "db_response_status_code")),
                           "{{service_name}} {{db_system_name}} {{db_response_status_code}}")],
                     "ops", stack=True), 12, 8)
    d.add(timeseries("Database error ratio", "Share of failed database and cache operations "
                     "per service and system.",
                     [prom(or_zero(error_ratio(DB, SERVICE, "service_name, db_system_name")),
                           "{{service_name}} {{db_system_name}}")], "percentunit",
                     steps=ERR_STEPS), 12, 8)
    d.add(timeseries("Outgoing HTTP errors by server", "Failed calls per second from the "
                     "selected services to other servers.",
                     [prom(or_zero(sum_rate(HTTP_CLIENT + "_count", SERVICE + ", " + ERR,
                                            "service_name, server_address, error_type")),
                           "{{service_name}} → {{server_address}} {{error_type}}")], "reqps",
                     stack=True), 12, 8)
    d.add(timeseries("HTTP errors and database errors", "Failed incoming requests and failed "
                     "database operations per second on one axis, to see whether they move "
                     "together.",
                     [prom(or_zero(sum_rate(COUNT, ROUTE + ", " + ERR, "service_name")),
                           "{{service_name}} HTTP errors"),
                      prom(or_zero(sum_rate(DB + "_count", SERVICE + ", " + ERR,
                                            "service_name")),
                           "{{service_name}} DB errors")], "short"), 12, 8)

    d.row("Error logs")
    d.add(timeseries("Error-log rate by severity", "Log lines per second at ERROR or FATAL "
                     "that the selected services wrote to stdout/stderr, by severity (zero-code "
                     "log capture: REDTAP_LOGS=true). Exemplars link to the trace of the latest "
                     "error line written inside a request; each record in the logs backend "
                     "carries the trace id of the request that wrote it (docs/logs.md).",
                     [prom(or_zero(sum_rate(LOGS, LOG_ERR, "service_name, severity")),
                           "{{service_name}} {{severity}}", exemplar=True)], "short",
                     stack=True), 12, 8)
    d.add(timeseries("Error logs beside HTTP and database errors", "Error-log lines, failed "
                     "incoming requests and failed database operations per second on one "
                     "axis: an error-log spike without failed requests points at background "
                     "work, one with them at the requests.",
                     [prom(or_zero(sum_rate(LOGS, LOG_ERR, "service_name")),
                           "{{service_name}} error logs", exemplar=True),
                      prom(or_zero(sum_rate(COUNT, ROUTE + ", " + ERR, "service_name")),
                           "{{service_name}} HTTP errors"),
                      prom(or_zero(sum_rate(DB + "_count", SERVICE + ", " + ERR,
                                            "service_name")),
                           "{{service_name}} DB errors")], "short"), 12, 8)
    return d
