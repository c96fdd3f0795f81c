#!/bin/bash
# tests/e2e/test_logs_files.sh - log files matched by a path glob (issue 16,
# logs.files): what selected processes write to files whose path matches
# REDTAP_LOGS_FILES becomes OTLP log records named by log.file.path and
# log.file.name, decoded by the independent receiver (tests/otlp/receiver.js,
# tests/e2e/apps/logs.py).
#  - nginx started after the agent, and nginx already running when the
#    agent starts: every line of its error log (404s: "open() ... failed" at
#    level error) arrives with severity ERROR and the path, as many as nginx
#    wrote; its access log too; a third log it writes that the glob does
#    not match is not captured;
#  - a Python program that opens its log file after the agent started
#    (a "**" glob) is captured, another file it writes is not; the window
#    between an open and the mark is measured and printed.
# Ports 32150-32199.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps/receiver.sh"
AGENT=32150
NGXB=32151
NGXA=32152
APPS="$E2E_ROOT/tests/e2e/apps"
LOGS="python3 $APPS/logs.py"
N404=20
NOK=10
NPY=50

# ngx_setup NAME PORT: a config and a copy of nginx under $E2E_TMP/NAME; two
# access logs, one matched by the glob and one not.
ngx_setup() {
	d="$E2E_TMP/$1"
	mkdir -p "$d/html" "$d/logs" "$d/other" "$d/tmp"
	chmod 755 "$d" "$d/html"
	chmod 1777 "$d/tmp"
	echo ok >"$d/html/ok.html"
	chmod 644 "$d/html/ok.html"
	cat >"$d/nginx.conf" <<NGX
worker_processes 2;
pid $d/nginx.pid;
error_log $d/logs/error.log error;
events { worker_connections 256; }
http {
	access_log $d/logs/access.log;
	access_log $d/other/access.txt;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen 127.0.0.1:$2;
		root $d/html;
	}
}
NGX
	cp "$(command -v nginx || echo /usr/sbin/nginx)" "$d/nginx-lf"
}

ngx_start() {
	"$E2E_TMP/$1/nginx-lf" -c "$E2E_TMP/$1/nginx.conf" -p "$E2E_TMP/$1" -g 'daemon off;' \
		2>"$E2E_TMP/$1.err" &
	bg_track $!
	wait_port "$2"
}

# requests PORT: N404 misses (an error line each) and NOK hits.
requests() {
	for i in $(seq $N404); do curl -s -o /dev/null "http://127.0.0.1:$1/missing-$i"; done
	for i in $(seq $NOK); do curl -s -o /dev/null "http://127.0.0.1:$1/ok.html"; done
}

ngx_setup ngxb $NGXB
ngx_setup ngxa $NGXA
ngx_start ngxb $NGXB # already running when the agent starts
mkdir -p "$E2E_TMP/py/sub"
cp /usr/bin/python3 "$E2E_TMP/pyfile"

start_receiver logsfiles
export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RX_PORT OTEL_BLRP_SCHEDULE_DELAY=200 \
	OTEL_BSP_SCHEDULE_DELAY=200 OTEL_METRIC_EXPORT_INTERVAL=60000 REDTAP_LOGS=true \
	REDTAP_LOGS_FILES="$E2E_TMP/ngx*/logs/*.log, $E2E_TMP/py/**.log"
start_agent $AGENT -e "$E2E_TMP/ngx*/nginx-lf" -e "$E2E_TMP/pyfile"
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_BLRP_SCHEDULE_DELAY OTEL_BSP_SCHEDULE_DELAY \
	OTEL_METRIC_EXPORT_INTERVAL REDTAP_LOGS REDTAP_LOGS_FILES
F="$RX_OUT"

ngx_start ngxa $NGXA # started after the agent
OTEL_SERVICE_NAME=pyfile "$E2E_TMP/pyfile" "$APPS/log_file_app.py" "$E2E_TMP/py/sub/app.log" \
	"$E2E_TMP/py/sub/other.txt" $NPY "$E2E_TMP/py/ready" >"$E2E_TMP/py.out" 2>"$E2E_TMP/py.err" &
PY=$!
bg_track $PY
sleep 1
touch "$E2E_TMP/py/ready"
requests $NGXA
requests $NGXB
wait $PY
sleep 2

for n in ngxa ngxb; do
	d="$E2E_TMP/$n"
	when=$([ $n = ngxa ] && echo "started after the agent" || echo "running before the agent")
	errs=$(wc -l <"$d/logs/error.log")
	hits=$(wc -l <"$d/logs/access.log")
	expect_eq "$n ($when): nginx wrote an error line per 404" "$(grep -c 'open() .* failed' "$d/logs/error.log")" $N404
	expect_eq "$n: every error log line arrived, severity ERROR" \
		"$($LOGS "$F" count attr.log.file.path="$d/logs/error.log" severity=17 'body~=open() ')" "$errs"
	expect_eq "$n: nothing else from the error log" \
		"$($LOGS "$F" count attr.log.file.path="$d/logs/error.log")" "$errs"
	expect_eq "$n: every access log line arrived" \
		"$($LOGS "$F" count attr.log.file.path="$d/logs/access.log" 'body~=HTTP/1.1')" "$hits"
	expect_eq "$n: log.file.name" \
		"$($LOGS "$F" get attr.log.file.name attr.log.file.path="$d/logs/error.log")" error.log
	expect_eq "$n: no log.iostream on a file's records" \
		"$($LOGS "$F" get attr.log.iostream attr.log.file.path="$d/logs/error.log")" ""
	expect_eq "$n: the resource is nginx's" \
		"$($LOGS "$F" get service attr.log.file.path="$d/logs/error.log")" nginx-lf
	expect_eq "$n: the access log the glob does not match is not captured" \
		"$($LOGS "$F" count 'attr.log.file.path~=access.txt')" 0
done
expect_eq "error lines: 2 x $N404" "$($LOGS "$F" count 'body~=open() ' severity=17)" $((2 * N404))

P="$E2E_TMP/py/sub/app.log"
expect_eq "a file opened after the agent started is captured (** glob)" \
	"$($LOGS "$F" count attr.log.file.path="$P" 'body~=ERROR file-line' severity=17 service=pyfile)" $NPY
expect_eq "its other file (no match) is not" "$($LOGS "$F" count 'body~=other-line')" 0
probes=$(cat "$E2E_TMP/py.out")
read -r got first <<<"$($LOGS "$F" dump | python3 -c '
import json, sys
ts = []
for l in sys.stdin:
    b = json.loads(l).get("body", "")
    if b.startswith("WARN probe "):
        ts.append(int(b.split()[3]))
print(len(ts), min(ts) if ts else -1)')"
log "window after an open: the first captured line was written ${first} us after it; $got of $probes probe lines (1/ms) captured"
check "the window is short: 3/4 of the probe lines are captured" test "$got" -ge $((probes * 3 / 4))
expect_eq "no open reports dropped" \
	"$(metric_sum redtap_kernel_events_dropped_total reason=file_open_rate_limited)" 0
check "the agent is alive" kill -0 "$AGENT_PID"
e2e_finish
