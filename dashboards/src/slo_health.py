"""SLO health: compliance and error budget per tenant, channel and route.

Reads the series scripts/gen-slo-rules records for every SLO of
rules/slos.yaml (slo:sli_error:ratio_rate*, slo:objective:ratio,
slo:error_budget_remaining:ratio; labels slo, sli, service_name and the
http_route, tenant and channel an SLO selects or is split by), next to the
raw traffic per tenant and channel from the request labels
(traces.attribute_labels).
"""

from grafana import Dashboard, prom, timeseries, table, bargauge
from redtap import HTTP_SERVER, SERVICE, variables, sum_rate, error_ratio, quantile

COUNT = HTTP_SERVER + "_count"
# The recorded SLO series carry no job: they are sums over the scrapes.
SLO = 'service_name=~"$service"'
LEGEND = "{{slo}} {{tenant}} {{channel}}"
BUDGET_STEPS = [(None, "red"), (0, "orange"), (0.5, "green")]
COMPLIANCE_STEPS = [(None, "red"), (0.99, "orange"), (0.999, "green")]
TENANT = "tenant, channel"


def _compliance(sli, window):
    return "1 - slo:sli_error:ratio_rate%s{%s, sli=\"%s\"}" % (window, SLO, sli)


def build():
    d = Dashboard(
        "redtap-slo-health", "redtap / SLO health",
        "The SLOs of rules/slos.yaml per tenant, channel and route: availability and "
        "latency compliance (the share of good requests) against the objective, and the "
        "error budget left over the SLO period; then the traffic, errors and latency of "
        "each tenant and channel as the agent labels them (traces.attribute_labels).",
        variables(), tags=["slo", "tenants"])

    d.row("Compliance")
    d.add(timeseries("Availability compliance", "Share of requests without a 5xx (or "
                     "error) over 5 minutes, per SLO and tenant/channel.",
                     [prom(_compliance("availability", "5m"), LEGEND)], "percentunit",
                     min_=None, steps=COMPLIANCE_STEPS), 12, 8)
    d.add(timeseries("Latency compliance", "Share of requests faster than the SLO's "
                     "threshold over 5 minutes, per SLO and tenant/channel.",
                     [prom(_compliance("latency", "5m"), LEGEND)], "percentunit",
                     min_=None, steps=COMPLIANCE_STEPS), 12, 8)
    d.add(bargauge("Error budget remaining", "1 - the error ratio over the SLO period / "
                   "the budget; below 0 the objective is missed.",
                   prom("slo:error_budget_remaining:ratio{%s}" % SLO, LEGEND, instant=True),
                   "percentunit", steps=BUDGET_STEPS), 12, 9)
    d.add(table("SLOs", "Per SLO and tenant/channel: the objective, compliance over the "
                "last hour and the error budget left.",
                [prom("slo:objective:ratio{%s}" % SLO, instant=True, fmt="table"),
                 prom("1 - slo:sli_error:ratio_rate1h{%s}" % SLO, instant=True, fmt="table"),
                 prom("slo:error_budget_remaining:ratio{%s}" % SLO, instant=True,
                      fmt="table")],
                {"Value #A": ("Objective", "percentunit"),
                 "Value #B": ("Compliance 1h", "percentunit"),
                 "Value #C": ("Budget left", "percentunit")}, sort_by="Budget left"), 12, 9)

    d.row("Tenants and channels")
    d.add(timeseries("Requests by tenant and channel", "Requests per second by the tenant "
                     "and channel request labels.",
                     [prom(sum_rate(COUNT, SERVICE, TENANT), "{{tenant}} {{channel}}")],
                     "reqps"), 8, 8)
    d.add(timeseries("Error ratio by tenant and channel", "Share of failed requests.",
                     [prom(error_ratio(HTTP_SERVER, SERVICE, TENANT),
                           "{{tenant}} {{channel}}")], "percentunit"), 8, 8)
    d.add(timeseries("p95 latency by tenant and channel", "95th percentile; exemplars link "
                     "to traces.",
                     [prom(quantile(0.95, HTTP_SERVER, SERVICE, TENANT),
                           "{{tenant}} {{channel}}", exemplar=True)], "s"), 8, 8)
    return d
