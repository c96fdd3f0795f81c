#!/bin/bash
# tests/e2e/test_wire_db.sh - PostgreSQL and Redis operations from the wire
# (user/proto/pgwire.c, resp.c, dbwire.c) of clients that are NOT wrapped
# with the shim, against real servers on 127.0.0.1:
# - pgbench -S in the simple, extended and prepared protocol modes: counts
#   exact against pgbench's own transaction count; psql: a failing query
#   with its SQLSTATE, a multi-statement string whose statement after the
#   error is aborted, pg_sleep(0.05) in the right bucket;
# - redis-benchmark with and without -P 16: counts exact against its
#   request count; MULTI/EXEC with an error inside; RESP2 and RESP3
#   subscribers that receive messages without phantom operations; DEBUG
#   SLEEP 0.05 in the right bucket;
# - HTTP traffic at the same time is still HTTP, and no parse error is
#   counted for either protocol;
# - a psql wrapped with `redtap run` is counted once (the shim's record).
# - an unwrapped Python server (psycopg2, hiredis): its queries are CLIENT spans
#   under its requests.
# Ports 30800-30899.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
. "$(dirname "$0")/apps/receiver.sh"
PG=30832
RD=30879
HT=30880
AGENT=30864
APP=30881
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"
PGBIN=/usr/lib/postgresql/15/bin
trap 'srv_stop; e2e_cleanup' EXIT

srv_pg_start "$E2E_TMP/pg" $PG || exit 1
# not srv_redis_start: DEBUG SLEEP needs enable-debug-command
redis-server --port $RD --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command local \
	--daemonize no >"$E2E_TMP/redis.log" 2>&1 &
bg_track $!
wait_port $RD || exit 1
srv_shop_db $PG || exit 1
runuser -u postgres -- "$PGBIN/pgbench" -q -i -s 1 -h 127.0.0.1 -p $PG redtap >/dev/null 2>&1 ||
	{ echo "  FAIL pgbench -i"; exit 1; }

make -s -C "$E2E_ROOT" build/tests/librediswrap.so >/dev/null || { echo "  FAIL build"; exit 1; }
start_receiver wire || exit 1
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
# every process: a short-lived client selected by -e would lose its first bytes
start_agent $AGENT --capture-bytes 4096 || exit 1
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY

D=db_client_operation_duration_seconds_count
B=db_client_operation_duration_seconds_bucket
pgs() { metric_sum $D service_name=pgbench db_system_name=postgresql "db_query_summary=SELECT pgbench_accounts" "$@"; }
psqls() { metric_sum "${M:-$D}" service_name=psql db_system_name=postgresql "$@"; }
rbench() { metric_sum $D service_name=redis-benchmark db_system_name=redis "$@"; }
rcli() { metric_sum "${M:-$D}" service_name=redis-cli db_system_name=redis "$@"; }

