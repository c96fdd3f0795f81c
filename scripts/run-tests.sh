#!/bin/sh
# scripts/run-tests.sh - runs every test suite (dependencies must be
# installed: see scripts/test.sh) and prints one closing line
# "N passed, N failed" counting suites.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=""

suite() {
	name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $name"
	fi
}

suite lint make -s lint
suite unit make -s unit
# the same binaries with the monotonic clock of a machine that just booted
suite unit-early-clock scripts/unit-early-clock.sh
# UBSan reports fail the run (by default it prints and goes on).
suite unit-asan env UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	make -s OUTPUT=build-asan SANITIZER=address,undefined unit
# ThreadSanitizer: the self-metrics have one writer while /metrics and the
# OTLP exporter read (tests/unit/test_selfmetrics.c); a report fails the run.
suite unit-tsan make -s OUTPUT=build-tsan SANITIZER=thread unit
# every fuzz target for 10 s (clang, ASan, UBSan); `make fuzz` runs them longer
suite fuzz make -s fuzz FUZZ_SECONDS=10
# the eBPF programs themselves: verifier, fork/exit/listen, the connection table (root)
suite bpf make -s bpf-test
suite e2e tests/e2e/run.sh
# some of them again with the agent under ASan, UBSan and LeakSanitizer, and TSan
suite e2e-sanitized tests/e2e/sanitized.sh
[ -x tests/shim/run.sh ] && suite shim tests/shim/run.sh
[ -x tests/rules/run.sh ] && suite rules tests/rules/run.sh
[ -x tests/dashboards/run.sh ] && suite dashboards tests/dashboards/run.sh
suite k8s make -s k8s-test

echo
[ -n "$failures" ] && echo "failed suites:$failures"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
