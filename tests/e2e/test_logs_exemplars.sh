#!/bin/bash
# tests/e2e/test_logs_exemplars.sh - exemplars on log_records_total (issue 16):
# a Python server logs an ERROR line inside the handler of a request whose
# traceparent the client chose; the agent's /metrics, asked for OpenMetrics,
# shows that request's trace id as the exemplar of
# log_records_total{severity="ERROR"} (and a later error request replaces
# it), the Prometheus 0.0.4 text has no exemplar, a real Prometheus with
# exemplar storage returns it from /api/v1/query_exemplars, and the OTLP
# metrics export carries it on the Sum point (decoded by the independent
# receiver, queried with apps/otlpjson.py).
# Ports 32100-32149.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
APP=32101
AGENT=32110
PROM=32120
APPS="$E2E_ROOT/tests/e2e/apps"
trace_of() { printf '%016x%016x' $((0x7e57)) "$1"; } # as apps/log_client.py sends
om_scrape() { curl -sf -H 'Accept: application/openmetrics-text' "http://127.0.0.1:$AGENT/metrics"; }
# The trace id of the exemplar on the ERROR series of service logex, from an OpenMetrics scrape.
om_error_trace() {
	om_scrape | sed -n 's/^log_records_total{service_name="logex",severity="ERROR"} [0-9.e+]* # {trace_id="\([0-9a-f]*\)",span_id="[0-9a-f]\{16\}"} 1 [0-9.]*$/\1/p'
}

cp /usr/bin/python3 "$E2E_TMP/pyex-app" # so that --exe selects only this program
OTEL_SERVICE_NAME=logex "$E2E_TMP/pyex-app" "$APPS/log_app.py" $APP >/dev/null 2>"$E2E_TMP/app.err" &
bg_track $!
wait_port $APP

start_receiver exm
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_METRIC_EXPORT_INTERVAL=1000 \
	OTEL_BLRP_SCHEDULE_DELAY=200 REDTAP_LOGS=true
start_agent $AGENT -e "$E2E_TMP/pyex-*"
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_METRIC_EXPORT_INTERVAL OTEL_BLRP_SCHEDULE_DELAY REDTAP_LOGS

cat >"$E2E_TMP/prometheus.yml" <<YML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: redtap
    static_configs: [ { targets: [ "127.0.0.1:$AGENT" ] } ]
YML
prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom" \
	--web.listen-address=127.0.0.1:$PROM --enable-feature=exemplar-storage --log.level=warn \
	>"$E2E_TMP/prometheus.log" 2>&1 &
bg_track $!
wait_http http://127.0.0.1:$PROM/-/ready 30

# --- one failing request, then requests that log INFO and WARN only ---
expect_eq "the failing request is answered" "$(python3 "$APPS/log_client.py" $APP fail 4242 1 1)" "ok 1 failed 0"
expect_eq "work requests answered" "$(python3 "$APPS/log_client.py" $APP work 100 20 4)" "ok 20 failed 0"
want=$(trace_of 4242)
got=""
for _ in $(seq 50); do # up to 5 s for the line to go through the agent
	got=$(om_error_trace)
	[ -n "$got" ] && break
	sleep 0.1
done
expect_eq "OpenMetrics: the ERROR series' exemplar is the failing request's trace" "$got" "$want"
# the work requests' lines may still be on their way (ring, wake-up, log
# assembly) when the ERROR one, written first, has arrived: wait for all 40
for _ in $(seq 50); do
	[ "$(metric_sum log_records_total service_name=logex severity=INFO)" = 20 ] &&
		[ "$(metric_sum log_records_total service_name=logex severity=WARN)" = 20 ] && break
	sleep 0.1
done
check "OpenMetrics: INFO lines leave no exemplar" \
	sh -c "curl -sf -H 'Accept: application/openmetrics-text' http://127.0.0.1:$AGENT/metrics |
		grep '^log_records_total{service_name=\"logex\",severity=\"INFO\"} 20$' >/dev/null"
check "OpenMetrics: the WARN series has an exemplar of a work request" \
	sh -c "curl -sf -H 'Accept: application/openmetrics-text' http://127.0.0.1:$AGENT/metrics |
		grep '^log_records_total{service_name=\"logex\",severity=\"WARN\"} 20 # {trace_id=\"0000000000007e57' >/dev/null"
text=$(scrape | grep '^log_records_total{service_name="logex"')
log "text format: $(echo "$text" | tr '\n' ' ')"
expect_eq "0.0.4 text: the ERROR series, counted" \
	"$(metric_sum log_records_total service_name=logex severity=ERROR)" 1
check "0.0.4 text: no exemplar on any log_records_total line" sh -c "! printf '%s\n' \"\$1\" | grep -q '#'" _ "$text"

# --- Prometheus stores it and answers query_exemplars ---
pq() {
	curl -sf "http://127.0.0.1:$PROM/api/v1/query_exemplars" \
		--data-urlencode 'query=log_records_total{service_name="logex",severity="ERROR"}' \
		--data-urlencode "start=$(($(date +%s) - 300))" --data-urlencode "end=$(($(date +%s) + 5))" |
		python3 -c 'import json, sys
d = json.load(sys.stdin)["data"]
ex = [e for s in d for e in s.get("exemplars", [])]
print(ex[-1]["labels"]["trace_id"] if ex else "")'
}
got=""
for _ in $(seq 30); do # a few 1 s scrapes
	got=$(pq)
	[ -n "$got" ] && break
	sleep 0.5
done
expect_eq "Prometheus query_exemplars returns the failing request's trace" "$got" "$want"

# --- OTLP: the Sum point of log.records carries it ---
PTS="python3 $APPS/otlpjson.py $RX_OUT points"
got=""
for _ in $(seq 30); do # the export interval is 1 s
	got=$($PTS get exemplar.trace metric=log.records kind=sum service=logex attr.severity=ERROR 'exemplar.trace~=7e57')
	[ -n "$got" ] && break
	sleep 0.5
done
expect_eq "OTLP: the Sum point's exemplar is the failing request's trace" "$got" "$want"
expect_eq "OTLP: its value is 1" \
	"$($PTS get exemplar.value metric=log.records service=logex attr.severity=ERROR exemplar.trace="$want")" 1
expect_ge "OTLP: the INFO point is exported" \
	"$($PTS count metric=log.records kind=sum service=logex attr.severity=INFO)" 1
expect_eq "OTLP: the INFO point has no exemplar" \
	"$($PTS count metric=log.records service=logex attr.severity=INFO exemplars!=0)" 0

# --- the most recent error line wins ---
expect_eq "a second failing request is answered" "$(python3 "$APPS/log_client.py" $APP fail 4343 1 1)" "ok 1 failed 0"
want=$(trace_of 4343)
for _ in $(seq 50); do
	got=$(om_error_trace)
	[ "$got" = "$want" ] && break
	sleep 0.1
done
expect_eq "OpenMetrics: the later error's trace replaces it" "$got" "$want"
e2e_finish
