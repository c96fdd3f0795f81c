# bench/loss.sh - sourced by bench/run.sh: part 4, the request rate at which
# the kernel ring buffer first drops events. The agent runs with its
# defaults (every process, --ringbuf-size auto: 1 MiB a ring on this
# 2-CPU machine); the load on nginx (2
# workers) rises step by step - more connections, then two wrk processes -
# and redtap_kernel_events_dropped_total is read after each step.

# Steps: "CONNECTIONS WRK_PROCESSES"
LOSS_STEPS=("4 1" "16 1" "64 1" "256 1" "256 2" "1024 2")

bench_loss() {
	local secs=${BENCH_LOSS_SECS:-5} ngx_port agent_port step conns nwrk k rps total
	local drops0 drops best=0 first="" dir=$BENCH_TMP/loss wpids

	mkdir -p "$dir"
	wait_quiet
	ngx_port=$(pick_port 28580)
	start_nginx "$ngx_port" 2 || return 1
	agent_port=$(pick_port 29564)
	start_agent "$agent_port" || return 1
	drops0=$(metric_sum "$agent_port" redtap_kernel_events_dropped_total \
		'reason="ringbuf_full"')
	for step in "${LOSS_STEPS[@]}"; do
		read -r conns nwrk <<<"$step"
		wpids=()
		for k in $(seq "$nwrk"); do
			wrk_run "http://127.0.0.1:$ngx_port/api/x" "$conns" "$secs" >"$dir/wrk.$k" &
			wpids+=($!)
		done
		wait "${wpids[@]}"
		total=0
		for k in $(seq "$nwrk"); do
			read -r rps _ <"$dir/wrk.$k"
			total=$(calc "$total + $rps")
		done
		sleep 0.5 # let the agent drain what is left
		drops=$(metric_sum "$agent_port" redtap_kernel_events_dropped_total \
			'reason="ringbuf_full"')
		log "loss: $conns connections x $nwrk wrk: $total req/s," \
			"ringbuf drops $((drops - drops0))"
		if [ "$drops" != "$drops0" ]; then
			first=$total
			break
		fi
		[ "$(calc "($total > $best)")" = 1 ] && best=$total
	done
	result loss_max_rate_no_drop "$best"
	result loss_first_drop_rate "${first:-none}"
	result loss_other_drops "$(calc "$(metric_sum "$agent_port" \
		redtap_kernel_events_dropped_total) - $drops")"
	stop_pid "$AGENT_PID"
	stop_pid "$NGX_PID"
}
