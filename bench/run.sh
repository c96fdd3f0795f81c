#!/usr/bin/env bash
# bench/run.sh - `make bench`: measures what redtap costs and prints a
# summary table against the targets of BENCHMARKS.md. Unattended, as root,
# in about 7 minutes; everything on 127.0.0.1, every load bounded in time.
#
#   1. HTTP overhead (bench/http.sh)   nginx + wrk: none / floor / agent / unselected
#   2. shim overhead (bench/shim.sh)   stub-libpq microbenchmark, pgbench -S
#   3. daemon (bench/daemon.sh)        replay events/s, RSS per series, CPU per 10k req/s
#   4. loss (bench/loss.sh)            rate at which the ring buffer first drops
#   app (bench/app.sh)                 a Python thread-per-connection service: none / floor / agent
#   wire (bench/wire.sh)               pgbench -S, redis-benchmark: none / floor / agent
#   h2 (bench/h2.sh)                   nghttpd + h2load: none / floor / agent
#   https (bench/https.sh)             nginx + wrk over TLS: none / floor / agent, TLS
#                                      programs per request, a 20 000 req/s loss check
#   logs (bench/logs.sh)               a service logging per request: log capture off / on / flood
#   go (bench/gosvc.sh)                a Go service (HTTP, PostgreSQL, Redis): none / floor /
#                                      agent (metrics only, the default) / traces
#
# Environment: BENCH_PARTS="http shim daemon loss" (a subset runs only
# those), BENCH_ROUNDS (HTTP 8, pgbench 8, Go and Python services 6,
# shimcall 4), BENCH_SECS (s per run: HTTP 3, pgbench 4), BENCH_CPU_ROUNDS
# and BENCH_CPU_SECS (the daemon's CPU with nginx selected: the median of 3
# rounds of 10 s),
# BENCH_QUICK=1 (2 rounds of 2 s: a smoke test, not a measurement),
# BENCH_KEEP=1 (keep the temporary directory with every log).
# The summary is also written to build/bench/summary.txt.
set -u

cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
. bench/http.sh
. bench/shim.sh
. bench/daemon.sh
. bench/loss.sh
. bench/app.sh
. bench/wire.sh
. bench/h2.sh
. bench/https.sh
. bench/gosvc.sh
. bench/logs.sh

if [ -n "${BENCH_QUICK:-}" ]; then
	BENCH_ROUNDS=${BENCH_ROUNDS:-2}
	BENCH_SECS=${BENCH_SECS:-2}
	BENCH_LOSS_SECS=${BENCH_LOSS_SECS:-2}
	BENCH_CPU_SECS=${BENCH_CPU_SECS:-3}
	BENCH_CPU_ROUNDS=${BENCH_CPU_ROUNDS:-1}
	BENCH_SHIM_CALLS=${BENCH_SHIM_CALLS:-200000}
fi
PARTS=${BENCH_PARTS:-http shim daemon loss h2 https go wire app logs}

preflight() {
	local t part missing=
	for part in $PARTS; do
		case $part in
		http | shim | daemon | loss | h2 | https | go | wire | app | logs) ;;
		*)
			echo "bench: unknown part $part (http, shim, daemon, loss, h2, https, go, wire, app," \
				"logs)" >&2
			exit 2
			;;
		esac
	done
	if [ "$(id -u)" != 0 ]; then
		echo "bench: run as root (eBPF, nginx, postgres as its own user)" >&2
		exit 1
	fi
	for t in nginx wrk curl pgbench ss setpriv bpftool /usr/bin/time; do
		command -v "$t" >/dev/null || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		echo "bench: missing tools:$missing (apt-get install nginx wrk curl" \
			"postgresql-15 postgresql-client-15 iproute2 util-linux bpftool time)" >&2
		exit 1
	fi
	make -s all bench-progs || exit 1
}

machine() {
	echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1)," \
		"$(nproc) CPUs," \
		"$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
		"kernel $(uname -r)"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC'), redtap $(cat VERSION 2>/dev/null)" \
		"($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
}

