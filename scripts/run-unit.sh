#!/bin/sh
# scripts/run-unit.sh - runs the given CMocka test binaries, prints each
# one's result and a closing "N passed, N failed" line (counting binaries).
set -u
passed=0
failed=0
for t in "$@"; do
	if "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $t"
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
