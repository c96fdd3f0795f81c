#!/bin/bash
# tests/e2e/test_series_expiry.sh - issue 10 item 7: a remote client that
# asks for 3 000 paths that do not exist cannot fill the series cap (404s
# share one series with an empty http_route), so later legitimate requests
# still get their own series; with a short --series-ttl, idle series leave
# /metrics and come back from zero when seen again.
# Ports: 30250 (app), 30251 (agent), 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"
APP=30250
AGENT=30251

start_agent $AGENT --series-ttl 4
OTEL_SERVICE_NAME=shop python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP

# 3 000 distinct word-only paths (no {id} folding) on one keep-alive connection
python3 - "$APP" <<'EOF'
import http.client, itertools, string, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
words = itertools.product(string.ascii_lowercase, repeat=3)
for n, w in zip(range(3000), words):
    c.request("GET", "/flood" + "".join(w))
    r = c.getresponse()
    r.read()
    assert r.status == 404, r.status
EOF
settle
S=http_server_request_duration_seconds_count
expect_eq "3000 unknown paths share one 404 series" \
	"$(metric_sum $S service_name=shop http_response_status_code=404 http_route=)" 3000
# (the flooding client is measured too: its own client series keep their routes)
expect_eq "no 404 path became a server route" \
	"$(scrape | grep '^http_server_' | grep -c 'http_route="/flood')" 0
curl -s -o /dev/null http://127.0.0.1:$APP/items/1
curl -s -o /dev/null -d x=1 http://127.0.0.1:$APP/orders
settle
expect_eq "a legitimate GET still gets its own series" \
	"$(metric_sum $S service_name=shop http_route=/items/{id} http_response_status_code=200)" 1
expect_eq "a legitimate POST still gets its own series" \
	"$(metric_sum $S service_name=shop http_route=/orders http_response_status_code=201)" 1
expect_eq "nothing in the overflow series" "$(metric_sum $S otel_metric_overflow=true)" 0

# idle for longer than --series-ttl: the series leave /metrics
sleep 5
expect_eq "idle series expired" "$(scrape | grep '^http_server_' | grep -c 'http_route="/items/{id}"')" 0
expect_eq "idle 404 series expired" "$(scrape | grep '^http_server_' | grep -c 'http_response_status_code="404"')" 0
curl -s -o /dev/null http://127.0.0.1:$APP/items/2
settle
expect_eq "seen again: a new series counting from zero" \
	"$(metric_sum $S service_name=shop http_route=/items/{id})" 1
check "output still passes promtool" sh -c "curl -sf http://127.0.0.1:$AGENT/metrics | promtool check metrics"
e2e_finish
