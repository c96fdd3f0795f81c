#!/usr/bin/env bash
# tests/e2e/test_shim_pq.sh - the LD_PRELOAD shim against a real PostgreSQL 15
# (started here on 127.0.0.1:$PG_PORT, stopped by a trap): every libpq path
# records exactly the expected operations; the host's output and errno are
# identical with the shim, without it, with no daemon, and with
# REDTAP_DISABLE=1; the ioctl channel (with a stand-in agent) carries the
# same records and falls silent when unacknowledged; psql, psycopg2
# (RTLD_LOCAL), pgbench (simple, extended, prepared, pipeline), fork + exec,
# closed fds, threads, and a daemon that dies mid-run.
# Run as root from the repository root after `make`. Prints one line per check.
set -u
cd "$(dirname "$0")/../.."
. tests/shim/lib.sh
shim_setup
pg_start || { echo "FAIL: start PostgreSQL"; exit 1; }

PSQL=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres)
PQ=("$T/pq_paths" "$PGCONN" 127.0.0.1 "$PG_PORT")

pq_records() {
	ring_run "$TMP/pq.rec" "${PQ[@]}" >"$TMP/pq.shim.out" &&
		diff -u tests/shim/expected/pq_paths.txt "$TMP/pq.rec"
}

pq_asan() {
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
		"$T/ring_dump" -s "$ASAN_SHIM" -o "$TMP/asan.rec" -- "${PQ[@]}" >"$TMP/pq.asan.out" &&
		diff -u tests/shim/expected/pq_paths.txt "$TMP/asan.rec" &&
		diff -u "$TMP/pq.shim.out" "$TMP/pq.asan.out"
}

pq_same_output() {
	"${PQ[@]}" >"$TMP/pq.plain.out" &&
		diff -u "$TMP/pq.plain.out" "$TMP/pq.shim.out"
}

pq_no_daemon() {
	LD_PRELOAD=$SHIM REDTAP_SHIM_RING=$TMP/no-such-ring "${PQ[@]}" >"$TMP/pq.nod.out" &&
		diff -u "$TMP/pq.plain.out" "$TMP/pq.nod.out"
}

pq_disabled() {
	REDTAP_DISABLE=1 "$T/ring_dump" -H -s "$SHIM" -o "$TMP/dis.rec" -- "${PQ[@]}" \
		>"$TMP/pq.dis.out" &&
		diff -u "$TMP/pq.plain.out" "$TMP/pq.dis.out" && [ ! -s "$TMP/dis.rec" ]
}

pq_durations() {
	# the first asynchronous query sleeps 10 ms: its record must say so
	"$T/ring_dump" -D -s "$SHIM" -o "$TMP/dur.rec" -- "${PQ[@]}" >/dev/null || return 1
	awk -F'|' '$9 == "A" { print $10; exit }' "$TMP/dur.rec" | {
		read -r us && echo "pg_sleep(0.01) took ${us}us" && [ "$us" -ge 10000 ] &&
			[ "$us" -lt 2000000 ]
	}
}

pq_duration_ends_at_result() {
	# the caller works 300 ms between the final result and the NULL: the
	# operation took the server's 10 ms, not the caller's 300
	"$T/ring_dump" -D -s "$SHIM" -o "$TMP/slow.rec" -- "$T/pq_faults" slowdrain "$PGCONN" 300 \
		>/dev/null || return 1
	awk -F'|' '$9 == "A" { print $10; exit }' "$TMP/slow.rec" | {
		read -r us && echo "pg_sleep(0.01), then 300 ms of the caller's: ${us}us" &&
			[ "$us" -ge 10000 ] && [ "$us" -lt 250000 ]
	}
}

pq_ioctl() {
	rm -f "$TMP/agent.bin"
	FAKE_AGENT_OUT=$TMP/agent.bin LD_PRELOAD="$PWD/$T/fake_agent.so $SHIM" "${PQ[@]}" \
		>"$TMP/pq.ioctl.out" || return 1
	diff -u "$TMP/pq.plain.out" "$TMP/pq.ioctl.out" || return 1
	"$T/ring_dump" -o "$TMP/ioctl.rec" -d "$TMP/agent.bin" &&
		diff -u tests/shim/expected/pq_paths.txt "$TMP/ioctl.rec"
}

pq_ioctl_unacked() {
	# No agent answers. For its first 2 s (the probation window, before any
	# ack could arrive) the shim sends by ioctl anyway; then only a hello
	# every 5 s. 80 operations 50 ms apart take at least 4 s, so at most
	# about 40 can fall in the window.
	rm -f "$TMP/agent.bin"
	FAKE_AGENT_NOACK=1 FAKE_AGENT_OUT=$TMP/agent.bin \
		LD_PRELOAD="$PWD/$T/fake_agent.so $SHIM" "$T/pq_faults" loop "$PGCONN" 80 50 \
		>/dev/null || return 1
	"$T/ring_dump" -H -o "$TMP/noack.rec" -d "$TMP/agent.bin" 2>"$TMP/noack.err"
	cat "$TMP/noack.err"
	local ops
	ops=$(grep -o 'ops=[0-9]*' "$TMP/noack.err" | cut -d= -f2)
	echo "ops sent without an ack: $ops of 80"
	grep -q 'hellos=[1-9]' "$TMP/noack.err" && [ "$ops" -ge 1 ] && [ "$ops" -le 45 ]
}

