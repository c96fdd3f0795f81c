# bench/gosvc.sh - sourced by bench/run.sh: part "go", the agent's cost on a
# Go service (issue 12). tests/e2e/apps/go/gosvc built offline (pure Go,
# GOMAXPROCS=16): every request calls a downstream over net/http, runs one
# PostgreSQL query (lib/pq) and one Redis GET (redigo), so goroutine ids,
# the net/http entry probes and the wire parsers all work. Its own load
# generator (`gosvc bench`, each request with a traceparent, latency of
# every request kept) drives it at saturation, and bench/pace.go at a
# fixed rate, for BENCH_SECS per run:
#   fixed   BENCH_GO_RATE (500) requests a second, each sent at its
#           scheduled time whatever the latency (an open loop): a load well
#           below saturation, where the latency a service sees is the figure
#           (issue 13: p99 <= 1.1x), and the throughput says whether it
#           kept up;
#   sat     BENCH_GO_CONC (32) clients, no wait: saturation, throughput;
# and four variants, alternated in rotating order for BENCH_GO_ROUNDS rounds
# (BENCH_ROUNDS, 6: a round in one of the node's slow stretches is an
# outlier the median must outvote):
#   none    no agent
#   floor   bench/floor: empty programs on the agent's tracepoints
#   agent   redtap -p <the service>, its defaults: with no OTLP endpoint,
#           metrics only (no goroutine in the records, no net/http client
#           entry probe: only spans need them)
#   traces  the same with traces on, every request's trace sampled by its
#           traceparent, exported to bench/otlp_sink.py on 127.0.0.1: what
#           spans cost on top
#   baseline  $BENCH_BASELINE -p <the service>, when set (an older agent)
# Each round's throughput is divided by that round's "none"; medians are
# reported, and the agent's cost above the floor as a fraction of the
# floor's own cost.

GO_VARIANTS="none floor agent traces"

go_up() {
	case $1 in
	agent | baseline) variant_up "$1" "$agent_port" -p "$pid" ;;
	traces)
		OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$OTLP_SINK_PORT/v1/traces \
			variant_up agent "$agent_port" -p "$pid"
		;;
	*) variant_up "$1" ;;
	esac
}
go_down() { variant_down "$1"; }

# go_run R V: a warm-up, then each mode; "RPS P50_US P99_US" in $dir/run.MODE.
go_run() {
	"$bin" bench "$svc" 1 "$conc" >/dev/null # warm-up
	pace_run "http://127.0.0.1:$svc/work" "$secs" "${BENCH_GO_RATE:-500}" >"$dir/run.fixed"
	"$bin" bench "$svc" "$secs" "$conc" >"$dir/run.sat" || echo "n/a n/a n/a" >"$dir/run.sat"
}

go_keep() {
	local r=$1 v=$2
	modes_keep go "$r" "$v" "$dir"
	# the saturation figures under the names of the first version of this part
	cp "$dir/rps.sat.$r.$v" "$dir/rps.$r.$v"
}

bench_go() {
	local rounds=${BENCH_GO_ROUNDS:-${BENCH_ROUNDS:-6}} secs=${BENCH_SECS:-3}
	local conc=${BENCH_GO_CONC:-32} dir=$BENCH_TMP/go bin v
	local svc agent_port pid
	command -v go >/dev/null && command -v redis-server >/dev/null || {
		log "go: go or redis-server missing (apt-get install golang-go redis-server)"
		return 1
	}
	mkdir -p "$dir"
	gosvc_up "$dir" 31390 || { log "go: $GOSVC_ERR"; srv_stop; return 1; }
	pace_build || { srv_stop; return 1; }
	bin=$GOSVC_BIN svc=$GOSVC_PORT pid=$GOSVC_PID
	agent_port=$(pick_port 31396)
	start_otlp_sink 31430 ||
		log "go: the OTLP sink did not start: the traces variant exports to nothing"
	log "go: gosvc :$svc, $rounds rounds x ${secs}s per variant, $conc requests at once"
	rotate go "$rounds" "$(bench_variants "$GO_VARIANTS")" || log "go: a variant did not start; rounds so far kept"
	stop_pid "$OTLP_SINK_PID"
	stop_pid "$pid"
	srv_stop
	for v in $(bench_variants "$GO_VARIANTS"); do
		[ -s "$dir/rpsall.sat.$v" ] || continue
		result "go_rps_$v" "$(median <"$dir/rpsall.sat.$v")"
		ratio_results "go_ratio_$v" "go_ratio_range_$v" "$dir" rps "$v" none "$rounds"
		modes_results go "$dir" "$rounds" "$v"
	done
	above_floor go || true
}

summary_go() {
	echo "  Go service: gosvc (GOMAXPROCS=16; downstream HTTP + PostgreSQL + Redis per" \
		"request)"
	summary_modes go "$(bench_variants "$GO_VARIANTS")" \
		"fixed rate (${BENCH_GO_RATE:-500} req/s, open loop: bench/pace.go)" \
		"saturation (${BENCH_GO_CONC:-32} at once)"
	row "   floor's cost (saturation), 1 - b/a" "$(pct "$(get go_floor_cost)")" "" ""
	row "   agent above floor / floor's cost" "$(pct "$(get go_agent_above_floor)")" "" ""
	for m in fixed sat; do
		row "   (traces)/none, $m: throughput" "$(get "go_${m}_rps_ratio_traces")" "" \
			"rounds $(get "go_${m}_rps_ratio_range_traces")"
		row "   (traces)/none, $m: p99" "$(get "go_${m}_p99_ratio_traces")" "" \
			"rounds $(get "go_${m}_p99_ratio_range_traces")"
	done
}
