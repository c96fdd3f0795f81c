#!/bin/bash
# tests/e2e/test_go_traces.sh - goroutine-true traces of a Go service (issue
# 12): tests/e2e/apps/go/gosvc, built offline in three ways (pure Go; stripped
# with -ldflags '-s -w'; cgo with external linking; and the pure build run
# with a dialer's own net.Conn, GOSVC_WRAP_DIAL), each run with
# GOMAXPROCS=16 and loaded with 32 concurrent requests, every one with its
# own W3C traceparent. Each request makes a downstream HTTP call (net/http:
# written on the connection's writeLoop goroutine), a PostgreSQL query
# (lib/pq) and a Redis GET (redigo). The independent OTLP decoder's spans
# must show, for every build, >= 99 % of those client spans under their own
# request's server span and none under another request's
# (tests/e2e/apps/goparents.py). The agent must log each process as tracked
# by goroutine and the stripped build too (its goid offset from the version
# table, its function bounds from .gopclntab). The documented degradation:
# a stripped build whose build info names a Go version the table does not
# know (patched to go1.99) is served on threads, said in the log and in
# redtap_go_goroutine_unknown_total{reason="no_offsets"}, and still traced.
# Ports 31300-31399.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
. "$(dirname "$0")/apps/receiver.sh"
PG=31332
RD=31379
DOWN=31380
AGENT=31364
N=${GO_TRACES_N:-400}
CONC=32
APPS="$E2E_ROOT/tests/e2e/apps"
trap 'srv_stop; e2e_cleanup' EXIT

# --- builds: offline, GOPATH mode -------------------------------------------------------
gobuild() { # OUT CGO [FLAGS...]
	out=$1 cgo=$2
	shift 2
	(cd "$APPS/go/gosvc" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
		GOCACHE=/tmp/redtap-gocache CGO_ENABLED=$cgo go build "$@" -o "$E2E_TMP/$out" .) ||
		{ echo "  FAIL go build $out"; exit 1; }
}
gobuild gosvc-static 0
gobuild gosvc-stripped 0 -ldflags '-s -w'
gobuild gosvc-cgo 1 -ldflags '-linkmode=external'
# the static build again, run with a dialer's own net.Conn (GOSVC_WRAP_DIAL)
cp "$E2E_TMP/gosvc-static" "$E2E_TMP/gosvc-wrapped"
# the stripped build with a version no table knows (same length, the runtime ignores it)
python3 - "$E2E_TMP/gosvc-stripped" "$E2E_TMP/gosvc-unknown" <<'PY' || { echo "  FAIL patch"; exit 1; }
import sys
b = bytearray(open(sys.argv[1], "rb").read())
at = b.index(b"\xff Go buildinf:")
v = b.index(b"go1.", at, at + 64)
b[v:v + 6] = b"go1.99"
open(sys.argv[2], "wb").write(b)
PY
chmod +x "$E2E_TMP/gosvc-unknown"
check "the stripped build has no symbol table" \
	sh -c "! readelf -SW '$E2E_TMP/gosvc-stripped' | grep -q ' .symtab '"
check "the cgo build is externally linked with a TLS segment" \
	sh -c "readelf -lW '$E2E_TMP/gosvc-cgo' | grep -q ' TLS ' && readelf -lW '$E2E_TMP/gosvc-cgo' | grep -q INTERP"

# --- servers -----------------------------------------------------------------------------
srv_pg_start "$E2E_TMP/pg" $PG || exit 1
srv_redis_start "$E2E_TMP" $RD || exit 1
srv_shop_db $PG || exit 1
redis-cli -p $RD set greeting hello >/dev/null
OTEL_SERVICE_NAME=downstream "$E2E_TMP/gosvc-static" down $DOWN >"$E2E_TMP/down.log" 2>&1 &
bg_track $!
wait_port $DOWN || exit 1
UNK=31319
GOMAXPROCS=16 OTEL_SERVICE_NAME=gosvc-unknown "$E2E_TMP/gosvc-unknown" serve $UNK $DOWN $PG $RD \
	>"$E2E_TMP/unknown.log" 2>&1 &
UNK_PID=$!
bg_track $UNK_PID
wait_port $UNK || exit 1

VARIANTS="static stripped cgo wrapped"
PIDS=
port=31310
for v in $VARIANTS; do
	wrap=
	[ $v = wrapped ] && wrap=1
	GOSVC_WRAP_DIAL=$wrap GOMAXPROCS=16 OTEL_SERVICE_NAME=gosvc-$v "$E2E_TMP/gosvc-$v" serve \
		$port $DOWN $PG $RD \
		>"$E2E_TMP/$v.log" 2>&1 &
	pid=$!
	bg_track $pid
	PIDS="$PIDS${PIDS:+,}$pid"
	wait_port $port || exit 1
	port=$((port + 1))
done

start_receiver go || exit 1
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
start_agent $AGENT -p "$PIDS,$UNK_PID" --capture-bytes 1024 -v || exit 1
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY
check "the agent tracks every Go process by goroutine" \
	sh -c "[ \$(grep -c 'by goroutine, goid at 152' '$E2E_TMP/agent.log') -ge 3 ]"

