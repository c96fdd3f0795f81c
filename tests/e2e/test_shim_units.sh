#!/usr/bin/env bash
# tests/e2e/test_shim_units.sh - runs the shim's CMocka tests that live in
# tests/shim/ (preload internals: depth guard, kill switch, connection FIFO,
# Redis parsing, hiredis layouts, ring transport; and user/signals/dbmetrics.c),
# plain and under AddressSanitizer + UBSan. Needs no server.
# Run from the repository root after `make`. Prints one line per check.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
T=$BUILD/tests/shim
PASS=0
FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

check() {
	local name=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		echo "PASS: $name"
		PASS=$((PASS + 1))
	else
		echo "FAIL: $name"
		sed 's/^/    /' "$TMP/out" | tail -30
		FAIL=$((FAIL + 1))
	fi
}

SAN="-std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude -Iuser -Iuser/core -Iuser/intake -Iuser/proto -Iuser/signals -Iuser/export -Ipreload -fsanitize=address,undefined
	-fno-sanitize-recover=all -fno-omit-frame-pointer"
PRELOAD_CORE=$(ls preload/*.c | grep -v -e preload/pq.c -e preload/redis.c -e preload/redis_async.c)

asan_preload() {
	# shellcheck disable=SC2086
	gcc $SAN tests/shim/test_preload.c $PRELOAD_CORE user/intake/shm_ring.c user/intake/shim_decode.c \
		user/proto/sqlsum.c user/core/log.c -lcmocka -lpg_query -lhiredis -lpthread -o "$TMP/test_preload" &&
		"$TMP/test_preload"
}

# dbmetrics.c needs much of the daemon's core (labels, pod identity): the
# Makefile's own sanitized build (build-asan, which the unit-asan suite also uses).
asan_dbmetrics() {
	make -s OUTPUT="$BUILD-asan" SANITIZER=address,undefined \
		"$BUILD-asan/tests/shim/test_dbmetrics" &&
		UBSAN_OPTIONS=halt_on_error=1 "$BUILD-asan/tests/shim/test_dbmetrics"
}

check "build the shim tests" make -s shim-tests
check "preload internals (CMocka)" "$T/test_preload"
check "dbmetrics (CMocka)" "$T/test_dbmetrics"
check "preload internals under ASan + UBSan" asan_preload
check "dbmetrics under ASan + UBSan" asan_dbmetrics
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
