#!/bin/sh
# tests/fuzz/run.sh - runs each libFuzzer target built by `make fuzz-build`
# for a while: run.sh OUTPUT SECONDS TARGET...
# Each target starts from the checked-in seeds (tests/fuzz/corpus/<t>/) and
# the regression inputs, and keeps what it finds in OUTPUT/fuzz/corpus/<t>/;
# a crash, leak or timeout (> 10 s for one input) lands in
# OUTPUT/fuzz/crashes/<t>/ and fails the run. Prints one line per target and a
# closing "fuzz: N passed, N failed" line.
set -u
out=$1
secs=$2
shift 2
passed=0
failed=0
for t in "$@"; do
	bin=$out/fuzz/fuzz_$t
	work=$out/fuzz/corpus/$t
	crashes=$out/fuzz/crashes/$t
	log=$out/fuzz/$t.log
	mkdir -p "$work" "$crashes"
	seeds=tests/fuzz/corpus/$t
	regress=""
	[ -d "tests/fuzz/regress/$t" ] && regress="tests/fuzz/regress/$t"
	# -close_fd_mask=3: the code under test may log; keep the terminal readable.
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
		-max_len=16384 -print_final_stats=0 -close_fd_mask=1 \
		-artifact_prefix="$crashes/" "$work" "$seeds" $regress >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz $t: ok ($(grep -c . "$log" | tr -d ' ') log lines," \
			"$(find "$work" -type f | wc -l | tr -d ' ') corpus inputs)"
	else
		failed=$((failed + 1))
		echo "fuzz $t: FAILED; log $log, inputs in $crashes:"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|invariant broken|runtime error|ALARM|Test unit written' \
			"$log" | head -8
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
