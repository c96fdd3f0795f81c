# tests/e2e/apps/pod.sh - what a kubelet leaves behind for a pod's process,
# built without Kubernetes (sourced by the pod identity e2e tests after
# lib.sh): cgroup v1 pod directories under a per-run top, and start_pod,
# which runs a server in its own mount namespace with the service-account
# namespace file, in the pod's cgroup, with only the environment given.
#
#   pod_init           skips the test (exit 0) without a writable cgroup v1
#                      pids hierarchy and unshare -m; sets POD_TOP
#   new_uid, new_id    a pod uid, a 64-hex container id
#   pod_dir QOS UID ID the cgroup directory of a container (made)
#   start_pod CGDIR NSKIND ENV... CMD...  NSKIND "file:<ns>" or "fifo";
#                      the server's pid is $! (tracked by bg_track)
#   pod_cleanup        removes POD_TOP (call it from the EXIT trap)
POD_CG=/sys/fs/cgroup/pids

pod_init() {
	if [ ! -w "$POD_CG/cgroup.procs" ] || ! unshare -m true 2>/dev/null; then
		echo "  SKIP needs a writable cgroup v1 pids hierarchy and unshare -m"
		exit 0
	fi
	POD_TOP="$POD_CG/kubepods-e2e-$$" # unique per run
}
new_uid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
new_id() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
pod_dir() {
	mkdir -p "$POD_TOP/kubepods/$1/pod$2/$3" && echo "$POD_TOP/kubepods/$1/pod$2/$3"
}

pod_cleanup() {
	[ -n "$POD_TOP" ] || return 0
	for _ in $(seq 20); do
		find "$POD_TOP" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$POD_TOP" ] || return 0
		sleep 0.2
	done
}

start_pod() {
	cgdir=$1 nskind=$2
	shift 2
	unshare -m --propagation private sh -c '
		cg=$1 nskind=$2; shift 2
		mount -t tmpfs -o size=1m,mode=755 tmpfs /run || exit 1
		sa=/run/secrets/kubernetes.io/serviceaccount
		mkdir -p $sa
		case $nskind in
		file:*) printf "%s\n" "${nskind#file:}" >$sa/namespace ;;
		fifo) mkfifo $sa/namespace ;;
		esac
		echo $$ >"$cg/cgroup.procs" || exit 1
		exec env -i PATH=/usr/bin:/bin "$@"' sh "$cgdir" "$nskind" "$@" 2>>"$E2E_TMP/app.log" &
	bg_track $!
}
