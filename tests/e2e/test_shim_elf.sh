#!/usr/bin/env bash
# tests/e2e/test_shim_elf.sh - what build/libredtap.so is made of: only libc
# in DT_NEEDED (never libpq or hiredis), exactly the wrapped functions
# exported, no allocator, stdio or lock imports, BIND_NOW, and it loads into
# a program that uses neither library without changing its output.
# Run from the repository root after `make`. Prints one line per check.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SO=$BUILD/libredtap.so
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
		sed 's/^/    /' "$TMP/out" | head -30
		FAIL=$((FAIL + 1))
	fi
}

WRAPPED="PQconnectStart PQconnectStartParams PQconnectdb PQconnectdbParams PQdescribePortal
PQdescribePrepared PQexec PQexecParams PQexecPrepared PQfinish PQfn PQgetCopyData PQgetResult
PQprepare PQputCopyEnd PQreset PQresetStart PQsendDescribePortal PQsendDescribePrepared
PQsendPrepare PQsendQuery PQsendQueryParams PQsendQueryPrepared PQsetdbLogin
redisAppendCommand redisAppendCommandArgv redisAppendFormattedCommand redisAsyncCommand
redisAsyncCommandArgv redisAsyncConnect redisAsyncConnectBind redisAsyncConnectBindWithReuse
redisAsyncConnectUnix redisAsyncConnectWithOptions redisAsyncFormattedCommand redisAsyncFree
redisCommand redisCommandArgv redisConnect redisConnectBindNonBlock
redisConnectBindNonBlockWithReuse redisConnectFd redisConnectNonBlock redisConnectUnix
redisConnectUnixNonBlock redisConnectUnixWithTimeout redisConnectWithOptions
redisConnectWithTimeout redisFree redisFreeKeepFd redisGetReply redisReconnect
redisvAppendCommand redisvAsyncCommand redisvCommand"

only_libc_needed() {
	readelf -d "$SO" | awk '/NEEDED/ { print $NF }' | tee "$TMP/needed"
	! grep -v -e '^\[libc\.so\.6\]$' -e '^\[libdl\.so\.2\]$' "$TMP/needed" | grep .
}

exports_only_wrappers() {
	nm -D --defined-only "$SO" | awk '{ print $3 }' | sort >"$TMP/exported"
	echo "$WRAPPED" | tr ' ' '\n' | grep . | sort | diff -u - "$TMP/exported"
}

no_forbidden_imports() {
	nm -D --undefined-only "$SO" | awk '{ print $2 }' | sed 's/@.*//' | tee "$TMP/imports" |
		grep -x -e malloc -e calloc -e realloc -e free -e 'pthread_mutex_.*' -e 'f*printf' \
			-e 'v*s*n*printf' -e fopen -e fwrite -e puts -e 'PQ.*' -e 'redis.*' -e syslog
	[ $? = 1 ]
}

bind_now() {
	readelf -d "$SO" | grep -q 'BIND_NOW' && ! readelf -d "$SO" | grep -q TEXTREL
}

harmless_elsewhere() {
	# a program using neither library: same output, same exit status
	/bin/sh -c 'echo hi; ls / >/dev/null; exit 3' >"$TMP/a"
	local a=$?
	LD_PRELOAD=$PWD/$SO /bin/sh -c 'echo hi; ls / >/dev/null; exit 3' >"$TMP/b" 2>"$TMP/err"
	local b=$?
	[ $a = 3 ] && [ $b = 3 ] && diff "$TMP/a" "$TMP/b" && [ ! -s "$TMP/err" ]
}

check "DT_NEEDED holds libc only" only_libc_needed
check "exports exactly the wrapped functions" exports_only_wrappers
check "imports no allocator, stdio, locks, libpq or hiredis" no_forbidden_imports
check "BIND_NOW, no text relocations" bind_now
check "preloaded into an unrelated program: nothing changes" harmless_elsewhere
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
