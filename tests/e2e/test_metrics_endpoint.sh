#!/bin/bash
# tests/e2e/test_metrics_endpoint.sh - issue 10 item 8: /metrics cannot be
# denied by idle connections. An unprivileged process holding 200 idle
# sockets does not stop scrapes (each answers within a second); a
# non-loopback address past --metrics-conns-per-ip is refused while others
# still scrape; the bearer token (401 without it, 200 with it, /healthz
# open); HTTPS with --metrics-tls-cert/--metrics-tls-key.
# Ports: 30260 (agent), 30261 (HTTPS agent); shim-only mode (no eBPF needed).
. "$(dirname "$0")/lib.sh"
AGENT=30260
TLS_AGENT=30261
TOKEN=e2e-$$-secret
printf '%s\n' "$TOKEN" >"$E2E_TMP/token"
chmod 600 "$E2E_TMP/token"
mkdir -m 1777 "$E2E_TMP/nobody" # where the unprivileged holder says it is ready
OUTSIDE=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -n1)

# listens on every interface so that a non-loopback source can be tried
"$REDTAP" --no-bpf --listen "0.0.0.0:$AGENT" --metrics-token-file "$E2E_TMP/token" \
	--metrics-conns-per-ip 16 >"$E2E_TMP/agent.log" 2>&1 &
AGENT_PID=$!
AGENT_PORT=$AGENT
bg_track $AGENT_PID
wait_http "http://127.0.0.1:$AGENT/healthz" 20

code() { curl -s -o /dev/null -m 1 -w '%{http_code}' "$@"; }

expect_eq "no token: 401" "$(code http://127.0.0.1:$AGENT/metrics)" 401
expect_eq "wrong token: 401" "$(code -H 'Authorization: Bearer nope' http://127.0.0.1:$AGENT/metrics)" 401
expect_eq "the token: 200" "$(code -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$AGENT/metrics)" 200
expect_eq "/healthz needs no token" "$(code http://127.0.0.1:$AGENT/healthz)" 200

# an unprivileged process holds 200 idle connections (loopback: bounded only by the total)
hold() { # hold SRC N SECONDS READYFILE
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$@" "$AGENT" <<'EOF' &
import socket, sys, time
src, n, secs, ready, port = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
held = []
for _ in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((src, port))
    held.append(s)
open(ready, "w").close()
time.sleep(secs)
EOF
	bg_track $!
}
hold 127.0.0.1 200 8 "$E2E_TMP/nobody/ready1"
for _ in $(seq 50); do [ -e "$E2E_TMP/nobody/ready1" ] && break; sleep 0.1; done
check "200 idle connections are open" test -e "$E2E_TMP/nobody/ready1"
ok=0
for _ in 1 2 3 4 5; do
	[ "$(code -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$AGENT/metrics)" = 200 ] && ok=$((ok + 1))
done
expect_eq "scrapes answer within 1 s beside 200 idle sockets" "$ok" 5

if [ -n "$OUTSIDE" ]; then
	hold "$OUTSIDE" 40 8 "$E2E_TMP/nobody/ready2"
	for _ in $(seq 50); do [ -e "$E2E_TMP/nobody/ready2" ] && break; sleep 0.1; done
	sleep 0.3
	expect_eq "past 16 connections, $OUTSIDE is refused" \
		"$(code --interface "$OUTSIDE" -H "Authorization: Bearer $TOKEN" "http://$OUTSIDE:$AGENT/metrics")" 000
	expect_eq "loopback still scrapes" \
		"$(code -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$AGENT/metrics)" 200
else
	log "no non-loopback IPv4 address: per-address limit not tried"
fi
expect_eq "healthy throughout" "$(code http://127.0.0.1:$AGENT/healthz)" 200
stop_agent

# HTTPS
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 \
	-keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" >/dev/null 2>&1
"$REDTAP" --no-bpf --listen "127.0.0.1:$TLS_AGENT" --metrics-tls-cert "$E2E_TMP/cert.pem" \
	--metrics-tls-key "$E2E_TMP/key.pem" >"$E2E_TMP/agent.log" 2>&1 &
AGENT_PID=$!
bg_track $AGENT_PID
for _ in $(seq 50); do curl -skf -o /dev/null "https://127.0.0.1:$TLS_AGENT/healthz" && break; sleep 0.1; done
expect_eq "HTTPS /metrics: 200" "$(code --cacert "$E2E_TMP/cert.pem" https://127.0.0.1:$TLS_AGENT/metrics)" 200
check "plain HTTP gets no metrics" sh -c "! curl -sf -m 1 http://127.0.0.1:$TLS_AGENT/metrics >/dev/null"
e2e_finish
