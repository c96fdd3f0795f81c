#!/usr/bin/env bash
# bench/daemon_callgrind.sh - the live daemon's instructions per request on
# the Go service (issue 13): `redtap -p <gosvc>` runs under valgrind's
# callgrind while gosvc (downstream HTTP + PostgreSQL + Redis a request)
# takes a fixed load it can keep up with (8 clients, 10 ms apart, ~500
# req/s), so every record is parsed as in production, with the real
# connections, protocols, memos and caches; instructions do not depend on
# the node's load, unlike CPU time. Collection starts after a warm-up and
# stops with the load; the report is Markdown on stdout:
#   - requests, daemon instructions in all and per request;
#   - the functions with the most instructions (self, and inclusive).
#
#   sudo bench/daemon_callgrind.sh
#
# Environment: CG_SECS (15), CG_OTLP=1 (tracing always on, spans exported
# to bench/otlp_sink.py: the exporter's share), AGENT_BIN (default
# build/redtap), CG_OUT (keep the callgrind file there; default: removed),
# CG_ARGS (more valgrind options: --cache-sim=yes counts the simulated
# cache's misses, D1mr/DLmr in the callgrind file).
# Ports from 32720 on (127.0.0.1). Bounded: about CG_SECS + 60 s.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

SECS=${CG_SECS:-15}
BIN=${AGENT_BIN:-$BUILD/redtap}
[ "$(id -u)" = 0 ] || { echo "bench/daemon_callgrind.sh: needs root" >&2; exit 1; }
for t in valgrind callgrind_control callgrind_annotate go redis-server curl python3; do
	command -v "$t" >/dev/null || { echo "bench/daemon_callgrind.sh: missing $t" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench/daemon_callgrind.sh: build $BIN first" >&2; exit 1; }

bench_init
T=$BENCH_TMP
. tests/lib/servers.sh
cg_cleanup() {
	srv_stop
	bench_cleanup
}
trap cg_cleanup EXIT

env_otlp=
if [ "${CG_OTLP:-0}" = 1 ]; then
	sink=$(pick_port 32790)
	python3 bench/otlp_sink.py "$sink" >/dev/null 2>&1 &
	bg_track $!
	env_otlp="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$sink OTEL_TRACES_SAMPLER=always_on"
fi
gosvc_up "$T" 32720 || { echo "bench/daemon_callgrind.sh: $GOSVC_ERR" >&2; exit 1; }
# the agent under callgrind, instrumentation off until the warm-up is over
cat >"$T/agent" <<EOF
#!/bin/sh
exec env $env_otlp valgrind --tool=callgrind --callgrind-out-file=$T/cg.%p \
	--instr-atstart=no ${CG_ARGS:-} "$BIN" "\$@"
EOF
chmod +x "$T/agent"
AGENT_BIN=$T/agent start_agent "$(pick_port 32735)" -p "$GOSVC_PID" || exit 1
sleep 3
"$T/gosvc" bench "$GOSVC_PORT" 3 8 10 >/dev/null
callgrind_control -i on "$AGENT_PID" >/dev/null
read -r rps p50 p99 <<<"$("$T/gosvc" bench "$GOSVC_PORT" "$SECS" 8 10)"
callgrind_control -d "$AGENT_PID" >/dev/null
callgrind_control -i off "$AGENT_PID" >/dev/null
out=$(ls "$T"/cg.*.1 2>/dev/null | head -1)
[ -n "$out" ] || { echo "bench/daemon_callgrind.sh: no callgrind dump" >&2; exit 1; }
[ -n "${CG_OUT:-}" ] && cp "$out" "$CG_OUT"
reqs=$(calc "$rps * $SECS")
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')

echo "# The daemon's instructions on gosvc (callgrind), ${SECS} s at a fixed load" \
	"$([ "${CG_OTLP:-0}" = 1 ] && echo ", tracing and OTLP export on")"
echo
echo "redtap $(cat VERSION) ($(git rev-parse --short HEAD 2>/dev/null)), $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "gosvc: $rps req/s (p50 $p50 us, p99 $p99 us under callgrind's daemon), about $reqs requests."
echo
echo "| measure | value |"
echo "|---|---:|"
echo "| daemon instructions | $total |"
echo "| **per request** | **$(calc "$total / $reqs" | cut -d. -f1)** |"
echo
echo "## Self (the 25 most)"
echo
echo '```'
callgrind_annotate --auto=no "$out" 2>/dev/null | grep -E '^ *[0-9,]+ +\([ 0-9.]+%\)  ' | head -26 |
	cut -c1-140
echo '```'
echo
echo "## Inclusive (the 40 most)"
echo
echo '```'
# (an inlined function is listed twice, by its absolute and relative path)
callgrind_annotate --auto=no --inclusive=yes "$out" 2>/dev/null |
	grep -E '^ *[0-9,]+ +\([ 0-9.]+%\)  ' | grep -v "%)  $PWD/" | head -41 | cut -c1-140
echo '```'
