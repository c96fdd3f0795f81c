#!/bin/bash
# tests/e2e/test_tenant_labels.sh - issue 14 section 3: request attributes
# as bounded metric labels (traces.attribute_labels), on /metrics, with no
# OTLP export at all (the headers are captured for the labels alone):
#  - a header on an allow-list labels the server duration family with its
#    value; a value not listed reads _other; a request without it has no
#    label;
#  - a header mapped to buckets labels <key>_bucket="b<n>" with the bucket
#    the unit tests pin (FNV-1a mod N); a baggage entry works the same way;
#  - an attribute not named stays off the metrics: its raw values never
#    show on /metrics, nor do the raw values of the bucketed one;
#  - a setting that names no request attribute stops the agent with a message.
# Ports: 31900 (app), 31901 (agent).
. "$(dirname "$0")/lib.sh"
APP=31900
AGENT=31901

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
PY=$!
bg_track $PY
wait_port $APP

# bucket V N: the bucket label value the agent must give V (FNV-1a 32 mod N)
bucket() {
	python3 -c 'import sys
h = 2166136261
for c in sys.argv[1].encode():
    h = ((h ^ c) * 16777619) & 0xffffffff
print("b%d" % (h % int(sys.argv[2])))' "$1" "$2"
}

export REDTAP_TRACES_HEADER_ATTRIBUTES=X-Tenant-ID=tenant,X-Channel=channel,X-Order=order \
	REDTAP_TRACES_BAGGAGE_ATTRIBUTES=region=region \
	REDTAP_TRACES_ATTRIBUTE_LABELS='tenant=buckets:16,channel=allow:web|mobile,region=allow:eu'
start_agent $AGENT -p $PY
unset REDTAP_TRACES_HEADER_ATTRIBUTES REDTAP_TRACES_BAGGAGE_ATTRIBUTES REDTAP_TRACES_ATTRIBUTE_LABELS

req() { curl -s -o /dev/null "$@"; }
for i in 1 2 3; do
	req -H "X-Tenant-ID: acme" -H "X-Channel: web" -H "X-Order: order-9$i" \
		-H "baggage: region=eu" http://127.0.0.1:$APP/items/$i
done
req -H "X-Tenant-ID: globex" -H "X-Channel: mobile" -H "baggage: region=us-1" \
	http://127.0.0.1:$APP/error
req -H "X-Tenant-ID: initech" -H "X-Channel: smart-fridge" http://127.0.0.1:$APP/items/7
req http://127.0.0.1:$APP/slow
settle

M=http_server_request_duration_seconds_count
A=$(bucket acme 16)
G=$(bucket globex 16)
expect_eq "acme's requests: tenant_bucket=$A, channel=web, region=eu" \
	"$(metric_sum $M tenant_bucket=$A channel=web region=eu)" 3
expect_eq "globex: tenant_bucket=$G, channel=mobile, a region not listed is _other" \
	"$(metric_sum $M tenant_bucket=$G channel=mobile region=_other http_response_status_code=500)" 1
expect_eq "a channel not listed is _other" "$(metric_sum $M channel=_other)" 1
S=$(scrape)
expect_eq "a request without the headers is counted" "$(metric_sum $M http_route=/slow)" 1
expect_eq "... without those labels" \
	"$(printf '%s\n' "$S" | grep "^$M{.*http_route=\"/slow\"" | grep -c -e tenant_bucket -e channel -e region)" 0
check "/metrics has a tenant_bucket label" contains "$S" "tenant_bucket=\"$A\""
check "no raw tenant value on /metrics" sh -c "! printf '%s' \"\$1\" | grep -q -e acme -e globex -e initech" _ "$S"
check "an attribute not named (order) never labels metrics" sh -c "! printf '%s' \"\$1\" | grep -q -e order= -e order-9" _ "$S"
check "a value not listed never shows" sh -c "! printf '%s' \"\$1\" | grep -q -e smart-fridge -e us-1" _ "$S"
stop_agent

# a label of no request attribute: the agent refuses to start, and says why
REDTAP_TRACES_HEADER_ATTRIBUTES=X-Tenant-ID=tenant REDTAP_TRACES_ATTRIBUTE_LABELS=channel=allow:web \
	timeout 10 "$REDTAP" --listen 127.0.0.1:$AGENT -p $PY >"$E2E_TMP/bad.log" 2>&1
rc=$?
check "a label naming no attribute stops the agent" test "$rc" -ne 0 -a "$rc" -ne 124
check "... with a message naming it" grep -q "'channel' is no request attribute" "$E2E_TMP/bad.log"
e2e_finish
