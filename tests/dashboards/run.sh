#!/bin/bash
# tests/dashboards/run.sh - checks of the Grafana dashboards (dashboards/*.json),
# the sync script and the provisioning examples:
#   - the JSON is what dashboards/src generates;
#   - structure: ids, grid, data sources, variables, names, exemplars, PromQL
#     parses (check_dashboards.py, with promtool);
#   - the JSON type-checks against @grafana/schema (typecheck.mjs, tsc), and a
#     broken copy does not;
#   - the checks themselves fail on broken dashboards (test_check_dashboards.py);
#   - scripts/grafana-sync: dry run and requests to a stub Grafana;
#   - provisioning examples;
#   - a real Prometheus scraping a fake agent: every panel query returns data
#     (panel-queries.sh) and the rules produce series (test_live_prometheus.py).
# Prints one line per check and "N passed, M failed"; exits 0 only if all pass.
# Needs python3-yaml, promtool/prometheus (Debian: prometheus), node and npm;
# installs the npm packages of package-lock.json into tests/dashboards/node_modules.
set -u
cd "$(dirname "$0")/../.." || exit 2
here=tests/dashboards

pass=0
fail=0
# tally OUTPUT STATUS NAME: echo a tool's PASS/FAIL lines and count them; a
# tool that failed without printing a FAIL line counts as one failure.
tally() {
	local out=$1 status=$2 name=$3 p f
	printf '%s\n' "$out"
	p=$(grep -c '^PASS ' <<<"$out")
	f=$(grep -c '^FAIL ' <<<"$out")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name (exit status $status)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}
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
run() { # run NAME CMD...: a tool that prints its own PASS/FAIL lines
	local name=$1 out status
	shift
	out=$("$@" 2>&1)
	status=$?
	tally "$out" "$status" "$name"
}

check "dashboards/*.json are up to date with dashboards/src" \
	python3 dashboards/src/build.py --check

schema_version=42
if command -v node >/dev/null && command -v npm >/dev/null; then
	if [ ! -d "$here/node_modules/@grafana/schema" ] || [ ! -d "$here/node_modules/typescript" ]; then
		check "npm ci in $here" npm ci --prefix "$here" --no-audit --no-fund
	fi
	js='console.log(require("@grafana/schema").defaultDashboard.schemaVersion)'
	if v=$(cd "$here" && node -e "$js" 2>/dev/null); then
		schema_version=$v
	fi
	run "typecheck.mjs" node "$here/typecheck.mjs" dashboards/*.json
	tmp=$(mktemp -d)
	python3 - "$tmp/broken.json" <<'PY'
import json, sys
d = json.load(open("dashboards/redtap-service-overview.json"))
p = next(p for p in d["panels"] if p["type"] == "timeseries")
p["options"]["tooltip"]["mode"] = "everything"
json.dump(d, open(sys.argv[1], "w"))
PY
	if node "$here/typecheck.mjs" "$tmp/broken.json" 2>&1 | grep -q '"everything"'; then
		echo "PASS typecheck.mjs rejects an invalid enum value"
		pass=$((pass + 1))
	else
		echo "FAIL typecheck.mjs accepted tooltip.mode \"everything\""
		fail=$((fail + 1))
	fi
	rm -rf "$tmp"
else
	echo "FAIL node and npm are needed for the @grafana/schema type check (apt-get install nodejs npm)"
	fail=$((fail + 1))
fi

run "check_dashboards.py" python3 "$here/check_dashboards.py" \
	--schema-version "$schema_version" dashboards/*.json
check "dashboard checks fail on broken dashboards (test_check_dashboards.py)" \
	python3 "$here/test_check_dashboards.py"
check "scripts/grafana-sync dry run and stub Grafana (test_grafana_sync.py)" \
	python3 "$here/test_grafana_sync.py"
run "check_provisioning.py" python3 "$here/check_provisioning.py"
run "test_live_prometheus.py" python3 "$here/test_live_prometheus.py"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
