#!/usr/bin/env bash
# tests/e2e/test_shim_redis.sh - the LD_PRELOAD shim against a real
# redis-server (started here on 127.0.0.1:$REDIS_PORT and a unix socket,
# stopped by a trap): every hiredis path (blocking, pipelined, async,
# connect, reconnect, free, errors, timeouts, a dropped connection) records
# exactly the expected operations with Debian's hiredis 0.14 and with
# hiredis 1.x (built from the npm registry's copy when it can be fetched);
# the host's output is identical with and without the shim; webdis (an HTTP
# front end on hiredis' async API) gives one operation per request.
# Run as root from the repository root after `make`. Prints one line per check.
set -u
cd "$(dirname "$0")/../.."
. tests/shim/lib.sh
shim_setup
redis_start || { echo "FAIL: start redis-server"; exit 1; }

SOCK=$TMP/redis.sock
WEBDIS_PORT=${WEBDIS_PORT:-25380}
H1=$PWD/$BUILD/tests/shim/hiredis1

flush() {
	redis-cli -p "$REDIS_PORT" flushall >/dev/null
}

# paths_check BINARY: records as expected, output as without the shim
paths_check() {
	local bin=$1 tag
	tag=$(basename "$(dirname "$bin")")
	flush
	"$bin" "$REDIS_PORT" "$SOCK" >"$TMP/$tag.plain" || return 1
	flush
	ring_run "$TMP/$tag.rec" "$bin" "$REDIS_PORT" "$SOCK" >"$TMP/$tag.shim" || return 1
	diff -u "$TMP/$tag.plain" "$TMP/$tag.shim" || return 1
	sed "s|@SOCK@|$SOCK|" tests/shim/expected/redis_paths.txt | diff -u - "$TMP/$tag.rec"
}

redis_014() {
	ldd "$T/redis_paths" | grep -q 'libhiredis.so.0.14' && paths_check "$PWD/$T/redis_paths"
}

redis_asan() {
	flush
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
		"$T/ring_dump" -s "$ASAN_SHIM" -o "$TMP/asan.rec" -- "$T/redis_paths" "$REDIS_PORT" \
		"$SOCK" >/dev/null &&
		sed "s|@SOCK@|$SOCK|" tests/shim/expected/redis_paths.txt | diff -u - "$TMP/asan.rec"
}

redis_no_daemon() {
	flush
	"$T/redis_paths" "$REDIS_PORT" "$SOCK" >"$TMP/nod.plain" || return 1
	flush
	LD_PRELOAD=$SHIM REDTAP_SHIM_RING=$TMP/no-such-ring "$T/redis_paths" "$REDIS_PORT" "$SOCK" \
		>"$TMP/nod.shim" && diff -u "$TMP/nod.plain" "$TMP/nod.shim"
}

# Fetches hiredis 1.x sources (vendored in an npm package) and builds them.
hiredis1_build() {
	[ -f "$H1/lib/libhiredis.so.1.1.0" ] && return 0
	mkdir -p "$H1/src" "$H1/lib" "$H1/include/hiredis" || return 1
	(cd "$H1/src" && timeout 120 npm pack redis-fast-driver@2.2.6 --silent >/dev/null 2>&1 &&
		tar xzf redis-fast-driver-2.2.6.tgz) || return 2
	local src=$H1/src/package/deps/hiredis
	grep -q 'define HIREDIS_MAJOR 1' "$src/hiredis.h" || return 1
	make -s -C "$src" dynamic >/dev/null 2>&1 || return 1
	cp "$src/libhiredis.so" "$H1/lib/libhiredis.so.1.1.0" &&
		ln -sf libhiredis.so.1.1.0 "$H1/lib/libhiredis.so" &&
		cp "$src"/*.h "$H1/include/hiredis/"
}

redis_1x() {
	gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$H1/include" \
		tests/shim/redis_paths.c -L"$H1/lib" -Wl,-rpath,"$H1/lib" -lhiredis \
		-o "$H1/redis_paths" || return 1
	ldd "$H1/redis_paths" | grep -q "$H1/lib/libhiredis.so.1.1.0" || return 1
	paths_check "$H1/redis_paths"
}

redis_1x_layout() {
	# the shim's mirror structs against the real hiredis 1.x headers
	local srcs
	srcs=$(ls preload/*.c | grep -v -e preload/pq.c -e preload/redis.c -e preload/redis_async.c)
	# shellcheck disable=SC2086
	gcc -std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude -Iuser -Iuser/core -Iuser/intake -Iuser/proto -Iuser/signals -Iuser/export -Ipreload -I"$H1/include" \
		tests/shim/test_preload.c $srcs user/intake/shm_ring.c user/intake/shim_decode.c user/proto/sqlsum.c \
		user/core/log.c -L"$H1/lib" -Wl,-rpath,"$H1/lib" -lhiredis -lcmocka -lpg_query -lpthread \
		-o "$H1/test_preload" &&
		"$H1/test_preload"
}

webdis_check() {
	local rd wd u
	printf '{"redis_host":"127.0.0.1","redis_port":%s,"http_host":"127.0.0.1",%s}\n' \
		"$REDIS_PORT" "\"http_port\":$WEBDIS_PORT,\"threads\":1,\"pool_size\":1,\"daemonize\":false,\"database\":0,\"verbosity\":0,\"logfile\":\"$TMP/webdis.log\"" \
		>"$TMP/webdis.json"
	flush
	"$T/ring_dump" -s "$SHIM" -o "$TMP/webdis.rec" -- webdis "$TMP/webdis.json" \
		2>"$TMP/webdis.err" &
	rd=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$WEBDIS_PORT/PING" && break
		sleep 0.1
	done
	: >"$TMP/webdis.http"
	for u in SET/wk/hello GET/wk GET/wk HSET/wh/f/v HGET/wk/f INCR/ctr; do
		curl -s "http://127.0.0.1:$WEBDIS_PORT/$u" >>"$TMP/webdis.http"
		echo >>"$TMP/webdis.http"
	done
	wd=$(pgrep -P "$rd")
	[ -n "$wd" ] && kill "$wd"
	wait "$rd"
	cat "$TMP/webdis.http" "$TMP/webdis.rec"
	grep -q 'WRONGTYPE' "$TMP/webdis.http" || return 1
	# the readiness probe (PING) and one operation per request, nothing else
	printf '%s\n' 'PING|' 'SET|' 'GET|' 'GET|' 'HSET|' 'HGET|WRONGTYPE' 'INCR|' >"$TMP/webdis.want"
	awk -F'|' '$1 == "redis" && $4 == "0" && $5 == "127.0.0.1" && $6 == "'"$REDIS_PORT"'" &&
		$9 == "A" { print $2 "|" $8 }' "$TMP/webdis.rec" | diff -u "$TMP/webdis.want" - &&
		[ "$(wc -l <"$TMP/webdis.rec")" = 7 ]
}

check "hiredis 0.14: every path records exactly the expected operations" redis_014
check "hiredis: no daemon listening, output identical" redis_no_daemon
check "hiredis: every path under AddressSanitizer + UBSan" redis_asan
check "webdis (hiredis async + libevent): one operation per request" webdis_check
hiredis1_build
case $? in
0)
	check "hiredis 1.x: every path records exactly the expected operations" redis_1x
	check "hiredis 1.x: shim layout matches the 1.x headers" redis_1x_layout
	;;
2) echo "SKIP: hiredis 1.x (the npm registry could not be reached to fetch its sources)" ;;
*) check "hiredis 1.x: build from the npm package" false ;;
esac
shim_finish
