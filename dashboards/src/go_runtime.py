"""Go Runtime Overview: goroutines, GC and heap of Go services, and their processes' CPU,
memory, threads and file descriptors, read by redtap without any change to the programs."""

from grafana import Dashboard, prom, timeseries, stat
from redtap import SERVICE, RI, variables

BY = "service_name"


def _sum(metric, by=BY):
    return "sum by (%s) (%s{%s})" % (by, metric, SERVICE)


def _rate(metric, by=BY):
    return "sum by (%s) (rate(%s{%s}[%s]))" % (by, metric, SERVICE, RI)


def build():
    d = Dashboard(
        "redtap-go-runtime", "redtap / Go Runtime Overview",
        "Go services as their runtime sees them, read by redtap from each Go process's "
        "memory (go_*: goroutines, GOMAXPROCS, heap, GC goal, GC cycles and pauses, memory "
        "used and heap allocated; none for "
        "stripped binaries, see redtap_go_runtime_unread_total), and the process metrics of "
        "every instrumented service from /proc (process_*), per service_name.",
        variables(metric="go_goroutines"), tags=["go", "runtime", "process"])

    d.row("Summary")
    d.add(stat("Goroutines now", "Live goroutines of the selected services (runtime.NumGoroutine).",
               prom("sum(go_goroutines{%s})" % SERVICE), "none"), 6, 4)
    d.add(stat("Live heap", "Heap in use (gcController.heapLive, ~ MemStats.HeapAlloc).",
               prom("sum(go_memory_heap_live_bytes{%s})" % SERVICE), "bytes"), 6, 4)
    d.add(stat("GC pause share", "Share of wall time spent in stop-the-world GC pauses.",
               prom("sum(rate(go_gc_pause_time_seconds_total{%s}[%s]))" % (SERVICE, RI)),
               "percentunit", decimals=4), 6, 4)
    d.add(stat("GOMAXPROCS, all processes", "Threads that may run Go code at once, summed over processes.",
               prom("sum(go_processor_limit{%s})" % SERVICE), "none"), 6, 4)

    d.row("Go runtime")
    d.add(timeseries("Goroutines", "Live goroutines per service.",
                     [prom(_sum("go_goroutines"), "{{service_name}}")], "none"), 12, 8)
    d.add(timeseries("Heap and GC goal", "Live heap and the heap size at which the next GC "
                     "ends (MemStats.NextGC), per service.",
                     [prom(_sum("go_memory_heap_live_bytes"), "{{service_name}} heap"),
                      prom(_sum("go_memory_gc_goal_bytes"), "{{service_name}} goal")],
                     "bytes"), 12, 8)
    d.add(timeseries("GC rate", "Completed GC cycles per second.",
                     [prom(_rate("go_gc_cycles_total"), "{{service_name}}")], "ops"), 8, 8)
    d.add(timeseries("GC pause", "Seconds of stop-the-world GC pause per second.",
                     [prom(_rate("go_gc_pause_time_seconds_total"), "{{service_name}}")],
                     "s"), 8, 8)
    d.add(timeseries("GOMAXPROCS", "go_processor_limit per service.",
                     [prom(_sum("go_processor_limit"), "{{service_name}}")], "none"), 8, 8)
    d.add(timeseries("Memory used by the runtime", "Memory the Go runtime holds from the OS "
                     "(MemStats.Sys - HeapReleased), by go_memory_type: stack "
                     "(MemStats.StackInuse) and other.",
                     [prom(_sum("go_memory_used_bytes", BY + ", go_memory_type"),
                           "{{service_name}} {{go_memory_type}}")], "bytes", stack=True), 12, 8)
    d.add(timeseries("Heap allocation rate", "Bytes allocated on the heap per second "
                     "(rate of MemStats.TotalAlloc).",
                     [prom(_rate("go_memory_allocated_bytes_total"), "{{service_name}}")],
                     "Bps"), 12, 8)

    d.row("Process")
    d.add(timeseries("CPU", "CPU seconds per second by mode (user, system).",
                     [prom(_rate("process_cpu_time_seconds_total", BY + ", cpu_mode"),
                           "{{service_name}} {{cpu_mode}}")], "s", stack=True), 12, 8)
    d.add(timeseries("Resident memory", "Resident set of the service's processes.",
                     [prom(_sum("process_memory_usage_bytes"), "{{service_name}}")], "bytes"),
          12, 8)
    d.add(timeseries("Threads", "OS threads of the service's processes.",
                     [prom(_sum("process_threads"), "{{service_name}}")], "none"), 12, 8)
    d.add(timeseries("Open file descriptors", "Open file descriptors of the service's "
                     "processes.",
                     [prom(_sum("process_unix_file_descriptors"), "{{service_name}}")],
                     "none"), 12, 8)
    return d
