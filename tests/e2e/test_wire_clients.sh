#!/bin/bash
# tests/e2e/test_wire_clients.sh - the database clients of issue 11, none of
# them wrapped with the shim, measured from the wire (user/proto/pgwire.c,
# resp.c) against PostgreSQL 15 and Redis on 127.0.0.1:
# - Go (built offline, GOPATH mode): lib/pq and pgx v4 (queries, a failing
#   query with its SQLSTATE, a transaction, a pgx SendBatch whose third
#   statement fails: the two after it are aborted, never successes), redigo
#   (SET/GET, a Send/Flush/Receive pipeline, a WRONGTYPE error);
# - Python: psycopg2 and redis-py (queries, an error, pipelines, MULTI/EXEC);
# - Node: pg and ioredis from npm (package.json and package-lock.json in
#   tests/e2e/apps/node/dbclient; `npm ci` into a cache directory; without
#   the registry the test fails);
# - every count exact against what the client did, and every operation of a
#   client is a CLIENT span with its SQLSTATE or error prefix;
# - HTTP traffic (the Python HTTP server, curl) flowing at the same time as
#   all the DB traffic: HTTP counts exact, no db series on the HTTP port;
# - pipelines deeper than the capture (redis-benchmark -P 256): every command
#   counted from the replies; deeper still, the loss is counted (ops_lost);
# - the servers (selected too) report nothing.
# The agent selects this script's process tree (-p $$), so other work on the
# node does not flood it.
# Ports 31000-31099.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
. "$(dirname "$0")/apps/receiver.sh"
PG=31032
RD=31079
HT=31080
AGENT=31064
APPS="$E2E_ROOT/tests/e2e/apps"
SPANS="python3 $APPS/spans.py"
N=50
trap 'srv_stop; e2e_cleanup' EXIT
PATH=/usr/bin:$PATH # Debian's python3 (psycopg2, redis-py), not a version manager's shim

# a block of checks reads one scrape (freeze), later ones fresh scrapes again (thaw)
FROZEN=
freeze() { curl -sf "http://127.0.0.1:$AGENT_PORT/metrics" >"$E2E_TMP/frozen.prom" && FROZEN=1; }
thaw() { FROZEN=; }
scrape() {
	if [ -n "$FROZEN" ]; then
		cat "$E2E_TMP/frozen.prom"
	else
		curl -sf "http://127.0.0.1:$AGENT_PORT/metrics"
	fi
}

# --- the clients: Go built offline, Node packages from npm -------------------------------
GO="$E2E_TMP/dbclient"
(cd "$APPS/go/dbclient" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off \
	GOCACHE=/tmp/redtap-gocache go build -o "$GO" .) || { echo "  FAIL go build dbclient"; exit 1; }
NODE_DIR="$APPS/node/dbclient"
NPM_CACHE=/tmp/redtap-npm-dbclient-$(cat "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" |
	sha256sum | cut -c1-16)
if [ ! -d "$NPM_CACHE/node_modules/ioredis" ] || [ ! -d "$NPM_CACHE/node_modules/pg" ]; then
	rm -rf "$NPM_CACHE.tmp" && mkdir -p "$NPM_CACHE.tmp" &&
		cp "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" "$NPM_CACHE.tmp/" &&
		timeout 180 npm ci --prefix "$NPM_CACHE.tmp" --no-audit --no-fund --loglevel=error \
			>"$E2E_TMP/npm.log" 2>&1 && rm -rf "$NPM_CACHE" && mv "$NPM_CACHE.tmp" "$NPM_CACHE" ||
		{ cat "$E2E_TMP/npm.log"; echo "  FAIL npm ci of pg and ioredis (is the npm registry reachable?)"; exit 1; }
fi
NODE="env NODE_PATH=$NPM_CACHE/node_modules node $NODE_DIR/dbclient.js"
PY="/usr/bin/python3 $APPS/py_dbclient.py"

# --- the agent, then the servers -------------------------------------------------------
# It measures this script and everything it starts from now on (-p $$: the kernel selects
# the children of a selected process at their fork, so even a curl that lives a few
# milliseconds is seen from its first byte), the servers included; other work on the node
# (benchmarks flooding the span exporter) stays out of the counts.
start_receiver clients || exit 1
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BSP_SCHEDULE_DELAY=200
start_agent $AGENT --capture-bytes 4096 -p $$ || exit 1
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BSP_SCHEDULE_DELAY

srv_pg_start "$E2E_TMP/pg" $PG || exit 1
srv_redis_start "$E2E_TMP" $RD || exit 1
srv_shop_db $PG || exit 1
psql -q -h 127.0.0.1 -p $PG -U postgres -d redtap -c "CREATE TABLE batch_log (n int)" >/dev/null ||
	exit 1
