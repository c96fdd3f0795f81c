"""Database and cache: PostgreSQL and Redis calls as the calling services see them."""

from grafana import Dashboard, prom, timeseries, stat, heatmap, table, query_var
from redtap import DB, DB_SEL, ERR, RI, JOB, variables, sum_rate, error_ratio, quantile

COUNT = DB + "_count"
ERR_STEPS = [(None, "green"), (0.01, "orange"), (0.05, "red")]
LAT_STEPS = [(None, "green"), (0.1, "orange"), (0.5, "red")]


def build():
    system = query_var("db_system", "System",
                       'label_values(%s{%s, service_name=~"$service"}, db_system_name)'
                       % (COUNT, JOB))
    d = Dashboard(
        "redtap-database", "redtap / Database and cache",
        "PostgreSQL and Redis operations made by each service, from "
        "db_client_operation_duration_seconds: rate, errors by SQLSTATE or Redis error "
        "prefix, latency by system and operation, and the slowest query summaries.",
        variables(system, metric=COUNT), tags=["database", "postgresql", "redis"])

    d.row("Summary")
    d.add(stat("Operation rate", "Database and cache operations per second.",
               prom(sum_rate(COUNT, DB_SEL)), "ops"), 6, 4)
    d.add(stat("Error ratio", "Share of operations that returned an error.",
               prom(error_ratio(DB, DB_SEL)), "percentunit", ERR_STEPS, decimals=2), 6, 4)
    d.add(stat("p95 latency", "95th percentile of the operation duration.",
               prom(quantile(0.95, DB, DB_SEL)), "s", LAT_STEPS), 6, 4)
    d.add(stat("p99 latency", "99th percentile of the operation duration.",
               prom(quantile(0.99, DB, DB_SEL)), "s", LAT_STEPS), 6, 4)

    d.row("Rate and errors")
    d.add(timeseries("Operations by system and operation", "Operations per second by "
                     "db_system_name and db_operation_name.",
                     [prom(sum_rate(COUNT, DB_SEL, "db_system_name, db_operation_name"),
                           "{{db_system_name}} {{db_operation_name}}")], "ops"), 12, 8)
    d.add(timeseries("Errors by SQLSTATE / Redis error", "Failed operations per second by "
                     "db_response_status_code (SQLSTATE for PostgreSQL, error prefix such "
                     "as ERR or WRONGTYPE for Redis).",
                     [prom("%s or on() vector(0)" % sum_rate(
                         COUNT, DB_SEL + ", " + ERR,
                         "db_system_name, db_response_status_code"),
                         "{{db_system_name}} {{db_response_status_code}}")], "ops",
                     stack=True), 12, 8)
    d.add(timeseries("Error ratio by operation", "Share of failed operations per operation.",
                     [prom(error_ratio(DB, DB_SEL, "db_system_name, db_operation_name"),
                           "{{db_system_name}} {{db_operation_name}}")], "percentunit",
                     steps=ERR_STEPS), 12, 8)
    d.add(timeseries("Operations by server and namespace", "Operations per second by "
                     "database server and namespace (database name or Redis db index).",
                     [prom(sum_rate(COUNT, DB_SEL,
                                    "db_system_name, server_address, server_port, db_namespace"),
                           "{{db_system_name}} {{server_address}}:{{server_port}} "
                           "{{db_namespace}}")], "ops"), 12, 8)

    d.row("Latency")
    d.add(timeseries("Latency by system", "p50, p95 and p99 per db_system_name; exemplars "
                     "link to the traces that made the calls.",
                     [prom(quantile(q, DB, DB_SEL, "db_system_name"),
                           "{{db_system_name}} p%g" % (q * 100), exemplar=True)
                      for q in (0.5, 0.95, 0.99)], "s"), 12, 8)
    d.add(timeseries("p95 latency by operation", "95th percentile per operation.",
                     [prom(quantile(0.95, DB, DB_SEL, "db_system_name, db_operation_name"),
                           "{{db_system_name}} {{db_operation_name}}", exemplar=True)], "s"),
          12, 8)
    d.add(heatmap("Latency distribution", "Operations per duration bucket over time.",
                  prom("sum by (le) (increase(%s_bucket{%s}[%s]))" % (DB, DB_SEL, RI),
                       "{{le}}", exemplar=True, fmt="heatmap")), 24, 8)

    d.row("Queries")
    by = "db_system_name, db_query_summary"
    d.add(table("Slowest query summaries", "Query summaries by mean duration over the "
                "selected time range, slowest first, with their p95 and call rate.",
                [prom("%s / %s" % (sum_rate(DB + "_sum", DB_SEL, by, "$__range"),
                                   sum_rate(COUNT, DB_SEL, by, "$__range")),
                      instant=True, fmt="table"),
                 prom(quantile(0.95, DB, DB_SEL, by, "$__range"), instant=True, fmt="table"),
                 prom(sum_rate(COUNT, DB_SEL, by, "$__range"), instant=True, fmt="table")],
                {"Value #A": ("Mean", "s"), "Value #B": ("p95", "s"),
                 "Value #C": ("Calls/s", "ops")}, sort_by="Mean"), 24, 10)
    d.add(timeseries("Time spent by query summary", "Seconds per second spent in each query "
                     "summary (its share of database time); top 10.",
                     [prom("topk(10, %s)" % sum_rate(DB + "_sum", DB_SEL, by),
                           "{{db_system_name}} {{db_query_summary}}")], "s", stack=True),
          24, 8)
    return d
