# bench/https.sh - sourced by bench/run.sh: part "https", the agent's cost
# on an HTTPS server through the OpenSSL probes (bpf/tls.bpf.h). nginx (one
# worker, TLS 1.3, HTTP/1.1 keep-alive, a self-signed certificate made here)
# under wrk over https:// (wrk links the same libssl.so.3, so both ends are
# probed), in three variants alternated in rotating order for
# $BENCH_HTTPS_ROUNDS rounds (default $BENCH_ROUNDS, else 4):
#   none    no agent
#   floor   bench/floor: empty programs on the agent's tracepoints (no
#           uprobes: the difference to "agent" includes the uprobe traps)
#   agent   redtap with its defaults (every process on the node)
#   baseline  only with BENCH_BASELINE=<an older redtap binary>: that agent
#           with its defaults (e.g. the tree before a change of the probes);
#           the TLS program stats and the loss check run for it too
#           (results suffixed _baseline)
# Each round's throughput and CPU per request (nginx, wrk, interrupts, the
# agent) are divided by that round's "none"; the medians are reported. One
# more agent run with kernel.bpf_stats_enabled=1 (kept out of the rotation:
# the stats' clock reads tax every program) gives the run time of the TLS
# programs (tls_*: entry uprobes and the uretprobe) per request; the uprobe
# traps themselves are not in it, the CPU per request above the floor is.
# Then the loss check: the agent with its defaults, nginx with one worker
# and wrk -t1 -c32 as in the rotation, as fast as they go (the issue's
# target: no loss at 20 000 HTTPS requests/s or more); with
# BENCH_HTTPS_RATE=N nginx (2 workers) under a paced wrk (bench/delay.lua:
# wrk 4.1 has no -R) aiming at N requests/s instead, which costs more CPU a
# request. Reported: the rate reached, redtap_kernel_events_dropped_total
# and the requests the agent counted.

HTTPS_VARIANTS="none floor agent"

https_ticks() {
	echo $(($(tree_ticks "$NGX_PID") + $(irq_ticks) + $(cpu_ticks ${AGENT_PID:+"$AGENT_PID"})))
}

# tls_prog_stats PID: "RUNS NS" summed over the TLS programs process PID holds.
tls_prog_stats() {
	local ids
	ids=$(awk '$1 == "prog_id:" { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u |
		tr '\n' ' ')
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
ids = {int(x) for x in sys.argv[1].split()}
runs = ns = 0
for p in json.load(sys.stdin):
    if p["id"] in ids and p.get("name", "").startswith("tls_"):
        runs += p.get("run_cnt", 0)
        ns += p.get("run_time_ns", 0)
print(runs, ns)' "$ids"
}

https_up() { variant_up "$1" "$agent_port"; }

# https_agent V PORT: start_agent PORT for V "agent", the $BENCH_BASELINE
# binary for V "baseline".
https_agent() {
	if [ "$1" = baseline ]; then
		# shellcheck disable=SC2086 # BENCH_BASELINE_ARGS: words
		AGENT_BIN=$BENCH_BASELINE start_agent "$2" ${BENCH_BASELINE_ARGS:-}
	else
		start_agent "$2"
	fi
}

# https_sfx V: the suffix of V's results ("" for the agent).
https_sfx() { [ "$1" = agent ] || echo "_$1"; }
https_down() { variant_down "$1"; }

# https_run R V: wrk_run's line in $line, the CPU ticks in c0/c1.
https_run() {
	wrk_run "$url" "$conns" 1 >/dev/null # warm-up (handshakes)
	c0=$(https_ticks)
	line=$(wrk_run "$url" "$conns" "$secs")
	c1=$(https_ticks)
}

https_keep() {
	local r=$1 v=$2 rps p99 req wcpu cpu
	read -r rps p99 req wcpu <<<"$line"
	cpu=$(calc "(($c1 - $c0) / $CLK_TCK + $wcpu) / $req * 1e6")
	echo "$cpu" >"$dir/cpu.$r.$v"
	echo "$rps" >"$dir/rps.$r.$v"
	echo "$rps" >>"$dir/rpsall.$v"
	echo "$cpu" >>"$dir/cpuall.$v"
	log "https: round $((r + 1)) $v: $rps req/s, p99 $p99 us, $cpu CPU-us/request"
}

