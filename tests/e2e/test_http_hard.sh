#!/bin/bash
# tests/e2e/test_http_hard.sh - HTTP/1 counts exact in the hard cases,
# against nginx and the Python server, seen from both ends (the servers and
# the Python client are selected): requests written one byte per send(),
# methods split across writes ("GE" + "T /..."), ten GETs pipelined in one
# write past the 256-byte capture prefix (the answers beyond the captured
# heads count as _OTHER / _unseen, and redtap_http_requests_unseen_total
# says how often). Then the agent's own OTLP export to a selected
# "collector" on the same node: left out by default (counted in
# redtap_connections_own_total), traced with capture.own_traffic=true.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/nginx.sh"
PY=31401
NGX=31402
COLL=31403
AGENT=31464
CLIENT="$E2E_ROOT/tests/e2e/apps/http_hard_client.py"
S=http_server_request_duration_seconds_count
C=http_client_request_duration_seconds_count

OTEL_SERVICE_NAME=hard-py python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $PY 2>>"$E2E_TMP/app.log" &
bg_track $!
OTEL_SERVICE_NAME=fake-collector python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $COLL \
	2>>"$E2E_TMP/coll.log" &
bg_track $!
start_nginx $NGX
wait_port $PY
wait_port $COLL

export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLL OTEL_BSP_SCHEDULE_DELAY=200 \
	OTEL_METRIC_EXPORT_INTERVAL=1000
start_agent $AGENT -e '*/nginx-e2e' -e '*python3*'
sleep 0.5

# client MODE PORT PATH N SERVICE: runs the hard client, which must get
# every answer.
client() {
	OTEL_SERVICE_NAME=$5 python3 "$CLIENT" "$1" "$2" "$3" "$4" 2>>"$E2E_TMP/client.log"
	check "$5 $1 x$4: every request answered" [ $? -eq 0 ]
}

# counts SVC: total server exchanges, GETs, _OTHER, as "T G O"
counts() {
	echo "$(metric_sum $S service_name=$1) $(metric_sum $S service_name=$1 http_request_method=GET)" \
		"$(metric_sum $S service_name=$1 http_request_method=_OTHER)"
}

for target in "hard-py $PY /items/7" "nginx-e2e $NGX /api/hard"; do
	set -- $target
	svc=$1 port=$2 path=$3
	cli=hard-client-$port
	client bytewise "$port" "$path" 3 $cli
	client split "$port" "$path" 3 $cli
	settle
	expect_eq "$svc: byte-wise and split requests counted as GETs (total GET _OTHER)" \
		"$(counts $svc)" "6 6 0"
	expect_eq "$svc: the client side counts them as GETs too" \
		"$(metric_sum $C service_name=$cli http_request_method=GET)" 6
	unseen0=$(metric_sum redtap_http_requests_unseen_total)
	client pipeline "$port" "$path" 10 $cli
	settle
	read -r total gets others <<<"$(counts $svc)"
	expect_eq "$svc: ten pipelined GETs past the prefix, ten exchanges" "$total" 16
	expect_eq "$svc: each is a captured GET or an _OTHER" "$((gets + others))" 16
	expect_ge "$svc: some were past the prefix" "$others" 1
	expect_eq "$svc: the _OTHER ones have the placeholder route" \
		"$(metric_sum $S service_name=$svc http_request_method=_OTHER http_route=_unseen)" "$others"
	# The client reads the answers: when several come in one read past
	# the prefix, they are unseen too (docs/protocols.md), so the client
	# side counts at least the captured heads and never more than sent.
	cl=$(metric_sum $C service_name=$cli)
	expect_ge "$svc: client side, at least the captured heads" "$cl" "$gets"
	expect_ge "$svc: client side, no more than sent" 16 "$cl"
	cl_others=$(metric_sum $C service_name=$cli http_request_method=_OTHER)
	expect_eq "$svc: redtap_http_requests_unseen_total says how often" \
		"$(metric_sum redtap_http_requests_unseen_total)" "$((unseen0 + others + cl_others))"
done
expect_eq "no parse errors" "$(metric_sum redtap_parse_errors_total protocol=http)" 0

# The agent exported traces and metrics to the selected fake collector.
settle 2
expect_ge "the agent exported traces to the collector" \
	"$(metric_sum redtap_otlp_exported_total signal=traces)" 1
expect_eq "its own export is not traced at the collector" \
	"$(metric_sum $S service_name=fake-collector)" 0
expect_ge "redtap_connections_own_total counts the left-out connections" \
	"$(metric_sum redtap_connections_own_total)" 1
stop_agent

# capture.own_traffic=true: the collector's side of the export is traced.
export REDTAP_OWN_TRAFFIC=true
start_agent $AGENT -e '*python3*'
unset REDTAP_OWN_TRAFFIC
client bytewise $PY /items/8 1 hard-client-again
settle 3
expect_ge "with own_traffic the export is traced at the collector" \
	"$(metric_sum $S service_name=fake-collector http_request_method=POST)" 1
expect_eq "and nothing is left out" "$(metric_sum redtap_connections_own_total)" 0
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY OTEL_METRIC_EXPORT_INTERVAL
e2e_finish
