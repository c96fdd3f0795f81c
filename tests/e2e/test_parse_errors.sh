#!/bin/bash
# tests/e2e/test_parse_errors.sh - a parse error on a real HTTP connection:
# a client sends a valid request on a keep-alive connection to the Python
# test server, reads the answer, then sends bytes that are no HTTP request.
# The valid request must be counted, and redtap_parse_errors_total must
# count one error with protocol="http" and the parser's reason
# (bad_request_line) - the server alone is selected (--port), so the
# client's side of the connection is not parsed too. A second connection
# that sends garbage first is never classified: no error, no exchange.
. "$(dirname "$0")/lib.sh"
APP=30580
AGENT=30564

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $APP
start_agent $AGENT --port $APP
settle 2.5 # selection by listening port happens at start or on the next event

# One connection: a valid request, its response, then garbage.
python3 - "$APP" >"$E2E_TMP/client.log" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /items/42 HTTP/1.1\r\nHost: shop\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, body = buf.split(b"\r\n\r\n", 1)
n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
while len(body) < n:
    body += s.recv(4096)
print("first:", head.split(b"\r\n")[0].decode())
s.sendall(b"\x01\x02\xff GARBAGE \x00\x00\r\n\r\n")
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
# A connection that never was HTTP: garbage first, then closed.
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"\x16\x03\x01\x00\x05hello")
s.close()
EOF
check "the client got its first answer" grep -q "first: HTTP/1.1 200" "$E2E_TMP/client.log"
settle

P=redtap_parse_errors_total
expect_eq "the valid request is counted" \
	"$(metric_sum http_server_request_duration_seconds_count http_route=/items/{id} http_response_status_code=200)" 1
expect_eq "one HTTP parse error, reason bad_request_line" \
	"$(metric_sum $P protocol=http reason=bad_request_line)" 1
expect_eq "no other HTTP parse error" "$(metric_sum $P protocol=http)" 1
check "every reason of the parser is exported" \
	sh -c "curl -sf http://127.0.0.1:$AGENT/metrics | grep -q '^$P{protocol=\"http\",reason=\"bad_chunk_size\"} 0'"
expect_eq "nothing else counted as an exchange" "$(metric_sum http_server_request_duration_seconds_count)" 1
e2e_finish