# https_stats V: one run of agent V (agent, baseline) with bpf_stats;
# records the TLS programs' runs and ns per request.
https_stats() {
	local s0 s1 runs0 ns0 runs1 ns1 req sfx
	sfx=$(https_sfx "$1")
	wait_quiet
	https_agent "$1" "$agent_port" || return 1
	wrk_run "$url" "$conns" 1 >/dev/null
	sysctl -qw kernel.bpf_stats_enabled=1
	s0=$(tls_prog_stats "$AGENT_PID")
	read -r _ _ req _ <<<"$(wrk_run "$url" "$conns" "$secs")"
	s1=$(tls_prog_stats "$AGENT_PID")
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	stop_pid "$AGENT_PID"
	read -r runs0 ns0 <<<"$s0"
	read -r runs1 ns1 <<<"$s1"
	result "https_tls_runs_per_req$sfx" "$(calc "($runs1 - $runs0) / $req")"
	result "https_tls_ns_per_req$sfx" "$(calc "($ns1 - $ns0) / $req")"
}

# nginx_https_count PORT: nginx's HTTPS requests the agent on PORT counted.
nginx_https_count() {
	curl -fs "http://127.0.0.1:$1/metrics" | awk '
		index($0, "http_server_request_duration_seconds_count{service_name=\"nginx\"") == 1 &&
		index($0, "url_scheme=\"https\"") { s += $NF } END { print s + 0 }'
}

# https_loss V: the paced run against agent V (agent, baseline); records
# https_loss_*.
https_loss() {
	local rate=${BENCH_HTTPS_RATE:-0} secs=${BENCH_LOSS_SECS:-5} conns=64 ms=0
	local port aport out rps req d0 d1 n0 n1 sfx workers=2 pace
	sfx=$(https_sfx "$1")
	if [ "$rate" = 0 ]; then # unpaced: the rotation's set-up at full speed
		conns=32 workers=1 pace=()
	else
		ms=$(calc "$conns * 1000 / $rate")
		pace=(-t2 -s "$BENCH_ROOT/bench/delay.lua")
	fi
	port=$(pick_port 28790)
	start_nginx "$port" "$workers" "$dir/cert.pem" "$dir/key.pem" || return 1
	wait_quiet
	aport=$(pick_port 29774)
	https_agent "$1" "$aport" || return 1
	wrk_run "https://127.0.0.1:$port/api/x" "$conns" 1 >/dev/null
	sleep 1.5
	d0=$(metric_sum "$aport" redtap_kernel_events_dropped_total)
	n0=$(nginx_https_count "$aport")
	out=$(BENCH_DELAY_MS=$ms wrk_run "https://127.0.0.1:$port/api/x" "$conns" "$secs" \
		"${pace[@]}")
	read -r rps _ req _ <<<"$out"
	sleep 1.5 # the ring buffer drained
	d1=$(metric_sum "$aport" redtap_kernel_events_dropped_total)
	n1=$(nginx_https_count "$aport")
	result https_loss_target "$rate"
	result "https_loss_rps$sfx" "$rps"
	result "https_loss_drops$sfx" "$(calc "$d1 - $d0")"
	# nginx's side: every request wrk completed (a few cut at the end are not)
	result "https_loss_counted_share$sfx" "$(calc "($n1 - $n0) / $req")"
	log "https: $1: loss check at $rate req/s aimed: $rps req/s, drops $(calc "$d1 - $d0")," \
		"nginx's https requests counted $(calc "$n1 - $n0") of $req"
	stop_pid "$AGENT_PID"
	stop_pid "$NGX_PID"
}

