# bench/http.sh - sourced by bench/run.sh: part 1, the agent's cost on an
# HTTP server. nginx on 127.0.0.1 under wrk (keep-alive, 3-byte body) in
# six variants, alternated in rotating order for $BENCH_ROUNDS rounds:
#   none    no agent
#   floor   bench/floor: empty programs on the agent's tracepoints
#   agent   redtap with its defaults (every process on the node)
#   unsel   redtap -p <a sleeping process>: nginx and wrk are not selected
#   otlp    redtap defaults with tracing and OTLP export on (every request a
#           span, 100% sampled, to bench/otlp_sink.py on 127.0.0.1)
#   bound_record  the floor with the least a design sending one record per
#           data syscall does on top (bench/bound.bpf.c: a clock read, a
#           connection look-up, a 32-byte ring record): a lower bound of
#           the agent's cost above the floor (http_bound_record_above_floor,
#           http_cpu_bound_record_above_floor). bound_clock and bound_lookup
#           (without the record, without the look-up) run only when named
#           in BENCH_HTTP_VARIANTS.
#   baseline  only with BENCH_BASELINE=<an older redtap binary>: that agent
#           with its defaults, so that today's agent is compared with it in
#           the same run (http_ratio_agent_baseline: agent / baseline).
# BENCH_HTTP_VARIANTS runs a subset of these (or adds bound_clock and
# bound_lookup); BENCH_HTTP_PORT moves the ports (nginx from it, the agent
# from +16, the OTLP sink from +32).
# Each round's throughputs are divided by that round's "none", so slow
# drifts of the machine cancel; the medians of those ratios are reported.
# So is the CPU time per request (nginx, wrk, the agent's daemon and the
# node's interrupt time), which other work on the node disturbs much less
# than throughput: on 2 saturated cores throughput is the inverse of it.
# The agent's CPU time during the "agent" runs gives its CPU per 10 000
# requests/s (each request is seen twice there: nginx's side and wrk's).

HTTP_VARIANTS=${BENCH_HTTP_VARIANTS:-none floor agent unsel otlp bound_record}

# http_ticks: CPU ticks of nginx, the interrupts and the agent (if any).
http_ticks() {
	echo $(($(tree_ticks "$NGX_PID") + $(irq_ticks) + $(cpu_ticks ${AGENT_PID:+"$AGENT_PID"})))
}

http_up() {
	case $1 in
	unsel) variant_up "$1" "$agent_port" -p "$sleeper" ;;
	otlp)
		OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$OTLP_SINK_PORT OTEL_TRACES_SAMPLER=always_on \
			variant_up "$1" "$agent_port"
		;;
	*) variant_up "$1" "$agent_port" ;;
	esac
}
http_down() { variant_down "$1"; }

# http_run R V: sets bench_http's line (wrk_run's), p50 (us), c0/c1
# (http_ticks) and t0/t1 (the agent's ticks).
http_run() {
	wrk_run "$url" "$conns" 1 >/dev/null # warm-up
	[ -n "$AGENT_PID" ] && t0=$(cpu_ticks "$AGENT_PID")
	c0=$(http_ticks)
	line=$(wrk_run "$url" "$conns" "$secs")
	p50=$(wrk_pct 50)
	c1=$(http_ticks)
	[ -n "$AGENT_PID" ] && t1=$(cpu_ticks "$AGENT_PID")
}

http_keep() {
	local r=$1 v=$2 rps p99 req wcpu cpu
	read -r rps p99 req wcpu <<<"$line"
	cpu=$(calc "(($c1 - $c0) / $CLK_TCK + $wcpu) / $req * 1e6")
	echo "$cpu" >"$dir/cpu.$r.$v"
	echo "$cpu" >>"$dir/cpuall.$v"
	echo "$rps" >"$dir/rps.$r.$v"
	echo "$p99" >>"$dir/p99.$v"
	echo "$p99" >"$dir/p99r.$r.$v"
	echo "$p50" >>"$dir/p50.$v"
	echo "$rps" >>"$dir/rpsall.$v"
	if [ "$v" = agent ]; then
		calc "($t1 - $t0) / $CLK_TCK / $secs * 10000 / $rps" >>"$dir/cpu10k"
		calc "($t1 - $t0) / $CLK_TCK / $secs" >>"$dir/cpufrac"
	fi
	log "http: round $((r + 1)) $v: $rps req/s, p99 $p99 us," \
		"$cpu CPU-us/request"
}

