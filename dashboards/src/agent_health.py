"""Agent health: is redtap up, keeping up with the kernel and the shim, and exporting."""

from grafana import Dashboard, prom, timeseries, stat, table, query_var, datasource_var
from redtap import AGENT, DB, HTTP_CLIENT, HTTP_SERVER, RI, job_var, or_zero

DROP_STEPS = [(None, "green"), (0.001, "orange"), (0.01, "red")]
ZERO_OK = [(None, "green"), (1e-9, "red")]
HISTOGRAMS = "|".join(m + "_count" for m in (HTTP_SERVER, HTTP_CLIENT, DB))


def _rate_by(metric, by):
    return "sum by (%s) (rate(%s{%s}[%s]))" % (by, metric, AGENT, RI)


def build():
    variables = [
        datasource_var(),
        job_var(),
        query_var("instance", "Agent", 'label_values(redtap_build_info{job=~"$job"}, instance)'),
    ]
    d = Dashboard(
        "redtap-agent-health", "redtap / Agent health",
        "The redtap agents themselves: scrape status and version, events read from the "
        "kernel and the shim and what was dropped, parse errors, metric series against the "
        "cap, OTLP export errors, and what each agent costs its node.",
        variables, tags=["agent"])

    known = "max_over_time(redtap_build_info{%s}[1d])" % AGENT
    d.row("Status")
    d.add(stat("Agents up", "Agents Prometheus scraped successfully, of those seen in the "
               "last day.", prom("sum(up{%s} and on (job, instance) %s)" % (AGENT, known)),
               "none", graph=False), 4, 4)
    d.add(stat("Instrumented processes", "Processes the agents currently trace.",
               prom("sum(redtap_instrumented_processes{%s})" % AGENT), "none"), 4, 4)
    dropped = "(%s)" % or_zero("sum(rate(redtap_kernel_events_dropped_total{%s}[%s]))"
                               % (AGENT, RI))
    received = "sum(rate(redtap_events_received_total{%s}[%s]))" % (AGENT, RI)
    d.add(stat("Kernel drop ratio", "Kernel events dropped before the agent read them, "
               "as a share of all events.",
               prom("%s / (%s + %s)" % (dropped, dropped, received)),
               "percentunit", DROP_STEPS, decimals=3), 4, 4)
    d.add(stat("Metric series", "Series the agents currently export.",
               prom("sum(redtap_metric_series{%s})" % AGENT), "none"), 4, 4)
    d.add(stat("Overflowed observations", "Observations per second recorded in an overflow "
               "series because a metric hit its series cap.",
               prom(or_zero("sum(rate({__name__=~\"%s\", otel_metric_overflow=\"true\", %s}[%s]))"
                            % (HISTOGRAMS, AGENT, RI))), "ops", ZERO_OK), 4, 4)
    d.add(stat("OTLP export errors", "Failed OTLP exports per second, all signals.",
               prom(or_zero("sum(rate(redtap_otlp_export_errors_total{%s}[%s]))" % (AGENT, RI))),
               "short", ZERO_OK), 4, 4)
    info = ("* on (job, instance) group_left (version, revision) "
            "max by (job, instance, version, revision) (redtap_build_info{%s})" % AGENT)
    d.add(table("Agents", "Each agent with its version and revision: whether its last scrape "
                "succeeded, and how many processes it traces.",
                [prom("max by (job, instance) (up{%s}) %s" % (AGENT, info), instant=True,
                      fmt="table"),
                 prom("sum by (job, instance) (redtap_instrumented_processes{%s}) %s"
                      % (AGENT, info), instant=True, fmt="table")],
                {"Value #A": ("Up", "none"), "Value #B": ("Processes", "none")},
                sort_by=None), 24, 6)

    d.row("Events")
    d.add(timeseries("Events received by type", "Events per second the agent read, by type.",
                     [prom(_rate_by("redtap_events_received_total", "instance, type"),
                           "{{instance}} {{type}}")], "ops"), 12, 8)
    d.add(timeseries("Kernel events dropped by reason", "Events per second lost in the kernel "
                     "(ring buffer full, record too large, ...).",
                     [prom(or_zero(_rate_by("redtap_kernel_events_dropped_total",
                                            "instance, reason")),
                           "{{instance}} {{reason}}")], "ops"), 12, 8)
    d.add(timeseries("Shim events dropped", "Events per second the LD_PRELOAD shim could not "
                     "deliver.",
                     [prom(or_zero(_rate_by("redtap_shim_events_dropped_total", "instance")),
                           "{{instance}}")], "ops"), 12, 8)
    d.add(timeseries("Parse errors by protocol", "Messages per second the agent could not "
                     "parse, by protocol.",
                     [prom(or_zero(_rate_by("redtap_parse_errors_total", "instance, protocol")),
                           "{{instance}} {{protocol}}")], "ops"), 12, 8)
    d.add(timeseries("Connections not tracked", "New connections per second the agent could "
                     "not follow because its connection table was full.",
                     [prom(or_zero(_rate_by("redtap_connections_untracked_total", "instance")),
                           "{{instance}}")], "ops"), 24, 6)

    d.row("Cost")
    d.add(timeseries("Agent CPU", "CPU the agent's own process uses, as a share of one core "
                     "(user and system).",
                     [prom(_rate_by("redtap_process_cpu_time_seconds_total", "instance"),
                           "{{instance}}")], "percentunit"), 6, 8)
    d.add(timeseries("Agent memory", "Resident memory of the agent's own process.",
                     [prom("sum by (instance) (redtap_process_memory_usage_bytes{%s})" % AGENT,
                           "{{instance}}")], "bytes"), 6, 8)
    bpf_note = (" Counted only while the kernel keeps BPF statistics "
                "(sysctl kernel.bpf_stats_enabled=1, which itself costs a little per run).")
    d.add(timeseries("BPF time by program", "Time the kernel spends in the agent's BPF programs, "
                     "as a share of one core: the price the instrumented processes' syscalls "
                     "pay." + bpf_note,
                     [prom(_rate_by("redtap_bpf_program_run_time_seconds_total",
                                    "instance, program"), "{{instance}} {{program}}")],
                     "percentunit"), 6, 8)
    d.add(timeseries("BPF time per run", "Average time of one run of each of the agent's BPF "
                     "programs." + bpf_note,
                     [prom("%s / %s" % (_rate_by("redtap_bpf_program_run_time_seconds_total",
                                                 "instance, program"),
                                        _rate_by("redtap_bpf_program_runs_total",
                                                 "instance, program")),
                           "{{instance}} {{program}}")], "s"), 6, 8)

    d.row("Series and export")
    d.add(timeseries("Metric series by metric", "Series per metric; at the cap new label "
                     "combinations go to the overflow series.",
                     [prom("sum by (instance, metric) (redtap_metric_series{%s})" % AGENT,
                           "{{instance}} {{metric}}")], "none"), 12, 8)
    d.add(timeseries("Series overflow by metric", "Observations per second that went to an "
                     "overflow series, by metric.",
                     [prom(or_zero(_rate_by("redtap_metric_series_overflow_total",
                                            "instance, metric")),
                           "{{instance}} {{metric}}")], "ops"), 12, 8)
    d.add(timeseries("OTLP export errors by signal", "Failed exports per second by signal.",
                     [prom(or_zero(_rate_by("redtap_otlp_export_errors_total",
                                            "instance, signal")),
                           "{{instance}} {{signal}}")], "ops"), 8, 8)
    d.add(timeseries("OTLP data dropped by signal", "Spans, data points or log records per "
                     "second dropped instead of exported.",
                     [prom(or_zero(_rate_by("redtap_otlp_dropped_total", "instance, signal")),
                           "{{instance}} {{signal}}")], "ops"), 8, 8)
    d.add(timeseries("Instrumented processes per agent", "Processes traced per agent.",
                     [prom("sum by (instance) (redtap_instrumented_processes{%s})" % AGENT,
                           "{{instance}}")], "none"), 8, 8)
    d.add(timeseries("Scrape duration", "How long Prometheus takes to scrape each agent.",
                     [prom("max by (instance) (scrape_duration_seconds{%s} and on (job, instance) "
                           "%s)" % (AGENT, known), "{{instance}}")], "s"), 12, 7)
    d.add(timeseries("Samples per scrape", "Samples each agent returns per scrape.",
                     [prom("max by (instance) (scrape_samples_scraped{%s} and on (job, instance) "
                           "%s)" % (AGENT, known), "{{instance}}")], "none"), 12, 7)
    return d
