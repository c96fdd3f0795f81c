# bench/gosvc.sh - sourced by bench/run.sh: part "go", the agent's cost on a
# Go service (issue 12). tests/e2e/apps/go/gosvc built offline (pure Go,
# GOMAXPROCS=16): every request calls a downstream over net/http, runs one
# PostgreSQL query (lib/pq) and one Redis GET (redigo), so goroutine ids,
# the net/http entry probes and the wire parsers all work. Its own load
# generator (`gosvc bench`, BENCH_GO_CONC requests at once, each with a
# traceparent) drives it for BENCH_SECS per run, in three variants
# alternated in rotating order for BENCH_GO_ROUNDS rounds:
#   none    no agent
#   floor   bench/floor: empty programs on the agent's tracepoints
#   agent   redtap -p <the service> (tracing on, no exporter)
# Each round's throughput is divided by that round's "none"; medians are
# reported, and the agent's cost above the floor as a fraction of the
# floor's own cost.

GO_VARIANTS="none floor agent"

go_up() {
	case $1 in
	agent) variant_up "$1" "$agent_port" -p "$pid" ;;
	*) variant_up "$1" ;;
	esac
}
go_down() { variant_down "$1"; }

go_run() {
	"$bin" bench "$svc" 1 "$conc" >/dev/null # warm-up
	"$bin" bench "$svc" "$secs" "$conc" >"$dir/run"
}

go_keep() {
	cp "$dir/run" "$dir/rps.$1.$2"
	cat "$dir/run" >>"$dir/rpsall.$2"
	log "go: round $(($1 + 1)) $2: $(cat "$dir/run") req/s"
}

bench_go() {
	local rounds=${BENCH_GO_ROUNDS:-${BENCH_ROUNDS:-4}} secs=${BENCH_SECS:-3}
	local conc=${BENCH_GO_CONC:-32} dir=$BENCH_TMP/go bin v
	local pg rd down svc agent_port pid
	command -v go >/dev/null && command -v redis-server >/dev/null || {
		log "go: go or redis-server missing (apt-get install golang-go redis-server)"
		return 1
	}
	mkdir -p "$dir"
	bin=$dir/gosvc
	(cd "$BENCH_ROOT/tests/e2e/apps/go/gosvc" && GO111MODULE=off GOPATH=/usr/share/gocode \
		GOPROXY=off GOFLAGS= GOCACHE=/tmp/redtap-gocache CGO_ENABLED=0 go build -o "$bin" .) \
		>"$dir/build.log" 2>&1 || { log "go: build failed: $(tail -1 "$dir/build.log")"; return 1; }
	. "$BENCH_ROOT/tests/lib/servers.sh"
	pg=$(pick_port 31390)
	srv_pg_start "$dir/pg" "$pg" >/dev/null && srv_shop_db "$pg" ||
		{ log "go: PostgreSQL did not start"; srv_stop; return 1; }
	rd=$(pick_port 31393)
	srv_redis_start "$dir" "$rd" >/dev/null || { log "go: redis did not start"; srv_stop; return 1; }
	bg_track "$SRV_REDIS_PID"
	down=$(pick_port 31394)
	OTEL_SERVICE_NAME=downstream "$bin" down "$down" >"$dir/down.log" 2>&1 &
	bg_track $!
	svc=$(pick_port 31395)
	GOMAXPROCS=16 OTEL_SERVICE_NAME=gosvc "$bin" serve "$svc" "$down" "$pg" "$rd" \
		>"$dir/svc.log" 2>&1 &
	pid=$!
	bg_track "$pid"
	wait_port "$down" 10 && wait_port "$svc" 10 || { log "go: gosvc did not start"; srv_stop; return 1; }
	agent_port=$(pick_port 31396)
	log "go: gosvc :$svc, $rounds rounds x ${secs}s per variant, $conc requests at once"
	rotate go "$rounds" "$GO_VARIANTS" || log "go: a variant did not start; rounds so far kept"
	stop_pid "$pid"
	srv_stop
	for v in $GO_VARIANTS; do
		[ -s "$dir/rpsall.$v" ] || continue
		result "go_rps_$v" "$(median <"$dir/rpsall.$v")"
		ratio_results "go_ratio_$v" "go_ratio_range_$v" "$dir" rps "$v" none "$rounds"
	done
	above_floor go || true
}

summary_go() {
	local v
	echo "  Go service: gosvc (GOMAXPROCS=16; downstream HTTP + PostgreSQL + Redis per" \
		"request), ${BENCH_GO_CONC:-32} at once"
	for v in $GO_VARIANTS; do
		row "   ($v) throughput, req/s" "$(num "$(get go_rps_$v)")" "" ""
	done
	row "   (c)/(a) throughput, agent (goroutines, probes)" "$(get go_ratio_agent)" "" \
		"rounds $(get go_ratio_range_agent)"
	row "   (b)/(a) throughput, floor" "$(get go_ratio_floor)" "" \
		"rounds $(get go_ratio_range_floor)"
	row "   floor's cost, 1 - b/a" "$(pct "$(get go_floor_cost)")" "" ""
	row "   agent above floor / floor's cost" "$(pct "$(get go_agent_above_floor)")" "" ""
}
