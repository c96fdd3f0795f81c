#!/bin/bash
# tests/e2e/test_db_agent.sh - PostgreSQL and Redis calls of an
# uninstrumented Python server, wrapped with `redtap run`, reach the
# agent through the shim's ioctl channel: db_client_operation_duration
# histograms with system, operation, namespace, endpoint and SQLSTATE;
# and spans: one SERVER span per request with the DB and cache spans as
# its children, in the caller's trace when a traceparent was sent.
# pgbench -S through `redtap run` is counted exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
APP=28080
PG=28432
RD=28379
AGENT=28464
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"
trap 'srv_stop; e2e_cleanup' EXIT

make -s -C "$E2E_ROOT" build/tests/librediswrap.so >/dev/null || { echo "  FAIL build"; exit 1; }
srv_pg_start "$E2E_TMP/pg" $PG || exit 1
srv_redis_start "$E2E_TMP" $RD || exit 1
srv_shop_db $PG || exit 1

start_receiver db
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
start_agent $AGENT
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY
OTEL_SERVICE_NAME=shop "$REDTAP" run -- /usr/bin/python3 "$E2E_ROOT/tests/e2e/apps/shop_app.py" $APP $PG $RD \
	"$E2E_ROOT/build/tests/librediswrap.so" 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP
TP=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:$APP/order/$i; done
curl -s -o /dev/null -H "traceparent: $TP" http://127.0.0.1:$APP/order/42
curl -s -o /dev/null http://127.0.0.1:$APP/broken
sleep 3

D=db_client_operation_duration_seconds_count
expect_eq "SELECTs on orders" "$(metric_sum $D service_name=shop db_system_name=postgresql db_operation_name=SELECT db_namespace=redtap server_address=127.0.0.1 server_port=$PG error_type=)" 4
expect_eq "Redis INCR" "$(metric_sum $D service_name=shop db_system_name=redis db_operation_name=INCR server_port=$RD)" 4
expect_eq "SQL error with its SQLSTATE" "$(metric_sum $D service_name=shop db_system_name=postgresql db_response_status_code=42P01)" 1
check "SQL error has an error_type" test "$(metric_sum $D service_name=shop db_response_status_code=42P01 error_type=)" = 0

F=$RX_OUT
srv=$($SPANS $F get span service=shop kind=SERVER trace=4bf92f3577b34da6a3ce929d0e0e4736)
expect_eq "server span continues the caller's trace" "$($SPANS $F get parent span=$srv)" 00f067aa0ba902b7
expect_eq "the SELECT is its child" "$($SPANS $F count parent=$srv kind=CLIENT attr.db.system.name=postgresql attr.db.operation.name=SELECT attr.db.namespace=redtap)" 1
expect_eq "the INCR is its child" "$($SPANS $F count parent=$srv kind=CLIENT attr.db.system.name=redis attr.db.operation.name=INCR)" 1
expect_eq "psycopg2's implicit BEGIN is its child too" "$($SPANS $F count parent=$srv attr.db.operation.name=BEGIN)" 1
expect_eq "nothing else in the caller's trace (curl sent its own traceparent: no duplicate span)" "$($SPANS $F count trace=4bf92f3577b34da6a3ce929d0e0e4736)" 4
# without a traceparent: a new trace, rooted at curl's own CLIENT span (curl
# runs on this node, so the connection links the two processes)
srv1=$($SPANS $F get span service=shop kind=SERVER attr.url.path=/order/1)
cli1=$($SPANS $F get parent span=$srv1)
expect_eq "a request without traceparent: curl's client span is the root" "$($SPANS $F count span=$cli1 service=curl kind=CLIENT parent=)" 1
expect_eq "... and the server span has its SELECT, BEGIN and INCR as children" "$($SPANS $F count parent=$srv1 kind=CLIENT)" 3
bad=$($SPANS $F get span service=shop kind=SERVER attr.http.route=/broken)
expect_eq "failed query span under the failing request" "$($SPANS $F count parent=$bad status=ERROR attr.db.response.status_code=42P01)" 1

# webdis (HTTP in front of hiredis' async API) under redtap run, driven by curl
WD=28380
printf '{"redis_host":"127.0.0.1","redis_port":%s,"http_host":"127.0.0.1","http_port":%s,"threads":1,"pool_size":1,"daemonize":false,"database":0,"verbosity":0,"logfile":"%s"}\n' \
	$RD $WD "$E2E_TMP/webdis.log" >"$E2E_TMP/webdis.json"
chmod 644 "$E2E_TMP/webdis.json"
OTEL_SERVICE_NAME=webdis "$REDTAP" run -- webdis "$E2E_TMP/webdis.json" 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $WD
for u in SET/wk/hello GET/wk GET/wk HGET/wk/f; do curl -s -o /dev/null "http://127.0.0.1:$WD/$u"; done
settle
expect_eq "webdis: SET" "$(metric_sum $D service_name=webdis db_system_name=redis db_operation_name=SET error_type=)" 1
expect_eq "webdis: GET twice" "$(metric_sum $D service_name=webdis db_operation_name=GET error_type=)" 2
expect_eq "webdis: wrong type is an error" "$(metric_sum $D service_name=webdis db_operation_name=HGET db_response_status_code=WRONGTYPE)" 1
expect_eq "webdis: the wrong-type error has an error_type" "$(metric_sum $D service_name=webdis db_response_status_code=WRONGTYPE error_type=)" 0

# pgbench -S through redtap run: every statement counted
runuser -u postgres -- pgbench -q -i -s 1 -h 127.0.0.1 -p $PG redtap >/dev/null 2>&1
Q="db_query_summary=SELECT pgbench_accounts"
before=$(metric_sum $D service_name=pgbench "$Q")
OTEL_SERVICE_NAME=pgbench "$REDTAP" run -- runuser -u postgres -- pgbench -n -S -t 200 -h 127.0.0.1 -p $PG redtap >/dev/null 2>&1
settle
after=$(metric_sum $D service_name=pgbench "$Q")
expect_eq "pgbench -S: 200 SELECTs" "$((after - before))" 200
e2e_finish
