# bench/app.sh - sourced by bench/run.sh: part "app", a realistic service
# beside nginx's worst case: a thread-per-connection Python server
# (bench/py_app.py, ThreadingHTTPServer, GET /items/42 -> a small JSON
# document built per request), in two modes:
#   fixed   bench/pace.go at BENCH_APP_RATE (1000) requests a second, each
#           sent at its scheduled time whatever the latency (an open loop):
#           the latency a service at a normal load sees, and whether it
#           kept up;
#   sat     wrk -t1 -c8, no wait: saturation, throughput;
# and three variants, alternated in rotating order: none, floor (empty
# programs), agent (defaults: every process), plus baseline
# ($BENCH_BASELINE, an older agent) when that is set, for BENCH_APP_ROUNDS rounds
# (BENCH_ROUNDS, 6: a round in one of the node's slow stretches is an
# outlier the median must outvote) of BENCH_SECS (3) seconds. Each round's
# figures are divided by the same round's "none" and the medians of those
# ratios are reported.
# Ports: BENCH_APP_PORT (28880 on) for the app, 29864 on for the agent.
# The server runs on the CPUs of BENCH_APP_CPUS (taskset list, default 0;
# empty: anywhere); wrk and the agent are left to the scheduler. Unpinned,
# its eight threads hand the GIL back and forth between the two CPUs, and
# how often a hand-over crosses them decides the throughput: 5 700-10 400
# req/s in back-to-back runs with nothing else changed, against 16 500-17 100
# on one CPU (BENCHMARKS.md, "The Python service on one CPU"). The GIL lets
# it use one CPU anyway.

APP_VARIANTS="none floor agent"
APP_CPUS=${BENCH_APP_CPUS-0} # the server's taskset list; empty: any CPU

# app_wrk URL SECS [wrk args]: "RPS P50_US P99_US" (n/a when wrk failed).
app_wrk() {
	local url=$1 secs=$2
	shift 2
	wrk -t1 -c8 -d"${secs}s" --latency "$@" "$url" 2>&1 | tee -a "$BENCH_TMP/app-wrk.log" |
		awk 'function us(s,  v, u) { v = s; u = s; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			return v * (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1) }
		/^ *50%/ { p50 = us($2) } /^ *99%/ { p99 = us($2) }
		/^Requests\/sec:/ { rps = $2 }
		END { if (rps == "") print "n/a n/a n/a"; else print rps, p50, p99 }'
}

app_up() { variant_up "$1" "$agent_port"; }
app_down() { variant_down "$1"; }

# app_run R V: a warm-up, then each mode; "RPS P50 P99" in $dir/run.MODE.
app_run() {
	app_wrk "$url" 1 >/dev/null # warm-up
	pace_run "$url" "$secs" "$rate" >"$dir/run.fixed"
	app_wrk "$url" "$secs" >"$dir/run.sat"
}

app_keep() { modes_keep app "$1" "$2" "$dir"; }

bench_app() {
	local rounds=${BENCH_APP_ROUNDS:-${BENCH_ROUNDS:-6}}
	local secs=${BENCH_SECS:-3} rate=${BENCH_APP_RATE:-1000}
	local port agent_port app url v pin=()
	local dir=$BENCH_TMP/app

	mkdir -p "$dir"
	pace_build || return 1
	port=$(pick_port "${BENCH_APP_PORT:-28880}")
	agent_port=$(pick_port "${BENCH_APP_AGENT_PORT:-29864}")
	[ -n "$APP_CPUS" ] && pin=(taskset -c "$APP_CPUS") # execs python
	"${pin[@]}" python3 "$BENCH_ROOT/bench/py_app.py" "$port" >"$dir/app.log" 2>&1 &
	app=$!
	bg_track "$app"
	wait_port "$port" 10 || { log "app: the Python server did not start"; return 1; }
	url=http://127.0.0.1:$port/items/42
	log "app: bench/py_app.py :$port, $rounds rounds x ${secs}s per variant and mode"
	rotate app "$rounds" "$(bench_variants "$APP_VARIANTS")" || return 1
	stop_pid "$app"
	for v in $(bench_variants "$APP_VARIANTS"); do
		modes_results app "$dir" "$rounds" "$v"
	done
}

summary_app() {
	local where="pinned with taskset -c $APP_CPUS"
	[ -n "$APP_CPUS" ] || where="on any CPU"
	echo "  app: a Python thread-per-connection service (bench/py_app.py, $where)"
	summary_modes app "$(bench_variants "$APP_VARIANTS")" "fixed rate (${BENCH_APP_RATE:-1000} req/s, open loop: bench/pace.go)" \
		"saturation (wrk -t1 -c8)"
}
