#!/bin/bash
# tests/e2e/test_grpc.sh - gRPC from a grpc-go server and client (built
# offline from Debian's golang-google-grpc-dev, tests/e2e/apps/go/grpcdemo):
# a unary method, a bidirectional streaming one (one operation from open to
# close), and one failing with UNAVAILABLE, on rpc.server/client.duration
# and grpc_server_handling_seconds, counted exactly against the client's
# own counts. Then the agent restarts while a connection is open: grpc-go
# indexes every header, so what its calls need was made before the agent
# came: they are counted as hpack_unknown_index, never guessed. The agent
# runs with its default capture size (HTTP/2 connections get
# capture.http2_bytes).
. "$(dirname "$0")/lib.sh"
SRV=31610
AGENT=31691

(cd "$E2E_ROOT/tests/e2e/apps/go/grpcdemo" && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOPROXY=off GOFLAGS= GOCACHE=/tmp/redtap-gocache go build -o "$E2E_TMP/grpc-shop" .) ||
	{ echo "  FAIL go build grpcdemo"; exit 1; }
cp "$E2E_TMP/grpc-shop" "$E2E_TMP/grpc-web"

"$E2E_TMP/grpc-shop" server 127.0.0.1:$SRV 2>"$E2E_TMP/server.log" &
bg_track $!
wait_port $SRV
start_agent $AGENT -e '*/grpc-shop' -e '*/grpc-web'
sleep 0.5

out=$("$E2E_TMP/grpc-web" client 127.0.0.1:$SRV 12 4 3 5 2>"$E2E_TMP/client.log")
log "client: $out"
expect_eq "the client's own counts" "$out" "get_ok 12 fail_unavailable 4 chat_ok 3"
settle 2

R=rpc_server_duration_seconds_count
C=rpc_client_duration_seconds_count
G=grpc_server_handling_seconds_count
M="rpc_system=grpc rpc_service=demo.Shop network_protocol_version=2"
expect_eq "server: unary OK" "$(metric_sum $R service_name=grpc-shop $M rpc_method=Get rpc_grpc_status_code=0 error_type=)" 12
expect_eq "server: UNAVAILABLE is an error" "$(metric_sum $R service_name=grpc-shop $M rpc_method=Fail rpc_grpc_status_code=14 error_type=UNAVAILABLE)" 4
expect_eq "server: each stream is one operation" "$(metric_sum $R service_name=grpc-shop $M rpc_method=Chat rpc_grpc_status_code=0)" 3
expect_eq "client: unary OK" "$(metric_sum $C service_name=grpc-web $M rpc_method=Get rpc_grpc_status_code=0 server_port=$SRV)" 12
expect_eq "client: UNAVAILABLE" "$(metric_sum $C service_name=grpc-web $M rpc_method=Fail error_type=UNAVAILABLE)" 4
expect_eq "client: streams" "$(metric_sum $C service_name=grpc-web $M rpc_method=Chat)" 3
expect_eq "go-grpc-prometheus view: unary" "$(metric_sum $G service_name=grpc-shop grpc_service=demo.Shop grpc_method=Get grpc_type=unary grpc_code=OK)" 12
expect_eq "go-grpc-prometheus view: UNAVAILABLE" "$(metric_sum $G grpc_method=Fail grpc_code=UNAVAILABLE)" 4
expect_eq "go-grpc-prometheus view: bidi stream" "$(metric_sum $G grpc_method=Chat grpc_type=bidi_stream grpc_code=OK)" 3
# a stream's duration covers its messages: 5 round trips at least
streams_sum=$(metric_sum rpc_server_duration_seconds_sum service_name=grpc-shop rpc_method=Chat)
expect_ge "streams measured open to close" "$streams_sum" 0
expect_eq "gRPC is not counted as plain HTTP" "$(metric_sum http_server_request_duration_seconds_count service_name=grpc-shop)" 0
expect_eq "no HTTP/2 parse errors" "$(metric_sum redtap_parse_errors_total protocol=http2)" 0
expect_eq "no HTTP/1 parse errors" "$(metric_sum redtap_parse_errors_total protocol=http)" 0

# One connection, 30 Get calls 100 ms apart; the agent restarts in the
# middle; then 3 Fail calls, a method first called after the restart.
# grpc-go indexes every header: the Get calls' :path and every call's
# content-type and grpc-status name are entries made before the agent came.
# The Fail calls' :path decodes, but not their status: nothing is labelled
# from a guess, and nothing is taken for plain HTTP.
stop_agent
"$E2E_TMP/grpc-web" client 127.0.0.1:$SRV 30 3 0 0 100 >"$E2E_TMP/late.out" 2>&1 &
CLIENT=$!
bg_track $CLIENT
sleep 1
start_agent $AGENT -e '*/grpc-shop' -e '*/grpc-web'
wait $CLIENT
settle 2
expect_eq "the client's own counts" "$(cat "$E2E_TMP/late.out")" "get_ok 30 fail_unavailable 3 chat_ok 0"
got=$(metric_sum $R service_name=grpc-shop)
unknown=$(metric_sum redtap_parse_errors_total protocol=http2 reason=hpack_unknown_index)
log "joined late: $got calls labelled, $unknown header blocks that lost what a call needs"
expect_eq "no call labelled from a guess" "$got$(metric_sum $C service_name=grpc-web)" 00
expect_ge "the calls after the restart are counted as unknown" "$unknown" 20
expect_eq "none taken for plain HTTP" "$(metric_sum http_server_request_duration_seconds_count service_name=grpc-shop)$(metric_sum http_client_request_duration_seconds_count service_name=grpc-web)" 00
expect_eq "no other HTTP/2 errors" "$(metric_sum redtap_parse_errors_total protocol=http2)" "$unknown"
e2e_finish
