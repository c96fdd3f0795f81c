# bench/shim.sh - sourced by bench/run.sh: part 2, the LD_PRELOAD shim's
# overhead, with no agent running.
#   - build/bench/shimcall against the stub libpq: ns per operation bare,
#     with the shim and no listener, with the shim delivering every record
#     into a shared-memory ring (rounds alternated, medians), and through
#     the ioctl channel to an agent of our own that acknowledges it;
#   - pgbench -S against a private PostgreSQL 15 cluster (initdb in the
#     temporary directory, 127.0.0.1 on a port of its own, run as the
#     postgres user), with and without the shim, alternated; the median of
#     the per-round TPS ratios.
# Prints n/a when build/libredtap.so is missing or does not wrap PQexec.
# "No listener" is forced with a ring path that does not exist and the
# ioctl channel off: another agent on the node must not turn it on.

# The environment of a shimmed process that finds no listener.
SHIM_ALONE=(REDTAP_SHIM_TRANSPORT=ring REDTAP_SHIM_RING=/nonexistent/redtap-bench-ring)

SHIM=$BUILD/libredtap.so
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

shim_usable() {
	[ -f "$SHIM" ] &&
		env "${SHIM_ALONE[@]}" LD_PRELOAD="$SHIM" "$BUILD/bench/shimcall" measure 1000 \
			2>/dev/null |
		grep -q 'pqexec_from=libredtap.so'
}

# field KEY LINE: the value of KEY=VALUE in LINE.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

bench_shimcall() {
	local rounds=${BENCH_ROUNDS:-4} n=${BENCH_SHIM_CALLS:-1000000} r line
	local dir=$BENCH_TMP/shimcall
	mkdir -p "$dir"
	for r in $(seq "$rounds"); do
		wait_quiet
		line=$("$BUILD/bench/shimcall" measure "$n")
		field pqexec_ns "$line" >>"$dir/bare.sync"
		field async_ns "$line" >>"$dir/bare.async"
		line=$(env "${SHIM_ALONE[@]}" LD_PRELOAD="$SHIM" \
			"$BUILD/bench/shimcall" measure "$n")
		field pqexec_ns "$line" >>"$dir/shim.sync"
		field async_ns "$line" >>"$dir/shim.async"
		line=$("$BUILD/bench/shimcall" ring "$SHIM" "$n" | tr '\n' ' ')
		field pqexec_ns "$line" >>"$dir/ring.sync"
		field async_ns "$line" >>"$dir/ring.async"
		field ring_dropped "$line" >>"$dir/ring.dropped"
		log "shim: round $r: $line"
	done
	local m k
	for m in bare shim ring; do
		for k in sync async; do
			result "shimcall_${m}_${k}_ns" "$(median <"$dir/$m.$k")"
		done
	done
	for k in sync async; do
		result "shim_overhead_${k}_ns" \
			"$(calc "$(get shimcall_shim_${k}_ns) - $(get shimcall_bare_${k}_ns)")"
		result "shim_ring_overhead_${k}_ns" \
			"$(calc "$(get shimcall_ring_${k}_ns) - $(get shimcall_bare_${k}_ns)")"
	done
	result shim_ring_dropped "$(sort -g "$dir/ring.dropped" | tail -1)"
}

