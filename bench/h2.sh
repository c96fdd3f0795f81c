# bench/h2.sh - sourced by bench/run.sh: part "h2", the agent's cost on an
# HTTP/2 server. nghttpd (one thread, no TLS, prior knowledge) serving a
# 3-byte file under h2load (BENCH_H2_CONNS connections, 10 streams in flight
# on each), in four variants alternated in rotating order for
# $BENCH_H2_ROUNDS rounds (default $BENCH_ROUNDS, else 4):
#   none    no agent
#   floor   bench/floor: empty programs on the agent's tracepoints
#   agent   redtap with its defaults: HTTP/2 connections copied up to
#           capture.http2_bytes (8192), the rest up to 256 bytes
#   narrow  redtap with capture.http2_bytes 16: HTTP/2 copied up to 256
#           bytes like the rest (loses streams): what the wide copy costs
# Each round's throughput is divided by that round's "none"; the medians of
# those ratios are reported, and the agent's cost above the floor as a
# fraction of the floor's own cost (the target of the HTTP part). The agent
# must count every request h2load completed.

H2_VARIANTS="none floor agent narrow"

# h2_run_load URL CONNS SECONDS: prints "RPS SUCCEEDED" from h2load's summary.
h2_run_load() {
	local out
	out=$(h2load -c "$2" -m 10 -D "$3" "$1" 2>&1)
	echo "$out" >>"$BENCH_TMP/h2load.log"
	echo "$out" | awk '/^finished in/ { rps = $4 } /^requests:/ { ok = $8 }
		END { print (rps == "" ? "n/a" : rps), (ok == "" ? "n/a" : ok) }'
}

h2_up() {
	case $1 in
	agent) variant_up "$1" "$agent_port" ;;
	narrow) REDTAP_CAPTURE_HTTP2_BYTES=16 variant_up "$1" "$agent_port" ;;
	*) variant_up "$1" ;;
	esac
}
h2_down() { variant_down "$1"; }

# h2_run R V: "RPS SUCCEEDED" in $dir/run; with the agent, the requests it
# counted in $dir/run.seen.
h2_run() {
	local before after
	h2_run_load "$url" "$conns" 1 >/dev/null # warm-up
	if [ "$2" = agent ]; then
		sleep 1.5 # the warm-up's streams counted first
		before=$(metric_sum "$agent_port" http_server_request_duration_seconds_count \
			'service_name="nghttpd"')
	fi
	h2_run_load "$url" "$conns" "$secs" >"$dir/run"
	if [ "$2" = agent ]; then
		sleep 1.5 # the ring buffer drained, streams closed
		after=$(metric_sum "$agent_port" http_server_request_duration_seconds_count \
			'service_name="nghttpd"')
		calc "$after - $before" >"$dir/run.seen"
	fi
}

h2_keep() {
	local rps ok
	read -r rps ok <"$dir/run"
	if [ "$2" = agent ]; then
		seen=$(calc "$seen + $(cat "$dir/run.seen")")
		done_ok=$((done_ok + ok))
	fi
	echo "$rps" >"$dir/rps.$1.$2"
	echo "$rps" >>"$dir/rpsall.$2"
	log "h2: round $(($1 + 1)) $2: $rps req/s ($ok completed)"
}

bench_h2() {
	local rounds=${BENCH_H2_ROUNDS:-${BENCH_ROUNDS:-4}} secs=${BENCH_SECS:-3}
	local conns=${BENCH_H2_CONNS:-8}
	local port agent_port pid v url seen=0 done_ok=0
	local dir=$BENCH_TMP/h2
	command -v nghttpd >/dev/null && command -v h2load >/dev/null || {
		log "h2: nghttpd or h2load missing (apt-get install nghttp2-server nghttp2-client)"
		return 1
	}
	mkdir -p "$dir/www"
	printf 'ok\n' >"$dir/www/x"
	port=$(pick_port 28680)
	agent_port=$(pick_port 29664)
	nghttpd --no-tls -d "$dir/www" "$port" >"$dir/nghttpd.log" 2>&1 &
	pid=$!
	bg_track "$pid"
	wait_port "$port" 10 || { log "h2: nghttpd did not start"; return 1; }
	url=http://127.0.0.1:$port/x
	log "h2: nghttpd :$port, $rounds rounds x ${secs}s per variant, $conns connections x 10 streams"
	rotate h2 "$rounds" "$H2_VARIANTS" || return 1
	stop_pid "$pid"
	for v in $H2_VARIANTS; do
		result "h2_rps_$v" "$(median <"$dir/rpsall.$v")"
		ratio_results "h2_ratio_$v" "h2_ratio_range_$v" "$dir" rps "$v" none "$rounds"
	done
	above_floor h2
	# requests counted by the agent against those h2load completed, in all agent runs
	result h2_counted_share "$(calc "$seen / $done_ok")"
}

summary_h2() {
	local v x
	echo "  h2. HTTP/2 overhead: nghttpd (1 thread) + h2load -c${BENCH_H2_CONNS:-8} -m10," \
		"/x -> 200 \"ok\""
	for v in $H2_VARIANTS; do
		row "   ($v) throughput, req/s" "$(num "$(get h2_rps_$v)")" "" ""
	done
	row "   (c)/(a) throughput, agent (defaults: h2 copied up to 8192)" \
		"$(get h2_ratio_agent)" "" "rounds $(get h2_ratio_range_agent)"
	row "   (d)/(a) throughput, agent with h2 copied up to 256" "$(get h2_ratio_narrow)" "" \
		"rounds $(get h2_ratio_range_narrow)"
	row "   (b)/(a) throughput, floor" "$(get h2_ratio_floor)" "" \
		"rounds $(get h2_ratio_range_floor)"
	row "   floor's cost, 1 - b/a" "$(pct "$(get h2_floor_cost)")" "" ""
	x=$(get h2_agent_above_floor)
	row "   agent above floor / floor's cost" "$(pct "$x")" "<= 25%" "$(verdict "$x" "<=" 0.25)"
	x=$(get h2_counted_share)
	row "   requests counted / completed by h2load" "$x" "1" "$(verdict "$x" ">=" 1)"
}