bench_https() {
	local rounds=${BENCH_HTTPS_ROUNDS:-${BENCH_ROUNDS:-4}} secs=${BENCH_SECS:-3}
	local conns=${BENCH_CONNS:-32} agent_port port v line c0 c1 url old_stats variants
	local dir=$BENCH_TMP/https
	variants=$(bench_variants "$HTTPS_VARIANTS")
	mkdir -p "$dir"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || {
		log "https: openssl req failed"
		return 1
	}
	chmod 644 "$dir/key.pem"
	old_stats=$(sysctl -n kernel.bpf_stats_enabled)
	port=$(pick_port 28780)
	start_nginx "$port" 1 "$dir/cert.pem" "$dir/key.pem" || return 1
	agent_port=$(pick_port 29764)
	url=https://127.0.0.1:$port/api/x
	log "https: nginx :$port over TLS, $rounds rounds x ${secs}s per variant, $conns connections"
	rotate https "$rounds" "$variants" || return 1
	https_stats agent
	[ -n "${BENCH_BASELINE:-}" ] && https_stats baseline
	stop_pid "$NGX_PID"
	for v in $variants; do
		result "https_rps_$v" "$(median <"$dir/rpsall.$v")"
		result "https_cpu_us_$v" "$(median <"$dir/cpuall.$v")"
		ratio_results "https_ratio_$v" "https_ratio_range_$v" "$dir" rps "$v" none "$rounds"
		ratio_results "https_cpu_ratio_$v" "https_cpu_ratio_range_$v" "$dir" cpu "$v" none \
			"$rounds"
	done
	above_floor https
	result https_cpu_us_above_floor \
		"$(calc "$(get https_cpu_us_agent) - $(get https_cpu_us_floor)")"
	https_loss agent
	[ -n "${BENCH_BASELINE:-}" ] && https_loss baseline
	return 0
}

summary_https() {
	local v x b
	echo "  https. HTTPS overhead: nginx (1 worker, TLS) + wrk -t1 -c${BENCH_CONNS:-32}" \
		"https://.../api/x -> 200 \"ok\""
	for v in $(bench_variants "$HTTPS_VARIANTS"); do
		row "   ($v) throughput, req/s" "$(num "$(get https_rps_$v)")" "" ""
		row "   ($v) CPU per request, us (nginx+wrk+agent)" "$(get https_cpu_us_$v)" "" ""
	done
	row "   (c)/(a) throughput, agent defaults" "$(get https_ratio_agent)" "" \
		"rounds $(get https_ratio_range_agent)"
	row "   (b)/(a) throughput, floor" "$(get https_ratio_floor)" "" \
		"rounds $(get https_ratio_range_floor)"
	row "   floor's cost, 1 - b/a" "$(pct "$(get https_floor_cost)")" "" ""
	x=$(get https_agent_above_floor)
	row "   agent above floor / floor's cost" "$(pct "$x")" "" ""
	row "   CPU per request above the floor, us" "$(get https_cpu_us_above_floor)" "" ""
	row "   TLS programs per request: runs" "$(get https_tls_runs_per_req)" "" ""
	row "   TLS programs per request: ns (bpf_stats)" "$(get https_tls_ns_per_req)" "" ""
	x=$(get https_loss_rps)
	if [ "$(get https_loss_target)" = 0 ]; then
		row "   loss check (unpaced): reached, req/s" "$(num "$x")" ">= 20000" \
			"$(verdict "$x" ">=" 20000)"
	else
		row "   loss check: rate aimed / reached, req/s" \
			"$(get https_loss_target) / $(num "$x")" "" ""
	fi
	x=$(get https_loss_drops)
	row "   loss check: kernel events dropped" "$x" "0" "$(verdict "$x" "<=" 0)"
	row "   loss check: nginx requests counted / wrk's" "$(get https_loss_counted_share)" "" ""
	[ -n "${BENCH_BASELINE:-}" ] || return 0
	b=baseline
	row "   (baseline)/(a) throughput" "$(get https_ratio_$b)" "" \
		"rounds $(get https_ratio_range_$b)"
	row "   baseline: TLS programs per request: runs" "$(get https_tls_runs_per_req_$b)" "" ""
	row "   baseline: TLS programs per request: ns" "$(get https_tls_ns_per_req_$b)" "" ""
	row "   baseline: loss check: reached, req/s" "$(num "$(get https_loss_rps_$b)")" "" ""
	row "   baseline: loss check: kernel events dropped" "$(get https_loss_drops_$b)" "" ""
	row "   baseline: loss check: nginx requests counted / wrk's" \
		"$(get https_loss_counted_share_$b)" "" ""
}
