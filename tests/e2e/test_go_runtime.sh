#!/bin/bash
# tests/e2e/test_go_runtime.sh - Go runtime and process metrics without code
# change (issue 12). tests/e2e/apps/go/gorun, built offline three ways
# (default: symbols and DWARF; -w: symbols only, offsets from the version
# table; -s -w: stripped), parks 300 goroutines, keeps 64 MiB of heap and
# runs GC. What redtap reads from its memory (go_goroutines,
# go_memory_heap_live_bytes, go_memory_gc_goal_bytes, go_gc_cycles_total,
# go_processor_limit, go_memory_used_bytes by go_memory_type,
# go_memory_allocated_bytes_total) must agree within 5 % with what the
# program reports about itself on /stats (runtime.NumGoroutine,
# runtime.ReadMemStats: Sys - HeapReleased, StackInuse, TotalAlloc); its
# process.* metrics with ps. The stripped build gets no go_* series, counted
# in redtap_go_runtime_unread_total{reason="no_symbols"}. Ports 31800-31899.
. "$(dirname "$0")/lib.sh"
AGENT=31864
APPS="$E2E_ROOT/tests/e2e/apps"

gobuild() { # OUT [FLAGS...]
	out=$1
	shift
	(cd "$APPS/go/gorun" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
		GOCACHE=/tmp/redtap-gocache go build "$@" -o "$E2E_TMP/$out" .) ||
		{ echo "  FAIL go build $out"; exit 1; }
}
gobuild gorun-full
gobuild gorun-nodwarf -ldflags '-w'
gobuild gorun-stripped -ldflags '-s -w'

start_app() { # BIN PORT SERVICE
	OTEL_SERVICE_NAME=$3 GOMAXPROCS=3 "$E2E_TMP/$1" -addr 127.0.0.1:$2 -goroutines 300 \
		-heap-mb 64 >"$E2E_TMP/$1.log" 2>&1 &
	bg_track $!
	eval "PID_$3=$!"
	wait_http "http://127.0.0.1:$2/stats" 20 || exit 1
}
start_app gorun-full 31801 gofull
start_app gorun-nodwarf 31802 gonodwarf
start_app gorun-stripped 31803 gostripped

start_agent $AGENT -p "$PID_gofull,$PID_gonodwarf,$PID_gostripped" || exit 1
sleep 7 # the first round of process metrics, every 5 s
for _ in $(seq 20); do
	scrape | grep -q 'go_goroutines{service_name="gonodwarf"}' && break
	sleep 1
done

# within PCT % of the program's own figure
near() { # DESC GOT WANT PCT
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if awk -v g="$2" -v w="$3" -v p="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(w > 0 && d <= w * p / 100) }'; then
		echo "  ok   $1 ($2 ~ $3)"
	else
		echo "  FAIL $1 (got '$2', want $3 +- $4 %)"
		E2E_FAILED=1
	fi
}

for svc_port in gofull:31801 gonodwarf:31802; do
	svc=${svc_port%:*} port=${svc_port#*:}
	stats=$(curl -sf "http://127.0.0.1:$port/stats")
	js() { printf '%s' "$stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
	near "$svc: goroutines" "$(metric_sum go_goroutines service_name=$svc)" "$(js goroutines)" 5
	near "$svc: live heap" "$(metric_sum go_memory_heap_live_bytes service_name=$svc)" "$(js heap_alloc)" 5
	near "$svc: GC goal" "$(metric_sum go_memory_gc_goal_bytes service_name=$svc)" "$(js next_gc)" 5
	near "$svc: GC cycles" "$(metric_sum go_gc_cycles_total service_name=$svc)" "$(js num_gc)" 5
	near "$svc: GC pause time" "$(metric_sum go_gc_pause_time_seconds_total service_name=$svc)" \
		"$(awk -v n="$(js pause_total_ns)" 'BEGIN { print n / 1e9 }')" 5
	expect_eq "$svc: GOMAXPROCS" "$(metric_sum go_processor_limit service_name=$svc)" 3
done

# Memory: the program's own figures first (ReadMemStats also flushes its
# Ps' cached spans into TotalAlloc), then the agent's next round must read
# the same: the program allocates nothing meanwhile but that one reply.
mem_gofull=$(curl -sf http://127.0.0.1:31801/stats)
mem_gonodwarf=$(curl -sf http://127.0.0.1:31802/stats)
sleep 6 # a round of process metrics is 5 s
for svc in gofull gonodwarf; do
	[ $svc = gofull ] && stats=$mem_gofull || stats=$mem_gonodwarf
	near "$svc: memory used (Sys - HeapReleased)" \
		"$(metric_sum go_memory_used_bytes service_name=$svc)" "$(js mem_used)" 5
	near "$svc: its stack part (StackInuse)" \
		"$(metric_sum go_memory_used_bytes service_name=$svc go_memory_type=stack)" \
		"$(js stack_inuse)" 5
	near "$svc: heap allocated (TotalAlloc)" \
		"$(metric_sum go_memory_allocated_bytes_total service_name=$svc)" "$(js total_alloc)" 5
done
check "go.memory.used has its other part" contains "$(scrape)" \
	'go_memory_used_bytes{service_name="gofull",go_memory_type="other"}'

# process metrics against ps (threads, RSS within 5 %, CPU time, fds from /proc)
pid=$PID_gofull
expect_eq "process threads as ps counts them" \
	"$(metric_sum process_threads service_name=gofull)" "$(ps -o nlwp= -p $pid | tr -d ' ')"
near "resident memory as ps reports it" "$(metric_sum process_memory_usage_bytes service_name=gofull)" \
	"$(($(ps -o rss= -p $pid | tr -d ' ') * 1024))" 5
expect_eq "open file descriptors" \
	"$(metric_sum process_unix_file_descriptors service_name=gofull)" "$(ls /proc/$pid/fd | wc -l)"
cpu=$(metric_sum process_cpu_time_seconds_total service_name=gofull)
tck=$(getconf CLK_TCK)
stat_ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
statcpu=$(awk -v n="$stat_ticks" -v t="$tck" 'BEGIN { print n / t }')
# in clock ticks, the unit both come from: the sum of the two mode series in
# floating point may end a rounding error above /proc's figure (0.05 + 0.04)
expect_ge "CPU time no more than /proc says ($statcpu s), in ticks" "$stat_ticks" \
	"$(awk -v c="$cpu" -v t="$tck" 'BEGIN { printf "%d", c * t + 0.5 }')"
expect_ge "CPU time at most 0.5 s behind (a round is 5 s)" "$cpu" \
	"$(awk -v c="$statcpu" 'BEGIN { print c - 0.5 }')"
check "CPU time by mode" contains "$(scrape)" 'process_cpu_time_seconds_total{service_name="gofull",cpu_mode="user"}'

# the documented degradation of a stripped build
check "the stripped build has no go_* series" \
	sh -c "! curl -sf http://127.0.0.1:$AGENT/metrics | grep -q 'go_goroutines{service_name=\"gostripped\"}'"
check "it still has process metrics" contains "$(scrape)" 'process_threads{service_name="gostripped"}'
expect_ge "counted as no_symbols" "$(metric_sum redtap_go_runtime_unread_total reason=no_symbols)" 1
e2e_finish
