# tests/lib/bpfstats.sh - sourced: bpf_stats_hold FILE switches the kernel's
# BPF run-time statistics on for as long as a helper process lives, which
# holds a BPF_ENABLE_STATS file descriptor (bpf(2) command 32, type
# BPF_STATS_RUN_TIME 0) for at most 120 s. Unlike the sysctl
# kernel.bpf_stats_enabled, nothing is left switched on when the caller is
# killed. Sets BPF_STATS_PID (the caller stops it, e.g. with bg_track);
# returns 0 once the descriptor is open, 1 (with FILE saying why) if not.
bpf_stats_hold() {
	local out=$1 i=0
	python3 - >"$out" 2>&1 <<'PY' &
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.c_uint32(0)  # union bpf_attr.enable_stats.type
fd = libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr))
print("fd", fd, "" if fd >= 0 else os.strerror(ctypes.get_errno()), flush=True)
if fd >= 0:
    time.sleep(120)
PY
	BPF_STATS_PID=$!
	while [ $i -lt 50 ] && ! grep -q '^fd' "$out"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^fd [0-9]' "$out"
}
