#!/usr/bin/env bash
# tests/e2e/test_shim_run.sh - `redtap run` (user/core/run.c through
# tests/shim/run_driver): the shim is preloaded (in front of an existing
# LD_PRELOAD), exit codes and deaths by signal pass through, SIGINT, SIGTERM,
# SIGHUP and SIGQUIT sent to redtap reach the child, and setuid, setgid,
# file-capability and statically linked targets are refused with a clear
# sentence. Run as root from the repository root after `make`.
set -u
cd "$(dirname "$0")/../.."
. tests/shim/lib.sh
shim_setup
RUN=$PWD/$T/run_driver

run_preloads() {
	"$RUN" "$SHIM" /bin/cat /proc/self/maps | grep -q "$SHIM\$"
}

run_keeps_preload() {
	local other=$PWD/$T/fake_agent.so out
	out=$(LD_PRELOAD=$other "$RUN" "$BUILD/libredtap.so" /bin/sh -c 'echo "$LD_PRELOAD"')
	echo "$out"
	[ "$out" = "$SHIM $other" ]
}

run_exit_status() {
	"$RUN" "$SHIM" /bin/sh -c 'exit 7'
	[ $? = 7 ] || return 1
	"$RUN" "$SHIM" /bin/sh -c 'kill -SEGV $$'
	[ $? = 139 ] || return 1
	"$RUN" "$SHIM" no-such-program-here
	[ $? = 127 ]
}

# run_forwards SIG NUM: the child must see SIG sent to redtap run
run_forwards() {
	local sig=$1 num=$2 pid rc
	rm -f "$TMP/ready"
	"$RUN" "$SHIM" /usr/bin/python3 tests/shim/sigwait.py "$TMP/ready" >"$TMP/sig.out" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$TMP/ready" ] && break
		sleep 0.05
	done
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	cat "$TMP/sig.out"
	[ $rc = $((10 + num)) ] && grep -qx "got SIG$sig" "$TMP/sig.out"
}

run_refuses() {
	local what=$1 target=$2 out
	out=$("$RUN" "$SHIM" "$target" 2>&1)
	local rc=$?
	echo "$out"
	[ $rc = 126 ] && echo "$out" | grep -q "cannot wrap /.*: it .*$what"
}

cp /bin/true "$TMP/suid" && chmod u+s "$TMP/suid"
cp /bin/true "$TMP/sgid" && chmod g+s "$TMP/sgid"
echo 'int main(void) { return 0; }' | gcc -static -x c - -o "$TMP/static"
echo 'int main(void) { return 0; }' | gcc -static-pie -x c - -o "$TMP/static-pie" 2>/dev/null ||
	cp "$TMP/static" "$TMP/static-pie"
printf '#!%s\n' "$TMP/static" >"$TMP/script" && chmod +x "$TMP/script"
printf '#!/bin/sh\nexit 5\n' >"$TMP/okscript" && chmod +x "$TMP/okscript"

check "the shim is preloaded into the child" run_preloads
check "an existing LD_PRELOAD is kept, the shim first" run_keeps_preload
check "exit codes, deaths by signal and 'not found' pass through" run_exit_status
check "SIGTERM is forwarded" run_forwards TERM 15
check "SIGINT is forwarded" run_forwards INT 2
check "SIGHUP is forwarded" run_forwards HUP 1
check "SIGQUIT is forwarded" run_forwards QUIT 3
check "setuid target refused" run_refuses "setuid" "$TMP/suid"
check "setgid target refused" run_refuses "setgid" "$TMP/sgid"
check "statically linked target refused" run_refuses "statically linked" "$TMP/static"
check "static-pie target refused" run_refuses "statically linked" "$TMP/static-pie"
check "script with a static interpreter refused" run_refuses "statically linked" "$TMP/script"
check "script with a dynamic interpreter runs" sh -c "'$RUN' '$SHIM' '$TMP/okscript'; [ \$? = 5 ]"
if command -v setcap >/dev/null; then
	cp /bin/true "$TMP/caps" && setcap cap_net_raw+ep "$TMP/caps" &&
		check "target with file capabilities refused" run_refuses "file capabilities" "$TMP/caps"
fi
shim_finish
