#!/usr/bin/env bash
# bench/profile.sh - `make bench-profile`: where the agent's time goes under
# nginx + wrk, as a Markdown report on stdout:
#   - per BPF program of the agent: runs, runs per request, ns per run and
#     ns per request (kernel.bpf_stats_enabled=1 during the wrk run; the
#     programs are the agent's own, found by prog_id in its /proc fdinfo),
#     and its size after load (xlated instructions, jited bytes);
#   - ring-buffer records and bytes per request (redtap_events_received_total
#     and the totals the agent logs at exit), and the daemon's wake-ups;
#   - the daemon's CPU per request and its hottest symbols (perf record -g);
#   - a node-wide perf profile of nginx, wrk and the daemon grouped by kind
#     (tracepoint entry, BPF maps, user copies, ring buffer, programs...).
#
#   sudo bench/profile.sh
#
# Environment: PROFILE_SECS (wrk seconds, 10), PROFILE_SELECT=all (agent
# defaults: every process, as variant (c) of make bench) or nginx (-p),
# PROFILE_CONNS (32), PROFILE_PERF=0 (no perf), BUILD (default build),
# PROFILE_AGAINST=<another redtap binary>: loaded beside the agent with the
# same selection, so that both sets of programs run on every syscall of
# the same load; a last table compares their ns per run (A/B in one run).
# Ports: nginx and the agent from 31210 on (127.0.0.1). Bounded: about
# 2 * PROFILE_SECS + 10 s. Numbers are of one run on a possibly shared node:
# compare ratios taken in one run; ns per run from bpf_stats is repeatable.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

SECS=${PROFILE_SECS:-10}
SELECT=${PROFILE_SELECT:-all}
CONNS=${PROFILE_CONNS:-32}
PERF=${PROFILE_PERF:-1}
command -v perf >/dev/null || PERF=0

[ "$(id -u)" = 0 ] || { echo "bench/profile.sh: needs root" >&2; exit 1; }
for t in nginx wrk curl bpftool python3 /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench/profile.sh: missing $t" >&2; exit 1; }
done
[ -x "$BUILD/redtap" ] || { echo "bench/profile.sh: build $BUILD/redtap first" >&2; exit 1; }

bench_init
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
PERF_PIDS=()
profile_cleanup() {
	local p
	for p in "${PERF_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	bench_cleanup
}
trap profile_cleanup EXIT

ngx_port=$(pick_port 31210)
start_nginx "$ngx_port" 1 || exit 1
agent_port=$(pick_port 31220)
case $SELECT in
all) SEL_ARGS=() ;;
nginx) SEL_ARGS=(-p "$NGX_PID") ;;
*) echo "bench/profile.sh: PROFILE_SELECT is all or nginx" >&2; exit 2 ;;
esac
OTHER_PID=
if [ -n "${PROFILE_AGAINST:-}" ]; then
	other_port=$(pick_port 31230)
	"$PROFILE_AGAINST" --listen "127.0.0.1:$other_port" "${SEL_ARGS[@]}" \
		>"$BENCH_TMP/other.log" 2>&1 &
	OTHER_PID=$!
	bg_track "$OTHER_PID"
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$other_port/healthz" && break
		sleep 0.1
	done
fi
start_agent "$agent_port" "${SEL_ARGS[@]}" || exit 1
# The floor's empty programs on the same attach points, measured in the same
# run: what bpf_stats and the tracepoint dispatch cost for a program that
# does nothing (the "above floor" column subtracts it).
FLOOR_PID=
if [ -x "$BUILD/bench/floor" ] && [ "${PROFILE_FLOOR:-1}" = 1 ]; then
	start_floor || FLOOR_PID=
fi
sleep 1
url=http://127.0.0.1:$ngx_port/api/x
wrk_run "$url" "$CONNS" 2 >/dev/null # warm up: connections open, routes known

