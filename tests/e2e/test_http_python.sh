#!/bin/bash
# tests/e2e/test_http_python.sh - a threaded Python HTTP/1.1 server and
# curl, both uninstrumented: server and client RED metrics must appear
# with the right methods, statuses, routes, error types, service names and
# server address, for keep-alive, chunked, large and close-delimited
# responses; the output must pass promtool in both exposition formats.
. "$(dirname "$0")/lib.sh"
APP=21080
AGENT=21464

start_agent $AGENT
OTEL_SERVICE_NAME=shop-api python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP

U=http://127.0.0.1:$APP
for i in 1 2 3 4 5; do curl -s -o /dev/null $U/items/$((1000 + i)); done
# keep-alive: several requests on one connection
curl -s -o /dev/null -o /dev/null -o /dev/null $U/items/1 $U/items/2 $U/chunked
curl -s -o /dev/null $U/error
curl -s -o /dev/null $U/error
curl -s -o /dev/null $U/nothing-here
curl -s -o /dev/null $U/big
curl -s -o /dev/null $U/close
curl -s -o /dev/null -I $U/items/7
curl -s -o /dev/null -d 'name=x' $U/items
curl -s -o /dev/null $U/slow
# a request in flight: the agent applies the gauge at the end of each drain
curl -s -o /dev/null $U/hold &
hold=$!
sleep 0.8
expect_eq "a request in flight shows in the gauge" "$(metric_sum http_server_active_requests service_name=shop-api http_request_method=GET)" 1
wait $hold
settle

S=http_server_request_duration_seconds_count
expect_eq "GET /items/{id} 200 counted" "$(metric_sum $S service_name=shop-api http_request_method=GET http_route=/items/{id} http_response_status_code=200)" 7
expect_eq "chunked response counted" "$(metric_sum $S service_name=shop-api http_route=/chunked http_response_status_code=200)" 1
expect_eq "5xx counted with error_type=500" "$(metric_sum $S service_name=shop-api http_route=/error error_type=500)" 2
expect_eq "404 is no server error" "$(metric_sum $S service_name=shop-api http_response_status_code=404 error_type=)" 1
expect_eq "64 KiB body response counted once" "$(metric_sum $S http_route=/big)" 1
expect_eq "close-delimited response counted" "$(metric_sum $S http_route=/close http_response_status_code=200)" 1
expect_eq "HEAD counted" "$(metric_sum $S http_request_method=HEAD http_route=/items/{id})" 1
expect_eq "POST counted" "$(metric_sum $S http_request_method=POST http_response_status_code=201 http_route=/items)" 1
expect_eq "no request left in flight" "$(metric_sum http_server_active_requests service_name=shop-api)" 0
expect_ge "the gauge's series stay, at 0" "$(scrape | grep -c '^http_server_active_requests{service_name="shop-api"')" 3
expect_eq "slow request lands in the 0.25 s bucket, not 0.1" \
	"$(metric_sum http_server_request_duration_seconds_bucket http_route=/slow le=0.25)-$(metric_sum http_server_request_duration_seconds_bucket http_route=/slow le=0.1)" "1-0"

C=http_client_request_duration_seconds_count
expect_eq "curl's client requests counted" "$(metric_sum $C service_name=curl server_address=127.0.0.1 server_port=$APP)" 17
expect_eq "client 404 is an error" "$(metric_sum $C service_name=curl http_response_status_code=404 error_type=404)" 1

scrape >"$E2E_TMP/text.txt"
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' http://127.0.0.1:$AGENT/metrics >"$E2E_TMP/om.txt"
check "text format passes promtool check metrics" sh -c "promtool check metrics <'$E2E_TMP/text.txt'"
check "OpenMetrics output ends with # EOF" sh -c "tail -n1 '$E2E_TMP/om.txt' | grep -qx '# EOF'"
check "OpenMetrics content type negotiated" sh -c "curl -sf -o /dev/null -w '%{content_type}' -H 'Accept: application/openmetrics-text' http://127.0.0.1:$AGENT/metrics | grep -q openmetrics"
check "gzip served when accepted" sh -c "curl -sf -H 'Accept-Encoding: gzip' http://127.0.0.1:$AGENT/metrics | gzip -dc | grep -q redtap_build_info"
check "raw paths never become labels" sh -c "! grep -q 'items/100' '$E2E_TMP/text.txt'"
expect_ge "self-metrics count data records" "$(metric_sum redtap_events_received_total type=data)" 40

ids=$(grep -h '^prog_id:' /proc/$AGENT_PID/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
expect_ge "the agent's programs are loaded" "$(echo "$ids" | wc -w)" 20
stop_agent
left=0
for id in $ids; do bpftool prog show id "$id" >/dev/null 2>&1 && left=$((left + 1)); done
expect_eq "none of its programs left loaded" "$left" 0
e2e_finish
