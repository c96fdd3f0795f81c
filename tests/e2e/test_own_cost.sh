#!/bin/bash
# tests/e2e/test_own_cost.sh - the agent reports what it costs: its own CPU
# time and resident memory (redtap_process_*) agree with what /proc says of
# its process, and with the kernel's BPF statistics on, the run counts and
# run time of its BPF programs (redtap_bpf_program_*) grow with the
# syscalls of the traffic it sees. The statistics are switched on by a
# helper holding a BPF_ENABLE_STATS descriptor (tests/lib/bpfstats.sh), so
# they end with it even when this test is killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/nginx.sh"
. "$E2E_ROOT/tests/lib/bpfstats.sh"
NGX=30180
AGENT=30664

# proc_cpu PID: its user + system CPU seconds, from /proc/PID/stat.
proc_cpu() {
	awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / tck }' \
		"/proc/$1/stat"
}

start_agent $AGENT -e '*/nginx-e2e'
start_nginx $NGX
U=http://127.0.0.1:$NGX
sleep 0.5
for i in $(seq 20); do curl -s -o /dev/null $U/api/warm/$i; done

# The agent's CPU: the counter (refreshed by the sweep, every second) lies
# between what /proc said two seconds before the scrape and after it.
low=$(proc_cpu "$AGENT_PID")
settle 2
cpu=$(metric_sum redtap_process_cpu_time_seconds_total)
high=$(proc_cpu "$AGENT_PID")
log "agent CPU: /proc $low .. $high s, metric $cpu s"
check "CPU counter not below /proc's of 2 s before" python3 -c "import sys; sys.exit(not $cpu >= $low - 0.011)"
check "CPU counter not above /proc's after the scrape" python3 -c "import sys; sys.exit(not $cpu <= $high + 0.011)"
check "CPU counter counts (loading the programs takes CPU)" python3 -c "import sys; sys.exit(not $cpu > 0)"
expect_eq "CPU split by mode" "$(scrape | grep -c '^redtap_process_cpu_time_seconds_total{cpu_mode="\(user\|system\)"}')" 2

# The agent's memory: within a factor of two of its resident set now.
rss=$(metric_sum redtap_process_memory_usage_bytes)
now=$(awk -v pg="$(getconf PAGESIZE)" '{ print $2 * pg }' "/proc/$AGENT_PID/statm")
log "agent RSS: metric $rss, /proc $now bytes"
check "RSS gauge near /proc's" python3 -c "import sys; sys.exit(not ($now / 2 <= $rss <= $now * 2))"

# BPF statistics on while a helper holds its fd; the counters go on from
# where they are (0, or no series yet if they were never on)
bpf_stats_hold "$E2E_TMP/stats.out"
held=$?
bg_track "$BPF_STATS_PID"
log "stats holder: $(cat "$E2E_TMP/stats.out")"
expect_eq "BPF statistics switched on" "$held" 0
exit_runs() { scrape | awk '/^redtap_bpf_program_runs_total\{program="exit_/ { s += $2 } END { printf "%d", s }'; }
exit_time() { scrape | awk '/^redtap_bpf_program_run_time_seconds_total\{program="exit_/ { s += $2 } END { printf "%.9f", s + 0 }'; }
runs0=$(exit_runs)
time0=$(exit_time)
for i in $(seq 100); do curl -s -o /dev/null $U/api/users/$i; done
# the agent reads its programs' statistics every 5 s
for _ in $(seq 24); do
	runs1=$(exit_runs)
	[ "$runs1" -ge $((runs0 + 200)) ] && break
	sleep 0.5
done
time1=$(exit_time)
log "exit programs: runs $runs0 -> $runs1, run time $time0 -> $time1 s"
# each request is at least a read and a write of nginx's and of curl's
expect_ge "runs of the exit programs grew with 100 requests" "$((runs1 - runs0))" 200
check "their run time grew" python3 -c "import sys; sys.exit(not $time1 > $time0)"
check "ns a run is plausible (10 ns .. 100 us)" python3 -c "
import sys
ns = ($time1 - $time0) * 1e9 / max($runs1 - $runs0, 1)
print('  ns a run:', round(ns))
sys.exit(not 10 <= ns <= 100000)"
expect_ge "a series per program, by its name" \
	"$(scrape | grep -c '^redtap_bpf_program_runs_total{program="exit_\(read\|recvfrom\|writev\|write\|sendfile64\)"}')" 2
kill "$BPF_STATS_PID" 2>/dev/null
e2e_finish
