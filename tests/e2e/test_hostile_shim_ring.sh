#!/bin/bash
# tests/e2e/test_hostile_shim_ring.sh - the shared-memory ring of an
# unprivileged `redtap --no-bpf` (uid nobody) against another local user
# (uid 1, "daemon") and a full tmpfs (issue 10, items 6 and 9).
#  - files planted at the old predictable /dev/shm path (a FIFO that would
#    block open(), a fake live header naming pid 1) neither block nor stop
#    start-up: the ring lives in a directory only nobody can write, where a
#    wrapped hiredis client finds it and is counted;
#  - that directory squatted by the other user: the agent refuses at once
#    and says why (no hang); with /run/user/UID present it is used instead;
#  - on a full tmpfs the agent fails cleanly (the ring is allocated up
#    front); once it runs, filling the tmpfs cannot SIGBUS anyone; a sparse
#    ring file is never mapped by the shim, and the wrapped program exits 0.
. "$(dirname "$0")/lib.sh"
. "$E2E_ROOT/tests/lib/servers.sh"
RD=30179
AGENT=30090
U=65534
OLD=/dev/shm/redtap-shim-$U
DIR=/dev/shm/redtap-$U
RUNDIR=/run/user/$U
MNT=$E2E_TMP/shm
MADE_RUNDIR=
cleanup() {
	srv_stop
	mountpoint -q "$MNT" && umount -l "$MNT"
	e2e_cleanup
	rm -rf "$OLD" "$DIR"
	[ -n "$MADE_RUNDIR" ] && rm -rf "$RUNDIR"
}
trap cleanup EXIT

[ -e "$RUNDIR" ] && { echo "  skip: $RUNDIR exists on this machine"; exit 0; }
make -s -C "$E2E_ROOT" build/tests/shim/ack_probe build/libredtap.so >/dev/null ||
	{ echo "  FAIL build"; exit 1; }
T=$E2E_TMP
cp "$E2E_ROOT/build/tests/shim/ack_probe" "$T/ack_probe"
chmod 755 "$T/ack_probe"
as_nobody() { setpriv --reuid=$U --regid=$U --clear-groups -- "$@"; }
as_other() { setpriv --reuid=1 --regid=1 --clear-groups -- "$@"; }
srv_redis_start "$T" $RD || exit 1
rm -rf "$OLD" "$DIR"

# start_nobody_agent [ENV=VALUE...]: the --no-bpf agent as nobody; 0 once
# /healthz answers, 1 if it exited (its status in AGENT_RC) or hung 10 s.
start_nobody_agent() {
	env "$@" setpriv --reuid=$U --regid=$U --clear-groups -- \
		"$REDTAP" --no-bpf --listen 127.0.0.1:$AGENT >"$T/agent.log" 2>&1 &
	AGENT_PID=$!
	AGENT_PORT=$AGENT
	bg_track $AGENT_PID
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://127.0.0.1:$AGENT/healthz" && return 0
		if ! kill -0 $AGENT_PID 2>/dev/null; then
			wait $AGENT_PID
			AGENT_RC=$?
			AGENT_PID=
			return 1
		fi
		sleep 0.1
	done
	AGENT_RC=hung
	return 1
}

# probe N [ENV=VALUE...]: a wrapped hiredis client as nobody runs N INCRs
probe() {
	n=$1
	shift
	env "$@" LD_PRELOAD="$E2E_ROOT/build/libredtap.so" OTEL_SERVICE_NAME=probe \
		setpriv --reuid=$U --regid=$U --clear-groups -- "$T/ack_probe" $RD 0 "$n" 2>>"$T/probe.err"
}
D=db_client_operation_duration_seconds_count

# --- item 9: planted files at the old path --------------------------------
as_other mkfifo -m 666 "$OLD"
check "the other user planted a FIFO at $OLD" test -p "$OLD"
start_nobody_agent
expect_eq "start-up is neither blocked nor refused by the FIFO" "${AGENT_RC:-started}" started
check "the ring is in a directory only nobody can write" \
	sh -c "[ \"\$(stat -c %u:%a $DIR)\" = $U:700 ] && [ -f $DIR/shim-ring ]"