# --- PostgreSQL: pgbench in each protocol mode --------------------------------------------
for mode in simple extended prepared; do
	before=$(pgs error_type=)
	out=$(runuser -u postgres -- "$PGBIN/pgbench" -n -S -M $mode -c 2 -t 150 -h 127.0.0.1 \
		-p $PG redtap 2>&1)
	done_tx=$(printf '%s\n' "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
	settle
	expect_eq "pgbench -M $mode: every transaction is one SELECT" "$(($(pgs error_type=) - before))" \
		"${done_tx:-none}"
done
expect_eq "pgbench: namespace and endpoint" \
	"$(pgs db_namespace=redtap server_address=127.0.0.1 server_port=$PG)" 900

psql_run() { runuser -u postgres -- "$PGBIN/psql" -X -q -h 127.0.0.1 -p $PG -d redtap "$@" >/dev/null 2>&1; }
psql_run -c "SELECT * FROM no_such_table"
psql_run -c "SELECT 1; SELECT * FROM missing_too; DELETE FROM orders"
psql_run -c "SELECT pg_sleep(0.05)"
settle
expect_eq "failed queries carry their SQLSTATE" "$(psqls db_response_status_code=42P01 error_type=42P01)" 2
expect_eq "the statement after the error did not run" \
	"$(psqls db_operation_name=DELETE error_type=pipeline_aborted)" 1
expect_eq "... and is never a success" "$(psqls db_operation_name=DELETE error_type=)" 0
slow=$(($(M=$B psqls db_query_summary=SELECT error_type= le=0.1) - \
	$(M=$B psqls db_query_summary=SELECT error_type= le=0.05)))
expect_eq "pg_sleep(0.05) lands in the (0.05, 0.1] bucket" "$slow" 1

# --- Redis: redis-benchmark with and without pipelining -----------------------------------
for P in 1 16; do
	bs=$(rbench db_operation_name=SET error_type=)
	bg=$(rbench db_operation_name=GET error_type=)
	out=$(redis-benchmark -h 127.0.0.1 -p $RD -c 4 -n 2000 -P $P -t set,get 2>&1 | tr '\r' '\n')
	nset=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests completed.*/\1/p' | head -1)
	nget=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests completed.*/\1/p' | sed -n 2p)
	settle
	expect_eq "redis-benchmark -P $P: SETs" "$(($(rbench db_operation_name=SET error_type=) - bs))" "${nset:-none}"
	expect_eq "redis-benchmark -P $P: GETs" "$(($(rbench db_operation_name=GET error_type=) - bg))" "${nget:-none}"
done

# MULTI/EXEC with a failing command inside; SELECT as the namespace
printf 'SELECT 2\nSET s text\nMULTI\nINCR n\nINCR s\nEXEC\n' | redis-cli -h 127.0.0.1 -p $RD >/dev/null
redis-cli -h 127.0.0.1 -p $RD DEBUG SLEEP 0.05 >/dev/null
settle
expect_eq "MULTI once" "$(rcli db_operation_name=MULTI db_namespace=2)" 1
expect_eq "EXEC once" "$(rcli db_operation_name=EXEC error_type=)" 1
expect_eq "the queued INCR that worked" "$(rcli db_operation_name=INCR error_type= db_namespace=2)" 1
expect_eq "the queued INCR that failed, with its prefix" \
	"$(rcli db_operation_name=INCR error_type=ERR db_response_status_code=ERR)" 1
slow=$(($(M=$B rcli db_operation_name=DEBUG le=0.1) - $(M=$B rcli db_operation_name=DEBUG le=0.05)))
expect_eq "DEBUG SLEEP 0.05 lands in the (0.05, 0.1] bucket" "$slow" 1

# subscribers (RESP2 and RESP3) receive messages: no phantom operations
known() { echo $(($(rcli db_operation_name=SUBSCRIBE) + $(rcli db_operation_name=HELLO) + \
	$(rcli db_operation_name=PUBLISH) + $(rcli db_operation_name=COMMAND))); }
before_all=$(rcli)
before_known=$(known)
timeout 5 redis-cli -h 127.0.0.1 -p $RD SUBSCRIBE news >"$E2E_TMP/sub2.out" 2>&1 &
bg_track $!
timeout 5 redis-cli -3 -h 127.0.0.1 -p $RD SUBSCRIBE news >"$E2E_TMP/sub3.out" 2>&1 &
bg_track $!
sleep 1
for i in 1 2 3 4 5; do redis-cli -h 127.0.0.1 -p $RD PUBLISH news "m$i" >/dev/null; done
sleep 4.5
settle
check "the RESP2 subscriber got the messages" grep -q m5 "$E2E_TMP/sub2.out"
check "the RESP3 subscriber got the messages" grep -q m5 "$E2E_TMP/sub3.out"
expect_eq "SUBSCRIBE counted once per subscriber" "$(rcli db_operation_name=SUBSCRIBE error_type=)" 2
expect_eq "HELLO 3 once" "$(rcli db_operation_name=HELLO)" 1
expect_eq "PUBLISH five times" "$(rcli db_operation_name=PUBLISH)" 5
expect_eq "nothing else (messages and pushes are no operations)" \
	"$(($(rcli) - before_all))" "$(($(known) - before_known))"

# --- HTTP at the same time: still HTTP; no parse errors from it -------------------------
# (capture gaps elsewhere are counted, reason "gap": redis-cli's COMMAND DOCS reply is
# larger than the capture)
errs_before=$(metric_sum redtap_parse_errors_total)
mkdir -p "$E2E_TMP/www" && echo hi >"$E2E_TMP/www/index.html"
(cd "$E2E_TMP/www" && exec python3 -m http.server $HT --bind 127.0.0.1 >/dev/null 2>&1) &
bg_track $!
wait_port $HT
redis-benchmark -h 127.0.0.1 -p $RD -c 2 -n 3000 -t get -q >/dev/null 2>&1 &
RB=$!
bg_track $RB
for i in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$HT/index.html"; done
wait $RB 2>/dev/null
settle
expect_eq "HTTP exchanges while DB traffic flows" "$(metric_sum \
	http_client_request_duration_seconds_count service_name=curl server_port=$HT http_response_status_code=200)" 20
expect_eq "no parse errors while HTTP and Redis traffic mix" \
	"$(($(metric_sum redtap_parse_errors_total) - errs_before))" 0
expect_eq "no PostgreSQL parse errors in the whole run" \
	"$(metric_sum redtap_parse_errors_total protocol=postgresql)" 0

# --- spans: an unwrapped Python server's queries are children of its requests -----------
OTEL_SERVICE_NAME=shop /usr/bin/python3 "$E2E_ROOT/tests/e2e/apps/shop_app.py" $APP $PG $RD \
	"$E2E_ROOT/build/tests/librediswrap.so" 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP
TP=00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
curl -s -o /dev/null -H "traceparent: $TP" http://127.0.0.1:$APP/order/42
curl -s -o /dev/null http://127.0.0.1:$APP/broken
sleep 3
expect_eq "wire: the app's SELECT" "$(metric_sum $D service_name=shop db_system_name=postgresql \
	db_operation_name=SELECT db_namespace=redtap server_port=$PG error_type=)" 1
expect_eq "wire: the app's INCR" "$(metric_sum $D service_name=shop db_system_name=redis \
	db_operation_name=INCR server_port=$RD error_type=)" 1
F=$RX_OUT
srv=$($SPANS $F get span service=shop kind=SERVER trace=5bf92f3577b34da6a3ce929d0e0e4736)
expect_eq "the SELECT span is a child of the request" "$($SPANS $F count parent=$srv kind=CLIENT \
	attr.db.system.name=postgresql attr.db.operation.name=SELECT attr.db.namespace=redtap)" 1
expect_eq "the INCR span is a child of the request" "$($SPANS $F count parent=$srv kind=CLIENT \
	attr.db.system.name=redis attr.db.operation.name=INCR)" 1
bad=$($SPANS $F get span service=shop kind=SERVER attr.http.route=/broken)
expect_eq "the failed query's span, under the failing request" \
	"$($SPANS $F count parent=$bad status=ERROR attr.db.response.status_code=42P01)" 1

# --- a wrapped client is counted once ------------------------------------------------------
# (psql exits before the agent has acknowledged its shim: the shim's operations sent on
# probation are counted, the wire parser stands down from the hello on)
for i in 1 2 3; do
	OTEL_SERVICE_NAME=wrapped "$REDTAP" run -- runuser -u postgres -- "$PGBIN/psql" -X -q \
		-h 127.0.0.1 -p $PG -d redtap -c "SELECT count(*) FROM orders" >/dev/null 2>&1
done
settle
expect_eq "shim and wire: one operation per query, not two" \
	"$(metric_sum $D db_system_name=postgresql db_query_summary='SELECT orders' service_name=wrapped)" 3

e2e_finish
