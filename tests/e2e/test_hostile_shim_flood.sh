#!/bin/bash
# tests/e2e/test_hostile_shim_flood.sh - an unprivileged user floods the
# shim's ioctl channel (issue 10, item 3) while a selected Python server
# takes real HTTP requests. The agent selects the server by port and
# programs named hostile-selected by executable.
#  - a flood from an unselected process reaches nothing: no DB series under
#    its service name, no ring-buffer drop, every HTTP request counted;
#  - a flood from a selected process is held to shim.rate/shim.burst per
#    process in the kernel: drops counted with reason shim_rate_limited,
#    at most rate * seconds + burst operations recorded, every HTTP
#    request still counted;
#  - many short-lived selected processes of one uid (each starting with a
#    full burst) are held to shim.uid_rate together;
#  - shim.uids: with only uid 0 allowed, nobody's selected flood is
#    refused by the daemon and counted in redtap_shim_events_dropped.
. "$(dirname "$0")/lib.sh"
APP=30080
AGENT=30081
RATE=500
BURST=1000
UID_RATE=1000
SECS=4

make -s -C "$E2E_ROOT" build/tests/shim/hostile >/dev/null || { echo "  FAIL build"; exit 1; }
T=$E2E_TMP
cp "$E2E_ROOT/build/tests/shim/hostile" "$T/hostile"
cp "$T/hostile" "$T/hostile-selected"
chmod 755 "$T/hostile" "$T/hostile-selected"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

OTEL_SERVICE_NAME=shop-api python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$T/app.log" &
bg_track $!
wait_port $APP || exit 1

S=http_server_request_duration_seconds_count
D=db_client_operation_duration_seconds_count
# requests N: N sequential GETs while a flood runs; prints how many got 200
requests() {
	ok=0
	for i in $(seq "$1"); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APP/items/$i")" = 200 ] &&
			ok=$((ok + 1))
	done
	echo $ok
}

# --- the agent: the server by port, hostile-selected by name -------------
REDTAP_SHIM_RATE=$RATE REDTAP_SHIM_BURST=$BURST REDTAP_SHIM_UID_RATE=$UID_RATE start_agent $AGENT --port $APP \
	--exe '*/hostile-selected' || exit 1
sleep 1

# 1. unselected flood
as_nobody "$T/hostile" flood $SECS forged-a >"$T/flood-a.out" &
FPID=$!
bg_track $FPID
ok=$(requests 150)
wait $FPID
settle
log "unselected flood sent $(cat "$T/flood-a.out") records"
expect_ge "the unselected flood really ran" "$(cat "$T/flood-a.out")" 10000
expect_eq "HTTP during the unselected flood: all 150 answered" "$ok" 150
expect_eq "HTTP during the unselected flood: all 150 counted" \
	"$(metric_sum $S service_name=shop-api http_route=/items/{id})" 150
expect_eq "no DB series from the unselected flood" "$(metric_sum $D server_address=10.9.8.7)" 0
expect_eq "no ring-buffer drops" "$(metric_sum redtap_kernel_events_dropped_total reason=ringbuf_full)" 0
expect_eq "nothing rate-limited: it never reached the budget" \
	"$(metric_sum redtap_kernel_events_dropped_total reason=shim_rate_limited)" 0

# 2. selected flood: rate-limited in the kernel
as_nobody "$T/hostile-selected" flood $SECS forged-b >"$T/flood-b.out" &
FPID=$!
bg_track $FPID
ok=$(requests 150)
wait $FPID
settle
sent=$(cat "$T/flood-b.out")
got=$(metric_sum $D server_address=10.9.8.7)
limited=$(metric_sum redtap_kernel_events_dropped_total reason=shim_rate_limited)
log "selected flood: sent $sent, recorded $got, rate-limited $limited"
expect_eq "HTTP during the selected flood: all 150 counted" \
	"$(metric_sum $S service_name=shop-api http_route=/items/{id})" 300
expect_ge "the selected flood is recorded (it is selected)" "$got" 1
check "... at most rate * seconds + burst ($got <= $((RATE * (SECS + 1) + BURST)))" \
	test "$got" -le $((RATE * (SECS + 1) + BURST))
# records sent before the agent had selected the new process are neither
expect_ge "... and most of the rest counted as rate-limited" "$limited" $((sent / 2))
expect_eq "no ring-buffer drops" "$(metric_sum redtap_kernel_events_dropped_total reason=ringbuf_full)" 0

# 2b. short-lived processes: 3 waves of 24 one-second floods by one uid
before=$(metric_sum $D server_address=10.9.8.7)
t0=$(date +%s)
for wave in 1 2 3; do
	pids=""
	for i in $(seq 24); do
		as_nobody "$T/hostile-selected" flood 1 forged-d >/dev/null &
		pids="$pids $!"
		bg_track $!
	done
	for p in $pids; do wait "$p"; done
done
secs=$(($(date +%s) - t0 + 1))
settle
got=$(($(metric_sum $D server_address=10.9.8.7) - before))
log "72 short-lived floods in ${secs}s: recorded $got"
# without the per-uid bucket each process gets its own burst: 72 * 1000
check "... held to uid_rate * seconds + burst together ($got <= $((UID_RATE * secs + BURST)))" \
	test "$got" -le $((UID_RATE * secs + BURST))
expect_eq "no ring-buffer drops" "$(metric_sum redtap_kernel_events_dropped_total reason=ringbuf_full)" 0
stop_agent

# 3. shim.uids: only root may report
REDTAP_SHIM_UIDS=0 start_agent $AGENT --exe '*/hostile-selected' || exit 1
sleep 1
as_nobody "$T/hostile-selected" flood 1 forged-c >/dev/null
settle
expect_eq "shim.uids=0: nobody's records are refused" \
	"$(metric_sum $D server_address=10.9.8.7)" 0
expect_ge "... and counted" "$(metric_sum redtap_shim_events_dropped_total)" 100
check "the agent is healthy" curl -sf -o /dev/null "http://127.0.0.1:$AGENT/healthz"
e2e_finish