# verdict VALUE OP TARGET: PASS, MISS or "-" (OP is <= or >=).
verdict() {
	case "$1" in n/a | none | "") echo "-"; return ;; esac
	if [ "$(calc "($1 $2 $3)")" = 1 ]; then echo PASS; else echo MISS; fi
}

row() { printf '  %-50s %16s  %-18s %s\n' "$1" "$2" "$3" "$4"; }

# summary_modes PREFIX VARIANTS FIXED SAT: the rows of a service measured at
# a fixed rate and at saturation (the PREFIX_fixed_* and PREFIX_sat_*
# results), under the headings FIXED and SAT: each variant's req/s, p50 and
# p99, and the agent's and the floor's ratios to "none".
summary_modes() {
	local prefix=$1 variants=$2 m v x
	for m in fixed sat; do
		if [ "$m" = fixed ]; then echo "     $3"; else echo "     $4"; fi
		for v in $variants; do
			row "   ($v) req/s, p50 / p99 us" "$(num "$(get "${prefix}_${m}_rps_$v")")" \
				"$(num "$(get "${prefix}_${m}_p50_us_$v")") / $(num "$(get "${prefix}_${m}_p99_us_$v")")" ""
		done
		x=$(get "${prefix}_${m}_rps_ratio_agent")
		row "   agent/none throughput" "$x" ">= 0.98" \
			"$(verdict "$x" ">=" 0.98), rounds $(get "${prefix}_${m}_rps_ratio_range_agent")"
		x=$(get "${prefix}_${m}_p99_ratio_agent")
		row "   agent/none p99" "$x" "<= 1.1" \
			"$(verdict "$x" "<=" 1.1), rounds $(get "${prefix}_${m}_p99_ratio_range_agent")"
		x=$(get "${prefix}_${m}_rps_ratio_floor")
		row "   floor/none throughput" "$x" "" "rounds $(get "${prefix}_${m}_rps_ratio_range_floor")"
	done
}

# fmt FORMAT VALUE [SCALE]: printf of VALUE * SCALE; n/a and none pass through.
fmt() {
	case "$2" in
	n/a | none | "") echo "${2:-n/a}" ;;
	*) awk -v f="$1" -v v="$2" -v k="${3:-1}" 'BEGIN { printf f "\n", v * k }' ;;
	esac
}
pct() { fmt "%.1f%%" "$1" 100; }
pct2() { fmt "%.2f%%" "$1" 100; } # a target of a fraction of a percent
num() { fmt "%.0f" "$1"; }
mib() { fmt "%.1f MiB" "$1" 0.0009765625; }

