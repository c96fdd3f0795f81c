#!/usr/bin/env bash
# bench/daemon_ab.sh - the daemon's CPU of two redtap binaries in one run
# (issue 13): both agents run at once on the same nginx (1 worker) under
# wrk -t1 -c32, so that both parse exactly the same requests under the same
# load, and each round prints the CPU time of each daemon and their ratio:
#
#   sudo bench/daemon_ab.sh A_BINARY B_BINARY [ROUNDS] [SECS] [SELECT]
#
# ROUNDS (5) rounds of SECS (8) seconds; SELECT nginx (-p <nginx>, the
# default), all (agent defaults: nginx and wrk seen) or gosvc (both agents
# -p <gosvc>, the Go service of bench/gosvc.sh, under its own load
# generator, 32 requests at once: HTTP, PostgreSQL and Redis records). The
# last line is the median of the rounds' B/A ratios. The agent started second reads a
# few percent cheaper whichever it is: run it both ways round and take the
# geometric mean of B/A and 1/(A/B) for B's own ratio. CPU time is the
# scheduler's, in ns (bench/lib.sh cpu_ns), not 10 ms ticks: short rounds
# are fine. Ports from 33210 on (127.0.0.1).
# Bounded: about ROUNDS * (SECS + 1) + 15 s.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

[ $# -ge 2 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/daemon_ab.sh: needs root" >&2; exit 1; }
A=$1 B=$2 ROUNDS=${3:-5} SECS=${4:-8} SELECT=${5:-nginx}
for b in "$A" "$B"; do
	[ -x "$b" ] || { echo "bench/daemon_ab.sh: $b is not executable" >&2; exit 1; }
done
case $SELECT in
nginx | all | gosvc) ;;
*) echo "bench/daemon_ab.sh: SELECT is nginx, all or gosvc" >&2; exit 2 ;;
esac

bench_init
ab_cleanup() {
	[ "$SELECT" = gosvc ] && srv_stop
	bench_cleanup
}
trap ab_cleanup EXIT
if [ "$SELECT" = gosvc ]; then
	. tests/lib/servers.sh
	gosvc_up "$BENCH_TMP" 33240 || { echo "bench/daemon_ab.sh: $GOSVC_ERR" >&2; exit 1; }
	sel=(-p "$GOSVC_PID")
	load() { "$BENCH_TMP/gosvc" bench "$GOSVC_PORT" "$1" 32 | cut -d' ' -f1; }
else
	ngx_port=$(pick_port 33210)
	start_nginx "$ngx_port" 1 || exit 1
	sel=(-p "$NGX_PID")
	[ "$SELECT" = all ] && sel=()
	load() { wrk_run "http://127.0.0.1:$ngx_port/api/x" 32 "$1"; }
fi
AGENT_BIN=$A start_agent "$(pick_port 33220)" "${sel[@]}" || exit 1
pid_a=$AGENT_PID
AGENT_BIN=$B start_agent "$(pick_port 33230)" "${sel[@]}" || exit 1
pid_b=$AGENT_PID
sleep 3 # the selection scan runs every 2 s
load 1 >/dev/null
for i in $(seq "$ROUNDS"); do
	a0=$(cpu_ns "$pid_a")
	b0=$(cpu_ns "$pid_b")
	read -r rps _ <<<"$(load "$SECS")"
	a1=$(cpu_ns "$pid_a")
	b1=$(cpu_ns "$pid_b")
	if ! kill -0 "$pid_a" 2>/dev/null || ! kill -0 "$pid_b" 2>/dev/null; then
		echo "bench/daemon_ab.sh: an agent died" >&2
		exit 1
	fi
	r=$(calc "($b1 - $b0) / ($a1 - $a0)")
	echo "$r" >>"$BENCH_TMP/ratios"
	echo "round $i: $rps req/s, CPU ms A $(((a1 - a0) / 1000000)) B $(((b1 - b0) / 1000000)), B/A $r"
done
echo "median B/A: $(median <"$BENCH_TMP/ratios")"
