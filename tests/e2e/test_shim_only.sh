#!/bin/bash
# tests/e2e/test_shim_only.sh - a user who is not root wraps a program:
# `redtap --no-bpf` runs as that user (no eBPF, no privileges) and the
# shim delivers through the shared-memory ring; the program's PostgreSQL
# and Redis operations appear on /metrics. With no daemon at all, the
# wrapped program still runs unchanged.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
PG=29432
RD=29379
AGENT=29464
trap 'srv_stop; e2e_cleanup' EXIT
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME=/"

make -s -C "$E2E_ROOT" build/tests/librediswrap.so >/dev/null || { echo "  FAIL build"; exit 1; }
srv_pg_start "$E2E_TMP/pg" $PG || exit 1
srv_redis_start "$E2E_TMP" $RD || exit 1
export REDTAP_SHIM_RING="$E2E_TMP/ring/shim.ring"
mkdir -p "$E2E_TMP/ring" && chown 65534:65534 "$E2E_TMP/ring"

$NOBODY "$REDTAP" --no-bpf --listen 127.0.0.1:$AGENT >"$E2E_TMP/agent.log" 2>&1 &
AGENT_PID=$!; AGENT_PORT=$AGENT
bg_track $AGENT_PID
wait_http http://127.0.0.1:$AGENT/healthz 10
check "the ring belongs to the unprivileged user" test "$(stat -c %u "$REDTAP_SHIM_RING")" = 65534

for i in 1 2 3; do
	OTEL_SERVICE_NAME=report $NOBODY "$REDTAP" run -- psql -q -h 127.0.0.1 -p $PG -U postgres -d postgres \
		-c "SELECT $i" >/dev/null
done
OTEL_SERVICE_NAME=report $NOBODY "$REDTAP" run -- psql -q -h 127.0.0.1 -p $PG -U postgres -d postgres \
	-c "SELECT * FROM missing_table" >/dev/null 2>&1
# hiredis from a Python program (redis-cli links its own copy statically)
OTEL_SERVICE_NAME=cache $NOBODY "$REDTAP" run -- /usr/bin/python3 -c "
import ctypes
r = ctypes.CDLL('$E2E_ROOT/build/tests/librediswrap.so')
r.rw_incr.restype = ctypes.c_longlong
for i in range(5):
    assert r.rw_incr(b'127.0.0.1', $RD, b'counter') == i + 1
"
settle
D=db_client_operation_duration_seconds_count
expect_ge "psql SELECTs through the ring" "$(metric_sum $D db_system_name=postgresql db_operation_name=SELECT error_type=)" 3
expect_eq "psql error with SQLSTATE through the ring" "$(metric_sum $D db_system_name=postgresql db_response_status_code=42P01)" 1
expect_eq "hiredis INCRs through the ring" "$(metric_sum $D service_name=cache db_system_name=redis db_operation_name=INCR server_port=$RD)" 5
expect_eq "no shim records lost" "$(metric_sum redtap_shim_events_dropped_total)" 0
stop_agent
check "the ring is removed when the daemon stops" test ! -e "$REDTAP_SHIM_RING"

out=$($NOBODY "$REDTAP" run -- psql -qAt -h 127.0.0.1 -p $PG -U postgres -d postgres -c "SELECT 41 + 1")
expect_eq "with no daemon the program runs unchanged" "$out" 42
e2e_finish