summary_http() {
	local v x
	echo "  1. HTTP overhead: nginx (1 worker) + wrk -t1 -c${BENCH_CONNS:-32}," \
		"/api/x -> 200 \"ok\""
	for v in none floor agent unsel otlp bound_record; do
		row "   ($v) throughput, req/s" "$(num "$(get http_rps_$v)")" "" ""
		row "   ($v) p99 latency, us" "$(num "$(get http_p99_us_$v)")" "" ""
	done
	row "   (e)/(a) throughput, tracing + OTLP export" "$(get http_ratio_otlp)" "" \
		"rounds $(get http_ratio_range_otlp)"
	row "   (c)/(a) throughput, agent defaults" "$(get http_ratio_agent)" "" \
		"rounds $(get http_ratio_range_agent)"
	x=$(get http_p99_ratio_agent)
	row "   (c)/(a) p99 latency, agent defaults" "$x" "<= 1.5" \
		"$(verdict "$x" "<=" 1.5), rounds $(get http_p99_ratio_range_agent)"
	row "   (b)/(a) throughput, floor" "$(get http_ratio_floor)" "" \
		"rounds $(get http_ratio_range_floor)"
	row "   (d)/(a) throughput, not selected" "$(get http_ratio_unsel)" "" \
		"rounds $(get http_ratio_range_unsel)"
	for v in none floor agent unsel otlp bound_record; do
		row "   ($v) CPU per request, us (nginx+wrk+agent)" "$(get http_cpu_us_$v)" "" ""
	done
	row "   floor's cost, 1 - b/a" "$(pct "$(get http_floor_cost)")" "" ""
	x=$(get http_agent_above_floor)
	row "   agent above floor / floor's cost" "$(pct "$x")" "<= 25%" "$(verdict "$x" "<=" 0.25)"
	x=$(get http_unsel_above_floor)
	row "   not selected above floor / floor's cost" "$(pct "$x")" "<= 25% (~0)" \
		"$(verdict "$x" "<=" 0.25)"
	x=$(calc "$(get http_cpu_ratio_floor) - 1")
	row "   by CPU per request: floor's cost" "$(pct "$x")" "" \
		"rounds $(get http_cpu_ratio_range_floor)"
	x=$(calc "$(get http_cpu_ratio_agent) - 1")
	row "   by CPU per request: agent's cost" "$(pct "$x")" "" \
		"rounds $(get http_cpu_ratio_range_agent)"
	x=$(calc "$(get http_cpu_ratio_unsel) - 1")
	row "   by CPU per request: not selected" "$(pct "$x")" "" \
		"rounds $(get http_cpu_ratio_range_unsel)"
	x=$(get http_cpu_agent_above_floor)
	row "   by CPU: agent above floor / floor's cost" "$(pct "$x")" "<= 25%" \
		"$(verdict "$x" "<=" 0.25)"
	x=$(get http_cpu_unsel_above_floor)
	row "   by CPU: not selected above floor / floor's" "$(pct "$x")" "<= 25% (~0)" \
		"$(verdict "$x" "<=" 0.25)"
	x=$(get http_bound_record_above_floor)
	row "   (f) lower bound above floor / floor's cost" "$(pct "$x")" "" \
		"one record per syscall, nothing else"
	x=$(get http_cpu_bound_record_above_floor)
	row "   by CPU: (f) lower bound above floor / floor's" "$(pct "$x")" "" ""
	x=$(get daemon_cpu_per_10k_all)
	row "   agent's CPU per 10k req/s (nginx+wrk seen)" "$(pct2 "$x")" "< 0.5% of a core" \
		"$(verdict "$x" "<" 0.005)"
}

summary_shim() {
	local x
	echo "  2. shim overhead (agent absent)"
	if [ "$(get shim_status)" = ok ]; then
		x=$(get shim_overhead_sync_ns)
		row "   PQexec wrapped, no listener, ns/call" "$x" "< 100 ns" \
			"$(verdict "$x" "<" 100)"
		x=$(get shim_overhead_async_ns)
		row "   PQsendQuery+2 PQgetResult, no listener, ns" "$x" "< 100 ns" \
			"$(verdict "$x" "<" 100)"
		x=$(get shim_ring_overhead_sync_ns)
		row "   PQexec wrapped, shm ring transport, ns/call" "$x" "< 1000 ns" \
			"$(verdict "$x" "<" 1000)"
		x=$(get shim_ring_overhead_async_ns)
		row "   async op, shm ring transport, ns" "$x" "< 1000 ns" \
			"$(verdict "$x" "<" 1000)"
		x=$(get shim_ioctl_overhead_sync_ns)
		row "   PQexec wrapped, ioctl channel to the agent, ns" "$x" "< 1000 ns" \
			"$(verdict "$x" "<" 1000)"
		x=$(get shim_ioctl_overhead_async_ns)
		row "   async op, ioctl channel to the agent, ns" "$x" "< 1000 ns" \
			"$(verdict "$x" "<" 1000)"
		x=$(get shim_batch_overhead_sync_ns)
		row "   PQexec wrapped, ioctl batches (REDTAP_SHIM_BATCH=1), ns" "$x" "< 500 ns" \
			"$(verdict "$x" "<" 500)"
		x=$(get shim_batch_overhead_async_ns)
		row "   async op, ioctl batches, ns" "$x" "< 500 ns" \
			"$(verdict "$x" "<" 500)"
		x=$(get shimcall_default_sync_cpu_ns)
		row "   PQexec wrapped, ioctl, default (auto batches), CPU ns" "$x" "< 500 ns" \
			"$(verdict "$x" "<" 500)"
		x=$(get shimcall_default_async_cpu_ns)
		row "   async op, ioctl, default (auto batches), CPU ns" "$x" "< 500 ns" \
			"$(verdict "$x" "<" 500)"
		x=$(get pgbench_ratio)
		row "   pgbench -S TPS with/without shim" "$x" ">= 0.98" \
			"$(verdict "$x" ">=" 0.98), rounds $(get pgbench_ratio_range)"
		row "   pgbench -S TPS without shim" "$(num "$(get pgbench_tps_bare)")" "" ""
		row "   pgbench client CPU added by the shim, us/tx" \
			"$(get pgbench_client_cpu_extra_us)" "" ""
	else
		row "   shim" "n/a" "" "build/libredtap.so missing or not wrapping libpq"
	fi
}

