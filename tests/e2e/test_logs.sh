#!/bin/bash
# tests/e2e/test_logs.sh - zero-code logs (issue 16): what selected processes
# write to stdout becomes OTLP log records, decoded by the independent
# receiver (tests/otlp/receiver.js, tests/e2e/apps/logs.py).
#  - a Python thread-per-request server logging JSON inside its handlers,
#    under 32 concurrent clients sending traceparent: >= 99 % of the lines
#    carry their own request's trace id and none carries another's;
#    severities from the JSON level; error fields lifted; log_records counter;
#  - the same for a Go net/http service logging with zerolog (GOMAXPROCS=16);
#  - secrets written by the app never reach the receiver;
#  - huge lines are cut and marked, binary garbage does no harm, partial
#    writes are reassembled, an unfinished line is flushed;
#  - a flood of 100 000 lines is rate-limited in the kernel and the drops
#    are counted;
#  - lines written while the collector is down arrive once it is back
#    (within the documented bound: the log queue, 2048 records).
# Ports 31700-31799.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
APP=31701
GOAPP=31702
AGENT=31764
APPS="$E2E_ROOT/tests/e2e/apps"
LOGS="python3 $APPS/logs.py"

# Copies of the interpreter, so that --exe selects only this test's programs.
cp /usr/bin/python3 "$E2E_TMP/pylog-app"
cp /usr/bin/python3 "$E2E_TMP/pylog-noise"

OTEL_SERVICE_NAME=logshop "$E2E_TMP/pylog-app" "$APPS/log_app.py" $APP >/dev/null 2>"$E2E_TMP/app.err" &
bg_track $!
wait_port $APP

# The Go service (zerolog), built offline in GOPATH mode.
(cd "$APPS/go/gologs" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
	GOCACHE=/tmp/redtap-gocache go build -o "$E2E_TMP/gologs" .) || { echo "  FAIL go build"; exit 1; }
OTEL_SERVICE_NAME=gologs GOMAXPROCS=16 "$E2E_TMP/gologs" $GOAPP >/dev/null 2>"$E2E_TMP/go.err" &
bg_track $!
wait_port $GOAPP

start_receiver logs
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BLRP_SCHEDULE_DELAY=200 \
	OTEL_BSP_SCHEDULE_DELAY=200 OTEL_METRIC_EXPORT_INTERVAL=60000 REDTAP_LOGS=true
start_agent $AGENT -e "$E2E_TMP/pylog-*" -e "$E2E_TMP/gologs"
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BLRP_SCHEDULE_DELAY OTEL_BSP_SCHEDULE_DELAY \
	OTEL_METRIC_EXPORT_INTERVAL REDTAP_LOGS
F="$RX_OUT"

# --- correlation under 32 concurrent clients ---
expect_eq "work requests answered" "$(python3 "$APPS/log_client.py" $APP work 0 320 32)" "ok 320 failed 0"
expect_eq "failing requests answered" "$(python3 "$APPS/log_client.py" $APP fail 1000 40 32)" "ok 40 failed 0"
python3 "$APPS/log_client.py" $APP secret 2000 4 4 >/dev/null
sleep 3
read -r total right wrong none <<<"$($LOGS "$F" correlate service=logshop)"
log "in-request lines: $total, own trace $right, another's $wrong, none $none"
expect_ge "every line written inside a request arrived" "$total" 684
expect_ge ">= 99 % of them carry their request's trace id" "$((right * 100))" "$((total * 99))"
expect_eq "none carries another request's trace id" "$wrong" 0
expect_eq "INFO lines: severity 9" "$($LOGS "$F" count service=logshop severity=9 'body~="start ')" 320
expect_eq "WARNING lines: severity 13" "$($LOGS "$F" count service=logshop severity=13 severity_text=WARN)" 320
expect_eq "ERROR lines: severity 17, error lifted" \
	"$($LOGS "$F" count service=logshop severity=17 attr.exception.message='db down')" 40
expect_eq "span id is the server span's, flags sampled" \
	"$($LOGS "$F" count service=logshop rid=5 span= )" 0
expect_eq "the sampled flag is carried" "$($LOGS "$F" get flags service=logshop rid=5)" 1
expect_eq "stdout is named" "$($LOGS "$F" get attr.log.iostream service=logshop rid=5)" stdout
check "the process resource" test -n "$($LOGS "$F" get res.process.pid service=logshop)"

