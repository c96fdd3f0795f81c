#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/uprobe_cost.sh [ROUNDS] [CALLS] - the cost of one uprobe by the kind
# of instruction it sits on (bench/uprobe_cost.c: counting uprobes of the
# perf uprobe PMU, no BPF program), ROUNDS runs (default 5) of CALLS calls
# (default 20000) per kind; prints the median ns per call of each column
# over the rounds, the unprobed call subtracted. Needs root (perf_event_open
# of a uprobe) and a C compiler. Touches nothing global: the probes are on
# a temporary executable, for its own process only.
set -euo pipefail
rounds=${1:-5} calls=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/uprobe_cost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -o "$tmp/uprobe_cost" "$here/uprobe_cost.c"
for _ in $(seq "$rounds"); do
	"$tmp/uprobe_cost" "$calls" | tail -n +2
	sleep 0.2
done | awk -v rounds="$rounds" '
	function median(k, c,   n, i, j, t, a) {
		n = cnt[k]
		for (i = 1; i <= n; i++) a[i] = v[k, c, i]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	!($1 in cnt) { order[++nk] = $1 }
	{ i = ++cnt[$1]; v[$1, 2, i] = $2; v[$1, 3, i] = $3 - $2; v[$1, 4, i] = $4 ? $4 - $2 : 0 }
	END {
		printf "%-9s %9s %12s %19s   (median of %d rounds, ns per call)\n", "site",
			"unprobed", "entry probe", "entry + uretprobe", rounds
		for (i = 1; i <= nk; i++) {
			k = order[i]; r = median(k, 4)
			printf "%-9s %9.0f %12.0f %19s\n", k, median(k, 2), median(k, 3),
				r ? sprintf("%.0f", r) : "-"
		}
	}'