T=$BENCH_TMP
prog_ids() { awk '$1 == "prog_id:" { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u; }
prog_ids "$AGENT_PID" >"$T/ids"
: >"$T/other.ids"
[ -n "$OTHER_PID" ] && prog_ids "$OTHER_PID" >"$T/other.ids"
if [ -n "$FLOOR_PID" ]; then
	awk '$1 == "prog_id:" { print $2 }' /proc/"$FLOOR_PID"/fdinfo/* 2>/dev/null | sort -u \
		>"$T/floor.ids"
else
	: >"$T/floor.ids"
fi
sysctl -qw kernel.bpf_stats_enabled=1
bpftool -j prog show >"$T/before.json"
agent_counters "$agent_port" >"$T/m.before"
a0=$(cpu_ticks "$AGENT_PID")
if [ "$PERF" = 1 ]; then
	perf record -q -g -F 999 -p "$AGENT_PID" -o "$T/daemon.perf" -- sleep "$SECS" \
		>/dev/null 2>&1 &
	PERF_PIDS+=($!)
	perf record -q -a -F 999 -o "$T/node.perf" -- sleep "$SECS" >/dev/null 2>&1 &
	PERF_PIDS+=($!)
fi
read -r rps p99 req _ <<<"$(wrk_run "$url" "$CONNS" "$SECS")"
a1=$(cpu_ticks "$AGENT_PID")
bpftool -j prog show >"$T/after.json"
agent_counters "$agent_port" >"$T/m.after"
sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
for p in "${PERF_PIDS[@]}"; do wait "$p" 2>/dev/null; done
PERF_PIDS=()
stop_pid "$AGENT_PID"
grep "capture: " "$T/agent.log" 2>/dev/null | tail -1 >"$T/capture.line"

echo "# Profile: nginx + wrk -t1 -c$CONNS, /api/x, ${SECS} s, agent selecting $SELECT"
echo
echo "redtap $(cat VERSION) ($(git rev-parse --short HEAD 2>/dev/null)), kernel $(uname -r)," \
	"$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "wrk: $rps req/s, p99 $p99 us, $req requests."
echo

python3 - "$T" "$req" "$((a1 - a0))" "$CLK_TCK" <<'PY'
import json, re, sys
T, req, ticks, tck = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ids = {int(x) for x in open(T + "/ids").read().split()}
fids = {int(x) for x in open(T + "/floor.ids").read().split()}
def progs(path, ids):
    return {p["id"]: p for p in json.load(open(path)) if p["id"] in ids}
b, a = progs(T + "/before.json", ids), progs(T + "/after.json", ids)
fb, fa = progs(T + "/before.json", fids), progs(T + "/after.json", fids)
fruns = sum(p.get("run_cnt", 0) - fb.get(i, {}).get("run_cnt", 0) for i, p in fa.items())
fns = sum(p.get("run_time_ns", 0) - fb.get(i, {}).get("run_time_ns", 0) for i, p in fa.items())
floor = fns / fruns if fruns else 0
rows, tot_ns = [], 0
for i, p in sorted(a.items()):
    runs = p.get("run_cnt", 0) - b.get(i, {}).get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) - b.get(i, {}).get("run_time_ns", 0)
    tot_ns += ns
    rows.append((p.get("name", "?"), runs, ns, p.get("bytes_xlated", 0) // 8, p.get("bytes_jited", 0)))
print("## BPF programs (bpf_stats)")
print()
print("Runs of every caller on the node (an unselected process's runs return early).")
print()
if fruns:
    print("An empty program (the floor's, loaded beside the agent) took %.0f ns per run"
          " here (%d runs): that much of every ns/run is bpf_stats' own clock reads"
          " and the dispatch, which the floor pays too." % (floor, fruns))
    print()
print("| program | runs | runs/req | ns/run | above floor | ns/req | xlated insns | jited bytes |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
above = 0
for name, runs, ns, xl, jb in sorted(rows, key=lambda r: -r[2]):
    if runs == 0:
        continue
    above += ns - floor * runs
    print("| %s | %d | %.2f | %.0f | %.0f | %.0f | %d | %d |" % (name, runs, runs / req, ns / runs,
          ns / runs - floor, ns / req, xl, jb))
print("| **all** | | | | **%.0f** | **%.0f** | | |" % (above / req, tot_ns / req))
print()
def metric(path):
    out = {}
    for line in open(path):
        m = re.match(r'(\w+)\{(\w+)="([^"]*)"\} (\S+)', line)
        if m:
            out[(m.group(1), m.group(3))] = float(m.group(4))
    return out
mb, ma = metric(T + "/m.before"), metric(T + "/m.after")
recs = {k[1]: ma[k] - mb.get(k, 0) for k in ma if k[0].startswith("redtap_events_received")}
drops = {k[1]: ma[k] - mb.get(k, 0) for k in ma if k[0].startswith("redtap_kernel_events")}
nrec = sum(recs.values())
print("## Ring buffer and daemon")
print()
print("| measure | value |")
print("|---|---:|")
print("| records per request | %.2f |" % (nrec / req))
for t, v in sorted(recs.items()):
    if v:
        print("| ... of type %s | %.2f |" % (t, v / req))
line = open(T + "/capture.line").read()
m = re.search(r"(\d+) records, (\d+) bytes from (?:the ring buffer|\d+ ring buffers) in (\d+) polls \((\d+) with", line)
if m:
    r, by, polls, busy = (int(x) for x in m.groups())
    if r:
        print("| bytes per record (agent lifetime) | %.0f |" % (by / r))
        print("| ring-buffer bytes per request | %.0f |" % (by / r * nrec / req))
    print("| polls with records / all polls (agent lifetime) | %d / %d |" % (busy, polls))
print("| kernel drops during the run | %d |" % sum(drops.values()))
print("| daemon CPU per request, ns | %.0f |" % (ticks / tck * 1e9 / req))
print("| BPF time per request, ns | %.0f |" % (tot_ns / req))
print("| ... above the floor's empty programs, ns | %.0f |" % (above / req))
print()
oids = {int(x) for x in open(T + "/other.ids").read().split()}
if oids:
    ob, oa = progs(T + "/before.json", oids), progs(T + "/after.json", oids)
    def per_name(bb, aa):
        out = {}
        for i, p in aa.items():
            runs = p.get("run_cnt", 0) - bb.get(i, {}).get("run_cnt", 0)
            ns = p.get("run_time_ns", 0) - bb.get(i, {}).get("run_time_ns", 0)
            out[p.get("name", "?")] = (runs, ns)
        return out
    mine, other = per_name(b, a), per_name(ob, oa)
    print("## A/B: this agent against PROFILE_AGAINST, same syscalls")
    print()
    print("| program | runs | ns/run this | ns/run other | this/other |")
    print("|---|---:|---:|---:|---:|")
    ta = to = 0
    for name in sorted(mine, key=lambda n: -mine[n][1]):
        r, ns = mine[name]
        ro, nso = other.get(name, (0, 0))
        if r < req / 100 or not ro:
            continue
        ta += ns; to += nso
        print("| %s | %d | %.0f | %.0f | %.2f |" % (name, r, ns / r, nso / ro,
              (ns / r) / (nso / ro) if nso else 0))
    print("| **per request** | | **%.0f** | **%.0f** | **%.2f** |" % (ta / req, to / req,
          ta / to if to else 0))
    print()
PY

[ "$PERF" = 1 ] || exit 0
echo "## The daemon's hottest symbols (perf record -g -p, self time)"
echo
echo '```'
perf report -i "$T/daemon.perf" --no-children --stdio --sort dso,sym -g none 2>/dev/null |
	grep -E '^ +[0-9]' | head -25
echo '```'
echo
echo "## nginx, wrk and the daemon, node-wide (perf record -a), by kind"
echo
echo "Shares of those three programs' samples."
echo
perf report -i "$T/node.perf" --comms nginx,wrk,redtap --no-children --stdio \
	--sort comm,sym -g none 2>/dev/null | awk '
	/^ +[0-9.]+%/ {
		p = $1; sub(/%/, "", p); comm = $2; sym = $NF
		if (comm == "redtap") k = "the daemon (user and kernel)"
		else if (sym ~ /^bpf_prog_/) k = "BPF programs (JIT code)"
		else if (sym ~ /htab|lru|array_map|percpu|map_lookup|map_update|map_delete/) \
			k = "BPF maps"
		else if (sym ~ /ringbuf/) k = "ring buffer"
		else if (sym ~ /copy_from_user|probe_read|check_object_size|check_heap|usercopy|copy_user/) \
			k = "copies from user memory"
		else if (sym ~ /trace_call_bpf|perf_syscall|bpf_trace_run|__bpf_prog_enter|__bpf_prog_exit|perf_trace|syscall_trace|trace_event|migrate_/) \
			k = "tracepoint and BPF entry"
		else if (sym ~ /pvm_irq_enable/) k = "pvm_irq_enable (samples taken with interrupts off)"
		else k = "nginx, wrk, network stack and the rest"
		s[k] += p; all += p
	}
	END {
		print "| kind | share |"
		print "|---|---:|"
		for (k in s) printf "| %s | %.1f%% |\n", k, all ? 100 * s[k] / all : 0
	}' | { read -r h; read -r l; echo "$h"; echo "$l"; sort -t'|' -k3 -rn; }
