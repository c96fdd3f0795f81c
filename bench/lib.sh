# bench/lib.sh - sourced by bench/run.sh and its parts: the temporary
# directory, processes started in the background (and only those stopped
# at exit), nginx, wrk, the agent, the floor loader, /proc readings, medians,
# the results file, and the none / floor / agent rotation (rotate) that the
# overhead parts (http, app, wire, h2, go, logs) run through their hooks,
# with an older agent as one more variant ("baseline", see variant_up).
#
# Results are "key value" lines in $BENCH_RESULTS; run.sh prints the table.
# Everything listens on 127.0.0.1 only; every load is bounded in time.

BENCH_ROOT=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$BENCH_ROOT/build}
BENCH_PIDS=()

bench_init() {
	BENCH_TMP=$(mktemp -d /tmp/redtap-bench.XXXXXX)
	chmod 755 "$BENCH_TMP" # nginx workers and postgres read below it
	BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_TMP/results}
	: >"$BENCH_RESULTS"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	BENCH_PIDS=()
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$BENCH_TMP"
}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# bg_track PID: stopped by bench_cleanup unless stopped before.
bg_track() { BENCH_PIDS+=("$1"); }

# agent_counters PORT: the agent's records received and kernel drops (the
# redtap_events_received_total and redtap_kernel_events_dropped_total lines).
agent_counters() {
	curl -fs "http://127.0.0.1:$1/metrics" |
		grep -E '^redtap_(events_received|kernel_events_dropped)_total'
}

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL; forgets it.
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

result() { echo "$1 $2" >>"$BENCH_RESULTS"; }

# get KEY: a result recorded earlier, or "n/a".
get() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "n/a" : v) }' "$BENCH_RESULTS"; }

port_listening() { ss -Htln "sport = :$1" | grep -q .; }

# pick_port BASE: the first TCP port from BASE on that no socket uses, in
# any state. The bases are below the ephemeral range (32768 on), so that
# client connections do not take our ports between the pick and the bind.
pick_port() {
	local p=$1
	while ss -Htan "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# wait_port PORT [SECONDS]: until something listens on PORT.
wait_port() {
	for _ in $(seq $((${2:-10} * 10))); do
		port_listening "$1" && return 0
		sleep 0.1
	done
	return 1
}

# median of the numbers on stdin (one per line); "n/a" when there are none.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating-point arithmetic; "n/a" if any operand is n/a.
calc() {
	case "$*" in *n/a*) echo n/a; return ;; esac
	awk "BEGIN { printf \"%.6g\n\", $* }"
}

# range of the numbers on stdin: "MIN..MAX".
range() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (NR ? lo ".." hi : "n/a") }'; }

# --- a quiet machine ---

# busy_share SECONDS: the share of all CPUs busy over that time (0..1).
busy_share() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ busy = $3 - $1; all = busy + $4 - $2
		printf "%.3f\n", (all > 0 ? busy / all : 0) }'
}

# tracing_progs: tracepoint and raw-tracepoint BPF programs loaded on the
# node, ours included (the floor and the agent load 28 each).
tracing_progs() {
	bpftool prog show 2>/dev/null | grep -cE '^[0-9]+: +(tracepoint|raw_tracepoint) '
}

# wait_quiet: other people's work on the node skews a run, above all
# another agent's probes (they tax every process). Waits until no tracing
# program is loaded and less than 10% of the CPUs are busy; all the waits
# of one `make bench` share a budget of $BENCH_WAIT_BUDGET seconds (180), so
# that it ends in time on a node that never calms down. Call it while none
# of ours is loaded.
QUIET_WAITED=0
QUIET_CALLS=0 # runs started
QUIET_BUSY=0  # ... of which on a busy node
wait_quiet() {
	local b=n/a n=n/a t0=$SECONDS
	QUIET_CALLS=$((QUIET_CALLS + 1))
	while [ "$QUIET_WAITED" -lt "${BENCH_WAIT_BUDGET:-180}" ]; do
		n=$(tracing_progs)
		if [ "$n" = 0 ]; then
			b=$(busy_share 0.5)
			[ "$(calc "($b < 0.10)")" = 1 ] && break
		fi
		sleep 0.5
		QUIET_WAITED=$((QUIET_WAITED + SECONDS - t0))
		t0=$SECONDS
	done
	[ "$QUIET_WAITED" -lt "${BENCH_WAIT_BUDGET:-180}" ] && return 0
	QUIET_BUSY=$((QUIET_BUSY + 1))
	log "warning: the node is busy - measuring anyway"
}

