# tests/e2e/lib.sh - shared helpers for the end-to-end tests (sourced).
#
# Each test script sources this file and starts what it needs on ports of
# its own. They are below 32768: above that, in the kernel's ephemeral
# range, an outgoing connection may hold the port and the server cannot
# bind it. It registers every process it starts with `bg_track PID` so
# that the EXIT trap stops them even when the test fails. Checks go through
# `check DESCRIPTION COMMAND...` (or expect_ge / expect_eq); the script's
# exit status is non-zero if any check failed.

set -u
E2E_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# REDTAP_E2E_BIN: another build of the agent (a sanitized one, say)
REDTAP=${REDTAP_E2E_BIN:-$E2E_ROOT/build/redtap}
E2E_TMP=$(mktemp -d /tmp/redtap-e2e.XXXXXX)
chmod 755 "$E2E_TMP" # servers run as other users (postgres, nobody)
E2E_PIDS=""
E2E_FAILED=0
E2E_CHECKS=0

bg_track() { E2E_PIDS="$E2E_PIDS $1"; }

e2e_cleanup() {
	for p in $E2E_PIDS; do kill -TERM "$p" 2>/dev/null; done
	# up to 5 s for a clean exit (the agent flushes OTLP), then KILL
	for _ in $(seq 50); do
		alive=0
		for p in $E2E_PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in $E2E_PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_TMP"
	# a failed check fails the script even when it ends without e2e_finish
	[ "$E2E_FAILED" -eq 0 ] || exit 1
}
trap e2e_cleanup EXIT INT TERM

log() { echo "  $*"; }

check() {
	desc=$1
	shift
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if "$@"; then
		echo "  ok   $desc"
	else
		echo "  FAIL $desc"
		E2E_FAILED=1
	fi
}

# expect_ge DESC ACTUAL MIN
expect_ge() {
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
		echo "  ok   $1 ($2 >= $3)"
	else
		echo "  FAIL $1 (got $2, want >= $3)"
		E2E_FAILED=1
	fi
}

# expect_eq DESC ACTUAL WANT
expect_eq() {
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "  ok   $1 ($2)"
	else
		echo "  FAIL $1 (got '$2', want '$3')"
		E2E_FAILED=1
	fi
}

# contains TEXT PATTERN: TEXT has a line matching the grep PATTERN.
contains() { printf '%s\n' "$1" | grep -q -- "$2"; }

e2e_finish() {
	[ "$E2E_CHECKS" -gt 0 ] || { echo "  FAIL no checks ran"; exit 1; }
	[ -n "${AGENT_PID:-}" ] && kill -0 "$AGENT_PID" 2>/dev/null && stop_agent
	if [ "$E2E_FAILED" -ne 0 ] && [ -f "$E2E_TMP/agent.log" ]; then
		echo "  --- agent log (last 30 lines)"
		tail -n 30 "$E2E_TMP/agent.log" | sed 's/^/  | /'
	fi
	exit "$E2E_FAILED"
}

# wait_http URL [SECONDS]: waits until URL answers.
wait_http() {
	i=0
	while [ $i -lt $((${2:-10} * 10)) ]; do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "  timeout waiting for $1" >&2
	return 1
}

# wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
wait_port() {
	i=0
	while [ $i -lt $((${2:-10} * 10)) ]; do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "  timeout waiting for port $1" >&2
	return 1
}

# start_agent PORT [ARGS...]: runs redtap with /metrics on 127.0.0.1:PORT.
start_agent() {
	AGENT_PORT=$1
	shift
	"$REDTAP" --listen "127.0.0.1:$AGENT_PORT" "$@" >"$E2E_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	bg_track $AGENT_PID
	wait_http "http://127.0.0.1:$AGENT_PORT/healthz" 20
}

# stop_agent: SIGTERM, then the agent must exit 0 (a crash at shutdown fails).
stop_agent() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	expect_eq "agent $AGENT_PID stops cleanly on SIGTERM" "$?" 0
	AGENT_PID=
}

scrape() { curl -sf "http://127.0.0.1:$AGENT_PORT/metrics"; }

# Give the agent time to drain the ring buffer (it polls every 100 ms)
# and to end quiet responses (1 s sweep).
settle() { sleep "${1:-1.5}"; }

# metric_sum NAME [LABEL=VALUE ...]: sums the samples of NAME whose labels
# include every LABEL="VALUE" given (exact match), from a fresh scrape.
metric_sum() {
	name=$1
	shift
	scrape | python3 -c '
import re, sys
name = sys.argv[1]
want = dict(a.split("=", 1) for a in sys.argv[2:])
total = 0.0
for line in sys.stdin:
    if line.startswith("#"):
        continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(3) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(4))
print(int(total) if total == int(total) else total)
' "$name" "$@"
}
