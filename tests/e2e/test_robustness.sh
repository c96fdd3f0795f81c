#!/bin/bash
# tests/e2e/test_robustness.sh - bad input and bad conditions: garbage and
# truncated or huge HTTP on a socket, a connection closed mid-response, a
# busy listen port, running as a normal user, bad flags. The agent must
# count, report clearly and keep working.
. "$(dirname "$0")/lib.sh"
APP=26080
AGENT=26464

start_agent $AGENT
OTEL_SERVICE_NAME=robust python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $APP
python3 - "$APP" <<'PY'
import os, socket, sys
port = int(sys.argv[1])
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=2)
# garbage bytes
s = conn(); s.sendall(os.urandom(3000)); s.close()
# a request whose head never ends, then close
s = conn(); s.sendall(b"GET /items/1 HTTP/1.1\r\nX-Junk: " + b"a" * 100000); s.close()
# a request and then the client vanishes before reading the response
s = conn(); s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); s.close()
# binary junk that starts like HTTP
s = conn(); s.sendall(b"GET \x00\xff\xfe HTTP/9.9\r\n\r\n"); s.close()
PY
sleep 0.5
curl -s -o /dev/null http://127.0.0.1:$APP/items/5
settle
check "agent still running" kill -0 $AGENT_PID
expect_eq "normal requests still measured" "$(metric_sum http_server_request_duration_seconds_count service_name=robust http_route=/items/{id} http_response_status_code=200)" 1
expect_ge "request without a response ends as connection_closed" "$(metric_sum http_server_request_duration_seconds_count service_name=robust error_type=connection_closed)" 1
check "metrics still valid" sh -c "curl -sf http://127.0.0.1:$AGENT/metrics | promtool check metrics"

out=$("$REDTAP" --listen 127.0.0.1:$AGENT 2>&1); rc=$?
expect_eq "busy port: exit status 1" "$rc" 1
check "busy port: one clear sentence" contains "$out" "cannot listen on 127.0.0.1:$AGENT"
stop_agent

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$REDTAP" --listen 127.0.0.1:$AGENT 2>&1); rc=$?
expect_eq "not root: exit status 1" "$rc" 1
check "not root: says what to do" contains "$out" 'needs root' 
# root inside a user namespace: no CAP_BPF in the initial namespace
out=$(unshare -U -r "$REDTAP" --listen 127.0.0.1:$AGENT 2>&1); rc=$?
expect_eq "eBPF not permitted: exit status 1" "$rc" 1
check "eBPF not permitted: says why" contains "$out" 'refused the eBPF programs' 
out=$("$REDTAP" --capture-bytes 99999 2>&1); rc=$?
expect_eq "bad flag value: exit status 2" "$rc" 2
check "bad flag value: names the flag" contains "$out" '--capture-bytes' 
check "--help reads like a man page" sh -c "'$REDTAP' --help | grep -q 'EXAMPLES'"
check "--version" sh -c "'$REDTAP' --version | grep -q '^redtap '"
e2e_finish
