#!/bin/bash
# tests/e2e/test_cardinality.sh - routes and the series cap: ids, UUIDs and
# tokens are folded into {id}; a user pattern wins; past --max-series the
# excess goes to one series labelled otel_metric_overflow="true" and is
# counted in redtap_metric_series_overflow_total.
. "$(dirname "$0")/lib.sh"
APP=25080
AGENT=25464

start_agent $AGENT --max-series 5 -r '/items/{item}/reviews' -r '/static/*'
OTEL_SERVICE_NAME=card python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $APP
U=http://127.0.0.1:$APP
for path in /items/42 /items/550e8400-e29b-41d4-a716-446655440000 /items/deadbeefcafe1234 \
	/items/dGhpcyBpcyBhIGxvbmcgdG9rZW4xMjM0 "/items/7?q=secret" /items/9/reviews /static/css/site.css; do
	curl -s -o /dev/null "$U$path"
done
settle
S=http_server_request_duration_seconds_count
expect_eq "ids, UUIDs, hex and tokens fold into {id}" "$(metric_sum $S service_name=card http_route=/items/{id})" 5
expect_eq "user pattern wins" "$(metric_sum $S service_name=card http_route=/items/{item}/reviews)" 1
expect_eq "trailing wildcard pattern" "$(metric_sum $S service_name=card http_route=/static/*)" 1
check "query strings never reach labels" sh -c "! curl -sf http://127.0.0.1:$AGENT/metrics | grep -q secret"

# 12 distinct routes against a cap of 5 series (POST answers 201 on any path;
# GET would answer 404, and every 404 shares one series without a route)
for i in $(seq 1 12); do curl -s -o /dev/null -d x=1 $U/page$i; done
settle
expect_eq "series capped at 5" "$(metric_sum redtap_metric_series metric=http_server_request_duration_seconds)" 5
expect_ge "overflow series holds the excess" "$(metric_sum $S otel_metric_overflow=true)" 9
expect_ge "overflow counted" "$(metric_sum redtap_metric_series_overflow_total metric=http_server_request_duration_seconds)" 9
check "output still passes promtool" sh -c "curl -sf http://127.0.0.1:$AGENT/metrics | promtool check metrics"
e2e_finish
