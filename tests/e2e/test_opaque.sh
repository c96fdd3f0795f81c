#!/bin/bash
# tests/e2e/test_opaque.sh - a connection that does not speak a protocol
# the agent parses (here a line-based echo protocol) is classified as
# opaque after a few reads, and from then on the kernel stops copying its
# data: 200 messages over 4 s cost far fewer than their 400 data records
# (the daemon reads records in batches, so what the kernel sent before the
# daemon classified the connection still arrives).
. "$(dirname "$0")/lib.sh"
ECHO=20080
AGENT=20464

cat >"$E2E_TMP/echo.py" <<'PY'
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(8)
def serve(c):
    f = c.makefile("rb")
    for line in f:
        c.sendall(line)
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$E2E_TMP/echo.py" $ECHO 2>>"$E2E_TMP/app.log" &
ECHO_PID=$!
bg_track $ECHO_PID
wait_port $ECHO
start_agent $AGENT -p $ECHO_PID
before=$(metric_sum redtap_events_received_total type=data)
python3 - $ECHO <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
for i in range(200):
    s.sendall(b"PING %d some payload that is not http\n" % i)
    assert f.readline().startswith(b"PING")
    time.sleep(0.02)
s.close()
PY
settle
after=$(metric_sum redtap_events_received_total type=data)
log "data records for 200 echoed messages: $((after - before))"
expect_ge "the connection's first reads are still looked at" "$((after - before))" 4
expect_ge "then its data stays in the kernel (at most 100 of 400 records)" 100 "$((after - before))"
check "the agent is healthy" curl -sf -o /dev/null http://127.0.0.1:$AGENT/healthz
e2e_finish