# The ioctl channel: an agent of ours (selecting a sleeping process and
# shimcall, whose socket I/O is none, so that only the shim's channel is
# busy) acknowledges the shim's hello; shimcall calls for 6 s untimed first,
# past the shim's 5 s re-probe. The kernel's shim budgets are off
# (shim.rate, shim.uid_rate = 0): this measures the channel, not the limit.
# Three variants per round, in alternating order: one ioctl per record
# (REDTAP_SHIM_BATCH=0), batches always (=1, preload/batch.h), and the
# default (unset: auto, batches while a thread is busy). Every operation
# must reach the agent: counted in its db.client.operation.duration histogram.
bench_shimcall_ioctl() {
	local rounds=${BENCH_ROUNDS:-4} n=${BENCH_SHIM_CALLS:-1000000} r line port sleeper
	local before after ev0 ev1 d0 d1 dir=$BENCH_TMP/shimcall v variants bv
	n=$((n / 5)) # ~1 us per call: keep the run short
	port=$(pick_port 29864)
	sleep 100000 &
	sleeper=$!
	bg_track "$sleeper"
	REDTAP_SHIM_RATE=0 REDTAP_SHIM_UID_RATE=0 start_agent "$port" -p "$sleeper" \
		--exe '*/bench/shimcall' || return 1
	for r in $(seq "$rounds"); do
		variants="ioctl batch default"
		[ $((r % 2)) = 0 ] && variants="default batch ioctl"
		for v in $variants; do
			before=$(shim_ops "$port")
			ev0=$(metric_sum "$port" redtap_events_received_total 'type="shim"')
			d0=$(metric_sum "$port" redtap_kernel_events_dropped_total ringbuf_full)
			[ "$d0" = n/a ] && d0=0
			case $v in
			ioctl) bv=0 ;;
			batch) bv=1 ;;
			*) bv= ;;
			esac
			line=$(env -u REDTAP_SHIM_BATCH ${bv:+REDTAP_SHIM_BATCH=$bv} \
				REDTAP_SHIM_TRANSPORT=ioctl LD_PRELOAD="$SHIM" \
				"$BUILD/bench/shimcall" measure "$n" 6)
			after=$(shim_ops_settled "$port")
			ev1=$(metric_sum "$port" redtap_events_received_total 'type="shim"')
			field pqexec_ns "$line" >>"$dir/$v.sync"
			field async_ns "$line" >>"$dir/$v.async"
			field pqexec_cpu_ns "$line" >>"$dir/$v.sync_cpu"
			field async_cpu_ns "$line" >>"$dir/$v.async_cpu"
			# another agent on the node (without batches) may ack the shim too,
			# and then it sends one record per ioctl: records per ioctl say so
			log "shim: $v round $r: $line, the agent counted $((after - before))" \
				"operations in ${ev1%.*}-${ev0%.*} ioctls; dropped so far: $(metric_sum "$port" \
				redtap_kernel_events_dropped_total ringbuf_full) (ring buffer full)"
			# every one of the 2 x 5 x n timed operations reached the agent, or
			# was counted as a drop (with no budget, batches outrun the daemon)
			d1=$(metric_sum "$port" redtap_kernel_events_dropped_total ringbuf_full)
			[ "$d1" = n/a ] && d1=0
			[ $((after - before + ${d1%.*} - ${d0%.*})) -ge $((10 * n)) ] ||
				echo "$v" >>"$dir/ioctl.short"
		done
	done
	stop_pid "$AGENT_PID"
	stop_pid "$sleeper"
	if [ -f "$dir/ioctl.short" ]; then
		log "shim: the agent did not get every record ($(sort -u "$dir/ioctl.short" | tr '\n' ' '))"
		return 1
	fi
	local k
	for v in ioctl batch default; do
		for k in sync async; do
			result "shimcall_${v}_${k}_ns" "$(median <"$dir/$v.$k")"
			result "shim_${v}_overhead_${k}_ns" \
				"$(calc "$(get shimcall_${v}_${k}_ns) - $(get shimcall_bare_${k}_ns)")"
			# CPU time of the calling thread (a busy node adds waits to the wall time)
			result "shimcall_${v}_${k}_cpu_ns" "$(median <"$dir/$v.${k}_cpu")"
		done
	done
}

# shim_ops PORT: the operations the agent counted from PostgreSQL (shimcall's).
shim_ops() {
	local v
	v=$(metric_sum "$1" db_client_operation_duration_seconds_count 'postgresql')
	[ "$v" = n/a ] && v=0
	echo "${v%.*}"
}

# shim_ops_settled PORT: shim_ops once the agent has stopped counting (it
# may still be reading what the caller left in the ring buffer; on a busy
# node that took longer than a fixed wait): the same figure twice 0.2 s
# apart, or after 5 s; read again a sweep later.
shim_ops_settled() {
	local prev now
	prev=$(shim_ops "$1")
	for _ in $(seq 25); do
		sleep 0.2
		now=$(shim_ops "$1")
		[ "$now" = "$prev" ] && break
		prev=$now
	done
	# the kernel's drop counters (and the events received) reach /metrics
	# at the agent's sweep, once a second: one more, so that the round's
	# drops are read with its count and not with the next round's
	sleep 1.2
	shim_ops "$1"
}

