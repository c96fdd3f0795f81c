# bench/daemon.sh - sourced by bench/run.sh: part 3, the daemon's own
# throughput and footprint.
#   - build/bench/replay: synthetic records straight into the daemon's
#     modules, events per CPU-second (median of 3 runs), and the RSS one
#     series costs there;
#   - the real daemon selecting only nginx (-p), --max-series raised: RSS
#     after 100, 10 000 and 100 000 distinct routes were requested
#     (bench/series.lua), read before anything scrapes /metrics;
#   - its CPU time per 10 000 requests/s while wrk loads nginx.

bench_replay() {
	local i
	wait_quiet
	for i in 1 2 3; do
		"$BUILD/bench/replay" | sed -n 's/.*events_per_core_s=\([0-9.]*\).*/\1/p'
	done | median >"$BENCH_TMP/replay.eps"
	result replay_events_per_core_s "$(cat "$BENCH_TMP/replay.eps")"
	for i in 100 10000 100000; do
		"$BUILD/bench/replay" --series "$i" | awk -v n="$i" '
		{ for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] } }
		END { print "replay_series_kib_" n, v["rss_after_kib"] - v["rss_before_kib"] }' \
			>>"$BENCH_RESULTS"
	done
}

# series_load PORT N: requests until at least 1.5 N went to N distinct routes.
series_load() {
	local done_req=0 i line req
	for i in $(seq 30); do
		line=$(BENCH_SERIES=$2 wrk_run "http://127.0.0.1:$1/" 16 2 \
			-s "$BENCH_ROOT/bench/series.lua")
		read -r _ _ req _ <<<"$line"
		[ "$req" = n/a ] && return 1
		done_req=$((done_req + req))
		[ "$done_req" -ge $(($2 * 3 / 2)) ] && return 0
	done
	return 1
}

bench_daemon_rss() {
	local ngx_port agent_port n rss anon ring series
	wait_quiet
	ngx_port=$(pick_port 28680)
	start_nginx "$ngx_port" 1 || return 1
	agent_port=$(pick_port 29664)
	start_agent "$agent_port" -p "$NGX_PID" --max-series 200000 || return 1
	sleep 3 # the selection scan runs every 2 s
	result daemon_rss_kib_0 "$(status_kib "$AGENT_PID" VmRSS)"
	result daemon_rss_anon_kib_0 "$(status_kib "$AGENT_PID" RssAnon)"
	for n in 100 10000 100000; do
		series_load "$ngx_port" "$n" || { log "daemon: wrk failed"; return 1; }
		sleep 1 # the agent consumes the ring every 100 ms
		rss=$(status_kib "$AGENT_PID" VmRSS)
		anon=$(status_kib "$AGENT_PID" RssAnon)
		ring=$(bpf_map_rss_kib "$AGENT_PID")
		result "daemon_rss_kib_$n" "$rss"
		result "daemon_rss_anon_kib_$n" "$anon"
		result "daemon_rss_noring_kib_$n" "$((rss - ring))"
		# Rendering 100 000 histogram series is ~300 MB of text: only the
		# smaller steps are checked by a scrape (after the RSS reading).
		if [ "$n" -le 10000 ]; then
			series=$(metric_sum "$agent_port" redtap_metric_series \
				'metric="http_server_request_duration_seconds"')
			result "daemon_series_seen_$n" "$series"
		fi
		log "daemon: $n routes: RSS $rss KiB (anon $anon KiB, BPF maps $ring KiB)," \
			"series ${series:-unchecked}"
		[ "$n" = 10000 ] && smaps_top "$AGENT_PID" >"$BENCH_TMP/daemon-smaps-10000" &&
			log "daemon: resident KiB (all, anonymous) by object at $n routes:" \
				"$(awk '{ printf "%s %s %s; ", $3, $1, $2 }' "$BENCH_TMP/daemon-smaps-10000")"
		series=
	done
	stop_pid "$AGENT_PID"
	stop_pid "$NGX_PID"
}

bench_daemon_cpu() {
	local secs=${BENCH_CPU_SECS:-10} rounds=${BENCH_CPU_ROUNDS:-3} ngx_port agent_port t0 t1 rps i
	wait_quiet
	ngx_port=$(pick_port 28780)
	start_nginx "$ngx_port" 1 || return 1
	agent_port=$(pick_port 29764)
	start_agent "$agent_port" -p "$NGX_PID" || return 1
	sleep 3
	wrk_run "http://127.0.0.1:$ngx_port/api/x" 32 1 >/dev/null
	: >"$BENCH_TMP/cpu_rps" && : >"$BENCH_TMP/cpu_frac" && : >"$BENCH_TMP/cpu_10k"
	for i in $(seq "$rounds"); do
		t0=$(cpu_ns "$AGENT_PID")
		read -r rps _ <<<"$(wrk_run "http://127.0.0.1:$ngx_port/api/x" 32 "$secs")"
		t1=$(cpu_ns "$AGENT_PID")
		echo "$rps" >>"$BENCH_TMP/cpu_rps"
		calc "($t1 - $t0) / 1000000000 / $secs" >>"$BENCH_TMP/cpu_frac"
		calc "($t1 - $t0) / 1000000000 / $secs * 10000 / $rps" >>"$BENCH_TMP/cpu_10k"
		log "daemon: CPU round $i: $rps req/s, $(tail -1 "$BENCH_TMP/cpu_frac") of a core"
	done
	result daemon_cpu_rps "$(median <"$BENCH_TMP/cpu_rps")"
	result daemon_cpu_frac "$(median <"$BENCH_TMP/cpu_frac")"
	result daemon_cpu_per_10k "$(median <"$BENCH_TMP/cpu_10k")"
	result daemon_cpu_per_10k_rounds "$(range <"$BENCH_TMP/cpu_10k")"
	stop_pid "$AGENT_PID"
	stop_pid "$NGX_PID"
}

bench_daemon() {
	bench_replay
	bench_daemon_rss || log "daemon: the RSS measurement failed"
	bench_daemon_cpu || log "daemon: the CPU measurement failed"
}
