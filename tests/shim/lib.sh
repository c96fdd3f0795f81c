# tests/shim/lib.sh - helpers sourced by tests/e2e/test_shim_*.sh: start and
# stop a throwaway PostgreSQL 15 cluster and redis-server on ports of their
# own, build the test programs, and report checks one line each.
#
# Every script: `. tests/shim/lib.sh`, then shim_setup (builds, makes $TMP,
# installs the cleanup trap), pg_start / redis_start as needed, then `check`
# lines, then shim_finish (prints the tally, exits non-zero on any failure).

. "$(dirname "${BASH_SOURCE[0]:-$0}")/../lib/servers.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-25432}
REDIS_PORT=${REDIS_PORT:-25379}
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
	srv_stop
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
	srv_pg_start "$TMP/pg" "$PG_PORT" || return 1
	PG_DIR=$SRV_PG_DIR
	PGCONN="host=127.0.0.1 port=$PG_PORT dbname=shimtest user=postgres"
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE shimtest" \
		>/dev/null
}

redis_start() {
	srv_redis_start "$TMP" "$REDIS_PORT" || return 1
	REDIS_PID=$SRV_REDIS_PID
}

# ring_run OUT CMD...: runs CMD with the shim under ring_dump; records in OUT.
ring_run() {
	local out=$1
	shift
	"$T/ring_dump" -s "$SHIM" -o "$out" -- "$@"
}
