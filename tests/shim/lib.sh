# tests/shim/lib.sh - helpers sourced by tests/e2e/test_shim_*.sh: start and
# stop a throwaway PostgreSQL 15 cluster and redis-server on ports of their
# own, build the test programs, and report checks one line each.
#
# Every script: `. tests/shim/lib.sh`, then shim_setup (builds, makes $TMP,
# installs the cleanup trap), pg_start / redis_start as needed, then `check`
# lines, then shim_finish (prints the tally, exits non-zero on any failure).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
BUILD=${BUILD:-build}
SHIM=$PWD/$BUILD/libredtap.so
T=$BUILD/tests/shim
# The shim under AddressSanitizer + UBSan: libasan must be loaded first.
ASAN_SHIM="$(gcc -print-file-name=libasan.so) $PWD/$T/libredtap-asan.so"
PASS=0
FAIL=0
PG_DIR=
REDIS_PID=
PG_USER=postgres

shim_cleanup() {
	if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
		runuser -u $PG_USER -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop \
			>/dev/null 2>&1
	fi
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	return 0
}

shim_setup() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: run as root (starts servers as other users)"; exit 0; }
	make -s shim-tests >/dev/null || { echo "FAIL: build"; exit 1; }
	TMP=$(mktemp -d /tmp/redtap-shim-test.XXXXXX)
	chmod 755 "$TMP"
	trap shim_cleanup EXIT
	trap 'exit 130' INT TERM
}

# check NAME COMMAND...: runs the command, prints PASS/FAIL NAME.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		echo "PASS: $name"
		PASS=$((PASS + 1))
	else
		echo "FAIL: $name"
		sed 's/^/    /' "$TMP/check.out" | head -40
		FAIL=$((FAIL + 1))
	fi
}

shim_finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
	exit $?
}

pg_start() {
	PG_DIR=$TMP/pg
	mkdir -p "$PG_DIR"
	chown $PG_USER "$PG_DIR"
	runuser -u $PG_USER -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
		-E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log"; return 1; }
	runuser -u $PG_USER -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
		-o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start \
		>/dev/null || { cat "$PG_DIR/log"; return 1; }
	PGCONN="host=127.0.0.1 port=$PG_PORT dbname=shimtest user=postgres"
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE shimtest" \
		>/dev/null
}

redis_start() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--unixsocket "$TMP/redis.sock" --unixsocketperm 777 --daemonize no \
		>"$TMP/redis.log" 2>&1 &
	REDIS_PID=$!
	for _ in $(seq 50); do
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$TMP/redis.log"
	return 1
}

# ring_run OUT CMD...: runs CMD with the shim under ring_dump; records in OUT.
ring_run() {
	local out=$1
	shift
	"$T/ring_dump" -s "$SHIM" -o "$out" -- "$@"
}
