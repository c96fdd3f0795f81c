#!/bin/bash
# tests/e2e/test_faults_collector.sh - fault injection: the real agent
# exports the spans of a traced HTTP app to a hostile fake collector (a
# Python server written below, 127.0.0.1:30302) that is down, slow (answers
# after the request timeout), answers garbage, 503, 429 with "Retry-After: 0",
# a 1 GiB body, or an endless header block. In every case the agent stays
# healthy (/healthz, /metrics), keeps capturing (the HTTP request counter
# counts every request exactly), and accounts for every span within the
# documented bound (OTEL_BSP_SCHEDULE_DELAY + OTEL_BSP_EXPORT_TIMEOUT, plus
# slack): exported, or dropped and counted in redtap_otlp_dropped_total.
# Ports: 30300 agent, 30301 app, 30302 collector.
. "$(dirname "$0")/lib.sh"

AGENT=30300
APP=30301
COL=30302
N=10
BOUND_S=15 # 0.2 s schedule delay + 2 s export timeout per batch, a few batches, slack

# The fake collector: reads one request per connection, answers by $E2E_TMP/mode,
# appends "MODE" to $E2E_TMP/requests for every request it read.
cat >"$E2E_TMP/collector.py" <<'PY'
import socket, socketserver, sys, time
mode_file, log_file, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

class H(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        clen = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                clen = int(line.split(b":")[1])
        while len(body) < clen:
            chunk = s.recv(65536)
            if not chunk:
                return
            body += chunk
        mode = open(mode_file).read().strip()
        with open(log_file, "a") as f:
            f.write(mode + "\n")
        try:
            self.answer(s, mode)
        except OSError:
            pass  # the agent gave up on us: that is the point

    def answer(self, s, mode):
        ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
        if mode == "ok":
            s.sendall(ok)
        elif mode == "503":
            s.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy")
        elif mode == "retry0":
            s.sendall(b"HTTP/1.1 429 Slow down\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n")
        elif mode == "garbage":
            s.sendall(b"\x00\xff\x16\x03 this is not HTTP \x1b[31m\r\n\r\n" * 50)
        elif mode == "slow":
            time.sleep(4)  # the agent's request timeout is 1 s
            s.sendall(ok)
        elif mode == "huge":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
            zeros = b"\0" * 65536
            end = time.time() + 20
            for _ in range(16384):  # 1 GiB at most, 20 s at most
                if time.time() > end:
                    break
                s.sendall(zeros)
        elif mode == "headers":
            s.sendall(b"HTTP/1.1 200 OK\r\n")
            end = time.time() + 20
            for i in range(1000000):  # an endless header block, 20 s at most
                if time.time() > end:
                    break
                s.sendall(b"X-Filler-%d: %s\r\n" % (i, b"y" * 100))

class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

S(("127.0.0.1", port), H).serve_forever()
PY

COL_PID=
start_collector() {
	echo "$1" >"$E2E_TMP/mode"
	[ -n "$COL_PID" ] && return 0
	python3 "$E2E_TMP/collector.py" "$E2E_TMP/mode" "$E2E_TMP/requests" $COL 2>>"$E2E_TMP/collector.log" &
	COL_PID=$!
	bg_track $COL_PID
	wait_port $COL
}
stop_collector() {
	[ -n "$COL_PID" ] || return 0
	kill -TERM "$COL_PID" 2>/dev/null
	wait "$COL_PID" 2>/dev/null
	COL_PID=
}
requests() { cat "$E2E_TMP/requests" 2>/dev/null | grep -c "^$1\$"; }

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
APP_PID=$!
bg_track $APP_PID
wait_port $APP

start_collector ok
OTEL_SERVICE_NAME=faults OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COL \
OTEL_METRICS_EXPORTER=none OTEL_TRACES_SAMPLER=always_on OTEL_EXPORTER_OTLP_TIMEOUT=1000 \
OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_EXPORT_TIMEOUT=2000 OTEL_BSP_MAX_QUEUE_SIZE=256 \
	start_agent $AGENT -p $APP_PID || { echo "  FAIL agent did not start"; exit 1; }

exported() { metric_sum redtap_otlp_exported_total signal=traces; }
dropped() { metric_sum redtap_otlp_dropped_total signal=traces; }
http_count() { metric_sum http_server_request_duration_seconds_count; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status"; }

# phase NAME WANT: N requests to the app while the collector is in mode NAME;
# WANT is "exported" or "dropped": where all N spans must be counted.
phase() {
	name=$1
	want=$2
	echo "- collector $name: spans $want, agent healthy"
	echo "$name" >"$E2E_TMP/mode"
	e0=$(exported)
	d0=$(dropped)
	h0=$(http_count)
	for i in $(seq $N); do curl -s -o /dev/null "http://127.0.0.1:$APP/items/$i"; done
	t0=$(date +%s)
	for _ in $(seq $((BOUND_S * 2))); do
		[ $(($(exported) + $(dropped) - e0 - d0)) -ge $N ] && break
		sleep 0.5
	done
	took=$(($(date +%s) - t0))
	check "$name: /healthz answers" curl -sf -o /dev/null "http://127.0.0.1:$AGENT/healthz"
	expect_eq "$name: every request counted by the HTTP metrics" "$(($(http_count) - h0))" $N
	if [ "$want" = exported ]; then
		expect_eq "$name: spans exported" "$(($(exported) - e0))" $N
		expect_eq "$name: none dropped" "$(($(dropped) - d0))" 0
	else
		expect_eq "$name: none exported" "$(($(exported) - e0))" 0
		expect_eq "$name: every span counted as dropped" "$(($(dropped) - d0))" $N
	fi
	check "$name: accounted for within ${BOUND_S} s (took ${took} s)" test "$took" -le $BOUND_S
}

curl -s -o /dev/null "http://127.0.0.1:$APP/items/0" # warm-up: the app is seen as a server
sleep 2
rss0=$(rss_kb)
phase ok exported
phase 503 dropped
check "503 was retried (several requests)" test "$(requests 503)" -ge 2
phase retry0 dropped
r0=$(requests retry0)
# 2 s per batch with pauses of >= 250, 250, 500, 1000 ms: at most 4 requests per
# batch, and 10 spans make at most a few batches. Without the floor: hundreds.
check "Retry-After: 0 does not make the exporter spin ($r0 requests)" test "$r0" -le 30
phase garbage dropped
phase slow dropped
phase huge exported
phase headers dropped
stop_collector
phase down dropped
start_collector ok
phase ok exported
check "agent log: export failures are logged, rate-limited (< 20 lines)" \
	test "$(grep -c 'export failed' "$E2E_TMP/agent.log")" -lt 20
check "agent log: no control bytes from the collector" \
	bash -c "! grep -q \$'\\x1b' '$E2E_TMP/agent.log'"
rss1=$(rss_kb)
check "agent RSS bounded: ${rss0} KiB -> ${rss1} KiB (< +32 MiB; a 1 GiB body was offered)" \
	test $((rss1 - rss0)) -lt 32768
check "the agent is still running" kill -0 "$AGENT_PID"
e2e_finish
