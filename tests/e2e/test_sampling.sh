#!/bin/bash
# tests/e2e/test_sampling.sh - which traces the agent keeps (issue 14), as
# the independent OTLP receiver sees them:
#  - on SIGTERM, spans held for a tail decision (a CLIENT call made under a
#    request still open) are flushed, not lost;
#  - with nothing head-sampled, a route that starts failing gets its
#    successful traces kept too (sampling.rule=adaptive.error_ratio) while
#    a healthy route stays unsampled; failures are kept by the error rule;
#    a request with the critical header value is kept (rule critical);
#  - traces.budget caps the spans kept per second, drops are counted in
#    redtap_traces_budget_dropped_total;
#  - traces.header_attributes: X-Tenant-ID and X-Channel become attributes
#    of the request's span and of the CLIENT span made while serving it, as
#    does a baggage entry (traces.baggage_attributes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
APP=31500
AGENT=31501
SPANS="python3 $E2E_ROOT/tests/e2e/apps/spans.py"

OTEL_SERVICE_NAME=sapp python3 "$E2E_ROOT/tests/e2e/apps/sampling_app.py" $APP 2>>"$E2E_TMP/app.log" &
SAPP=$!
bg_track $SAPP
wait_port $APP

# load SECONDS FAIL_EVERY: 20 requests a second to /flaky (every FAIL_EVERY-th
# fails; 0: none) and 20 to /ok, over one keep-alive connection each.
load() {
	python3 - "$APP" "$1" "$2" <<'PY'
import http.client, sys, time
port, secs, every = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
a = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
b = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
fails = 0
for s in range(secs):
    t0 = time.monotonic()
    for i in range(20):
        fail = every and i % every == 0
        fails += bool(fail)
        a.request("GET", "/flaky?fail=1" if fail else "/flaky")
        a.getresponse().read()
        b.request("GET", "/ok")
        b.getresponse().read()
    time.sleep(max(0, 1 - (time.monotonic() - t0)))
print(fails)
PY
}

# 1. Flush on shutdown: /hang's client call ends, its root does not.
start_receiver flush
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
start_agent $AGENT -p $SAPP
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY
curl -s -m 40 -o /dev/null http://127.0.0.1:$APP/hang &
bg_track $!
sleep 2
expect_eq "nothing exported while the root is open" "$($SPANS $RX_OUT count service=sapp)" 0
stop_agent
sleep 0.5
cli=$($SPANS $RX_OUT get span service=sapp kind=CLIENT)
check "the held CLIENT span reached the receiver on SIGTERM" test -n "$cli"
srv_parent=$($SPANS $RX_OUT get parent service=sapp kind=SERVER attr.http.route=/ok)
check "... with the SERVER span it called, as its child" test -n "$cli" -a "$srv_parent" = "$cli"
expect_eq "the open root itself is not reported" \
	"$($SPANS $RX_OUT count service=sapp attr.http.route=/hang)" 0

# 2. Adaptive rates: nothing is head-sampled; /flaky starts failing.
start_receiver adaptive
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200 \
	OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0 \
	REDTAP_TRACES_CRITICAL_HEADER=X-Priority=high REDTAP_TRACES_CRITICAL_FLOOR=1
start_agent $AGENT -p $SAPP
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG \
	REDTAP_TRACES_CRITICAL_HEADER REDTAP_TRACES_CRITICAL_FLOOR
load 3 0 >/dev/null
settle
expect_eq "healthy routes: nothing kept" "$($SPANS $RX_OUT count service=sapp)" 0
fails=$(load 10 5)
settle
expect_eq "every failure kept (rule error)" \
	"$($SPANS $RX_OUT count service=sapp attr.http.route=/flaky status=ERROR attr.sampling.rule=error)" "$fails"
expect_ge "successful /flaky traces kept once it fails (adaptive.error_ratio)" \
	"$($SPANS $RX_OUT count service=sapp attr.http.route=/flaky status!=ERROR attr.sampling.rule=adaptive.error_ratio)" 40
expect_eq "the healthy route stays unsampled" "$($SPANS $RX_OUT count service=sapp attr.http.route=/ok)" 0
expect_eq "no budget, no drops" "$(metric_sum redtap_traces_budget_dropped_total)" 0
curl -s -o /dev/null -H "X-Priority: high" http://127.0.0.1:$APP/ok
curl -s -o /dev/null -H "X-Priority: low" http://127.0.0.1:$APP/ok
settle
expect_eq "the request with the critical header value is kept (rule critical)" \
	"$($SPANS $RX_OUT count service=sapp attr.http.route=/ok attr.sampling.rule=critical)" 1
expect_eq "... the other one not" "$($SPANS $RX_OUT count service=sapp attr.http.route=/ok)" 1
stop_agent

# 3. The budget: 10 spans a second, everything head-sampled.
start_receiver budget
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200 \
	REDTAP_TRACES_BUDGET=10
start_agent $AGENT -p $SAPP
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY REDTAP_TRACES_BUDGET
load 3 0 >/dev/null
settle
kept=$($SPANS $RX_OUT count service=sapp)
expect_ge "at most about 10 spans a second kept (of 120)" 45 "$kept"
expect_ge "... but some" "$kept" 10
expect_ge "the rest counted in redtap_traces_budget_dropped_total" \
	"$(metric_sum redtap_traces_budget_dropped_total)" $((120 - kept))
stop_agent

# 4. Request attributes from headers.
start_receiver attrs
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200 \
	REDTAP_TRACES_HEADER_ATTRIBUTES=X-Tenant-ID=tenant,X-Channel=channel \
	REDTAP_TRACES_BAGGAGE_ATTRIBUTES=order=order.id
start_agent $AGENT -p $SAPP
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY REDTAP_TRACES_HEADER_ATTRIBUTES \
	REDTAP_TRACES_BAGGAGE_ATTRIBUTES
curl -s -o /dev/null -H "X-Tenant-ID: acme" -H "x-channel: web" -H "baggage: x=1, order=o-42" \
	http://127.0.0.1:$APP/call
curl -s -o /dev/null http://127.0.0.1:$APP/ok
settle
expect_eq "the request's span carries tenant and channel" \
	"$($SPANS $RX_OUT count service=sapp kind=SERVER attr.http.route=/call attr.tenant=acme attr.channel=web)" 1
expect_eq "... and so does the CLIENT span made while serving it" \
	"$($SPANS $RX_OUT count service=sapp kind=CLIENT attr.tenant=acme attr.channel=web)" 1
expect_eq "a baggage entry too, on both" "$($SPANS $RX_OUT count service=sapp attr.order.id=o-42)" 2
expect_eq "a request without the headers has none" \
	"$($SPANS $RX_OUT count service=sapp kind=SERVER attr.tenant=acme)" 1
stop_agent
e2e_finish
