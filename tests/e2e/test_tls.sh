#!/bin/bash
# tests/e2e/test_tls.sh - HTTPS through the OpenSSL probes (bpf/tls.bpf.h,
# user/intake/tlstrack.c): nginx with a self-signed certificate (HTTP/1.1
# and h2 over TLS) under curl -k, a Python ssl server and client, and a
# Python client whose keep-alive connection was opened before the agent.
# Counts are exact against the clients'; TLS bytes never become requests
# or database calls. url_scheme is "https" on the TLS exchanges and "http"
# on a plain listener of the same nginx.
. "$(dirname "$0")/lib.sh"
NGX=32001
PY=32002
PLAIN=32250
AGENT=32040
APP="$E2E_ROOT/tests/e2e/apps/tls_app.py"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$E2E_TMP/key.pem" -out "$E2E_TMP/cert.pem" 2>/dev/null
chmod 644 "$E2E_TMP/key.pem"
NGX_DIR="$E2E_TMP/nginx"
mkdir -p "$NGX_DIR/logs" "$NGX_DIR/tmp"
chmod 755 "$NGX_DIR"
chmod 1777 "$NGX_DIR/tmp"
cat >"$NGX_DIR/nginx.conf" <<NGX
worker_processes 2;
pid $NGX_DIR/nginx.pid;
error_log $NGX_DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 100000;
	client_body_temp_path $NGX_DIR/tmp;
	server {
		listen 127.0.0.1:$NGX ssl http2;
		ssl_certificate $E2E_TMP/cert.pem;
		ssl_certificate_key $E2E_TMP/key.pem;
		location /api/ { default_type text/plain; return 200 "ok\n"; }
		location = /fail { return 500; }
	}
	server {
		listen 127.0.0.1:$PLAIN;
		location /api/ { default_type text/plain; return 200 "ok\n"; }
	}
}
NGX
cp "$(command -v nginx || echo /usr/sbin/nginx)" "$NGX_DIR/nginx-tls"
"$NGX_DIR/nginx-tls" -c "$NGX_DIR/nginx.conf" -p "$NGX_DIR" -g 'daemon off;' &
bg_track $!
OTEL_SERVICE_NAME=tls-pyserver python3 "$APP" server $PY "$E2E_TMP/cert.pem" "$E2E_TMP/key.pem" \
	2>>"$E2E_TMP/app.log" &
bg_track $!
wait_port $NGX
wait_port $PLAIN
wait_port $PY
# a keep-alive connection older than the agent: one request now, 5 later
OTEL_SERVICE_NAME=tls-hold python3 "$APP" hold $NGX "$E2E_TMP/go" 5 /api/hold/1 "$E2E_TMP/done" \
	2>>"$E2E_TMP/app.log" &
bg_track $!
for _ in $(seq 100); do
	[ -n "$(ss -Htn state established "( dport = :$NGX )")" ] && break
	sleep 0.1
done
sleep 0.5

start_agent $AGENT # the default capture size: h2 over TLS gets capture.http2_bytes
N=https://127.0.0.1:$NGX
P=https://127.0.0.1:$PY
curl -sk --http1.1 -o /dev/null -o /dev/null -o /dev/null $N/api/users/1 $N/api/users/2 $N/api/users/3
curl -sk --http1.1 -o /dev/null $N/fail
curl -sk --http2 -o /dev/null -o /dev/null -o /dev/null $N/api/h2/1 $N/api/h2/2 $N/api/h2/3
h2=$(curl -sk --http2 -o /dev/null -w '%{http_version}' $N/api/h2/4)
curl -sk --http1.1 -o /dev/null -o /dev/null $P/items/1 $P/error
curl -s -o /dev/null -o /dev/null http://127.0.0.1:$PLAIN/api/plain/1 http://127.0.0.1:$PLAIN/api/plain/2
OTEL_SERVICE_NAME=tls-pyclient python3 "$APP" client $PY 4 /items/7 2>>"$E2E_TMP/app.log"
touch "$E2E_TMP/go"
for _ in $(seq 100); do
	[ -e "$E2E_TMP/done" ] && break
	sleep 0.1
done
settle 2

