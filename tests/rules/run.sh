#!/bin/bash
# tests/rules/run.sh - checks of the Prometheus rules in rules/:
#   promtool check rules on every shipped file, a lint of names and
#   annotations, the generated SLO files are up to date with rules/slos.yaml,
#   unit tests of the generator, and promtool unit tests (tests/rules/*_test.yml)
#   that make each alert fire and not fire on synthetic series.
# Prints one line per check and a "N passed, M failed" summary; exits 0 only
# if every check passed. Needs promtool (Debian: prometheus) and python3-yaml.
set -u
cd "$(dirname "$0")/../.." || exit 2
here=tests/rules

pass=0
fail=0
# check NAME CMD...: run CMD, print one PASS/FAIL line, its output on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
}

for tool in promtool python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL $tool not found (apt-get install prometheus python3-yaml)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in rules/*.yml; do
	check "promtool check rules $f" promtool check rules "$f"
done
check "rule names, labels and annotations (lint_rules.py)" \
	python3 "$here/lint_rules.py" rules/*.yml
check "rules/slo-*.yml are up to date with rules/slos.yaml" scripts/gen-slo-rules --check
check "gen-slo-rules unit tests" python3 "$here/test_gen_slo.py"

# promtool resolves rule_files relative to the test file: lay out the shipped
# rules and the rules generated from the test spec next to copies of the tests.
mkdir -p "$tmp/rules" "$tmp/fixture"
cp rules/*.yml "$tmp/rules/"
cp "$here"/*_test.yml "$tmp/"
check "generate SLO rules from $here/fixtures/slos.yaml" \
	scripts/gen-slo-rules --spec "$here/fixtures/slos.yaml" --out-dir "$tmp/fixture"
check "promtool check rules (generated fixture rules)" promtool check rules "$tmp"/fixture/*.yml
for t in "$here"/*_test.yml; do
	name=$(basename "$t")
	check "promtool test rules $name" sh -c "cd '$tmp' && promtool test rules '$name'"
done

# The tests must be able to fail: a spec whose objective is looser than the
# one the tests assume (99.95% -> 99%) must make slo_test.yml fail.
mkdir -p "$tmp/mutant/fixture"
sed 's/objective: 99.95/objective: 99/' "$here/fixtures/slos.yaml" >"$tmp/mutant/slos.yaml"
cp "$here/slo_test.yml" "$tmp/mutant/"
if scripts/gen-slo-rules --spec "$tmp/mutant/slos.yaml" --out-dir "$tmp/mutant/fixture" \
	>/dev/null 2>&1 && ! (cd "$tmp/mutant" && promtool test rules slo_test.yml) >/dev/null 2>&1; then
	echo "PASS slo_test.yml fails for a mutated objective"
	pass=$((pass + 1))
else
	echo "FAIL slo_test.yml did not notice a mutated objective"
	fail=$((fail + 1))
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
