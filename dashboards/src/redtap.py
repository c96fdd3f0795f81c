"""What redtap's dashboards share: metric names, variables, selectors, queries.

Metric and label names are those of scripts/slo/catalog.py (the agent's
exposition); the dashboard checks in tests/dashboards reject any other.
Selectors are built from the template variables:
  $job      the Prometheus job(s) that scrape redtap (stands for the environment)
  $service  service_name
  $route    http_route (service overview and error dashboards)
  $db_system db_system_name (database dashboard)
  $instance the agent's scrape instance (agent health)
"""

from grafana import datasource_var, query_var

HTTP_SERVER = "http_server_request_duration_seconds"
HTTP_CLIENT = "http_client_request_duration_seconds"
DB = "db_client_operation_duration_seconds"
RPC_SERVER = "rpc_server_duration_seconds"
RPC_CLIENT = "rpc_client_duration_seconds"
RI = "$__rate_interval"

JOB = 'job=~"$job"'
SERVICE = JOB + ', service_name=~"$service"'
ROUTE = SERVICE + ', http_route=~"$route"'
DB_SEL = SERVICE + ', db_system_name=~"$db_system"'
AGENT = 'job=~"$job", instance=~"$instance"'
ERR = 'error_type!=""'


def job_var():
    """Jobs that scrape a redtap agent (one per environment, typically)."""
    return query_var("job", "Job", "label_values(redtap_build_info, job)")


def service_var(metric):
    # ".+" so that "All" leaves out overflow series, which have no service_name.
    return query_var("service", "Service", 'label_values(%s{%s}, service_name)' % (metric, JOB),
                     all_value=".+")


def route_var():
    return query_var("route", "Route",
                     'label_values(%s_count{%s}, http_route)' % (HTTP_SERVER, SERVICE))


def variables(*extra, metric=HTTP_SERVER + "_count"):
    """The data source, job and service variables, then `extra`."""
    return [datasource_var(), job_var(), service_var(metric)] + list(extra)


def rate(metric, sel, window=RI):
    return "rate(%s{%s}[%s])" % (metric, sel, window)


def sum_rate(metric, sel, by=None, window=RI):
    """sum [by (labels)] (rate(metric{sel}[window]))."""
    group = " by (%s)" % by if by else ""
    return "sum%s (%s)" % (group, rate(metric, sel, window))


def error_ratio(metric, sel, by=None, window=RI):
    """Errors / all, reading 0 (not "no data") where nothing failed.

    An error is a request with error_type set; groups with traffic but no
    error series get 0 from the "or 0 * total" arm.
    """
    total = sum_rate(metric + "_count", sel, by, window)
    errors = sum_rate(metric + "_count", sel + ", " + ERR, by, window)
    if by:
        return "(%s or 0 * %s) / %s" % (errors, total, total)
    return "(%s or on() vector(0)) / %s" % (errors, total)


def quantile(q, metric, sel, by=None, window=RI):
    """histogram_quantile(q) over the _bucket rates, grouped by `by` and le."""
    group = "%s, le" % by if by else "le"
    return "histogram_quantile(%s, %s)" % (q, sum_rate(metric + "_bucket", sel, group, window))


def or_zero(expr):
    """Show 0 rather than "no data" for counters the agent creates on first use."""
    return "%s or on() vector(0)" % expr
