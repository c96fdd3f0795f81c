#!/bin/bash
# tests/e2e/test_conn_lru.sh - a hostile local user cannot make live
# connections look closed by thrashing the kernel's connection table
# (issue 10, item 4). Unprivileged processes holding 150 000 pipe fds do
# I/O on every one of them, over and over, while a server answers slow
# requests on keep-alive connections. Pipes never enter the table, so no
# socket entry is evicted: every request is counted exactly, none as
# connection_closed, and nothing is counted as a re-created entry. Against
# the kernel side before the fix (one LRU for every fd) all 12 requests
# ended as connection_closed.
. "$(dirname "$0")/lib.sh"
APP=30101
AGENT=30102
CLIENTS=6
PER_CLIENT=2
FDS=${LRU_FDS:-150000} # pipe fds in all: more than twice the table's 65 536 entries
WAIT=${LRU_WAIT:-3}    # seconds a request stays pending

# A server whose /wait answers after $WAIT s: requests stay pending while
# the table is thrashed.
OTEL_SERVICE_NAME=lru-svc python3 - $APP $WAIT 2>>"$E2E_TMP/app.log" <<'PY' &
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        time.sleep(float(sys.argv[2]))
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
SERVER=$!
bg_track $SERVER
wait_port $APP

# The hostile user: nobody, $FDS pipe fds in all, two bytes written to and
# read from each, round after round, for at most 30 s or until told to
# stop. A process may hold only its hard RLIMIT_NOFILE (raising it needs
# CAP_SYS_RESOURCE, which this machine's root may lack), so the fds are
# spread over as many worker processes as that takes; the kernel's table is
# keyed by (tgid, fd), so for it this is the same as one process.
cat >"$E2E_TMP/holder.py" <<'PY'
import os, resource, sys, time
d = sys.argv[1]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
per = min(hard - 64, 18000) // 2           # pipes per worker
workers = -(-int(sys.argv[2]) // (2 * per))
kids = []
for i in range(workers):
    pid = os.fork()
    if pid:
        kids.append(pid)
        continue
    import ctypes
    ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG: go with the parent
    pipes = [os.pipe() for _ in range(per)]
    open("%s/ready.%d" % (d, i), "w").close()
    rounds, end = 0, time.time() + 30
    while time.time() < end and not os.path.exists(d + "/stop"):
        for r, w in pipes:
            # twice each: an entry used twice is "hot" to the kernel's LRU,
            # hot enough to push a quiet socket's entry out
            os.write(w, b"x")
            os.write(w, b"x")
            os.read(r, 1)
            os.read(r, 1)
        rounds += 1
        with open("%s/rounds.%d" % (d, i), "w") as f:
            f.write("%d\n" % rounds)
    os._exit(0)
with open(d + "/workers", "w") as f:
    f.write("%d %d\n" % (workers, per * 2))
for k in kids:
    os.waitpid(k, 0)
PY
chmod 644 "$E2E_TMP/holder.py"
H="$E2E_TMP/holder" # the unprivileged processes' own directory
mkdir "$H" && chown nobody:nogroup "$H"
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$E2E_TMP/holder.py" "$H" $FDS \
	2>>"$E2E_TMP/holder.log" &
HOLDER=$!
bg_track $HOLDER
ready() {
	[ -e "$H/workers" ] || return 1
	[ "$(ls "$H" | grep -c '^ready\.')" -ge "$(cut -d' ' -f1 "$H/workers")" ]
}
for _ in $(seq 150); do ready && break; sleep 0.1; done
check "the hostile processes hold their pipe fds" ready
read -r NWORKERS PERFDS <"$H/workers"
log "$NWORKERS processes of nobody hold $PERFDS pipe fds each"
expect_ge "... more than twice the fds the kernel's connection table has entries for" \
	$((NWORKERS * PERFDS)) 131072
check "... as an unprivileged user" test "$(stat -c %U /proc/$HOLDER)" = nobody

# All are selected (the workers as children of the holder): the pipes' I/O
# goes through the kernel side.
start_agent $AGENT -p $SERVER -p $HOLDER

# Keep-alive clients: each sends its requests one after the other on one
# connection, all of them at once.
python3 - $APP $CLIENTS $PER_CLIENT >"$E2E_TMP/clients.out" 2>&1 <<'PY'
import http.client, sys, threading
port, n, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ok = []
def client(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for j in range(per):
        c.request("GET", "/wait/%d" % j)
        r = c.getresponse(); r.read()
        ok.append(r.status)
    c.close()
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(len([s for s in ok if s == 200]))
PY
touch "$H/stop"
settle
rounds=$(cat "$H"/rounds.* 2>/dev/null | sort -n | head -1)
log "each hostile process did at least ${rounds:-0} rounds of I/O on all its fds"
expect_ge "the table was thrashed while requests were pending" "${rounds:-0}" 2
expect_eq "every client request answered" "$(cat "$E2E_TMP/clients.out")" $((CLIENTS * PER_CLIENT))
S=http_server_request_duration_seconds_count
expect_eq "every request counted" "$(metric_sum $S service_name=lru-svc)" $((CLIENTS * PER_CLIENT))
expect_eq "... all of them 200" "$(metric_sum $S service_name=lru-svc http_response_status_code=200)" \
	$((CLIENTS * PER_CLIENT))
expect_eq "no false connection_closed" \
	"$(metric_sum $S service_name=lru-svc error_type=connection_closed)" 0
[ "${rounds:-0}" -ge 1 ] || sed 's/^/  holder: /' "$E2E_TMP/holder.log"
expect_eq "no socket entry evicted and re-created" \
	"$(metric_sum redtap_connections_recreated_total)" 0
expect_eq "no kernel connection-table drop" \
	"$(metric_sum redtap_kernel_events_dropped_total reason=conn_table_full)" 0
e2e_finish
