#!/bin/bash
# tests/e2e/test_selection.sh - process selection: by pid (-p), by
# listening port (--port), and by executable glob for a process started
# after the agent, also when it forks its server before the agent has
# decided; unselected processes produce nothing. After start-up nothing
# walks /proc: listen, exec and fork records drive the selection.
. "$(dirname "$0")/lib.sh"
A=24081
B=24082
C=24083
D=24084
E=30104
AGENT=24464
APPPY="$E2E_ROOT/tests/e2e/apps/http_app.py"

OTEL_SERVICE_NAME=svc-a python3 "$APPPY" $A 2>>"$E2E_TMP/app.log" & PID_A=$!; bg_track $PID_A
OTEL_SERVICE_NAME=svc-b python3 "$APPPY" $B 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $A; wait_port $B

start_agent $AGENT -p $PID_A --port $C
# started after the agent, selected by the port it listens on
OTEL_SERVICE_NAME=svc-c python3 "$APPPY" $C 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $C
sleep 0.3 # the listen record reaches the agent within its 100 ms poll
for p in $A $B $C; do
	for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:$p/items/$i; done
done
settle
S=http_server_request_duration_seconds_count
expect_eq "selected by pid" "$(metric_sum $S service_name=svc-a)" 3
expect_eq "not selected" "$(metric_sum $S service_name=svc-b)" 0
expect_eq "selected by listening port, started later" "$(metric_sum $S service_name=svc-c)" 3
expect_eq "curl is not selected" "$(metric_sum http_client_request_duration_seconds_count)" 0
stop_agent

# executable glob, for a program exec'd after the agent started
cp "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$E2E_TMP/legacy-app"
start_agent $AGENT -e '*/legacy-app'
OTEL_SERVICE_NAME=svc-d "$E2E_TMP/legacy-app" "$APPPY" $D 2>>"$E2E_TMP/app.log" & bg_track $!
wait_port $D
for i in 1 2; do curl -s -o /dev/null http://127.0.0.1:$D/error; done
curl -s -o /dev/null http://127.0.0.1:$A/items/1
settle
expect_eq "selected by executable glob after exec" "$(metric_sum $S service_name=svc-d error_type=500)" 2
expect_eq "pid selection gone with the old agent" "$(metric_sum $S service_name=svc-a)" 0
expect_eq "instrumented processes" "$(metric_sum redtap_instrumented_processes)" 1

# A matching program that forks its server at once, before the agent has
# read its exec record: the kernel reports the fork, the child is selected.
OTEL_SERVICE_NAME=svc-e "$E2E_TMP/legacy-app" - "$APPPY" $E 2>>"$E2E_TMP/app.log" <<'PY' &
import os, runpy, sys
app, port = sys.argv[1], sys.argv[2]
pid = os.fork()
if pid == 0:
    import ctypes
    ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG: SIGTERM when the parent goes
    sys.argv = [app, port]
    runpy.run_path(app, run_name="__main__")
else:
    os.waitpid(pid, 0)
PY
bg_track $!
wait_port $E
for i in 1 2 3; do curl -s -o /dev/null http://127.0.0.1:$E/items/$i; done
settle
expect_eq "a child forked right after exec is selected" "$(metric_sum $S service_name=svc-e)" 3
expect_eq "instrumented processes (the forking parent and its child)" \
	"$(metric_sum redtap_instrumented_processes)" 3
e2e_finish