summary_daemon() {
	local v x
	echo "  3. daemon"
	x=$(get replay_events_per_core_s)
	row "   replay, events/s per core" "$(num "$x")" ">= 1000000" "$(verdict "$x" ">=" 1000000)"
	row "   real daemon RSS, no series" "$(mib "$(get daemon_rss_kib_0)")" "" ""
	for v in 100 10000 100000; do
		x=$(get daemon_rss_kib_$v)
		if [ "$v" = 10000 ]; then
			row "   real daemon RSS, $v series" "$(mib "$x")" "< 16 MiB" \
				"$(verdict "$x" "<" 16384)"
		else
			row "   real daemon RSS, $v series" "$(mib "$x")" "" ""
		fi
	done
	for v in 10000 100000; do
		row "   same without the ring buffer's mapping, $v" \
			"$(mib "$(get daemon_rss_noring_kib_$v)")" "" ""
		x=$(get daemon_rss_anon_kib_$v)
		row "   same, anonymous memory only, $v" "$(mib "$x")" "" ""
	done
	row "   replay: RSS per 10 000 series" "$(mib "$(get replay_series_kib_10000)")" "" ""
	x=$(get daemon_cpu_per_10k)
	row "   CPU per 10k req/s (nginx selected)" "$(pct2 "$x")" "< 0.5% of a core" \
		"$(verdict "$x" "<" 0.005), rounds $(get daemon_cpu_per_10k_rounds)"
	row "     at req/s" "$(num "$(get daemon_cpu_rps)")" "" ""
}

summary_loss() {
	local x
	echo "  4. loss (agent defaults: --ringbuf-size auto, 1 MiB a CPU here)"
	x=$(get loss_max_rate_no_drop)
	row "   highest rate without ring-buffer drops" "$(num "$x")" ">= 50000 req/s" \
		"$(verdict "$x" ">=" 50000)"
	row "   rate at the first drop" "$(num "$(get loss_first_drop_rate)")" "" ""
	row "   other kernel drops (stash, conn table, faults)" "$(num "$(get loss_other_drops)")" \
		"" ""
}

summary() {
	local part
	echo
	echo "redtap benchmarks"
	machine
	echo
	if [ "$QUIET_BUSY" != 0 ]; then
		echo "WARNING: $QUIET_BUSY of $QUIET_CALLS runs started while other work or another"
		echo "eBPF tracer was on the node: these numbers are not a measurement of redtap."
		echo
	fi
	row "measurement" "value" "target" "verdict"
	for part in $PARTS; do
		"summary_$part"
	done
}

preflight
bench_init
start=$(date +%s)
log "$(machine | head -1)"
for part in $PARTS; do
	case $part in
	http) bench_http || log "http: failed" ;;
	shim) bench_shim ;;
	daemon) bench_daemon ;;
	loss) bench_loss || log "loss: failed" ;;
	app) bench_app || log "app: failed" ;;
	wire) bench_wire || log "wire: failed" ;;
	h2) bench_h2 || log "h2: failed" ;;
	https) bench_https || log "https: failed" ;;
	go) bench_go || log "go: failed" ;;
	logs) bench_logs || log "logs: failed" ;;
	esac
done
summary | tee "$BUILD/bench/summary.txt"
echo
echo "  took $(($(date +%s) - start)) s; raw results: $BUILD/bench/results.txt"
cp "$BENCH_RESULTS" "$BUILD/bench/results.txt"