pq_ioctl_expires() {
	# the agent acks once for 300 ms and goes away: after the probation
	# window and the ack, the shim stops by itself
	rm -f "$TMP/agent.bin"
	FAKE_AGENT_TTL_MS=300 FAKE_AGENT_ACK_LIMIT=1 FAKE_AGENT_OUT=$TMP/agent.bin \
		LD_PRELOAD="$PWD/$T/fake_agent.so $SHIM" "$T/pq_faults" loop "$PGCONN" 80 50 \
		>/dev/null || return 1
	"$T/ring_dump" -o "$TMP/exp.rec" -d "$TMP/agent.bin" 2>"$TMP/exp.err"
	cat "$TMP/exp.err"
	local ops
	ops=$(wc -l <"$TMP/exp.rec")
	echo "ops sent while acked or on probation: $ops of 80"
	[ "$ops" -ge 1 ] && [ "$ops" -le 45 ]
}

pq_psql_error() {
	ring_run "$TMP/psql.rec" "${PSQL[@]}" -d shimtest -c 'SELECT * FROM nosuch_psql' \
		>/dev/null 2>&1
	[ $? = 1 ] || { echo "psql should exit 1"; return 1; }
	cat "$TMP/psql.rec"
	grep -qx 'postgresql|SELECT|SELECT nosuch_psql|shimtest|127.0.0.1|'"$PG_PORT"'|42P01|42P01|.*' \
		"$TMP/psql.rec"
}

pq_psycopg2() {
	ring_run "$TMP/py.rec" /usr/bin/python3 tests/shim/psycopg_paths.py "$PGCONN" \
		>"$TMP/py.out" || return 1
	cat "$TMP/py.out" "$TMP/py.rec"
	grep -qx 'error 42P01' "$TMP/py.out" &&
		grep -q '^postgresql|CREATE|CREATE py_t|shimtest|127.0.0.1|' "$TMP/py.rec" &&
		grep -q '^postgresql|SELECT|SELECT pg_class|shimtest|' "$TMP/py.rec" &&
		grep -q '^postgresql|SELECT|SELECT nosuch_py|shimtest|.*|42P01|42P01|' "$TMP/py.rec" &&
		grep -q '^postgresql|INSERT|INSERT py_t|' "$TMP/py.rec" &&
		grep -q '^postgresql|COMMIT|COMMIT|' "$TMP/py.rec"
}

PGB=(pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres)

pq_pgbench_init() {
	ring_run "$TMP/pgbi.rec" "${PGB[@]}" -i -s 1 -q shimtest >"$TMP/pgbi.out" 2>&1 || return 1
	grep -c . "$TMP/pgbi.rec"
	grep -qx 'postgresql|COPY|COPY pgbench_accounts|shimtest|127.0.0.1|'"$PG_PORT"'|||' \
		"$TMP/pgbi.rec" &&
		grep -qx 'postgresql|VACUUM|VACUUM pgbench_branches|shimtest|127.0.0.1|'"$PG_PORT"'|||' \
			"$TMP/pgbi.rec" && ! awk -F'|' '$7 != ""' "$TMP/pgbi.rec" | grep .
}

# pgbench_mode MODE: 2 clients x 25 transactions, every statement counted once
pq_pgbench() {
	local mode=$1 rec=$TMP/pgb-$1.rec n want s
	ring_run "$rec" "${PGB[@]}" -n -M "$mode" -c 2 -t 25 shimtest >"$TMP/pgb.out" 2>&1 ||
		return 1
	n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\)\/.*/\1/p' \
		"$TMP/pgb.out")
	echo "pgbench -M $mode: $n transactions"
	[ "$n" = 50 ] || return 1
	for s in 'BEGIN|BEGIN' 'UPDATE|UPDATE pgbench_accounts' 'SELECT|SELECT pgbench_accounts' \
		'UPDATE|UPDATE pgbench_tellers' 'UPDATE|UPDATE pgbench_branches' \
		'INSERT|INSERT pgbench_history' 'END|END'; do
		want="postgresql|$s|shimtest|127.0.0.1|$PG_PORT|||A"
		n=$(grep -c "^$want\$" "$rec")
		echo "$s: $n"
		[ "$n" = 50 ] || return 1
	done
	if [ "$mode" = prepared ]; then
		n=$(grep -c '^postgresql|PREPARE|PREPARE UPDATE pgbench_accounts|' "$rec")
		[ "$n" = 2 ] || { echo "prepares: $n"; return 1; }
	fi
	# pgbench's own set-up queries may come on top, but nothing failed
	! awk -F'|' '$7 != ""' "$rec" | grep .
}