# --- nginx ---

# start_nginx PORT WORKERS [CERT KEY]: a private nginx on 127.0.0.1:PORT; sets
# NGX_PID. /api/... answers 200 "ok" with keep-alive; over TLS (HTTP/1.1)
# with a certificate and its key.
start_nginx() {
	local dir=$BENCH_TMP/nginx-$1 tls=""
	[ -n "${3:-}" ] && tls=" ssl; ssl_certificate $3; ssl_certificate_key $4"
	mkdir -p "$dir/logs" "$dir/html"
	chmod 755 "$dir" "$dir/html"
	cat >"$dir/nginx.conf" <<NGX
worker_processes $2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$1 backlog=4096$tls;
		root $dir/html;
		location /api/ { default_type text/plain; return 200 "ok\n"; }
	}
}
NGX
	nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' 2>>"$dir/logs/stderr" &
	NGX_PID=$!
	bg_track "$NGX_PID"
	wait_port "$1" 10 || { log "nginx did not start on port $1"; return 1; }
}

# --- wrk ---

# WRK_US_AWK: an awk function, us("1.25ms"): a wrk latency in microseconds.
WRK_US_AWK='function us(s, v, u) { v = s; u = s; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
	return v * (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1) }'

# wrk_run URL CONNS SECONDS [wrk options...]: prints "RPS P99_US REQUESTS
# WRK_CPU_S" (wrk's own user + system time). wrk's whole output is also left
# in $BENCH_TMP/wrk.last (see wrk_pct).
wrk_run() {
	local url=$1 conns=$2 secs=$3 out t=$BENCH_TMP/wrk.time.$BASHPID
	shift 3
	out=$(/usr/bin/time -o "$t" -f '%U %S' wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" \
		"$url" 2>&1)
	echo "$out" >>"$BENCH_TMP/wrk.log"
	echo "$out" >"$BENCH_TMP/wrk.last"
	echo "$out" | awk -v t="$t" "$WRK_US_AWK"'
		/^ *99%/ { p99 = us($2) }
		/requests in/ { req = $1 }
		/^Requests\/sec:/ { rps = $2 }
		END { getline cpu < t; split(cpu, c, " ")
		      if (rps == "") print "n/a n/a n/a n/a"
		      else print rps, p99, req, c[1] + c[2] }'
	rm -f "$t"
}

# wrk_pct PCT: the PCT-th percentile latency (50, 75, 90, 99) in us of the
# last wrk_run (run by this shell, not in parallel), or "n/a".
wrk_pct() {
	awk -v p="$1%" "$WRK_US_AWK"' $1 == p { v = us($2) } END { print (v == "" ? "n/a" : v) }' \
		"$BENCH_TMP/wrk.last"
}

# --- the agent and the floor ---

# start_agent PORT ARGS...: build/redtap (or $AGENT_BIN) listening on
# 127.0.0.1:PORT; sets AGENT_PID once /metrics answers. Tries twice (the
# binary may be being rebuilt by someone else at that very moment).
start_agent() {
	local port=$1 try
	shift
	for try in 1 2; do
		"${AGENT_BIN:-$BUILD/redtap}" --listen "127.0.0.1:$port" "$@" \
			>>"$BENCH_TMP/agent.log" 2>&1 &
		AGENT_PID=$!
		bg_track "$AGENT_PID"
		for _ in $(seq 300); do
			curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
			kill -0 "$AGENT_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$AGENT_PID"
		log "the agent did not start (try $try): $(tail -1 "$BENCH_TMP/agent.log")"
		sleep 2
	done
	return 1
}

# start_otlp_sink BASE: bench/otlp_sink.py on a free port from BASE on;
# sets OTLP_SINK_PORT and OTLP_SINK_PID, tracked, once it listens (else
# returns 1 with it stopped).
start_otlp_sink() {
	OTLP_SINK_PORT=$(pick_port "$1")
	python3 "$BENCH_ROOT/bench/otlp_sink.py" "$OTLP_SINK_PORT" &
	OTLP_SINK_PID=$!
	bg_track "$OTLP_SINK_PID"
	wait_port "$OTLP_SINK_PORT" || { stop_pid "$OTLP_SINK_PID"; return 1; }
}

# start_floor [ARGS...]: build/bench/floor ARGS (e.g. --bound lookup); sets
# FLOOR_PID once its programs are attached.
start_floor() {
	local out=$BENCH_TMP/floor.out
	: >"$out"
	"$BUILD/bench/floor" "$@" >"$out" 2>&1 &
	FLOOR_PID=$!
	bg_track "$FLOOR_PID"
	for _ in $(seq 200); do
		grep -q '^floor: ready' "$out" && return 0
		kill -0 "$FLOOR_PID" 2>/dev/null || break
		sleep 0.05
	done
	log "the floor loader failed: $(cat "$out")"
	return 1
}

# metric_sum PORT NAME [LABEL_FILTER]: the sum of a metric's samples whose
# line contains LABEL_FILTER (e.g. reason="ringbuf_full").
metric_sum() {
	curl -fs "http://127.0.0.1:$1/metrics" |
		awk -v n="$2" -v f="${3:-}" 'index($0, n) == 1 && (f == "" || index($0, f)) {
			s += $NF; seen = 1 } END { print seen ? s : "n/a" }'
}

