#!/bin/bash
# tests/e2e/test_config_otlp.sh - OTLP export and trace keeping configured
# from the YAML file alone (otlp.*, traces.*), the OpenTelemetry variables
# overriding the file, and a malformed key refused at start-up: the
# settings table is the one path from every source to the exporter.
# Ports: 30700-30799 (app 30780, agent 30764), 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
APP=30780
AGENT=30764
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"
CHECK="python3 $OTLP_DIR/check.py"

OTEL_SERVICE_NAME=cfgapp python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP \
	2>>"$E2E_TMP/app.log" &
APP_PID=$!
bg_track $APP_PID
wait_port $APP

# write_config FILE RECEIVER_PORT: the exporter set up by keys only.
write_config() {
	cat >"$1" <<EOF
otlp:
  endpoint: "http://127.0.0.1:$2"
  headers: "x-config=from%20yaml"
  traces:
    batch_delay_ms: 200
  metrics:
    interval_ms: 500
traces:
  sampler: always_on
  critical_routes: ["/items/{id}"]
EOF
}

echo "- the YAML file alone turns on traces and metrics"
start_receiver yaml
write_config "$E2E_TMP/redtap.yaml" "$RX_PORT"
start_agent $AGENT -c "$E2E_TMP/redtap.yaml" -p $APP_PID
for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$APP/items/$i"; done
sleep 2
stop_agent
stop_receiver
expect_eq "three server spans from the file's endpoint" \
	"$($SPANS "$RX_OUT" count service=cfgapp kind=SERVER attr.http.route=/items/{id})" 3
expect_ge "metrics pushed at the file's interval" \
	"$($CHECK requests "$RX_OUT" /v1/metrics 200)" 2
check "the file's header, percent-decoded" $CHECK header "$RX_OUT" x-config "from yaml"
check "the agent logged the URLs it resolved" \
	grep -q "OTLP export: traces http://127.0.0.1:$RX_PORT/v1/traces" "$E2E_TMP/agent.log"

echo "- an OpenTelemetry variable overrides the file's key"
start_receiver env
write_config "$E2E_TMP/redtap.yaml" "$RX_PORT"
OTEL_TRACES_EXPORTER=none start_agent $AGENT -c "$E2E_TMP/redtap.yaml" -p $APP_PID
curl -s -o /dev/null "http://127.0.0.1:$APP/items/9"
sleep 1.5
stop_agent
stop_receiver
expect_eq "no traces sent (OTEL_TRACES_EXPORTER=none)" \
	"$($CHECK requests "$RX_OUT" /v1/traces 200)" 0
expect_ge "metrics still sent (the file's endpoint)" \
	"$($CHECK requests "$RX_OUT" /v1/metrics 200)" 1

echo "- credentials in the endpoint never reach the log"
OTEL_EXPORTER_OTLP_ENDPOINT="http://alice:s3cret@127.0.0.1:9" start_agent $AGENT -p $APP_PID
stop_agent
check "the resolved URL is logged with its credentials hidden" \
	grep -q "OTLP export: traces http://\*\*\*@127.0.0.1:9/v1/traces" "$E2E_TMP/agent.log"
check "the password is nowhere in the log" sh -c "! grep -q s3cret '$E2E_TMP/agent.log'"

echo "- a malformed key stops the agent with the file, line and key"
printf 'otlp:\n  traces:\n    compression: zstd\n' >"$E2E_TMP/bad.yaml"
timeout 10 "$REDTAP" -c "$E2E_TMP/bad.yaml" --no-bpf >"$E2E_TMP/bad.log" 2>&1
expect_eq "usage exit status" "$?" 2
check "the message names FILE:3: otlp.traces.compression" \
	grep -q "bad.yaml:3: otlp.traces.compression: 'zstd' is not one of gzip, none" \
	"$E2E_TMP/bad.log"

echo "- --help lists the OTLP settings with their keys"
"$REDTAP" --help >"$E2E_TMP/help.txt"
check "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT with otlp.traces.endpoint" \
	grep -A3 -q "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" "$E2E_TMP/help.txt"
check "File: otlp.traces.endpoint." grep -q "File: otlp.traces.endpoint." "$E2E_TMP/help.txt"

e2e_finish
