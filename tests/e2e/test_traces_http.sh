#!/bin/bash
# tests/e2e/test_traces_http.sh - spans exported over OTLP, decoded by the
# independent receiver: a SERVER span per request with semconv names and
# attributes; an incoming traceparent continues the caller's trace; nginx
# proxying to a Python app links nginx's CLIENT span and the app's SERVER
# span into one trace across the two processes; with 1% head sampling an
# error trace is still exported (tail rule); histogram buckets carry
# trace exemplars in OpenMetrics.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
. "$(dirname "$0")/apps/nginx.sh"
APP=27080
NGX=27081
AGENT=27464
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"

OTEL_SERVICE_NAME=catalog python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
CATALOG=$!
bg_track $CATALOG
wait_port $APP
# nginx proxies /shop/ to the app (a client call from nginx to catalog)
start_nginx $NGX
sed -i "s|location /api/ {|location /shop/ { proxy_pass http://127.0.0.1:$APP/items/; }\n\t\tlocation /api/ {|" "$NGX_DIR/nginx.conf"
kill -HUP $NGX_PID; sleep 1
# Only the two services under test: other traffic on the machine stays out.
SELECT=(-p $CATALOG -e '*/nginx-e2e')
start_receiver traces
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200 \
	OTEL_METRIC_EXPORT_INTERVAL=1000
start_agent $AGENT "${SELECT[@]}"
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY OTEL_METRIC_EXPORT_INTERVAL

TP=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
curl -s -o /dev/null -H "traceparent: $TP" -H "tracestate: vendor=abc" http://127.0.0.1:$APP/items/42
curl -s -o /dev/null http://127.0.0.1:$APP/error
curl -s -o /dev/null http://127.0.0.1:$NGX/shop/7
sleep 3
F="$RX_OUT"
expect_eq "server span named by route" "$($SPANS $F count service=catalog kind=SERVER 'name=GET /items/{id}' attr.http.route=/items/{id} attr.http.response.status_code=200 attr.url.path=/items/42)" 1
expect_eq "traceparent continues the caller's trace" "$($SPANS $F get parent service=catalog trace=0af7651916cd43dd8448eb211c80319c)" b7ad6b7169203331
expect_eq "tracestate kept" "$($SPANS $F get tracestate trace=0af7651916cd43dd8448eb211c80319c)" vendor=abc
expect_eq "5xx server span is an error" "$($SPANS $F count service=catalog attr.http.route=/error status=ERROR attr.error.type=500)" 1
expect_eq "resource attributes" "$($SPANS $F get res.telemetry.sdk.name service=catalog)" redtap
check "process.pid resource attribute" test -n "$($SPANS $F get res.process.pid service=catalog)"
# cross-process link: nginx SERVER -> nginx CLIENT -> catalog SERVER, one trace
ngx_srv=$($SPANS $F get span service=nginx-e2e kind=SERVER 'name=GET /shop/{id}')
ngx_cli=$($SPANS $F get span service=nginx-e2e kind=CLIENT parent=$ngx_srv)
trace=$($SPANS $F get trace service=nginx-e2e kind=SERVER 'name=GET /shop/{id}')
check "nginx's client span is a child of its server span" test -n "$ngx_cli"
expect_eq "catalog's server span is a child of nginx's client span" "$($SPANS $F get parent service=catalog attr.url.path=/items/7)" "$ngx_cli"
expect_eq "... in the same trace" "$($SPANS $F get trace service=catalog attr.url.path=/items/7)" "$trace"
# metrics pushed over OTLP too: semconv names, service.name as a resource
otlp_hist=$(python3 - "$F" <<'PY'
import json, sys
best = 0
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if rec.get("path") != "/v1/metrics" or "request" not in rec:
        continue
    for rm in rec["request"].get("resourceMetrics", []):
        res = {a["key"]: a["value"].get("stringValue") for a in rm.get("resource", {}).get("attributes", [])}
        if res.get("service.name") != "catalog":
            continue
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                if m.get("name") == "http.server.request.duration" and m.get("unit") == "s":
                    h = m["histogram"]
                    if "CUMULATIVE" in str(h.get("aggregationTemporality")):
                        best = max(best, sum(int(p.get("count", 0)) for p in h["dataPoints"]))
print(best)
PY
)
expect_ge "OTLP metrics: cumulative http.server.request.duration for catalog" "$otlp_hist" 3
exemplar=$(curl -sf -H 'Accept: application/openmetrics-text' http://127.0.0.1:$AGENT/metrics | grep 'http_server_request_duration_seconds_bucket.*service_name="catalog".*# {trace_id=' | head -1)
check "histogram buckets carry trace exemplars" test -n "$exemplar"
stop_agent

# 1% head sampling: ordinary traces are mostly dropped, error traces always kept
start_receiver sampled
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200 \
	OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01
start_agent $AGENT "${SELECT[@]}"
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG
for i in $(seq 1 40); do curl -s -o /dev/null http://127.0.0.1:$APP/items/$i; done
for i in $(seq 1 10); do curl -s -o /dev/null http://127.0.0.1:$APP/error; done
sleep 3
expect_eq "every error trace exported despite 1% sampling" "$($SPANS $RX_OUT count service=catalog kind=SERVER attr.http.route=/error)" 10
ok=$($SPANS $RX_OUT count service=catalog kind=SERVER attr.http.route=/items/{id})
expect_ge "most ordinary traces sampled out (at most 5 of 40 kept)" 5 "$ok"
expect_eq "metrics still count every request" "$(metric_sum http_server_request_duration_seconds_count service_name=catalog http_route=/items/{id})" 40
e2e_finish