bench_http() {
	local rounds=${BENCH_ROUNDS:-8} secs=${BENCH_SECS:-3} conns=${BENCH_CONNS:-32}
	local ngx_port agent_port sleeper v t0 t1 c0 c1 line p50 url
	local dir=$BENCH_TMP/http vs

	mkdir -p "$dir"
	vs=$(bench_variants "$HTTP_VARIANTS")
	ngx_port=$(pick_port "${BENCH_HTTP_PORT:-28480}")
	start_nginx "$ngx_port" 1 || return 1
	agent_port=$(pick_port $((${BENCH_HTTP_PORT:-29448} + 16)))
	start_otlp_sink $((${BENCH_HTTP_PORT:-24286} + 32)) ||
		log "http: the OTLP sink did not start: the otlp variant exports to nothing"
	url=http://127.0.0.1:$ngx_port/api/x
	sleep 100000 &
	sleeper=$!
	bg_track "$sleeper"
	log "http: nginx :$ngx_port, $rounds rounds x ${secs}s per variant, $conns connections"
	rotate http "$rounds" "$vs" || return 1
	stop_pid "$sleeper"
	stop_pid "$OTLP_SINK_PID"
	stop_pid "$NGX_PID"

	for v in $vs; do
		result "http_rps_$v" "$(median <"$dir/rpsall.$v")"
		result "http_p99_us_$v" "$(median <"$dir/p99.$v")"
		result "http_p50_us_$v" "$(median <"$dir/p50.$v")"
		ratio_results "http_ratio_$v" "http_ratio_range_$v" "$dir" rps "$v" none "$rounds"
		result "http_cpu_us_$v" "$(median <"$dir/cpuall.$v")"
		ratio_results "http_cpu_ratio_$v" "http_cpu_ratio_range_$v" "$dir" cpu "$v" none \
			"$rounds"
	done
	# issue 13: nginx's p99 with the agent against without, round by round
	ratio_results http_p99_ratio_agent http_p99_ratio_range_agent "$dir" p99r agent none "$rounds"
	local fb fc fd
	if above_floor http; then
		fb=$(get http_ratio_floor)
		fd=$(get http_ratio_unsel)
		result http_unsel_above_floor "$(calc "($fb - $fd) / (1 - $fb)")"
	fi
	# the same from CPU per request: 1 + cost, relative to "none"
	fb=$(get http_cpu_ratio_floor)
	fc=$(get http_cpu_ratio_agent)
	fd=$(get http_cpu_ratio_unsel)
	if [ "$(calc "($fb - 1 > 0.005)")" = 1 ]; then
		result http_cpu_agent_above_floor "$(calc "($fc - $fb) / ($fb - 1)")"
		result http_cpu_unsel_above_floor "$(calc "($fd - $fb) / ($fb - 1)")"
	fi
	http_bounds "$vs"
	result daemon_cpu_per_10k_all "$(median <"$dir/cpu10k")"
	result daemon_cpu_frac_all "$(median <"$dir/cpufrac")"
	[ -n "${BENCH_BASELINE:-}" ] && http_baseline "$dir" "$rounds"
	return 0
}

# http_bounds "VARIANTS": for each lower bound among VARIANTS, its cost above
# the floor as a fraction of the floor's own, from throughput and from CPU
# per request (as the agent's), also logged.
http_bounds() {
	local v fb fv cb cv
	fb=$(get http_ratio_floor)
	cb=$(get http_cpu_ratio_floor)
	for v in $1; do
		case $v in bound_*) ;; *) continue ;; esac
		fv=$(get "http_ratio_$v")
		cv=$(get "http_cpu_ratio_$v")
		[ "$(calc "(1 - $fb > 0.005)")" = 1 ] &&
			result "http_${v}_above_floor" "$(calc "($fb - $fv) / (1 - $fb)")"
		[ "$(calc "($cb - 1 > 0.005)")" = 1 ] &&
			result "http_cpu_${v}_above_floor" "$(calc "($cv - $cb) / ($cb - 1)")"
		log "http: $v / none throughput $fv, CPU per request $cv (floor $fb, $cb):" \
			"above the floor $(get "http_${v}_above_floor") of its cost" \
			"(by CPU $(get "http_cpu_${v}_above_floor"))"
	done
	return 0
}

# http_baseline DIR ROUNDS: today's agent against the older one, round by
# round (throughput, p99, CPU per request: agent / baseline), also logged.
http_baseline() {
	ratio_results http_ratio_agent_baseline http_ratio_range_agent_baseline "$1" rps agent \
		baseline "$2"
	ratio_results http_p99_ratio_agent_baseline http_p99_ratio_range_agent_baseline "$1" p99r \
		agent baseline "$2"
	ratio_results http_cpu_ratio_agent_baseline http_cpu_ratio_range_agent_baseline "$1" cpu \
		agent baseline "$2"
	log "http: agent / baseline ($BENCH_BASELINE):" \
		"throughput $(get http_ratio_agent_baseline) (rounds" \
		"$(get http_ratio_range_agent_baseline)), p99 $(get http_p99_ratio_agent_baseline)" \
		"(rounds $(get http_p99_ratio_range_agent_baseline)), CPU per request" \
		"$(get http_cpu_ratio_agent_baseline) (rounds $(get http_cpu_ratio_range_agent_baseline))"
}
