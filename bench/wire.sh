#!/usr/bin/env bash
# bench/wire.sh - sourced by bench/run.sh: part "wire", the agent's cost on
# PostgreSQL and Redis clients measured from the wire (issue 11), none of
# them wrapped with the shim.
#   - pgbench -S (-c 4 -j 2) against a private PostgreSQL 15 cluster and
#     redis-benchmark -P 1 (-c 8, GET, a fixed -n) against a private
#     redis-server, each in three variants alternated in rotating order for
#     $BENCH_ROUNDS rounds: none (no agent), floor (bench/floor: empty
#     programs on the agent's tracepoints), agent (redtap with its defaults:
#     every process). Each round's throughput is divided by that round's
#     "none"; the medians of those ratios are reported, and the agent's cost
#     above the floor as a fraction of the floor's own (the HTTP part's
#     figure, which the issue takes as the bound).
#   - the daemon's CPU per 10 000 operations/s during the agent runs;
#   - one redis-benchmark -P 16 run of a fixed count, far above 50 000
#     operations/s: ring-buffer and other kernel drops (must be 0) and the
#     operations the agent counted against the client's own count (with the
#     default 256-byte capture each 16-command write is cut; the replies
#     count what the prefix lost, docs/protocols.md).
# Uses pg_start and pgbench_run of bench/shim.sh.

WIRE_VARIANTS="none floor agent"

# redis_run PORT N PIPELINE: prints "OPS_PER_S SECONDS" of a GET run.
redis_run() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$(redis-benchmark -h 127.0.0.1 -p "$1" -c 8 -n "$2" -P "$3" -t get -q 2>&1 |
		tr '\r' '\n' | tee -a "$BENCH_TMP/redis-benchmark.log")
	t1=$(date +%s.%N)
	echo "$out" | awk -v s="$(calc "$t1 - $t0")" '
		/^GET: [0-9.]+ requests per second/ { rps = $2 }
		END { print (rps == "" ? "n/a" : rps), s }'
}

# wire_ops PORT: operations the agent counted for redis-benchmark, but for
# the CONFIG GETs it sends before it starts.
wire_ops() {
	curl -fs "http://127.0.0.1:$1/metrics" | awk '
		index($0, "db_client_operation_duration_seconds_count{") == 1 &&
		index($0, "service_name=\"redis-benchmark\"") &&
		!index($0, "db_operation_name=\"CONFIG\"") { s += $NF } END { print s + 0 }'
}

wire_up() {
	case $1 in
	agent) variant_up "$1" "$agent_port" && sleep 1 ;; # past its start-up scan
	*) variant_up "$1" ;;
	esac
}
wire_down() { variant_down "$1"; }

# wire_run R V: "TPS" in $dir/run.pg, "OPS_PER_S" in $dir/run.rd; with the
# agent, its CPU per 10 000 operations/s of each in $dir/run.pgcpu, run.rdcpu.
wire_run() {
	local t0 t1 tps rps rsecs
	[ -n "$AGENT_PID" ] && t0=$(cpu_ticks "$AGENT_PID")
	read -r tps _ <<<"$(BENCH_TMP=$dir pgbench_run "$pg_port" "$secs")"
	echo "$tps" >"$dir/run.pg"
	if [ -n "$AGENT_PID" ]; then
		t1=$(cpu_ticks "$AGENT_PID")
		calc "($t1 - $t0) / $CLK_TCK / $secs * 10000 / $tps" >"$dir/run.pgcpu"
		t0=$t1
	fi
	read -r rps rsecs <<<"$(redis_run "$rd_port" "$n" 1)"
	echo "$rps" >"$dir/run.rd"
	if [ -n "$AGENT_PID" ]; then
		t1=$(cpu_ticks "$AGENT_PID")
		calc "($t1 - $t0) / $CLK_TCK / $rsecs * 10000 / $rps" >"$dir/run.rdcpu"
	fi
	return 0
}

wire_keep() {
	local r=$1 v=$2
	if [ "$v" = agent ]; then
		cat "$dir/run.pgcpu" >>"$dir/pg_cpu10k"
		cat "$dir/run.rdcpu" >>"$dir/rd_cpu10k"
	fi
	cp "$dir/run.pg" "$dir/tps.$r.$v"
	cat "$dir/run.pg" >>"$dir/tpsall.$v"
	cp "$dir/run.rd" "$dir/rps.$r.$v"
	cat "$dir/run.rd" >>"$dir/rpsall.$v"
	log "wire: round $((r + 1)) $v: pgbench $(cat "$dir/run.pg") TPS," \
		"redis $(cat "$dir/run.rd") ops/s"
}

