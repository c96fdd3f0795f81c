#!/bin/bash
# tests/e2e/test_capture_size.sh - the bounded capture: with the default
# 256-byte prefix a traceparent sent after 3 KB of headers is not seen;
# with --capture-bytes 4096 it is. With a tiny 16-byte prefix the heads are
# cut short, yet every request is still counted, by method and status,
# because exchanges of unknown framing end at the next request or after
# a quiet second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
APP=31080
AGENT=31464
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"

OTEL_SERVICE_NAME=wide python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $APP
hdrs=()
for i in $(seq 1 20); do hdrs+=(-H "X-Padding-$i: $(head -c 140 /dev/zero | tr '\0' 'p')"); done

for size in 256 4096; do
	start_receiver cap$size
	export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
	if [ $size = 256 ]; then start_agent $AGENT; else start_agent $AGENT --capture-bytes $size; fi
	unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY
	trace=$(printf '%032x' $((size * 7919)))
	curl -s -o /dev/null "${hdrs[@]}" -H "traceparent: 00-$trace-00f067aa0ba902b7-01" http://127.0.0.1:$APP/items/1
	settle 3
	n=$($SPANS "$RX_OUT" count service=wide kind=SERVER trace=$trace)
	if [ $size = 256 ]; then
		expect_eq "256-byte capture: traceparent after 3 KB of headers unseen" "$n" 0
	else
		expect_eq "4096-byte capture: traceparent after 3 KB of headers continues the trace" "$n" 1
	fi
	expect_eq "request counted either way ($size)" "$(metric_sum http_server_request_duration_seconds_count service_name=wide)" 1
	stop_agent
	stop_receiver
done

start_agent $AGENT --capture-bytes 16
curl -s -o /dev/null -o /dev/null -o /dev/null http://127.0.0.1:$APP/items/1 http://127.0.0.1:$APP/items/2 http://127.0.0.1:$APP/error
curl -s -o /dev/null http://127.0.0.1:$APP/chunked
settle 2.5
expect_eq "16-byte capture: GETs with 200 counted" "$(metric_sum http_server_request_duration_seconds_count service_name=wide http_request_method=GET http_response_status_code=200)" 3
expect_eq "16-byte capture: the 500 counted as an error" "$(metric_sum http_server_request_duration_seconds_count service_name=wide error_type=500)" 1
expect_eq "16-byte capture: nothing left in flight" "$(metric_sum http_server_active_requests service_name=wide)" 0
e2e_finish