probe 5
expect_eq "the wrapped client writes into it: 5 INCRs counted" \
	"$(sleep 1.5; metric_sum $D service_name=probe db_operation_name=INCR)" 5
stop_agent
check "the ring is removed when the agent stops" test ! -e "$DIR/shim-ring"
rm -f "$OLD"
# a fake live header (daemon_pid 1, fresh heartbeat) at the old path
as_other /usr/bin/python3 - "$OLD" <<'EOF'
import struct, sys, time
hb = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
hdr = struct.pack("<IIQQII", 0x676e6972, 1, 65536, hb, 1, 0).ljust(256, b"\0")
open(sys.argv[1], "wb").write(hdr + b"\0" * 65536)
EOF
start_nobody_agent
expect_eq "a fake live header at the old path does not refuse start-up" "${AGENT_RC:-started}" started
stop_agent
rm -f "$OLD"

# --- item 9: the directory squatted -----------------------------------------
rm -rf "$DIR"
as_other mkdir -m 777 "$DIR"
as_other mkfifo -m 666 "$DIR/shim-ring"
AGENT_RC=
start_nobody_agent
check "a squatted directory: the agent exits at once, not hung (rc ${AGENT_RC:-?})" \
	test "${AGENT_RC:-started}" != hung -a "${AGENT_RC:-started}" != started
check "... and says why" grep -q "must be a directory owned by uid $U" "$T/agent.log"
mkdir -m 700 "$RUNDIR" && chown $U:$U "$RUNDIR" && MADE_RUNDIR=1
AGENT_RC=
start_nobody_agent
expect_eq "with /run/user/$U the squatted /dev/shm does not matter" "${AGENT_RC:-started}" started
check "the ring is in /run/user/$U" test -f "$RUNDIR/shim-ring"
probe 3
expect_eq "and the wrapped client finds it there" \
	"$(sleep 1.5; metric_sum $D service_name=probe db_operation_name=INCR)" 3
stop_agent
rm -rf "$RUNDIR" "$DIR"
MADE_RUNDIR=

# --- item 6: a full tmpfs ---------------------------------------------------
mkdir -p "$MNT"
mount -t tmpfs -o size=6m,mode=1777 tmpfs "$MNT"
as_other dd if=/dev/zero of="$MNT/filler" bs=1M count=5 status=none
AGENT_RC=
start_nobody_agent REDTAP_SHIM_RING="$MNT/ring"
check "ring on a full tmpfs: the agent fails cleanly (rc ${AGENT_RC:-?})" \
	test "${AGENT_RC:-started}" != hung -a "${AGENT_RC:-started}" != started
check "... and says why" grep -qi "no space left" "$T/agent.log"
check "... leaving no ring behind" test ! -e "$MNT/ring"
rm -f "$MNT/filler"
AGENT_RC=
start_nobody_agent REDTAP_SHIM_RING="$MNT/ring"
expect_eq "with room the agent starts" "${AGENT_RC:-started}" started
as_other dd if=/dev/zero of="$MNT/filler" bs=1M count=8 status=none 2>/dev/null
probe 20 REDTAP_SHIM_RING="$MNT/ring"
expect_eq "tmpfs filled after start: the wrapped client exits 0" "$?" 0
scrape >"$T/full.metrics"
expect_eq "... and is counted" \
	"$(sleep 1.5; metric_sum $D service_name=probe db_operation_name=INCR)" 20
check "the agent is alive" kill -0 "$AGENT_PID"
stop_agent
# a sparse ring of nobody's (as an older agent made them) on the full tmpfs
rm -f "$MNT/filler"
as_nobody /usr/bin/python3 - "$MNT/sparse" <<'EOF'
import os, struct, sys, time
hb = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o600)
os.write(fd, struct.pack("<IIQQII", 0x676e6972, 1, 1 << 20, hb, os.getpid(), 0).ljust(256, b"\0"))
os.ftruncate(fd, 256 + (1 << 20))
EOF
as_other dd if=/dev/zero of="$MNT/filler" bs=1M count=8 status=none 2>/dev/null
probe 200 REDTAP_SHIM_RING="$MNT/sparse" REDTAP_SHIM_TRANSPORT=ring
expect_eq "a sparse ring on a full tmpfs: the wrapped client is not killed (SIGBUS)" "$?" 0
e2e_finish
