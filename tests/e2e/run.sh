#!/bin/sh
# tests/e2e/run.sh - runs every tests/e2e/test_*.sh (or those named as
# arguments) one after the other and prints "N passed, N failed".
# Needs root and a built tree.
set -u
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: the end-to-end tests load eBPF programs and must run as root" >&2
	exit 1
fi
passed=0
failed=0
tests=${*:-$(ls test_*.sh)}
for t in $tests; do
	echo "--- $t"
	if timeout 300 bash "./$t"; then
		passed=$((passed + 1))
		echo "PASS $t"
	else
		failed=$((failed + 1))
		echo "FAIL $t"
	fi
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
