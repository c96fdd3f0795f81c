"""Service traffic matrix: who calls whom, from the client side of each call.

An edge is (service_name -> server_address:server_port) of
http_client_request_duration_seconds, and, for databases and caches,
of db_client_operation_duration_seconds.
"""

from grafana import Dashboard, prom, timeseries, table, bargauge, query_var, datasource_var
from redtap import (HTTP_CLIENT, DB, RPC_CLIENT, JOB, SERVICE, job_var, sum_rate, error_ratio,
                    quantile)

COUNT = HTTP_CLIENT + "_count"
EDGE = "service_name, server_address, server_port"
EDGE_LEGEND = "{{service_name}} → {{server_address}}:{{server_port}}"
ERR_STEPS = [(None, "green"), (0.01, "orange"), (0.05, "red")]


def build():
    callers = "{__name__=~\"%s|%s|%s\", %s}" % (COUNT, DB + "_count", RPC_CLIENT + "_count", JOB)
    variables = [
        datasource_var(),
        job_var(),
        query_var("service", "Caller", "label_values(%s, service_name)" % callers,
                  all_value=".+"),
    ]
    d = Dashboard(
        "redtap-traffic-matrix", "redtap / Service traffic matrix",
        "Who calls whom: outgoing HTTP calls (http_client_request_duration_seconds, HTTP/1.1 "
        "and HTTP/2), gRPC calls (rpc_client_duration_seconds) and database/cache calls "
        "(db_client_operation_duration_seconds) per caller and server address, with rate, "
        "errors and latency per edge.",
        variables, tags=["http", "topology"])

    d.row("HTTP edges")
    d.add(table("HTTP calls by edge", "One row per caller and server over the selected "
                "time range.",
                [prom(sum_rate(COUNT, SERVICE, EDGE, "$__range"), instant=True, fmt="table"),
                 prom(error_ratio(HTTP_CLIENT, SERVICE, EDGE, "$__range"), instant=True,
                      fmt="table"),
                 prom(quantile(0.95, HTTP_CLIENT, SERVICE, EDGE, "$__range"), instant=True,
                      fmt="table")],
                {"Value #A": ("Calls/s", "reqps"), "Value #B": ("Error ratio", "percentunit"),
                 "Value #C": ("p95", "s")}, sort_by="Calls/s"), 16, 9)
    d.add(bargauge("Busiest edges", "The 10 edges with the most calls per second now.",
                   prom("topk(10, %s)" % sum_rate(COUNT, SERVICE, EDGE), EDGE_LEGEND,
                        instant=True), "reqps"), 8, 9)
    d.add(timeseries("Calls per edge", "Calls per second from each caller to each server.",
                     [prom(sum_rate(COUNT, SERVICE, EDGE), EDGE_LEGEND)], "reqps"), 8, 8)
    d.add(timeseries("Error ratio per edge", "Share of failed calls (5xx or connection "
                     "closed) per edge.",
                     [prom(error_ratio(HTTP_CLIENT, SERVICE, EDGE), EDGE_LEGEND)],
                     "percentunit", steps=ERR_STEPS), 8, 8)
    d.add(timeseries("p95 latency per edge", "95th percentile of the call duration as the "
                     "caller sees it; exemplars link to traces.",
                     [prom(quantile(0.95, HTTP_CLIENT, SERVICE, EDGE), EDGE_LEGEND,
                           exemplar=True)], "s"), 8, 8)

    d.row("gRPC edges")
    d.add(table("gRPC calls by edge", "One row per caller, server and gRPC service over the "
                "selected time range.",
                [prom(sum_rate(RPC_CLIENT + "_count", SERVICE, EDGE + ", rpc_service", "$__range"),
                      instant=True, fmt="table"),
                 prom(error_ratio(RPC_CLIENT, SERVICE, EDGE + ", rpc_service", "$__range"),
                      instant=True, fmt="table"),
                 prom(quantile(0.95, RPC_CLIENT, SERVICE, EDGE + ", rpc_service", "$__range"),
                      instant=True, fmt="table")],
                {"Value #A": ("Calls/s", "reqps"), "Value #B": ("Error ratio", "percentunit"),
                 "Value #C": ("p95", "s")}, sort_by="Calls/s"), 12, 8)
    d.add(timeseries("gRPC calls per edge", "Calls per second from each caller to each gRPC "
                     "server; exemplars on the latency panels of the service overview.",
                     [prom(sum_rate(RPC_CLIENT + "_count", SERVICE, EDGE), EDGE_LEGEND)],
                     "reqps"), 12, 8)

    d.row("Database and cache edges")
    db_edge = "service_name, db_system_name, server_address, server_port"
    db_legend = "{{service_name}} → {{db_system_name}} {{server_address}}:{{server_port}}"
    d.add(table("Database edges", "One row per caller and database server over the selected "
                "time range.",
                [prom(sum_rate(DB + "_count", SERVICE, db_edge, "$__range"), instant=True,
                      fmt="table"),
                 prom(error_ratio(DB, SERVICE, db_edge, "$__range"), instant=True, fmt="table"),
                 prom(quantile(0.95, DB, SERVICE, db_edge, "$__range"), instant=True,
                      fmt="table")],
                {"Value #A": ("Operations/s", "ops"), "Value #B": ("Error ratio", "percentunit"),
                 "Value #C": ("p95", "s")}, sort_by="Operations/s"), 12, 8)
    d.add(timeseries("Operations per database edge", "Operations per second from each "
                     "caller to each database or cache server.",
                     [prom(sum_rate(DB + "_count", SERVICE, db_edge), db_legend)], "ops"),
          12, 8)
    return d
