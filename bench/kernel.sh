#!/usr/bin/env bash
# bench/kernel.sh - what the kernel side costs, per program: instruction
# counts from the verifier (tests/bpf/test_progs --insns; veristat is not
# packaged for this distribution) and the average run time of the data
# programs on the pipe I/O of a selected process (kernel.bpf_stats_enabled),
# the case that decides whether non-socket fds deserve a cache entry.
#
#   bench/kernel.sh [REDTAP]     REDTAP: the agent binary (default build/redtap)
#
# Root. Writes a Markdown report on stdout (bench/BPF_INSNS.md keeps one).
# Uses 127.0.0.1:30160 for the agent's /metrics; bounded to a few seconds.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
REDTAP=${1:-$BUILD/redtap}
PIPES=${PIPES:-5000}
ROUNDS=${ROUNDS:-40}
TMP=$(mktemp -d /tmp/redtap-kbench.XXXXXX)
AGENT=
CHURN=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	[ -n "$CHURN" ] && kill "$CHURN" 2>/dev/null
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench/kernel.sh: needs root" >&2; exit 1; }
make -s OUTPUT="$BUILD" "$BUILD/tests/bpf/test_progs" || exit 1

echo "## Instructions per program"
echo
echo "Verified: instructions the verifier walked (what veristat reports);"
echo "xlated: the program's size after load; jited: machine code bytes."
echo
"$BUILD/tests/bpf/test_progs" --insns "$TMP/insns.md" || exit 1
cat "$TMP/insns.md"
echo

# A process with $PIPES pipes: it waits for "go", then writes and reads one
# byte on each, $ROUNDS times.
cat >"$TMP/churn.py" <<'PY'
import os, sys
pipes = [os.pipe() for _ in range(int(sys.argv[1]))]
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    for r, w in pipes:
        os.write(w, b"x")
        os.read(r, 1)
PY
mkfifo "$TMP/go"
python3 "$TMP/churn.py" "$PIPES" "$ROUNDS" <"$TMP/go" &
CHURN=$!
exec 3>"$TMP/go"
bpftool -j prog show >"$TMP/others.json" # programs that are not ours
"$REDTAP" --listen 127.0.0.1:30160 -p "$CHURN" >"$TMP/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do
	curl -sf -o /dev/null http://127.0.0.1:30160/healthz && break
	sleep 0.1
done
sysctl -qw kernel.bpf_stats_enabled=1
bpftool -j prog show >"$TMP/before.json"
echo go >&3
wait "$CHURN"
CHURN=
bpftool -j prog show >"$TMP/after.json"

echo "## Run time on pipe I/O of a selected process"
echo
echo "$PIPES pipes, $ROUNDS rounds of one write and one read on each; agent $REDTAP"
echo "($(git rev-parse --short HEAD 2>/dev/null), kernel $(uname -r)). Averages over every"
echo "invocation during the run, other processes' calls included (they return early)."
echo
python3 - "$TMP/others.json" "$TMP/before.json" "$TMP/after.json" <<'PY'
import json, sys
others = {p["id"] for p in json.load(open(sys.argv[1]))}
def ours(path):
    # the agent's programs: loaded after the first snapshot (newest wins)
    out = {}
    for p in sorted(json.load(open(path)), key=lambda p: p["id"]):
        if p["id"] not in others and "name" in p:
            out[p["name"]] = p
    return out
b, a = ours(sys.argv[2]), ours(sys.argv[3])
print("| program | runs | ns per run |")
print("|---|---:|---:|")
for name in ("exit_write", "exit_read", "enter_close"):
    if name not in a:
        continue
    runs = a[name].get("run_cnt", 0) - b.get(name, {}).get("run_cnt", 0)
    ns = a[name].get("run_time_ns", 0) - b.get(name, {}).get("run_time_ns", 0)
    print("| %s | %d | %.0f |" % (name, runs, ns / runs if runs else 0))
PY
