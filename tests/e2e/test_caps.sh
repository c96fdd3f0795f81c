#!/bin/bash
# tests/e2e/test_caps.sh - the DaemonSet's capability set is enough: the
# agent runs with exactly the capabilities deploy/kubernetes/base/
# daemonset.yaml adds (read from the file; setpriv limits the bounding set,
# as a container runtime does), answers /healthz and counts the requests of
# a selected server; without CAP_BPF it cannot load its programs, and
# without tracefs mounted (which it cannot mount) it says how to mount it.
. "$(dirname "$0")/lib.sh"
AGENT=31140
APP=31141
DS="$E2E_ROOT/deploy/kubernetes/base/daemonset.yaml"

command -v setpriv >/dev/null || { echo "  SKIP needs setpriv (util-linux)"; exit 0; }
caps=$(awk '/add:/ {on = 1; next} on && /^ *- [A-Z_]+$/ {print tolower($2); next} {on = 0}' "$DS" |
	sed 's/^/+/' | paste -sd, -)
check "the DaemonSet adds capabilities" test -n "$caps"
log "capabilities: $caps"

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
APP_PID=$!
bg_track $APP_PID
wait_port $APP
REAL=$REDTAP
REDTAP="$E2E_TMP/redtap-narrow"
cat >"$REDTAP" <<EOF
#!/bin/sh
exec setpriv --bounding-set -all,$caps --inh-caps -all "$REAL" "\$@"
EOF
chmod +x "$REDTAP"
# Without CAP_SYS_ADMIN the agent cannot mount tracefs itself: in a mount
# namespace without it, it stops at once and says how to mount it.
timeout 20 unshare -m --propagation private sh -c \
	'umount /sys/kernel/tracing /sys/kernel/debug/tracing 2>/dev/null; exec "$@"' sh \
	"$REDTAP" --listen 127.0.0.1:$AGENT -p $APP_PID >"$E2E_TMP/notracefs.log" 2>&1
check "without tracefs it stops, saying how to mount it" \
	grep -q "mount -t tracefs nodev /sys/kernel/tracing" "$E2E_TMP/notracefs.log"
# The DaemonSet mounts the node's /sys/kernel/tracing, which the node mounted
# at boot; a node that did not gets it mounted here, as the test's node.
[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
check "the agent starts with only those capabilities" start_agent $AGENT -p $APP_PID
# bit 21: CAP_SYS_ADMIN, bit 1: CAP_DAC_OVERRIDE
bnd=$(awk '/^CapBnd/ {print $2}' /proc/$AGENT_PID/status)
check "... and no CAP_SYS_ADMIN or CAP_DAC_OVERRIDE (CapBnd $bnd)" \
	python3 -c "import sys; b = int('$bnd', 16); sys.exit(b & (1 << 21 | 1 << 1) != 0)"
sleep 1
for i in 1 2 3 4; do curl -s -o /dev/null http://127.0.0.1:$APP/items/$i; done
settle 3
expect_eq "it counts the selected server's requests" \
	"$(metric_sum http_server_request_duration_seconds_count)" 4
stop_agent

# the same without CAP_BPF: the set is not larger than needed for that one
nobpf=$(printf '%s' "$caps" | sed 's/+bpf,\{0,1\}//; s/,$//')
"$REAL" --version >/dev/null
setpriv --bounding-set -all,$nobpf --inh-caps -all "$REAL" --listen 127.0.0.1:$AGENT \
	-p $APP_PID >"$E2E_TMP/nobpf.log" 2>&1 &
NOBPF=$!
bg_track $NOBPF
for _ in $(seq 50); do kill -0 $NOBPF 2>/dev/null || break; sleep 0.2; done
check "without CAP_BPF it fails at start" sh -c "! kill -0 $NOBPF 2>/dev/null"
e2e_finish
