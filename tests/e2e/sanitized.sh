#!/bin/sh
# tests/e2e/sanitized.sh - end-to-end tests with the agent built under the
# sanitizers, against the same real servers as tests/e2e/run.sh:
#   address  ASan, UBSan and LeakSanitizer (build-asan/redtap), one test per
#            input surface;
#   thread   ThreadSanitizer (build-tsan/redtap), the tests whose agent
#            runs its other threads: /metrics, the OTLP exporters (logs
#            too), the Go executable reader, the TLS library scanner.
#            (TSan slows the daemon several times over, so the load tests
#            would only show ring drops.)
#
# The fuzz targets try each parser alone, and the unit tests each module;
# these runs catch what only the whole daemon does with live bytes and
# live threads: a connection freed while a span still points at it, a
# buffer reused across the pipeline's stages, a leak at shutdown, a field
# two threads write. Any sanitizer report fails the run, wherever it came
# from: the reports go to files (log_path), not only to the agent's log,
# because a test whose agent is killed at its EXIT trap does not check its
# exit status.
#
# Usage: tests/e2e/sanitized.sh [address|thread [test_x.sh ...]]
# (default: both, each with its set below; any tests/e2e test runs this way
# when named). Needs root and a built tree: the shim (build/libredtap.so)
# stays the normal build, as it is preloaded into programs that do not
# carry a sanitizer's runtime.
set -u
cd "$(dirname "$0")/../.."
ASAN_SET="test_http_nginx.sh test_wire_db.sh test_http2.sh test_tls_go.sh test_logs.sh \
test_hostile_shim.sh test_robustness.sh"
TSAN_SET="test_otlp_exporter.sh test_metrics_endpoint.sh test_tls_go.sh test_tls.sh test_logs.sh"

reports=$(mktemp -d /tmp/redtap-sanitized.XXXXXX)
trap 'rm -rf "$reports"' EXIT
trap 'exit 1' INT TERM

# sanitized KIND TESTS: builds the agent under KIND's sanitizers and runs TESTS.
sanitized() {
	kind=$1
	shift
	case $kind in
	address) out=build-asan san=address,undefined ;;
	thread) out=build-tsan san=thread ;;
	*)
		echo "sanitized.sh: unknown sanitizer '$kind' (address or thread)" >&2
		return 2
		;;
	esac
	echo "=== e2e under $san"
	make -s OUTPUT=$out SANITIZER=$san $out/redtap || return 1
	REDTAP_E2E_BIN=$PWD/$out/redtap REDTAP_SHIM=$PWD/build/libredtap.so \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:log_path=$reports/asan \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan \
		TSAN_OPTIONS=log_path=$reports/tsan \
		tests/e2e/run.sh "$@"
}

rc=0
if [ $# -gt 0 ]; then
	kind=$1
	shift
	[ $# -gt 0 ] || case $kind in address) set -- $ASAN_SET ;; thread) set -- $TSAN_SET ;; esac
	sanitized "$kind" "$@" || rc=1
else
	sanitized address $ASAN_SET || rc=1
	sanitized thread $TSAN_SET || rc=1
fi

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
