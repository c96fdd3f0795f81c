#!/usr/bin/env bash
# bench/syscall_cost.sh - what attaching to syscalls costs every process on
# the node, per syscall (issue 13: the floor, and the ways to attach):
# build/bench/syscall_cost's four loops (getppid, a pipe write + read, a
# unix socketpair write + read, an HTTP/1.1 exchange over TCP on 127.0.0.1;
# pinned to CPU 0) under
#   none    nothing of ours
#   floor   build/bench/floor: empty programs on the agent's per-syscall
#           tracepoints (bpf/tracepoints.h), as make bench's floor
#   raw     one program on the raw tracepoint sys_exit, testing the
#           syscall's number (bench/syscall_cost.bpf.c)
#   btf     the same on tp_btf/sys_exit
#   bound_clock, bound_lookup, bound_record  the floor with the least any
#           design does per data syscall on top (bench/bound.bpf.c: a clock
#           read; also a connection look-up; also a 32-byte ring record)
#   agent   build/redtap (or $AGENT_BIN) with its defaults: every process,
#           so the TCP loop's exchanges are recorded on both sides (its
#           daemon runs on the other CPU)
#   baseline  the same with the binary $BENCH_BASELINE (an older agent)
# alternated in rotating order for SYSCOST_ROUNDS (8) rounds; prints a
# Markdown table of the median ns per loop iteration and the range.
#
#   sudo bench/syscall_cost.sh
#
# Environment: SYSCOST_ROUNDS (8), SYSCOST_N (iterations per loop, 200000),
# SYSCOST_VARIANTS (the variants run, "none floor raw btf"), BUILD (default
# build), AGENT_BIN. The agent listens on 127.0.0.1 from port 31240 on;
# about ROUNDS * variants * 4 s. One run
# on a possibly shared node: the medians of one run are what compares.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

ROUNDS=${SYSCOST_ROUNDS:-8}
N=${SYSCOST_N:-200000}
[ "$(id -u)" = 0 ] || { echo "bench/syscall_cost.sh: needs root" >&2; exit 1; }
for b in syscall_cost floor; do
	[ -x "$BUILD/bench/$b" ] || { echo "bench/syscall_cost.sh: run make bench-progs first" >&2; exit 1; }
done
read -r -a VS <<<"${SYSCOST_VARIANTS:-none floor raw btf}"
case " ${VS[*]} " in
*" baseline "*) [ -x "${BENCH_BASELINE:-}" ] ||
	{ echo "bench/syscall_cost.sh: the baseline variant needs BENCH_BASELINE=<a redtap binary>" >&2; exit 2; } ;;
esac
bench_init
T=$BENCH_TMP

# one V: a line "V getppid NS pipe NS unix NS tcp NS" in $T/runs.
one() {
	local mode=none line
	case $1 in
	floor) start_floor || return 1 ;;
	bound_*) start_floor --bound "${1#bound_}" || return 1 ;;
	agent) start_agent "$(pick_port 31240)" || return 1 ;;
	baseline) AGENT_BIN=$BENCH_BASELINE start_agent "$(pick_port 31240)" || return 1 ;;
	raw | btf) mode=$1 ;;
	esac
	sleep 0.5
	line=$("$BUILD/bench/syscall_cost" "$mode" "$N") || line=
	case $1 in
	floor | bound_*) stop_pid "$FLOOR_PID" ;;
	agent | baseline) stop_pid "$AGENT_PID" ;;
	esac
	[ -n "$line" ] || { log "syscall_cost: the $1 run failed"; return 1; }
	echo "$1 $line" >>"$T/runs"
}

: >"$T/runs"
for r in $(seq 0 $((ROUNDS - 1))); do
	for i in "${!VS[@]}"; do
		one "${VS[$(((r + i) % ${#VS[@]}))]}" || exit 1
	done
done

echo "# What a syscall costs its caller, by way of attaching"
echo
echo "redtap $(cat VERSION) ($(git rev-parse --short HEAD 2>/dev/null)), kernel $(uname -r)," \
	"$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), $ROUNDS rounds of $N iterations."
echo
echo "| | getppid (no program) | pipe write + read | unix write + read | TCP HTTP exchange |"
echo "|---|---:|---:|---:|---:|"
for v in "${VS[@]}"; do
	printf '| %s |' "$v"
	for col in 3 5 7 9; do
		awk -v v="$v" -v c="$col" '$1 == v { print $c }' "$T/runs" >"$T/col"
		printf ' %s (%s) |' "$(median <"$T/col")" "$(range <"$T/col")"
	done
	echo
done
echo
echo "ns per loop iteration, median (range). The pipe and unix loops make two"
echo "syscalls an iteration, the TCP loop four (the client's write and read, the"
echo "server's read and write), all of them traced by the floor and the agent."
