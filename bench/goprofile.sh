#!/usr/bin/env bash
# bench/goprofile.sh - where the agent's time goes on a Go service (issue
# 13): tests/e2e/apps/go/gosvc (downstream HTTP + PostgreSQL + Redis per
# request, GOMAXPROCS=16) under its own load generator, once without the
# agent and once with `redtap -p <gosvc>`, as a Markdown report on stdout:
#   - req/s, p50/p99, gosvc's CPU per request, without and with the agent;
#   - gosvc's syscalls per request without the agent (perf stat: reads, of
#     them EAGAIN, writes, futex, epoll_pwait, nanosleep), i.e. what the
#     data programs run on and what has no program at all;
#   - per BPF program of the agent (by prog_id in its /proc fdinfo, as
#     bench/profile.sh): runs per request (the uprobes: hits per request),
#     ns per run, ns per request (kernel.bpf_stats_enabled=1);
#   - ring-buffer records per request and kernel drops (the agent's
#     counters), the daemon's CPU per request and its hottest symbols
#     (perf record).
#
#   sudo bench/goprofile.sh
#
# Environment: GOPROF_SECS (8), GOPROF_CONC (32), GOPROF_PERF=0 (no perf),
# GOPROF_TOP (the daemon's hottest symbols listed, 8),
# BUILD (default build), GOPROF_AGAINST=<another redtap binary>: loaded
# beside the agent on the same gosvc, its programs reported too (A/B in one
# run; run it both ways round, the order shows). Ports from 32720 on
# (127.0.0.1). Bounded: about 2 * GOPROF_SECS + 30 s. One run on a
# possibly shared node: CPU per request moves with the node's load; runs
# per request and ns per run are the repeatable figures.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

SECS=${GOPROF_SECS:-8}
CONC=${GOPROF_CONC:-32}
PERF=${GOPROF_PERF:-1}
command -v perf >/dev/null || PERF=0

[ "$(id -u)" = 0 ] || { echo "bench/goprofile.sh: needs root" >&2; exit 1; }
for t in go redis-server curl bpftool python3; do
	command -v "$t" >/dev/null || { echo "bench/goprofile.sh: missing $t" >&2; exit 1; }
done
[ -x "$BUILD/redtap" ] || { echo "bench/goprofile.sh: build $BUILD/redtap first" >&2; exit 1; }

bench_init
T=$BENCH_TMP
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
. tests/lib/servers.sh
goprof_cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	srv_stop
	bench_cleanup
}
trap goprof_cleanup EXIT

gosvc_up "$T" 32720 || { echo "bench/goprofile.sh: $GOSVC_ERR" >&2; exit 1; }
svc=$GOSVC_PORT
pid=$GOSVC_PID

# load LABEL: one measured run; "LABEL RPS P50 P99 REQUESTS GOSVC_TICKS" in $T/load.LABEL.
load() {
	local c0 c1 rps p50 p99
	c0=$(cpu_ticks "$pid")
	read -r rps p50 p99 <<<"$("$T/gosvc" bench "$svc" "$SECS" "$CONC")"
	c1=$(cpu_ticks "$pid")
	echo "$1 $rps $p50 $p99 $((rps * SECS)) $((c1 - c0))" >"$T/load.$1"
}

"$T/gosvc" bench "$svc" 1 "$CONC" >/dev/null # warm-up
load none
: >"$T/syscalls"
if [ "$PERF" = 1 ]; then
	perf stat -x, -o "$T/syscalls" -p "$pid" -e syscalls:sys_enter_read \
		-e syscalls:sys_exit_read --filter 'ret == -11' -e syscalls:sys_enter_write \
		-e syscalls:sys_enter_futex -e syscalls:sys_enter_epoll_pwait \
		-e syscalls:sys_enter_nanosleep -- sleep "$SECS" >/dev/null 2>&1 &
	pp=$!
	"$T/gosvc" bench "$svc" "$SECS" "$CONC" | cut -d' ' -f1 >"$T/syscalls.rps"
	wait "$pp"
fi

agent_port=$(pick_port 32735)
start_agent "$agent_port" -p "$pid" || exit 1
A1=$AGENT_PID
: >"$T/ids2"
if [ -n "${GOPROF_AGAINST:-}" ]; then
	AGENT_BIN=$GOPROF_AGAINST start_agent "$(pick_port 32740)" -p "$pid" || exit 1
	sleep 1
	awk '$1 == "prog_id:" { print $2 }' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | sort -u \
		>"$T/ids2"