bench_wire() {
	local rounds=${BENCH_ROUNDS:-8} secs=${BENCH_SECS:-3} n=${BENCH_WIRE_REDIS_N:-100000}
	local pg_port rd_port agent_port v rps rsecs dir=$BENCH_TMP/wire
	local rd_pid drops0 drops ops0 ops big=${BENCH_WIRE_BIG_N:-1000000}

	mkdir -p "$dir"
	pg_port=$(pick_port 26432)
	BENCH_TMP=$dir pg_start "$pg_port" || return 1
	if ! createdb -h 127.0.0.1 -p "$pg_port" -U postgres bench ||
		! pgbench -i -q -s 10 -h 127.0.0.1 -p "$pg_port" -U postgres bench \
			>>"$dir/pgbench.log" 2>&1; then
		log "wire: creating the pgbench database failed"
		return 1
	fi
	rd_port=$(pick_port 26379)
	redis-server --port "$rd_port" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no >"$dir/redis.log" 2>&1 &
	rd_pid=$!
	bg_track "$rd_pid"
	wait_port "$rd_port" 10 || { log "wire: redis-server did not start"; return 1; }
	agent_port=$(pick_port 29664)
	BENCH_TMP=$dir pgbench_run "$pg_port" 2 >/dev/null # warm-up
	log "wire: pgbench -S ${secs}s and redis-benchmark -P 1 -n $n per variant, $rounds rounds"
	rotate wire "$rounds" "$WIRE_VARIANTS" || return 1
	for v in $WIRE_VARIANTS; do
		result "wire_pg_tps_$v" "$(median <"$dir/tpsall.$v")"
		result "wire_redis_rps_$v" "$(median <"$dir/rpsall.$v")"
		ratio_results "wire_pg_ratio_$v" "wire_pg_ratio_range_$v" "$dir" tps "$v" none "$rounds"
		ratio_results "wire_redis_ratio_$v" "wire_redis_ratio_range_$v" "$dir" rps "$v" none \
			"$rounds"
	done
	above_floor wire_pg
	above_floor wire_redis
	result wire_pg_cpu_per_10k "$(median <"$dir/pg_cpu10k")"
	result wire_redis_cpu_per_10k "$(median <"$dir/rd_cpu10k")"

	# a fixed count far above 50 000 ops/s: no drops, every operation counted
	wait_quiet
	start_agent "$agent_port" || return 1
	drops0=$(metric_sum "$agent_port" redtap_kernel_events_dropped_total)
	ops0=$(wire_ops "$agent_port")
	read -r rps rsecs <<<"$(redis_run "$rd_port" "$big" 16)"
	sleep 2 # the agent drains the ring buffer
	drops=$(metric_sum "$agent_port" redtap_kernel_events_dropped_total)
	ops=$(wire_ops "$agent_port")
	result wire_big_rps "$rps"
	result wire_big_n "$big"
	result wire_big_drops "$(calc "$drops - $drops0")"
	result wire_big_counted "$(calc "$ops - $ops0")"
	result wire_big_parse_lost "$(metric_sum "$agent_port" redtap_parse_errors_total \
		'reason="ops_lost"')"
	log "wire: redis-benchmark -P 16 -n $big: $rps ops/s, drops $(get wire_big_drops)," \
		"counted $(get wire_big_counted)"
	stop_pid "$AGENT_PID"
	stop_pid "$rd_pid"
	stop_pid "$PG_PID"
}

summary_wire() {
	local v x
	echo "  wire. PostgreSQL and Redis from the wire: pgbench -S -c 4, redis-benchmark -P 1 -c 8"
	for v in $WIRE_VARIANTS; do
		row "   ($v) pgbench -S, TPS" "$(num "$(get wire_pg_tps_"$v")")" "" ""
		row "   ($v) redis-benchmark GET -P 1, ops/s" "$(num "$(get wire_redis_rps_"$v")")" "" ""
	done
	for v in floor agent; do
		row "   pgbench: $v / none" "$(get wire_pg_ratio_$v)" "" \
			"rounds $(get wire_pg_ratio_range_$v)"
		row "   redis: $v / none" "$(get wire_redis_ratio_$v)" "" \
			"rounds $(get wire_redis_ratio_range_$v)"
	done
	x=$(get http_agent_above_floor)
	row "   pgbench: agent above floor / floor's cost" \
		"$(pct "$(get wire_pg_agent_above_floor)")" "<= HTTP's ($(pct "$x"))" \
		"$(verdict "$(get wire_pg_agent_above_floor)" "<=" "${x/n\/a/0.25}")"
	row "   redis: agent above floor / floor's cost" \
		"$(pct "$(get wire_redis_agent_above_floor)")" "<= HTTP's ($(pct "$x"))" \
		"$(verdict "$(get wire_redis_agent_above_floor)" "<=" "${x/n\/a/0.25}")"
	row "   agent's CPU per 10k pgbench tx/s" "$(pct "$(get wire_pg_cpu_per_10k)")" "" ""
	row "   agent's CPU per 10k Redis ops/s" "$(pct "$(get wire_redis_cpu_per_10k)")" "" ""
	x=$(get wire_big_rps)
	row "   redis-benchmark -P 16 -n $(get wire_big_n), ops/s" "$(num "$x")" ">= 50000" \
		"$(verdict "$x" ">=" 50000)"
	x=$(get wire_big_drops)
	row "     kernel drops (ring buffer and others)" "$x" "0" "$(verdict "$x" "<=" 0)"
	row "     operations counted / done" "$(num "$(get wire_big_counted)") / $(get wire_big_n)" "" \
		"ops_lost $(get wire_big_parse_lost)"
}
