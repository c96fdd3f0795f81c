#!/bin/bash
# tests/e2e/test_hostile_shim.sh - an unprivileged user forges shim hellos
# against a root agent (issue 10, item 1). A hello claims an "ack" in a
# program that is not the shim - a non-PIE program exec'd right after the
# hello, also setuid root - at the address of a variable that looks like an
# ack (right section, known nonce): the agent must never write it. A real
# wrapped hiredis client that outlives the shim's probation must still be
# acknowledged (its commands counted exactly), and the forged hello's
# implausible loss report (2^40) must not reach redtap_shim_events_dropped.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
RD=30079
AGENT=30064
trap 'srv_stop; e2e_cleanup' EXIT

make -s -C "$E2E_ROOT" build/tests/shim/hostile build/tests/shim/ack_probe build/libredtap.so \
	>/dev/null || { echo "  FAIL build"; exit 1; }
T=$E2E_TMP
cp "$E2E_ROOT/build/tests/shim/hostile" "$T/hostile"
cp "$T/hostile" "$T/hostile-suid"
chown root:root "$T/hostile-suid"
chmod 4755 "$T/hostile-suid"
chmod 755 "$T/hostile"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

srv_redis_start "$T" $RD || exit 1
start_agent $AGENT || exit 1

read -r ADDR NONCE < <("$T/hostile" addr)
log "victim at 0x$ADDR holding nonce $NONCE"

# 1. hello, then exec the target: the agent handles the hello after the exec
out=$(as_nobody "$T/hostile" hello "$ADDR" "$NONCE" "$T/hostile" target 8)
expect_eq "hello then exec: the exec'd program is never written" "$out" intact
# 2. the same into a setuid-root program (the issue's reproduction)
out=$(as_nobody "$T/hostile" hello "$ADDR" "$NONCE" "$T/hostile-suid" target 8)
expect_eq "hello then exec of a setuid-root program: never written" "$out" intact
# 3. several hellos while the target runs (keepalives, refreshes)
as_nobody "$T/hostile" target 8 >"$T/t3.out" &
TPID=$!
bg_track $TPID
for _ in 1 2 3; do
	as_nobody "$T/hostile" hello "$ADDR" "$NONCE" "$T/hostile" target 1 >/dev/null
	sleep 1
done
wait $TPID
expect_eq "a running target stays untouched" "$(cat "$T/t3.out")" intact

# a real wrapped client past its probation: acknowledged, counted exactly
cp "$E2E_ROOT/build/tests/shim/ack_probe" "$T/ack_probe"
chmod 755 "$T/ack_probe"
OTEL_SERVICE_NAME=ackprobe as_nobody env LD_PRELOAD="$E2E_ROOT/build/libredtap.so" \
	"$T/ack_probe" $RD 4 6 100
expect_eq "the real client's commands ran" "$?" 0
settle
D=db_client_operation_duration_seconds_count
expect_eq "a real shim is still acknowledged: every INCR after the probation counted" \
	"$(metric_sum $D service_name=ackprobe db_system_name=redis db_operation_name=INCR)" 6
# five forged hellos of 2^40 each: at most SHIMACK_DROPS_BURST (1000) each is believed
dropped=$(metric_sum redtap_shim_events_dropped_total)
check "the forged loss reports are not believed ($dropped <= 5000)" test "$dropped" -le 5000
check "the agent is healthy" curl -sf -o /dev/null "http://127.0.0.1:$AGENT/healthz"
e2e_finish