expect_eq "curl spoke h2 over TLS" "$h2" 2
S=http_server_request_duration_seconds_count
C=http_client_request_duration_seconds_count
expect_eq "nginx HTTPS/1.1 requests" \
	"$(metric_sum $S service_name=nginx-tls http_route=/api/users/{id} http_response_status_code=200 network_protocol_version=1.1)" 3
expect_eq "nginx HTTPS 500 with error_type" "$(metric_sum $S service_name=nginx-tls http_route=/fail error_type=500)" 1
expect_eq "nginx h2 over TLS requests" \
	"$(metric_sum $S service_name=nginx-tls http_route=/api/h2/{id} network_protocol_version=2)" 4
expect_eq "keep-alive connection older than the agent: its later requests" \
	"$(metric_sum $S service_name=nginx-tls http_route=/api/hold/{id})" 5
expect_eq "nothing else counted for nginx" "$(metric_sum $S service_name=nginx-tls)" 15
expect_eq "nginx's HTTPS requests say url_scheme https" \
	"$(metric_sum $S service_name=nginx-tls url_scheme=https)" 13
expect_eq "nginx's plain requests say url_scheme http" \
	"$(metric_sum $S service_name=nginx-tls url_scheme=http http_route=/api/plain/{id})" 2
expect_eq "no plain request counted as https" \
	"$(metric_sum $S service_name=nginx-tls url_scheme=https http_route=/api/plain/{id})" 0
expect_eq "curl's HTTPS client requests to nginx" \
	"$(metric_sum $C service_name=curl server_port=$NGX network_protocol_version=1.1)" 4
expect_eq "curl's h2 client requests to nginx" \
	"$(metric_sum $C service_name=curl server_port=$NGX network_protocol_version=2)" 4
expect_eq "the held connection's client requests" \
	"$(metric_sum $C service_name=tls-hold server_port=$NGX http_response_status_code=200)" 5
expect_eq "Python ssl server requests" \
	"$(metric_sum $S service_name=tls-pyserver http_route=/items/{id} http_response_status_code=200)" 5
expect_eq "Python ssl server 500" "$(metric_sum $S service_name=tls-pyserver error_type=500)" 1
expect_eq "nothing else counted for the Python server" "$(metric_sum $S service_name=tls-pyserver)" 6
expect_eq "Python ssl client requests" \
	"$(metric_sum $C service_name=tls-pyclient server_port=$PY http_response_status_code=200)" 4
expect_eq "curl's requests to the Python server" "$(metric_sum $C service_name=curl server_port=$PY)" 2
expect_eq "curl's HTTPS client requests say url_scheme https" \
	"$(metric_sum $C service_name=curl url_scheme=https)" 10
expect_eq "curl's plain client requests say url_scheme http" \
	"$(metric_sum $C service_name=curl server_port=$PLAIN url_scheme=http)" 2
expect_eq "the Python servers' and clients' exchanges are https" \
	"$(($(metric_sum $S service_name=tls-pyserver url_scheme=https) + $(metric_sum $C service_name=tls-pyclient url_scheme=https)))" 10
scrape >"$E2E_TMP/metrics.txt"
check "no database call on the TLS ports" sh -c \
	"! grep -E '^db_client[^{]*\\{[^}]*server_port=\"($NGX|$PY)\"' '$E2E_TMP/metrics.txt'"
expect_eq "no TLS plaintext without its socket" \
	"$(metric_sum redtap_kernel_events_dropped_total reason=tls_fd_unknown)" 0
check "the agent attached the OpenSSL probes" grep -q 'tls: OpenSSL probes on' "$E2E_TMP/agent.log"
# Debian's libssl.so.3: both pairs on ssl_read_internal / ssl_write_internal
# (a push, not the wrappers' single-stepped sub; user/intake/sslsites.c), so
# the exact counts above were taken there
check "SSL_read/_ex probed at their internal function" \
	grep -q 'SSL_read_ex and SSL_read probed at their internal function' "$E2E_TMP/agent.log"
check "SSL_write/_ex probed at their internal function" \
	grep -q 'SSL_write_ex and SSL_write probed at their internal function' "$E2E_TMP/agent.log"
stop_agent
e2e_finish