# --- /proc ---

export CLK_TCK
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID...: utime + stime in clock ticks, summed.
cpu_ticks() {
	local pid
	for pid in "$@"; do
		cat "/proc/$pid/stat" 2>/dev/null
	done | sed 's/^.*) //' | awk '{ s += $12 + $13 } END { print s + 0 }'
}

# cpu_ns PID...: time on a CPU in nanoseconds (the scheduler's own sum of
# every thread, /proc/PID/task/*/schedstat), summed; exact where clock
# ticks are 10 ms. A thread that ended is not in it: for the daemons, whose
# threads live as long as they do.
cpu_ns() {
	local pid
	for pid in "$@"; do
		cat /proc/"$pid"/task/*/schedstat 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# tree_ticks PID: cpu_ticks of PID and its children (nginx and its workers).
tree_ticks() {
	# shellcheck disable=SC2046
	cpu_ticks "$1" $(pgrep -P "$1")
}

# irq_ticks: time the node spent in hard and soft interrupts (loopback
# traffic is partly processed there, outside any process's time).
irq_ticks() { awk '/^cpu / { print $7 + $8 }' /proc/stat; }

# status_kib PID FIELD: a "kB" field of /proc/PID/status (VmRSS, RssAnon...).
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# bpf_map_rss_kib PID: resident KiB of the process's mmapped BPF maps (the
# ring buffer: its data pages are mapped twice, so 8 MiB shows as 16 MiB).
bpf_map_rss_kib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { bpf = ($6 == "anon_inode:bpf-map") }
		bpf && $1 == "Rss:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps"
}

# --- the none / floor / agent rotation of the overhead parts ---
#
# A part defines four hooks named after it (PART_up, PART_run, PART_down,
# PART_keep) and calls `rotate PART ROUNDS "VARIANTS"`. The hooks run inside
# the part's function, so they see its locals (directories, ports, URLs).

# variant_up VARIANT [AGENT_ARGS...]: "none" starts nothing, "floor" the
# floor loader, "bound_clock", "bound_lookup" and "bound_record" the floor
# loader's lower bounds of the agent (bench/bound.bpf.c), "baseline" an
# older agent to compare with (the binary
# $BENCH_BASELINE, e.g. built from the tree before a change, started as
# start_agent AGENT_ARGS... $BENCH_BASELINE_ARGS: its CLI may differ), any
# other variant the agent (start_agent AGENT_ARGS...).
variant_up() {
	local v=$1
	shift
	AGENT_PID=
	case $v in
	none) ;;
	floor) start_floor ;;
	bound_clock | bound_lookup | bound_record) start_floor --bound "${v#bound_}" ;;
	baseline)
		# shellcheck disable=SC2086 # BENCH_BASELINE_ARGS: words
		AGENT_BIN=$BENCH_BASELINE start_agent "$@" ${BENCH_BASELINE_ARGS:-}
		;;
	*) start_agent "$@" ;;
	esac
}

# variant_down VARIANT: stops what variant_up VARIANT started.
variant_down() {
	case $1 in
	none) ;;
	floor | bound_*) stop_pid "$FLOOR_PID" ;;
	*) stop_pid "$AGENT_PID" ;;
	esac
}

# rotate PART ROUNDS "VARIANTS": runs each variant once a round for ROUNDS
# rounds; round R starts at variant R mod n, so that each variant takes every
# place in turn and a slow drift of the machine spreads over all of them.
# A part adds "baseline" to VARIANTS when $BENCH_BASELINE is set
# (bench_variants). One run: wait_quiet; PART_up V (a failure ends the
# rotation: returns 1); PART_run R V, the measure, which leaves its figures
# in variables or in files it overwrites; PART_down V. If another tracer
# loaded programs meanwhile (it taxes every process) the run is taken again,
# at most twice and 8 times per rotation; then PART_keep R V records the
# figures.
rotate() {
	local _rot_part=$1 _rot_rounds=$2 _rot_vs _rot_n _rot_r _rot_i _rot_v _rot_try
	local _rot_mine _rot_theirs _rot_again=0
	read -ra _rot_vs <<<"$3"
	_rot_n=${#_rot_vs[@]}
	for _rot_r in $(seq 0 $((_rot_rounds - 1))); do
		for _rot_i in $(seq 0 $((_rot_n - 1))); do
			_rot_v=${_rot_vs[$(((_rot_r + _rot_i) % _rot_n))]}
			for _rot_try in 1 2 3; do
				wait_quiet
				"${_rot_part}_up" "$_rot_v" || return 1
				_rot_mine=$(tracing_progs)
				"${_rot_part}_run" "$_rot_r" "$_rot_v"
				_rot_theirs=$(($(tracing_progs) - _rot_mine))
				"${_rot_part}_down" "$_rot_v"
				[ "$_rot_theirs" = 0 ] && break
				log "$_rot_part: another tracer appeared during the $_rot_v run" \
					"(try $_rot_try)"
				_rot_again=$((_rot_again + 1))
				[ "$_rot_again" -le 8 ] || break # the part ends in time
			done
			"${_rot_part}_keep" "$_rot_r" "$_rot_v"
		done
	done
}

# bench_variants "VARIANTS": VARIANTS, plus "baseline" if $BENCH_BASELINE
# names an agent binary to compare with.
bench_variants() { echo "$1${BENCH_BASELINE:+ baseline}"; }

# round_ratios DIR KEY VARIANT BASE ROUNDS: DIR/KEY.R.VARIANT divided by
# DIR/KEY.R.BASE for each round R, one a line (rounds missing either left out).
round_ratios() {
	local r
	for r in $(seq 0 $(($5 - 1))); do
		[ -s "$1/$2.$r.$3" ] && [ -s "$1/$2.$r.$4" ] &&
			calc "$(cat "$1/$2.$r.$3") / $(cat "$1/$2.$r.$4")"
	done
	return 0
}

# ratio_results NAME RANGE_NAME DIR KEY VARIANT BASE ROUNDS: records the
# median of round_ratios as NAME and their range as RANGE_NAME.
ratio_results() {
	local f=$3/ratios.$4.$5.$6
	round_ratios "$3" "$4" "$5" "$6" "$7" >"$f"
	result "$1" "$(median <"$f")"
	result "$2" "$(range <"$f")"
}

# modes_keep PART R V DIR: files round R of variant V of a service measured
# at a fixed rate and at saturation, from "RPS P50_US P99_US" in
# DIR/run.fixed and DIR/run.sat (round R's rps and p99, and every round's
# rps, p50 and p99, per mode), and logs it.
modes_keep() {
	local part=$1 r=$2 v=$3 dir=$4 m rps p50 p99
	for m in fixed sat; do
		read -r rps p50 p99 <"$dir/run.$m"
		echo "$rps" >"$dir/rps.$m.$r.$v"
		echo "$p99" >"$dir/p99.$m.$r.$v"
		echo "$rps" >>"$dir/rpsall.$m.$v"
		echo "$p50" >>"$dir/p50all.$m.$v"
		echo "$p99" >>"$dir/p99all.$m.$v"
		log "$part: round $((r + 1)) $v $m: $rps req/s, p50 $p50 us, p99 $p99 us"
	done
}

# modes_results PART DIR ROUNDS V: records what modes_keep filed for
# variant V: per mode the medians (PART_MODE_rps_V, _p50_us_V, _p99_us_V)
# and the throughput and p99 ratios to "none" with their ranges.
modes_results() {
	local part=$1 dir=$2 rounds=$3 v=$4 m k
	for m in fixed sat; do
		result "${part}_${m}_rps_$v" "$(median <"$dir/rpsall.$m.$v")"
		result "${part}_${m}_p50_us_$v" "$(median <"$dir/p50all.$m.$v")"
		result "${part}_${m}_p99_us_$v" "$(median <"$dir/p99all.$m.$v")"
		for k in rps p99; do
			ratio_results "${part}_${m}_${k}_ratio_$v" "${part}_${m}_${k}_ratio_range_$v" \
				"$dir" "$k.$m" "$v" none "$rounds"
		done
	done
}

# go_build DIR OUT: builds the Go package in DIR (standard library and
# Debian's golang-*-dev packages only: GOPATH mode, no module proxy) into
# OUT; the compiler's output in OUT.log.
go_build() {
	(cd "$1" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS='' \
		GOCACHE=/tmp/redtap-gocache CGO_ENABLED=0 go build -o "$2" "${3:-.}") >"$2.log" 2>&1
}

# pace_build: builds bench/pace.go (the open-loop generator of the
# fixed-rate modes) into $BENCH_TMP/pace, once a run for every part that
# uses it; sets PACE_BIN. Returns 1 with the compiler's last line logged
# when it cannot.
pace_build() {
	PACE_BIN=$BENCH_TMP/pace
	[ -x "$PACE_BIN" ] && return 0
	command -v go >/dev/null || { log "pace: go missing (apt-get install golang-go)"; return 1; }
	go_build "$BENCH_ROOT/bench" "$PACE_BIN" pace.go ||
		{ log "pace: build failed: $(tail -1 "$PACE_BIN.log")"; return 1; }
}

# pace_run URL SECS RATE: "RPS P50_US P99_US" of bench/pace.go at RATE
# requests a second ("n/a n/a n/a" when it failed; why in $BENCH_TMP/pace.log).
pace_run() {
	"$PACE_BIN" "$1" "$2" "$3" 2>>"$BENCH_TMP/pace.log" || echo "n/a n/a n/a"
}

# gosvc_up DIR BASE: builds tests/e2e/apps/go/gosvc into DIR/gosvc and
# starts what a gosvc request uses, on 127.0.0.1 ports picked from BASE on:
# PostgreSQL with the shop database (BASE), Redis (BASE+3), gosvc's
# downstream (BASE+4) and gosvc itself with GOMAXPROCS=16 (BASE+5), and
# waits until a request succeeds. Sets
# GOSVC_BIN, GOSVC_PORT and GOSVC_PID; returns 1 with the reason in
# GOSVC_ERR. What it started is tracked for srv_stop and bench_cleanup,
# also when it fails half-way.
gosvc_up() {
	local dir=$1 base=$2 pg rd down
	GOSVC_BIN=$dir/gosvc
	go_build "$BENCH_ROOT/tests/e2e/apps/go/gosvc" "$GOSVC_BIN" ||
		{ GOSVC_ERR="build failed: $(tail -1 "$GOSVC_BIN.log")"; return 1; }
	. "$BENCH_ROOT/tests/lib/servers.sh"
	pg=$(pick_port "$base")
	srv_pg_start "$dir/pg" "$pg" >/dev/null && srv_shop_db "$pg" ||
		{ GOSVC_ERR="PostgreSQL did not start"; return 1; }
	rd=$(pick_port $((base + 3)))
	srv_redis_start "$dir" "$rd" >/dev/null || { GOSVC_ERR="redis did not start"; return 1; }
	bg_track "$SRV_REDIS_PID"
	down=$(pick_port $((base + 4)))
	OTEL_SERVICE_NAME=downstream "$GOSVC_BIN" down "$down" >"$dir/down.log" 2>&1 &
	bg_track $!
	GOSVC_PORT=$(pick_port $((base + 5)))
	GOMAXPROCS=16 OTEL_SERVICE_NAME=gosvc "$GOSVC_BIN" serve "$GOSVC_PORT" "$down" "$pg" "$rd" \
		>"$dir/svc.log" 2>&1 &
	GOSVC_PID=$!
	bg_track "$GOSVC_PID"
	wait_port "$down" 10 && wait_port "$GOSVC_PORT" 10 || { GOSVC_ERR="gosvc did not start"; return 1; }
	# listening is not serving: a request needs PostgreSQL, Redis and the
	# downstream too (one second of load a try, ten tries at most)
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"$GOSVC_BIN" bench "$GOSVC_PORT" 1 1 >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	GOSVC_ERR="gosvc answered no request in 10 tries (logs in $dir)"
	return 1
}

# above_floor PREFIX: from the throughput ratios PREFIX_ratio_floor and
# PREFIX_ratio_agent, records PREFIX_floor_cost (1 - floor) and, when the
# floor's cost is above the noise, PREFIX_agent_above_floor: the agent's
# cost above the floor as a fraction of the floor's own. Returns 1 (and
# records only the floor's cost) when it is below the noise.
above_floor() {
	local fb fc
	fb=$(get "$1_ratio_floor")
	fc=$(get "$1_ratio_agent")
	result "$1_floor_cost" "$(calc "1 - $fb")"
	if [ "$(calc "(1 - $fb > 0.005)")" = 1 ]; then
		result "$1_agent_above_floor" "$(calc "($fb - $fc) / (1 - $fb)")"
		return 0
	fi
	log "$1: the floor's cost is below the noise; no fraction of it is reported"
	return 1
}

# smaps_top PID [N]: where a process's resident memory is, by mapped object
# (a library, the binary, [heap], [anon], the BPF maps), largest first:
# "RSS_KIB ANON_KIB OBJECT" lines, N of them (12). A shared library's clean
# pages (text and read-only data touched) count in VmRSS too.
smaps_top() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { o = NF >= 6 ? $NF : "[anon]"; sub(/.*\//, "", o) }
		$1 == "Rss:" { r[o] += $2 } $1 == "Anonymous:" { a[o] += $2 }
		END { for (o in r) if (r[o]) print r[o], a[o] + 0, o }' "/proc/$1/smaps" |
		sort -rn | head -"${2:-12}"
}