# pg_start PORT: a throw-away cluster in $BENCH_TMP/pg; sets PG_PID.
pg_start() {
	local pgdir=$BENCH_TMP/pg
	mkdir -p "$pgdir"
	chown postgres: "$pgdir"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$pgdir/data" --auth=trust -U postgres \
		>"$BENCH_TMP/initdb.log" 2>&1 || { log "initdb failed"; return 1; }
	# setpriv execs: PG_PID is postgres itself, so stop_pid reaches it
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PG_BIN/postgres" -D "$pgdir/data" -p "$1" -h 127.0.0.1 -k "$pgdir" \
		-c fsync=off -c synchronous_commit=off -c shared_buffers=128MB \
		>"$BENCH_TMP/postgres.log" 2>&1 &
	PG_PID=$!
	bg_track "$PG_PID"
	wait_port "$1" 30 && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -t 10
}

# pgbench_run PORT SECONDS [env assignments...]: a select-only run; prints
# "TPS CLIENT_US_PER_TX": pgbench's own CPU time (user + sys) per
# transaction is steadier than TPS on a noisy machine.
pgbench_run() {
	local port=$1 secs=$2 t=$BENCH_TMP/pgbench.time
	shift 2
	env "$@" /usr/bin/time -o "$t" -f '%U %S' pgbench -n -S -c 4 -j 2 -T "$secs" \
		-h 127.0.0.1 -p "$port" -U postgres bench 2>>"$BENCH_TMP/pgbench.err" |
		tee -a "$BENCH_TMP/pgbench.log" | awk -v t="$t" '
			/^number of transactions actually processed:/ { n = $NF }
			/^tps = .*without initial connection time/ { tps = $3 }
			END { getline cpu < t; split(cpu, c, " ")
			      if (tps == "" || n == 0) print "n/a n/a"
			      else printf "%s %.3f\n", tps, (c[1] + c[2]) * 1e6 / n }'
}

bench_pgbench() {
	local rounds=${BENCH_PG_ROUNDS:-${BENCH_ROUNDS:-8}} secs=${BENCH_SECS:-4} port r a b ta tb
	local dir=$BENCH_TMP/pgb shimmed=(LD_PRELOAD="$SHIM" "${SHIM_ALONE[@]}")
	mkdir -p "$dir"
	port=$(pick_port 25432)
	pg_start "$port" || return 1
	if ! createdb -h 127.0.0.1 -p "$port" -U postgres bench ||
		! pgbench -i -q -s 10 -h 127.0.0.1 -p "$port" -U postgres bench \
			>>"$BENCH_TMP/pgbench.log" 2>&1; then
		log "shim: creating the pgbench database failed"
		return 1
	fi
	pgbench_run "$port" 2 >/dev/null # warm-up: the table in shared buffers
	for r in $(seq "$rounds"); do
		wait_quiet
		# alternate which variant goes first
		if [ $((r % 2)) = 1 ]; then
			read -r a ta <<<"$(pgbench_run "$port" "$secs")"
			read -r b tb <<<"$(pgbench_run "$port" "$secs" "${shimmed[@]}")"
		else
			read -r b tb <<<"$(pgbench_run "$port" "$secs" "${shimmed[@]}")"
			read -r a ta <<<"$(pgbench_run "$port" "$secs")"
		fi
		echo "$a" >>"$dir/bare"
		echo "$b" >>"$dir/shim"
		calc "$b / $a" >>"$dir/ratio"
		calc "$tb - $ta" >>"$dir/cpu"
		log "shim: pgbench round $r: $a TPS bare, $b TPS with the shim;" \
			"client CPU $ta / $tb us per transaction"
	done
	result pgbench_tps_bare "$(median <"$dir/bare")"
	result pgbench_tps_shim "$(median <"$dir/shim")"
	result pgbench_ratio "$(median <"$dir/ratio")"
	result pgbench_ratio_range "$(range <"$dir/ratio")"
	result pgbench_client_cpu_extra_us "$(median <"$dir/cpu")"
	stop_pid "$PG_PID"
}

bench_shim() {
	if ! shim_usable; then
		log "shim: $SHIM is missing or does not wrap libpq: skipped"
		result shim_status unusable
		return 0
	fi
	result shim_status ok
	bench_shimcall
	bench_shimcall_ioctl || log "shim: the ioctl-channel measurement failed"
	bench_pgbench || log "shim: the pgbench measurement failed"
}