pq_pgbench_pipeline() {
	printf '%s\n' '\set aid random(1, 100000)' '\startpipeline' \
		'SELECT abalance FROM pgbench_accounts WHERE aid = :aid;' 'SELECT 1;' \
		'\endpipeline' >"$TMP/pipe.sql"
	ring_run "$TMP/pipe.rec" "${PGB[@]}" -n -M extended -c 1 -t 10 -f "$TMP/pipe.sql" \
		shimtest >"$TMP/pipe.out" 2>&1 || { cat "$TMP/pipe.out"; return 1; }
	[ "$(grep -c '^postgresql|SELECT|SELECT pgbench_accounts|.*|AP$' "$TMP/pipe.rec")" = 10 ] &&
		[ "$(grep -c '^postgresql|SELECT|SELECT|.*|AP$' "$TMP/pipe.rec")" = 10 ]
}

pq_fork_exec() {
	"$T/ring_dump" -F -P -s "$SHIM" -o "$TMP/fork.rec" -- "$T/pq_faults" fork "$PGCONN" \
		>"$TMP/fork.out" || return 1
	cat "$TMP/fork.rec"
	# exec keeps the pid: parent (2 queries), forked child (1, then 1 after exec)
	[ "$(grep -c '|SELECT|SELECT|shimtest|' "$TMP/fork.rec")" = 4 ] &&
		[ "$(cut -d'|' -f1 "$TMP/fork.rec" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" \
			= "2 2 " ] &&
		! awk -F'|' '$1 != $2' "$TMP/fork.rec" | grep .
}

pq_closefds() {
	ring_run "$TMP/cfd.rec" "$T/pq_faults" closefds "$PGCONN" >/dev/null &&
		grep -qx 'postgresql|SELECT|SELECT|shimtest|127.0.0.1|'"$PG_PORT"'|||' "$TMP/cfd.rec"
}

pq_threads() {
	"$T/ring_dump" -P -s "$SHIM" -o "$TMP/thr.rec" -- "$T/pq_faults" threads "$PGCONN" 8 50 \
		>/dev/null || return 1
	[ "$(grep -c '|SELECT|SELECT|shimtest|127.0.0.1|[0-9]*|||$' "$TMP/thr.rec")" = 400 ] &&
		[ "$(grep -c '|08P01|08P01|$' "$TMP/thr.rec")" = 400 ] &&
		[ "$(cut -d'|' -f2 "$TMP/thr.rec" | sort -u | wc -l)" = 8 ]
}

pq_daemon_dies() {
	# the daemon stops heartbeating after 300 ms; the shim must stop writing
	# within 5 s, and the program must not notice
	"$T/ring_dump" -k 300 -s "$SHIM" -o "$TMP/dies.rec" -- "$T/pq_faults" loop "$PGCONN" 70 100 \
		>"$TMP/dies.out" || return 1
	local n
	n=$(wc -l <"$TMP/dies.rec")
	echo "records: $n of 70"
	[ "$(grep -c '^SELECT 6: 6$' "$TMP/dies.out")" = 70 ] && [ "$n" -ge 20 ] && [ "$n" -le 62 ]
}

check "libpq: every path records exactly the expected operations" pq_records
check "libpq: host output and errno identical with the shim" pq_same_output
check "libpq: no daemon listening, output identical" pq_no_daemon
check "libpq: every path under AddressSanitizer + UBSan" pq_asan
check "libpq: REDTAP_DISABLE=1 records nothing, output identical" pq_disabled
check "libpq: durations are real (pg_sleep)" pq_durations
check "libpq: an asynchronous operation ends with its final result" pq_duration_ends_at_result
check "ioctl channel: acked agent gets the same records" pq_ioctl
check "ioctl channel: no ack, one hello and silence" pq_ioctl_unacked
check "ioctl channel: expired ack stops the shim" pq_ioctl_expires
check "psql -c failing statement: 42P01" pq_psql_error
check "psycopg2 (libpq loaded RTLD_LOCAL)" pq_psycopg2
check "pgbench -i: COPY and setup recorded, no errors" pq_pgbench_init
check "pgbench -M simple: 7 statements x 50 transactions" pq_pgbench simple
check "pgbench -M extended: 7 statements x 50 transactions" pq_pgbench extended
check "pgbench -M prepared: 7 statements x 50 transactions" pq_pgbench prepared
check "pgbench pipeline mode" pq_pgbench_pipeline
check "fork and exec: parent, child and exec'd child recorded" pq_fork_exec
check "program that closes all its fds" pq_closefds
check "8 threads: per-thread ids, 800 operations" pq_threads
check "daemon dies mid-run: shim stops, program unaffected" pq_daemon_dies
shim_finish
