#!/bin/bash
# tests/e2e/test_faults_process.sh - fault injection on the process side:
#  - a watched process forks and execs a watched binary at a high rate (a
#    bounded loop, 20 000 children or 40 s): the agent stays healthy
#    (/healthz answers all along), its memory and process table stay
#    bounded, and it still measures a real request exactly afterwards;
#  - SIGKILL of the agent with its programs attached: nothing stays loaded
#    (none of its BPF programs or links remain, nothing pinned).
# Ports: 30310 agent, 30311 app.
. "$(dirname "$0")/lib.sh"

AGENT=30310
APP=30311

# bpf_ids KIND PID: ids of the BPF programs or links (KIND prog|link) PID holds
# open (from /proc/PID/fdinfo, which names them exactly).
bpf_ids() {
	cat /proc/"$2"/fdinfo/* 2>/dev/null | sed -n "s/^$1_id:[[:space:]]*//p" | sort -un
}
# bpf_alive KIND IDS...: the ids among IDS that still exist.
bpf_alive() {
	kind=$1
	shift
	for id in "$@"; do bpftool "$kind" show id "$id" >/dev/null 2>&1 && echo "$id"; done
}

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
APP_PID=$!
bg_track $APP_PID
wait_port $APP

echo "- fork/exec storm of a watched binary"
cp /bin/bash "$E2E_TMP/storm-sh"
cp /bin/true "$E2E_TMP/storm-true"
start_agent $AGENT -p $APP_PID -e "$E2E_TMP/storm-*" ||
	{ echo "  FAIL agent did not start"; exit 1; }
curl -s -o /dev/null "http://127.0.0.1:$APP/items/0"
sleep 1
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status")
cpu0=$(awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat")
"$E2E_TMP/storm-sh" -c '
end=$((SECONDS + 40))
for i in $(seq 20000); do
	"$0" || exit 1
	[ $SECONDS -ge $end ] && break
done
echo $i >"$1"' "$E2E_TMP/storm-true" "$E2E_TMP/storm.count" &
STORM=$!
bg_track $STORM
t0=$(date +%s.%N)
fails=0
polls=0
while kill -0 $STORM 2>/dev/null && [ $polls -lt 200 ]; do
	curl -sf -m 2 -o /dev/null "http://127.0.0.1:$AGENT/healthz" || fails=$((fails + 1))
	polls=$((polls + 1))
	sleep 0.25
done
wait $STORM
t1=$(date +%s.%N)
n=$(cat "$E2E_TMP/storm.count" 2>/dev/null || echo 0)
rate=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
log "storm: $n fork+exec in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($rate/s)"
expect_ge "the storm ran (children)" "$n" 1000
expect_eq "/healthz answered during the storm ($polls polls)" "$fails" 0
settle 2
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status")
cpu1=$(awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat")
log "agent CPU during the storm: $(((cpu1 - cpu0) * 10)) ms; RSS $rss0 -> $rss1 KiB"
check "agent RSS bounded (+$((rss1 - rss0)) KiB < 32 MiB)" test $((rss1 - rss0)) -lt 32768
procs=$(metric_sum redtap_instrumented_processes)
check "process table back to the live processes ($procs, not ~$n)" test "${procs%.*}" -le 10
h0=$(metric_sum http_server_request_duration_seconds_count http_route=/items/{id})
curl -s -o /dev/null "http://127.0.0.1:$APP/items/1"
settle
expect_eq "a request after the storm is measured exactly once" \
	"$(($(metric_sum http_server_request_duration_seconds_count http_route=/items/{id}) - h0))" 1
check "agent still running" kill -0 "$AGENT_PID"
stop_agent

echo "- SIGKILL with programs attached: nothing stays loaded"
start_agent $AGENT -p $APP_PID || { echo "  FAIL agent did not start"; exit 1; }
curl -s -o /dev/null "http://127.0.0.1:$APP/items/2"
progs=$(bpf_ids prog "$AGENT_PID")
links=$(bpf_ids link "$AGENT_PID")
log "agent $AGENT_PID holds programs: $(echo $progs) links: $(echo $links)"
check "the agent holds BPF programs (its fdinfo names them)" test -n "$progs"
check "... and links attached" test -n "$links"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
left_p=$progs
left_l=$links
for _ in $(seq 50); do
	# shellcheck disable=SC2086
	left_p=$(bpf_alive prog $progs)
	# shellcheck disable=SC2086
	left_l=$(bpf_alive link $links)
	[ -z "$left_p$left_l" ] && break
	sleep 0.1
done
expect_eq "no program of the killed agent is still loaded" "$(echo $left_p)" ""
expect_eq "no link of the killed agent is still attached" "$(echo $left_l)" ""
check "nothing pinned under /sys/fs/bpf" \
	bash -c "! find /sys/fs/bpf -name '*redtap*' 2>/dev/null | grep -q ."
check "a new agent starts on the same port right away" start_agent $AGENT -p $APP_PID
curl -s -o /dev/null "http://127.0.0.1:$APP/items/3"
settle
expect_eq "... and measures" "$(metric_sum http_server_request_duration_seconds_count http_route=/items/{id})" 1
e2e_finish
