#!/bin/sh
# tests/e2e/sanitized.sh - end-to-end tests with the agent built under
# AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer
# (build-asan/redtap), against the same real servers as tests/e2e/run.sh.
#
# The fuzz targets try each parser alone; these runs catch what only the
# whole daemon does with live bytes: a connection freed while a span still
# points at it, a buffer reused across the pipeline's stages, a leak at
# shutdown. Any sanitizer report fails the run, wherever it came from: the
# reports go to files (log_path), not only to the agent's log, because a
# test whose agent is killed at its EXIT trap does not check its exit
# status.
#
# Usage: tests/e2e/sanitized.sh [test_x.sh ...]   (default: the set below,
# one test per input surface; any tests/e2e test runs this way)
# Needs root and a built tree (the shim, build/libredtap.so, stays the
# normal build: it is preloaded into programs that do not carry the ASan
# runtime).
set -u
cd "$(dirname "$0")/../.."
tests=${*:-test_http_nginx.sh test_wire_db.sh test_http2.sh test_tls_go.sh test_logs.sh \
	test_hostile_shim.sh test_robustness.sh}

make -s OUTPUT=build-asan SANITIZER=address,undefined build-asan/redtap || exit 1
reports=$(mktemp -d /tmp/redtap-sanitized.XXXXXX)
trap 'rm -rf "$reports"' EXIT
trap 'exit 1' INT TERM

REDTAP_E2E_BIN=$PWD/build-asan/redtap REDTAP_SHIM=$PWD/build/libredtap.so \
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:log_path=$reports/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan \
	tests/e2e/run.sh $tests
rc=$?

found=0
for f in "$reports"/*; do
	[ -s "$f" ] || continue
	found=1
	echo "sanitizer report $(basename "$f"):"
	sed 's/^/  | /' "$f"
done
if [ $found = 1 ]; then
	echo "e2e-sanitized: sanitizer reports above"
	exit 1
fi
exit $rc