# the wrapped build's first requests meet a connection the roundTrip probe
# cannot follow: the agent adds the write probe within a second (before it,
# those requests' downstream spans are not under them): warm it up first
OTEL_SERVICE_NAME=loadgen "$E2E_TMP/gosvc-static" load 31313 8 8 "$E2E_TMP/warm.ids" >/dev/null
sleep 2
# --- load: 32 at once, each request with its own traceparent ------------------------------
port=31310
for v in $VARIANTS; do
	out=$(OTEL_SERVICE_NAME=loadgen "$E2E_TMP/gosvc-static" load $port $N $CONC "$E2E_TMP/$v.ids")
	expect_eq "gosvc-$v answered every request" "$out" "failed=0"
	port=$((port + 1))
done
sleep 3
settle

for v in $VARIANTS; do
	res=$(python3 "$APPS/goparents.py" "$RX_OUT" gosvc-$v "$E2E_TMP/$v.ids")
	log "gosvc-$v: $res"
	eval "$(echo "$res" | tr ' ' '\n' | sed 's/^/r_/')"
	expect_eq "gosvc-$v: a server span for every request" "$r_servers" "$r_requests"
	check "gosvc-$v: >= 99 % of client/DB/cache spans under their own request ($r_own of $r_expected)" \
		[ $((r_own * 100)) -ge $((r_expected * 99)) ]
	expect_eq "gosvc-$v: no span under another request" "$r_foreign" 0
done
# the builds with DWARF and symbols take one net/http probe (roundTrip, by the
# connection's socket); the stripped one keeps roundTrip and Request.write
set -- $(echo "$PIDS" | tr ',' ' ')
check "gosvc-static: one net/http probe, by socket" \
	grep -q "process $1: net/http roundTrip probe by socket" "$E2E_TMP/agent.log"
check "gosvc-stripped: both net/http probes" \
	grep -q "process $2: net/http roundTrip and write probes" "$E2E_TMP/agent.log"
check "gosvc-cgo: one net/http probe, by socket" \
	grep -q "process $3: net/http roundTrip probe by socket" "$E2E_TMP/agent.log"
check "gosvc-static: every downstream connection followed by its socket (no write probe added)" \
	sh -c "! grep -q 'process $1: a net/http connection not over a socket' '$E2E_TMP/agent.log'"
check "gosvc-wrapped: its dialer's own net.Conn adds the write probe" \
	grep -q "process $4: a net/http connection not over a socket the probe reads" \
	"$E2E_TMP/agent.log"
# --- the unknown version: threads, said so, still traced ----------------------------------
out=$(OTEL_SERVICE_NAME=loadgen "$E2E_TMP/gosvc-static" load $UNK 50 8 "$E2E_TMP/unknown.ids")
expect_eq "gosvc-unknown answered every request" "$out" "failed=0"
sleep 2
settle
check "the agent says the unknown version stays on threads" \
	grep -q "process $UNK_PID (go1.99.8) stays on threads" "$E2E_TMP/agent.log"
expect_ge "redtap_go_goroutine_unknown_total{reason=no_offsets}" \
	"$(metric_sum redtap_go_goroutine_unknown_total reason=no_offsets)" 1
expect_eq "no goroutine read failed" "$(metric_sum redtap_go_goroutine_unknown_total reason=read_fault)" 0
expect_eq "gosvc-unknown: its server spans are still exported" \
	"$(python3 "$APPS/goparents.py" "$RX_OUT" gosvc-unknown "$E2E_TMP/unknown.ids" |
		sed 's/.*servers=//')" 50
stop_agent

# --- traces off: metrics only, with no goroutine and no net/http probe --------------------
# Only spans use a record's goroutine and the probes that find a client
# request's (one trap a request): with traces off (the default with no OTLP
# endpoint; OTEL_TRACES_EXPORTER=none says it here) the agent pays for
# neither, and every request, client call, query and GET still counts.
counts() { # the server's, the client's, PostgreSQL's and Redis's counts of gosvc-static
	echo "$(metric_sum http_server_request_duration_seconds_count service_name=gosvc-static)" \
		"$(metric_sum http_client_request_duration_seconds_count service_name=gosvc-static)" \
		"$(metric_sum db_client_operation_duration_seconds_count service_name=gosvc-static \
			db_system_name=postgresql)" \
		"$(metric_sum db_client_operation_duration_seconds_count service_name=gosvc-static \
			db_system_name=redis)"
}
OTEL_TRACES_EXPORTER=none start_agent $AGENT -p "$1" -v || exit 1
# its connections were open before this agent: one warm-up request each first
OTEL_SERVICE_NAME=loadgen "$E2E_TMP/gosvc-static" load 31310 16 8 "$E2E_TMP/off-warm.ids" >/dev/null
settle
read -r s0 c0 p0 r0 <<<"$(counts)"
M=200
out=$(OTEL_SERVICE_NAME=loadgen "$E2E_TMP/gosvc-static" load 31310 $M 8 "$E2E_TMP/off.ids")
expect_eq "traces off: gosvc-static answered every request" "$out" "failed=0"
sleep 1
settle
read -r s1 c1 p1 r1 <<<"$(counts)"
expect_eq "traces off: every request counted by the server" $((s1 - s0)) $M
expect_eq "traces off: every downstream call counted by the client" $((c1 - c0)) $M
expect_eq "traces off: every PostgreSQL query counted" $((p1 - p0)) $M
expect_eq "traces off: every Redis GET counted" $((r1 - r0)) $M
check "traces off: gosvc-static still followed by goroutine (for crypto/tls)" \
	grep -q "process $1 (.*) by goroutine" "$E2E_TMP/agent.log"
check "traces off: no net/http entry probe" \
	sh -c "! grep -q 'net/http roundTrip' '$E2E_TMP/agent.log'"
stop_agent
e2e_finish