fi
awk '$1 == "prog_id:" { print $2 }' /proc/"$A1"/fdinfo/* 2>/dev/null | sort -u >"$T/ids"
"$T/gosvc" bench "$svc" 2 "$CONC" >/dev/null # warm-up: probes attached, connections known
sysctl -qw kernel.bpf_stats_enabled=1
bpftool -j prog show >"$T/before.json"
agent_counters "$agent_port" >"$T/m.before"
a0=$(cpu_ticks "$A1")
if [ "$PERF" = 1 ]; then
	perf record -q -g -F 999 -p "$A1" -o "$T/daemon.perf" -- sleep "$SECS" >/dev/null 2>&1 &
	pp=$!
fi
load agent
a1=$(cpu_ticks "$A1")
agent_counters "$agent_port" >"$T/m.after"
bpftool -j prog show >"$T/after.json"
sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
: >"$T/daemon.top"
if [ "$PERF" = 1 ]; then
	wait "$pp"
	perf report -i "$T/daemon.perf" --no-children --stdio --sort symbol 2>/dev/null |
		awk '/^ +[0-9.]+%/ { print $1, $3 }' | head -"${GOPROF_TOP:-8}" >"$T/daemon.top"
fi

echo "# Go service profile: gosvc, gosvc bench $CONC at once, ${SECS} s, redtap -p <gosvc>"
echo
echo "redtap $(cat VERSION) ($(git rev-parse --short HEAD 2>/dev/null)), kernel $(uname -r)," \
	"$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
python3 - "$T" "$((a1 - a0))" "$CLK_TCK" "$SECS" <<'PY'
import json, sys
T, ticks, tck, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
runs = {}
for v in ("none", "agent"):
    f = open(T + "/load." + v).read().split()
    runs[v] = (float(f[1]), f[2], f[3], float(f[4]), int(f[5]))
req = runs["agent"][3]
print("| | req/s | p50 us | p99 us | gosvc CPU per request, us |")
print("|---|---:|---:|---:|---:|")
for v, (rps, p50, p99, n, t) in runs.items():
    print("| %s | %.0f | %s | %s | %.1f |" % (v, rps, p50, p99, t / tck * 1e6 / n if n else 0))
print()
sc = [l.split(",") for l in open(T + "/syscalls") if l[:1].isdigit()]
if sc:
    n = float(open(T + "/syscalls.rps").read() or 0) * secs or 1
    print("gosvc's syscalls per request, no agent (perf stat):")
    print()
    names = ["read", "read returning EAGAIN", "write", "futex", "epoll_pwait", "nanosleep"]
    print("| " + " | ".join(names) + " |")
    print("|" + "---:|" * len(names))
    print("| " + " | ".join("%.2f" % (float(s[0]) / n) for s in sc[:len(names)]) + " |")
    print()
def table(idsfile, title):
    ids = {int(x) for x in open(T + "/" + idsfile).read().split()}
    if not ids:
        return
    b = {p["id"]: p for p in json.load(open(T + "/before.json")) if p["id"] in ids}
    a = {p["id"]: p for p in json.load(open(T + "/after.json")) if p["id"] in ids}
    rows, tot = [], 0
    for i, p in a.items():
        r = p.get("run_cnt", 0) - b.get(i, {}).get("run_cnt", 0)
        ns = p.get("run_time_ns", 0) - b.get(i, {}).get("run_time_ns", 0)
        if r:
            rows.append((p.get("name", "?"), r, ns))
            tot += ns
    print("## " + title)
    print()
    print("| program | runs/req | ns/run | ns/req |")
    print("|---|---:|---:|---:|")
    for name, r, ns in sorted(rows, key=lambda x: -x[2]):
        if r / req >= 0.005:
            print("| %s | %.2f | %.0f | %.0f |" % (name, r / req, ns / r, ns / req))
    print("| **all** | | | **%.0f** |" % (tot / req))
    print()
table("ids", "BPF programs of the agent (every caller on the node; go_* are the uprobes)")
table("ids2", "BPF programs of GOPROF_AGAINST, loaded second")
def counters(path):
    out = {}
    for line in open(path):
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out
mb, ma = counters(T + "/m.before"), counters(T + "/m.after")
grow = {k: ma[k] - mb.get(k, 0) for k in ma}
recs = sum(v for k, v in grow.items() if k.startswith("redtap_events_received"))
drops = sum(v for k, v in grow.items() if k.startswith("redtap_kernel_events_dropped"))
print("Ring-buffer records per request: %.2f (kernel drops during the run: %d)." %
      (recs / req, drops))
print("Daemon CPU per request: %.1f us." % (ticks / tck * 1e6 / req))
top = open(T + "/daemon.top").read().split("\n")
top = [l.split() for l in top if l.strip()]
if top:
    print("Its hottest symbols: " + ", ".join("`%s` %s" % (s, p) for p, s in top) + ".")
PY
