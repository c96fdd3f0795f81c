#!/bin/bash
# tests/e2e/test_http2.sh - HTTP/2 without TLS (prior knowledge) from real
# programs: nghttpd under curl --http2-prior-knowledge and h2load (streams
# multiplexed on few connections), nginx's http2 listener (master and
# workers), the h2c upgrade from HTTP/1.1 (curl --http2 against a Go
# x/net/http2/h2c server, apps/go/h2cserver; nghttpd and nginx do not
# upgrade), and a connection that was open before the agent started (its
# HPACK table unknown: what decodes is counted, nothing is guessed). Counts
# are exact against the clients' own; no HTTP/2 byte is taken for HTTP/1,
# PostgreSQL or Redis. HTTP/2 servers write many frames at once; the agent
# runs with its default capture size: the kernel copies HTTP/2 connections
# up to capture.http2_bytes from their preface on (the agent asks for it
# on the connection it joined late, and on the h2c upgrade), so no frame
# header is lost past the copy. Once more with --capture-bytes 64, which
# HTTP/2 connections do not follow: still exact (docs/protocols.md).
. "$(dirname "$0")/lib.sh"
H2=31600
NGX=31601
H2C=31602
AGENT=31690

(cd "$E2E_ROOT/tests/e2e/apps/go/h2cserver" && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOPROXY=off GOFLAGS= GOCACHE=/tmp/redtap-gocache go build -o "$E2E_TMP/h2c-shop" .) ||
	{ echo "  FAIL go build h2cserver"; exit 1; }
"$E2E_TMP/h2c-shop" 127.0.0.1:$H2C 2>"$E2E_TMP/h2c.log" &
bg_track $!

# nghttpd serves a small tree
mkdir -p "$E2E_TMP/www/items"
echo hello >"$E2E_TMP/www/index.html"
for i in 1 2 3; do echo "item $i" >"$E2E_TMP/www/items/$i"; done
nghttpd --no-tls -d "$E2E_TMP/www" $H2 >"$E2E_TMP/nghttpd.log" 2>&1 &
bg_track $!

# nginx with an h2c (prior knowledge) listener, as nginx-h2
NGX_DIR="$E2E_TMP/nginx"
mkdir -p "$NGX_DIR/logs" "$NGX_DIR/tmp"
chmod 755 "$NGX_DIR"
chmod 1777 "$NGX_DIR/tmp"
cp "$(command -v nginx)" "$NGX_DIR/nginx-h2"
cat >"$NGX_DIR/nginx.conf" <<NGXCONF
worker_processes 2;
pid $NGX_DIR/nginx.pid;
error_log $NGX_DIR/logs/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $NGX_DIR/tmp;
	server {
		listen 127.0.0.1:$NGX http2;
		location /api/ { default_type text/plain; return 200 "ok\n"; }
		location /fail { return 503; }
	}
}
NGXCONF
"$NGX_DIR/nginx-h2" -p "$NGX_DIR" -c "$NGX_DIR/nginx.conf" -g 'daemon off;' &
bg_track $!
wait_port $H2
wait_port $NGX
wait_port $H2C

start_agent $AGENT --port $H2 --port $NGX --port $H2C
sleep 0.5