# --- the Go service: zerolog, 32 concurrent clients, GOMAXPROCS=16 ---
expect_eq "Go work requests answered" "$(python3 "$APPS/log_client.py" $GOAPP work 0 320 32)" "ok 320 failed 0"
expect_eq "Go failing requests answered" "$(python3 "$APPS/log_client.py" $GOAPP fail 1000 40 32)" "ok 40 failed 0"
sleep 2
read -r total right wrong none <<<"$($LOGS "$F" correlate service=gologs)"
log "Go in-request lines: $total, own trace $right, another's $wrong, none $none"
expect_eq "every zerolog line arrived" "$total" 680
expect_ge ">= 99 % of the Go lines carry their request's trace id" "$((right * 100))" "$((total * 99))"
expect_eq "no Go line carries another request's trace id" "$wrong" 0
expect_eq "zerolog info: severity 9" "$($LOGS "$F" count service=gologs severity=9 severity_text=INFO)" 320
expect_eq "zerolog warn: severity 13" "$($LOGS "$F" count service=gologs severity=13)" 320
expect_eq "zerolog error: severity 17, err lifted" \
	"$($LOGS "$F" count service=gologs severity=17 attr.exception.message='db down')" 40

# --- redaction ---
expect_eq "the password never reaches the receiver" "$(grep -c 'hunter2' "$F")" 0
expect_eq "the bearer token never reaches the receiver" "$(grep -c 'tok-200' "$F")" 0
expect_eq "the lines are there, redacted" "$($LOGS "$F" count service=logshop 'body~=[REDACTED]')" 4

# --- hostile and careless writers ---
noise() { OTEL_SERVICE_NAME=logshop-noise "$E2E_TMP/pylog-noise" "$APPS/log_noise.py" "$@"; }
noise huge >/dev/null 2>&1 &
NH=$!
bg_track $NH
noise garbage >/dev/null 2>&1 &
NG=$!
bg_track $NG
noise partial >/dev/null 2>&1 &
NP=$!
bg_track $NP
wait $NH $NG $NP
noise flood 100000 2>"$E2E_TMP/flood.err" | cat >/dev/null
sleep 2
expect_ge "huge lines arrive cut and marked" \
	"$($LOGS "$F" count service=logshop-noise attr.redtap.log.truncated=true severity=17)" 1
expect_eq "the line after them is whole" "$($LOGS "$F" count service=logshop-noise body='INFO after-huge')" 1
expect_eq "the line after binary garbage is whole" \
	"$($LOGS "$F" count service=logshop-noise body='WARN after-garbage' severity=13)" 1
expect_eq "a line written 3 bytes at a time is one record" \
	"$($LOGS "$F" count service=logshop-noise 'body=INFO assembled from many small writes')" 1
expect_eq "an unfinished line is flushed" "$($LOGS "$F" count service=logshop-noise 'body=ERROR never finished')" 1
log "$(cat "$E2E_TMP/flood.err")"
flooded=$($LOGS "$F" count service=logshop-noise 'body~=DEBUG flood')
dropped=$(metric_sum redtap_kernel_events_dropped_total reason=log_rate_limited)
log "flood: $flooded records exported, $dropped writes dropped in the kernel"
expect_ge "the flood is rate-limited in the kernel and counted" "$dropped" 50000
check "what passed is within the budget (burst 2000 + 1000/s)" test "$flooded" -le 12000
check "the agent is alive" kill -0 "$AGENT_PID"

# --- the collector goes away for 4 s ---
control '{"down_ms": 4000}'
sleep 0.5
expect_eq "requests while the collector is down" "$(python3 "$APPS/log_client.py" $APP work 3000 200 32)" "ok 200 failed 0"
sleep 9
down=$($LOGS "$F" count service=logshop 'rid>=3000')
expect_ge "lines written while the collector was down arrive (<= 2048 queued)" "$down" 400

# --- metrics from logs ---
expect_eq "log_records_total by service and severity" \
	"$(metric_sum log_records_total service_name=logshop severity=ERROR)" 40
expect_ge "redtap_log_lines_total{outcome=redacted}" "$(metric_sum redtap_log_lines_total outcome=redacted)" 4
emitted=$(metric_sum redtap_log_lines_total outcome=emitted)
exported=$(metric_sum redtap_log_lines_total outcome=exported)
qdropped=$(metric_sum redtap_log_lines_total outcome=export_dropped)
log "log lines: $emitted emitted, $exported exported, $qdropped dropped by the full export queue"
expect_ge "redtap_log_lines_total{outcome=exported}" "$exported" 1000
expect_eq "every line is exported or counted as dropped" "$((exported + qdropped))" "$emitted"
e2e_finish
