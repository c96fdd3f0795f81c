#!/bin/bash
# tests/container/run.sh - the container image (`make container-test`; slow:
# debootstrap downloads a Debian base the first time, so it is not part of
# the default test run). Builds it with deploy/container/build.sh, runs it
# as the DaemonSet would (podman run --privileged --pid=host with the
# tracefs and bpffs mounts; host network to reach it on loopback), and
# checks that it answers /healthz and counts the HTTP requests of a server
# running on the host, outside the container. Where the machine keeps crun
# from starting containers (this sandbox: no CAP_SYS_RESOURCE, so setrlimit
# fails), it says so and runs the image's file system under chroot instead.
. "$(dirname "$0")/../e2e/lib.sh"
AGENT=31130
APP=31131
WORK=${REDTAP_IMAGE_WORK:-/var/tmp/redtap-image}
NAME=redtap-ctest-$$

command -v podman >/dev/null && command -v debootstrap >/dev/null ||
	{ echo "  SKIP needs podman and debootstrap (scripts/install-deps.sh --container)"; exit 0; }
ctr_cleanup() {
	podman rm -f "$NAME" >/dev/null 2>&1
	[ -n "${MNT:-}" ] && podman image unmount "$TAG" >/dev/null 2>&1
	true
}
trap 'e2e_cleanup; ctr_cleanup' EXIT INT TERM

start=$(date +%s)
TAG=$("$E2E_ROOT/deploy/container/build.sh" "$WORK" 2>"$E2E_TMP/build.err" | tail -n 1)
check "the image builds ($(($(date +%s) - start)) s)" podman image exists "$TAG"
[ -n "$TAG" ] || { cat "$E2E_TMP/build.err"; e2e_finish; }
MNT=$(podman image mount "$TAG")
check "the image holds the agent, installed from the package" \
	sh -c "test -x '$MNT/usr/bin/redtap' && grep -qx 'Package: redtap' '$MNT/var/lib/dpkg/status'"

python3 "$E2E_ROOT/tests/e2e/apps/http_app.py" $APP 2>>"$E2E_TMP/app.log" &
APP_PID=$!
bg_track $APP_PID
wait_port $APP
# run_chroot: the image's file system (podman image mount) as the root of
# a private mount namespace with the host's /proc, /sys and /dev bound in:
# the same agent and libraries, without an OCI runtime.
run_chroot() {
	unshare -m --propagation private sh -c '
		r=$1; shift
		for d in proc sys dev; do mount --rbind /$d "$r/$d" || exit 1; done
		mount -t tmpfs tmpfs "$r/tmp"
		exec chroot "$r" /usr/bin/redtap "$@"' sh "$MNT" --listen 127.0.0.1:$AGENT -p $APP_PID \
		>"$E2E_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	bg_track $AGENT_PID
}
mode=podman
if ! podman run -d --name "$NAME" --privileged --pid=host --network=host \
	-v /sys/kernel/tracing:/sys/kernel/tracing -v /sys/fs/bpf:/sys/fs/bpf \
	"$TAG" --listen 127.0.0.1:$AGENT -p $APP_PID >"$E2E_TMP/run.out" 2>&1; then
	# This machine's sandbox has no CAP_SYS_RESOURCE in its bounding set, and
	# crun fails every container at start ("setrlimit RLIMIT_NPROC: Operation
	# not permitted"); say so, and run the image's agent without the runtime.
	echo "  note podman run failed: $(tail -n 1 "$E2E_TMP/run.out")"
	echo "  note running the image's file system with chroot instead"
	mode=chroot
	run_chroot
fi
AGENT_PORT=$AGENT
check "/healthz answers from the image's agent ($mode)" wait_http "http://127.0.0.1:$AGENT/healthz" 30
for i in 1 2 3 4 5; do curl -s -o /dev/null http://127.0.0.1:$APP/items/$i; done
sleep 3
expect_eq "it counts a host process's requests ($mode)" \
	"$(metric_sum http_server_request_duration_seconds_count)" 5
[ $mode = chroot ] && stop_agent
if [ "$E2E_FAILED" -ne 0 ]; then podman logs "$NAME" 2>&1 | tail -n 20 | sed 's/^/  | /'; fi
e2e_finish