# curl, one connection each
for i in 1 2 3; do curl -sf --http2-prior-knowledge -o /dev/null http://127.0.0.1:$H2/items/$i; done
curl -s --http2-prior-knowledge -o /dev/null http://127.0.0.1:$H2/missing
# h2load: 4 connections, 10 streams in flight on each
out=$(h2load -n 400 -c 4 -m 10 http://127.0.0.1:$H2/index.html 2>&1)
ok=$(echo "$out" | awk '/^requests:/ {print $8}')
expect_eq "h2load's own count" "$ok" 400
# nginx
for i in 1 2 3 4 5; do curl -sf --http2-prior-knowledge -o /dev/null http://127.0.0.1:$NGX/api/v1/$i; done
curl -s --http2-prior-knowledge -o /dev/null http://127.0.0.1:$NGX/fail
out=$(h2load -n 200 -c 2 -m 20 http://127.0.0.1:$NGX/api/load 2>&1)
ngx_ok=$(echo "$out" | awk '/^requests:/ {print $8}')
expect_eq "h2load against nginx, its own count" "$ngx_ok" 200
# the h2c upgrade: the HTTP/1.1 request is stream 1 of the HTTP/2 connection
up=""
for i in 1 2 3; do up="$up$(curl -s --http2 -o /dev/null -w '%{http_version}' http://127.0.0.1:$H2C/items/$i)"; done
expect_eq "curl --http2 upgraded each time" "$up" 222
curl -s --http2 -o /dev/null http://127.0.0.1:$H2C/fail
curl -s -o /dev/null http://127.0.0.1:$H2C/items/4 # HTTP/1.1, no upgrade asked
settle 2

S=http_server_request_duration_seconds_count
V=network_protocol_version=2
expect_eq "curl GETs on nghttpd" "$(metric_sum $S service_name=nghttpd $V http_route=/items/{id} http_response_status_code=200)" 3
expect_eq "a 404 without a route" "$(metric_sum $S service_name=nghttpd $V http_response_status_code=404 http_route=)" 1
expect_eq "every multiplexed h2load stream" "$(metric_sum $S service_name=nghttpd $V http_route=/index.html http_response_status_code=200)" 400
expect_eq "nothing on nghttpd read as HTTP/1" "$(metric_sum $S service_name=nghttpd network_protocol_version=1.1)" 0
expect_eq "nginx http2: curl" "$(metric_sum $S service_name=nginx-h2 $V http_route=/api/v1/{id} http_response_status_code=200)" 5
expect_eq "nginx http2: a 503 is a server error" "$(metric_sum $S service_name=nginx-h2 $V http_route=/fail error_type=503)" 1
expect_eq "nginx http2: h2load" "$(metric_sum $S service_name=nginx-h2 $V http_route=/api/load)" "$ngx_ok"
expect_eq "nothing on nginx read as HTTP/1" "$(metric_sum $S service_name=nginx-h2 network_protocol_version=1.1)" 0
expect_eq "h2c upgrade: the upgraded requests" "$(metric_sum $S service_name=h2c-shop $V http_route=/items/{id} http_response_status_code=200)" 3
expect_eq "h2c upgrade: a 503" "$(metric_sum $S service_name=h2c-shop $V http_route=/fail error_type=503)" 1
expect_eq "h2c server: plain HTTP/1.1 stays HTTP/1.1" "$(metric_sum $S service_name=h2c-shop network_protocol_version=1.1 http_route=/items/{id})" 1
expect_eq "in-flight gauge back to 0" "$(metric_sum http_server_active_requests service_name=nghttpd)" 0
expect_eq "no HTTP/1 parse errors" "$(metric_sum redtap_parse_errors_total protocol=http)" 0
expect_eq "no PostgreSQL or Redis look-alikes" "$(metric_sum redtap_parse_errors_total protocol=pgwire)$(metric_sum redtap_parse_errors_total protocol=resp)" 00
n=$(metric_sum redtap_parse_errors_total protocol=http2)
[ "$n" = 0 ] || scrape | grep 'protocol="http2"' | grep -v ' 0$' | sed 's/^/  | /'
expect_eq "no HTTP/2 errors on connections seen whole" "$n" 0
expect_eq "no DB operations made up" "$(metric_sum db_client_operation_duration_seconds_count)" 0

# A tiny --capture-bytes: HTTP/2 connections keep capture.http2_bytes,
# multiplexed streams and all, on nghttpd and nginx. (Not the h2c upgrade:
# its HTTP/1.1 request head must fit in --capture-bytes to be seen.)
stop_agent
start_agent $AGENT --port $H2 --port $NGX --capture-bytes 64
sleep 0.5
out=$(h2load -n 300 -c 3 -m 10 http://127.0.0.1:$H2/items/3 2>&1)
ok=$(echo "$out" | awk '/^requests:/ {print $8}')
expect_eq "h2load's own count (64)" "$ok" 300
out=$(h2load -n 200 -c 2 -m 20 http://127.0.0.1:$NGX/api/small 2>&1)
ngx_ok=$(echo "$out" | awk '/^requests:/ {print $8}')
expect_eq "h2load against nginx, its own count (64)" "$ngx_ok" 200
settle 2
expect_eq "--capture-bytes 64: every multiplexed nghttpd stream" "$(metric_sum $S service_name=nghttpd $V http_route=/items/{id} http_response_status_code=200)" 300
expect_eq "--capture-bytes 64: every nginx stream" "$(metric_sum $S service_name=nginx-h2 $V http_route=/api/small http_response_status_code=200)" 200
expect_eq "--capture-bytes 64: no HTTP/2 errors" "$(metric_sum redtap_parse_errors_total protocol=http2)" 0
expect_eq "--capture-bytes 64: nothing read as HTTP/1" "$(metric_sum $S network_protocol_version=1.1)" 0

# Agent attached to a connection already open: one h2load connection
# making 10 requests a second; the agent restarts in the middle of it
# (the kernel never sees its preface: the agent asks for the wide copy).
stop_agent
h2load -c 1 -n 60 --rps 10 --log-file="$E2E_TMP/h2load.log" http://127.0.0.1:$H2/items/2 \
	>"$E2E_TMP/h2load.out" 2>&1 &
H2LOAD=$!
bg_track $H2LOAD
sleep 1.5
t0=$(date +%s%6N)
start_agent $AGENT --port $H2
t1=$(date +%s%6N)
wait $H2LOAD
settle 2
after_start=$(awk -v t="$t0" '$1 >= t' "$E2E_TMP/h2load.log" | wc -l)
after_ready=$(awk -v t="$t1" '$1 >= t' "$E2E_TMP/h2load.log" | wc -l)
n=$(metric_sum $S service_name=nghttpd $V http_route=/items/{id} http_response_status_code=200)
log "joined late: $n counted; $after_ready requests after the agent was ready, $after_start after it started"
expect_ge "requests after the agent was up all counted" "$n" "$after_ready"
expect_ge "never more than were made" "$after_start" "$n"
expect_ge "the late join did happen" "$after_ready" 20
expect_eq "no exchange without its :path" "$(metric_sum $S service_name=nghttpd http_route=)" 0
expect_eq "no HTTP/1 parse errors" "$(metric_sum redtap_parse_errors_total protocol=http)" 0
e2e_finish
