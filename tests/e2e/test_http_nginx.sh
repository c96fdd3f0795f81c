#!/bin/bash
# tests/e2e/test_http_nginx.sh - nginx (multi-process, sendfile, writev)
# under curl and wrk: keep-alive load, pipelined requests in one write,
# Expect: 100-continue uploads, static files sent with sendfile, and the
# in-flight gauge back at zero. Selected by executable name (-e), which
# must also pick up nginx's forked workers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/nginx.sh"
NGX=22080
AGENT=22464

start_agent $AGENT -e '*/nginx-e2e'
start_nginx $NGX
U=http://127.0.0.1:$NGX
sleep 0.5

for i in 1 2 3; do curl -s -o /dev/null $U/api/users/$i; done
curl -s -o /dev/null $U/fail
curl -s -o /dev/null $U/static/big.bin
head -c 200000 /dev/zero >"$E2E_TMP/upload.bin"
curl -s -o /dev/null -H 'Expect: 100-continue' --data-binary @"$E2E_TMP/upload.bin" $U/upload
# three pipelined requests in a single write
python3 - "$NGX" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b"GET /api/pipe/%d HTTP/1.1\r\nHost: x\r\n\r\n"
s.sendall(req % 1 + req % 2 + req % 3)
buf = b""
deadline = time.time() + 5
while buf.count(b"HTTP/1.1 200") < 3 and time.time() < deadline:
    buf += s.recv(65536)
s.close()
PY
settle
S=http_server_request_duration_seconds_count
expect_eq "GET /api/users/{id}" "$(metric_sum $S service_name=nginx-e2e http_route=/api/users/{id} http_response_status_code=200)" 3
expect_eq "500 with error_type" "$(metric_sum $S service_name=nginx-e2e http_route=/fail error_type=500)" 1
expect_eq "sendfile static file" "$(metric_sum $S service_name=nginx-e2e http_route=/static/big.bin http_response_status_code=200)" 1
expect_eq "100-continue upload" "$(metric_sum $S service_name=nginx-e2e http_request_method=POST http_route=/upload http_response_status_code=200)" 1
expect_eq "pipelined requests each counted" "$(metric_sum $S service_name=nginx-e2e http_route=/api/pipe/{id})" 3
expect_eq "nginx proxy's client call to itself" "$(metric_sum http_client_request_duration_seconds_count service_name=nginx-e2e http_route=/api/uploaded)" 1
expect_eq "curl not selected" "$(metric_sum http_client_request_duration_seconds_count service_name=curl)" 0

# keep-alive load, bounded: 2 threads, 20 connections, 3 s
before=$(metric_sum $S service_name=nginx-e2e)
out=$(wrk -t2 -c20 -d3s --latency $U/api/load 2>&1)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
settle 2
after=$(metric_sum $S service_name=nginx-e2e)
log "wrk sent $reqs requests"
expect_ge "wrk made real load" "$reqs" 1000
# wrk stops mid-flight: at most one request per connection may be cut
expect_ge "every completed wrk request counted" "$((after - before))" "$((reqs - 20))"
expect_ge "no more than sent" "$((reqs + 20))" "$((after - before))"
expect_eq "in-flight gauge back to 0" "$(metric_sum http_server_active_requests service_name=nginx-e2e)" 0
expect_eq "no kernel drops" "$(metric_sum redtap_kernel_events_dropped_total)" 0
expect_ge "nginx master and workers selected" "$(metric_sum redtap_instrumented_processes)" 3
e2e_finish