mkdir -p "$E2E_TMP/www" && echo hi >"$E2E_TMP/www/index.html"
(cd "$E2E_TMP/www" && exec python3 -m http.server $HT --bind 127.0.0.1 >/dev/null 2>&1) &
bg_track $!
wait_port $HT || exit 1

# --- every client at once, with HTTP traffic flowing beside it ---------------------------
# run SERVICE COMMAND...: the client under its service name; its output in $E2E_TMP/SERVICE.out
run() {
	svc=$1
	shift
	OTEL_SERVICE_NAME=$svc "$@" >"$E2E_TMP/$svc.out" 2>"$E2E_TMP/$svc.err" ||
		{ echo "  $svc failed: $(cat "$E2E_TMP/$svc.err")" >&2; return 1; }
}
CLIENTS="go-pq go-pgx go-redigo py-pg py-redis node-pg node-redis"
run go-pq "$GO" pq $PG $N &
P1=$!
run go-pgx "$GO" pgx $PG $N &
P2=$!
run go-redigo "$GO" redigo $RD $N &
P3=$!
run py-pg $PY pg $PG $N &
P4=$!
run py-redis $PY redis $RD $N &
P5=$!
run node-pg $NODE pg $PG $N &
P6=$!
run node-redis $NODE redis $RD $N &
P7=$!
bg_track "$P1 $P2 $P3 $P4 $P5 $P6 $P7"
for i in $(seq 40); do curl -s -o /dev/null "http://127.0.0.1:$HT/index.html"; done
i=1
for p in $P1 $P2 $P3 $P4 $P5 $P6 $P7; do
	svc=$(echo $CLIENTS | cut -d' ' -f$i)
	wait $p
	expect_eq "$svc ran to the end" "$?" 0
	i=$((i + 1))
done
sleep 2
settle
freeze

D=db_client_operation_duration_seconds_count
# did SVC NAME: the count the client printed for NAME
did() { v=$(sed -n "s/^$2=//p" "$E2E_TMP/$1.out"); echo "${v:-0}"; }
ops() { metric_sum $D service_name="$@"; }

# --- PostgreSQL clients ------------------------------------------------------------------
for svc in go-pq go-pgx py-pg node-pg; do
	case $svc in
	go-pq) code=42P01 ;;
	go-pgx) code=22012 ;;
	py-pg) code=42703 ;;
	node-pg) code=42883 ;;
	esac
	expect_eq "$svc: every SELECT" "$(ops $svc db_system_name=postgresql db_operation_name=SELECT \
		error_type= db_namespace=redtap server_address=127.0.0.1 server_port=$PG)" "$(did $svc select)"
	expect_eq "$svc: the failing queries, with their SQLSTATE" "$(ops $svc db_system_name=postgresql \
		error_type=$code db_response_status_code=$code)" "$(($(did $svc failed) + $(did $svc batch_failed)))"
	for op in BEGIN UPDATE COMMIT; do
		want=$(did $svc "$(echo $op | tr A-Z a-z)")
		expect_eq "$svc: $op" "$(ops $svc db_operation_name=$op error_type=)" "$want"
	done
done
expect_eq "go-pgx: the batch's INSERTs" "$(ops go-pgx db_operation_name=INSERT error_type=)" \
	"$(did go-pgx batch_insert)"
expect_eq "go-pgx: the batch's statements after the error are aborted" \
	"$(ops go-pgx db_operation_name=DELETE error_type=pipeline_aborted)" "$(did go-pgx batch_aborted)"
expect_eq "go-pgx: ... and never successes" "$(ops go-pgx db_operation_name=DELETE error_type=)" 0
for svc in go-pq py-pg node-pg; do
	expect_eq "$svc: nothing else" "$(ops $svc)" \
		"$(($(did $svc select) + $(did $svc failed) + 3))"
done
expect_eq "go-pgx: nothing else" "$(ops go-pgx)" "$(($(did go-pgx select) + 1 + 3 + 5))"

# --- Redis clients -----------------------------------------------------------------------
for svc in go-redigo py-redis node-redis; do
	expect_eq "$svc: every SET" "$(ops $svc db_system_name=redis db_operation_name=SET \
		error_type= server_port=$RD db_namespace=0)" "$(did $svc set)"
	expect_eq "$svc: every GET (pipelined too)" "$(ops $svc db_system_name=redis \
		db_operation_name=GET error_type=)" "$(did $svc get)"
	expect_eq "$svc: the WRONGTYPE error" "$(ops $svc db_operation_name=LPUSH \
		error_type=WRONGTYPE db_response_status_code=WRONGTYPE)" "$(did $svc wrongtype)"
done
expect_eq "py-redis: MULTI/EXEC pipeline" "$(($(ops py-redis db_operation_name=MULTI error_type=) + \
	$(ops py-redis db_operation_name=EXEC error_type=)))" 2
