#!/bin/bash
# tests/e2e/test_drops.sh - overload: with the smallest ring buffer (64 KiB)
# under a short wrk load the kernel side must drop events, and count every
# drop in redtap_kernel_events_dropped_total{reason="ringbuf_full"}; the
# agent stays up, its metrics stay valid, and it measures again once the
# load is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/nginx.sh"
NGX=20180
AGENT=20564

start_nginx $NGX
start_agent $AGENT -e '*/nginx-e2e' --ringbuf-size 64K
sleep 0.5
wrk -t2 -c64 -d2s http://127.0.0.1:$NGX/api/load >/dev/null 2>&1
settle
drops=$(metric_sum redtap_kernel_events_dropped_total reason=ringbuf_full)
log "ring-buffer drops under load: $drops"
expect_ge "drops are counted, not silent" "$drops" 1
check "the agent is still up" curl -sf -o /dev/null http://127.0.0.1:$AGENT/healthz
check "its metrics still pass promtool" sh -c "curl -sf http://127.0.0.1:$AGENT/metrics | promtool check metrics"
before=$(metric_sum http_server_request_duration_seconds_count service_name=nginx-e2e http_route=/api/after/{id})
for i in 1 2 3 4 5; do curl -s -o /dev/null http://127.0.0.1:$NGX/api/after/$i; done
settle
after=$(metric_sum http_server_request_duration_seconds_count service_name=nginx-e2e http_route=/api/after/{id})
expect_eq "requests after the overload are measured again" "$((after - before))" 5
e2e_finish
