# bench/logs.sh - sourced by bench/run.sh: part "logs", what zero-code log
# capture (issue 16, docs/logs.md) costs. A Python thread-per-connection
# service writing one JSON log line per request (bench/py_log_app.py) under
# wrk -t1 -c8 at saturation, in three variants alternated in rotating order
# for BENCH_LOGS_ROUNDS (3) rounds of BENCH_SECS (3) seconds, the agent
# selecting the service only (-e on a copy of the interpreter):
#   agent  the agent without log capture;
#   logs   REDTAP_LOGS=true: every line captured, parsed, counted (no OTLP
#          collector: the exporter is off, so this is the node's cost);
#   flood0 the agent without log capture while another selected process
#          writes 100 000 lines/s to its stdout (the flood's own CPU);
#   flood  the same with log capture on: the kernel's per-process budget
#          must keep the service's throughput (flood / flood0).
# Reported: the throughputs, logs/agent, flood/flood0 (what capturing a
# flood costs the service) and flood/logs (what the flood itself costs a
# 2-CPU node, for information), and the agent's
# added CPU per log line ((logs - agent) agent CPU / lines written).
# Ports: BENCH_LOGS_PORT (28980 on) for the app, 29964 on for the agent.
# Uses app_wrk from bench/app.sh.

declare -F app_wrk >/dev/null || . bench/app.sh

LOGS_VARIANTS="agent logs flood0 flood"

logs_up() {
	case $1 in
	agent | flood0) variant_up "$1" "$agent_port" -e "$py" ;;
	*) REDTAP_LOGS=true variant_up "$1" "$agent_port" -e "$py" ;;
	esac || return 1
	flood=
	if [ "$1" = flood ] || [ "$1" = flood0 ]; then
		"$py" "$BENCH_ROOT/bench/py_log_app.py" flood 100000 >/dev/null &
		flood=$!
		bg_track "$flood"
		sleep 1
	fi
}

logs_down() {
	[ -n "$flood" ] && stop_pid "$flood"
	variant_down "$1"
}

# logs_run R V: "RPS P50 P99" in $dir/run, the agent's CPU in us per request
# (= per log line written) in $dir/run.cpu, the flood's drops in $dir/run.drops.
logs_run() {
	local t0 t1 rps
	app_wrk "$url" 1 >/dev/null # warm-up
	t0=$(cpu_ticks "$AGENT_PID")
	app_wrk "$url" "$secs" >"$dir/run"
	t1=$(cpu_ticks "$AGENT_PID")
	read -r rps _ <"$dir/run"
	calc "($t1 - $t0) * 1e6 / $CLK_TCK / ($rps * $secs)" >"$dir/run.cpu"
	[ "$2" = flood ] && metric_sum "$agent_port" redtap_kernel_events_dropped_total \
		'reason="log_rate_limited"' >"$dir/run.drops"
	return 0
}

logs_keep() {
	local r=$1 v=$2 rps p50 p99
	read -r rps p50 p99 <"$dir/run"
	echo "$rps" >"$dir/rps.$r.$v"
	echo "$rps" >>"$dir/rpsall.$v"
	echo "$p99" >>"$dir/p99all.$v"
	cp "$dir/run.cpu" "$dir/cpu.$r.$v"
	[ "$v" = flood ] && cat "$dir/run.drops" >>"$dir/drops"
	log "logs: round $((r + 1)) $v: $rps req/s, p99 $p99 us," \
		"agent $(cat "$dir/cpu.$r.$v") us CPU per request"
}

bench_logs() {
	local rounds=${BENCH_LOGS_ROUNDS:-3} secs=${BENCH_SECS:-3}
	local port agent_port app flood url r v
	local dir=$BENCH_TMP/logs py=$BENCH_TMP/pylogbench

	mkdir -p "$dir"
	cp /usr/bin/python3 "$py"
	port=$(pick_port "${BENCH_LOGS_PORT:-28980}")
	agent_port=$(pick_port "${BENCH_LOGS_AGENT_PORT:-29964}")
	"$py" "$BENCH_ROOT/bench/py_log_app.py" "$port" >/dev/null 2>"$dir/app.err" &
	app=$!
	bg_track "$app"
	wait_port "$port" 10 || { log "logs: the Python server did not start"; return 1; }
	url=http://127.0.0.1:$port/items/42
	log "logs: bench/py_log_app.py :$port, $rounds rounds x ${secs}s per variant"
	rotate logs "$rounds" "$LOGS_VARIANTS" || return 1
	stop_pid "$app"
	for v in $LOGS_VARIANTS; do
		result "logs_rps_$v" "$(median <"$dir/rpsall.$v")"
		result "logs_p99_us_$v" "$(median <"$dir/p99all.$v")"
	done
	for r in $(seq 0 $((rounds - 1))); do
		calc "$(cat "$dir/cpu.$r.logs") - $(cat "$dir/cpu.$r.agent")" >>"$dir/cpu.extra"
	done
	ratio_results logs_ratio logs_ratio_range "$dir" rps logs agent "$rounds"
	ratio_results logs_flood_ratio logs_flood_ratio_range "$dir" rps flood flood0 "$rounds"
	ratio_results logs_flood_cost logs_flood_cost_range "$dir" rps flood logs "$rounds"
	result logs_cpu_us_per_line "$(median <"$dir/cpu.extra")"
	result logs_flood_drops "$(median <"$dir/drops")"
}

summary_logs() {
	local v x
	echo "  logs: a Python service writing one JSON log line per request" \
		"(bench/py_log_app.py) + wrk -t1 -c8, saturation"
	for v in $LOGS_VARIANTS; do
		row "   ($v) req/s, p99 us" "$(num "$(get "logs_rps_$v")")" \
			"$(num "$(get "logs_p99_us_$v")")" ""
	done
	x=$(get logs_ratio)
	row "   log capture on / off, throughput" "$x" ">= 0.95" \
		"$(verdict "$x" ">=" 0.95), rounds $(get logs_ratio_range)"
	row "   agent CPU per log line, us" "$(fmt "%.1f" "$(get logs_cpu_us_per_line)")" "" ""
	x=$(get logs_flood_ratio)
	row "   100 000 lines/s flood: capture on / off" "$x" ">= 0.95" \
		"$(verdict "$x" ">=" 0.95), rounds $(get logs_flood_ratio_range)"
	row "   the flood's own cost: flood / no flood" "$(get logs_flood_cost)" "" \
		"rounds $(get logs_flood_cost_range)"
	row "   flood writes dropped in the kernel (per run)" "$(num "$(get logs_flood_drops)")" "" ""
}