# redis-py's incr() sends INCRBY KEY 1
expect_eq "py-redis: the queued INCRBYs" "$(ops py-redis db_operation_name=INCRBY error_type=)" 2
expect_eq "go-redigo: nothing else" "$(ops go-redigo)" "$((3 * N + 1))"
expect_eq "py-redis: nothing else" "$(ops py-redis)" "$((3 * N + 1 + 4))"
expect_eq "node-redis: nothing else but QUIT" "$(ops node-redis)" "$((3 * N + 1 + 1))"

# --- the servers' side (selected too): not measured, no double count ----------------------
expect_eq "no operation reported for redis-server" "$(ops redis-server)" 0
expect_eq "no operation reported for the postgres backends" "$(ops postgres)" 0

# --- HTTP beside it: exact, and no database series on its port ---------------------------
expect_eq "HTTP exchanges while every DB client ran" "$(metric_sum \
	http_client_request_duration_seconds_count service_name=curl server_port=$HT \
	http_response_status_code=200)" 40
expect_eq "no database operation on the HTTP port" "$(metric_sum $D server_port=$HT)" 0
perr=$(scrape | grep '^redtap_parse_errors_total' | grep -v ' 0$')
expect_eq "no parse errors from any of it (servers, setup, clients, HTTP)" \
	"$(metric_sum redtap_parse_errors_total)" 0
[ -z "$perr" ] || printf '%s\n' "$perr" | sed 's/^/  | /' 

# --- spans: one CLIENT span per operation, errors with their code ------------------------
F=$RX_OUT
expect_eq "the span exporter dropped nothing" \
	"$(metric_sum redtap_otlp_dropped_total signal=traces)" 0
expect_eq "go-pgx: a CLIENT span per operation" "$($SPANS $F count service=go-pgx kind=CLIENT \
	attr.db.system.name=postgresql)" "$(ops go-pgx)"
expect_eq "go-pgx: the failed statements' spans" "$($SPANS $F count service=go-pgx kind=CLIENT \
	status=ERROR attr.db.response.status_code=22012)" 2
expect_eq "node-pg: the failed query's span" "$($SPANS $F count service=node-pg kind=CLIENT \
	status=ERROR attr.db.response.status_code=42883 attr.db.namespace=redtap)" 1
expect_eq "go-redigo: a CLIENT span per operation" "$($SPANS $F count service=go-redigo \
	kind=CLIENT attr.db.system.name=redis)" "$(ops go-redigo)"
expect_eq "py-redis: the WRONGTYPE span" "$($SPANS $F count service=py-redis kind=CLIENT \
	status=ERROR attr.db.operation.name=LPUSH attr.db.response.status_code=WRONGTYPE)" 1

thaw

# --- deep pipelines: the replies count what the request prefix lost -----------------------
# (--capture-bytes 4096: 256 SETs of 45 bytes are 11.5 KB, beyond the capture; their replies
# fit in it: every command is counted, those the gap hid with an unknown name. At -P 2048 the
# replies do not fit either: the loss is counted, never invented.)
# (by port, not by name: a redis-benchmark gone before the agent read its environment is
# named by its comm; nothing else talks to Redis now)
deep() { metric_sum $D db_system_name=redis server_port=$RD "$@"; }
lost() { metric_sum redtap_parse_errors_total protocol=redis reason=ops_lost; }
for t in set get; do
	OP=$(echo $t | tr a-z A-Z)
	b_named=$(deep db_operation_name=$OP error_type=)
	b_hidden=$(deep db_operation_name= error_type=)
	out=$(redis-benchmark -h 127.0.0.1 -p $RD -c 2 -n 20480 -P 256 \
		-t $t 2>&1 | tr '\r' '\n')
	n=$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9]*\) requests completed.*/\1/p' | head -1)
	settle
	named=$(($(deep db_operation_name=$OP error_type=) - b_named))
	hidden=$(($(deep db_operation_name= error_type=) - b_hidden))
	expect_eq "redis-benchmark -P 256 -t $t: every command counted" "$((named + hidden))" "${n:-none}"
	expect_ge "... the ones in the capture by name" "$named" 2
done
expect_eq "... with no operation lost" "$(lost)" 0
before=$(($(deep db_operation_name=SET) + $(deep db_operation_name=)))
redis-benchmark -h 127.0.0.1 -p $RD -c 1 -n 8192 -P 2048 -t set >/dev/null 2>&1
settle
expect_ge "-P 2048: replies beyond the capture too: the loss is counted" "$(lost)" 1
expect_ge "... and nothing is invented (8192 SETs)" 8192 \
	"$(($(deep db_operation_name=SET) + $(deep db_operation_name=) - before))"

e2e_finish
