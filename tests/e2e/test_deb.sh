#!/bin/bash
# tests/e2e/test_deb.sh - the Debian package (`make deb`): built in a
# temporary output directory (./build is not touched), installed with
# `apt-get install ./redtap_*.deb` (its Depends resolve), the packaged agent
# runs with the packaged config and answers /healthz and /metrics, then
# `apt-get purge` leaves none of its files, conffiles included.
. "$(dirname "$0")/lib.sh"
AGENT=31110
export DEBIAN_FRONTEND=noninteractive

if ! command -v dpkg-deb >/dev/null || ! command -v apt-get >/dev/null; then
	echo "  SKIP needs dpkg-deb and apt-get"
	exit 0
fi
if dpkg -s redtap >/dev/null 2>&1; then
	echo "  SKIP a redtap package is installed on this machine already"
	exit 0
fi
purge() { dpkg -s redtap >/dev/null 2>&1 && apt-get purge -y -q redtap >/dev/null 2>&1; true; }
trap 'e2e_cleanup; purge' EXIT INT TERM

DEB=$(make -s -C "$E2E_ROOT" OUTPUT="$E2E_TMP/debbuild" deb 2>"$E2E_TMP/deb.log" | tail -n 1)
check "make deb writes a package" test -s "$DEB"
[ -s "$DEB" ] || { cat "$E2E_TMP/deb.log"; e2e_finish; }
deps=$(dpkg-deb -f "$DEB" Depends)
check "Depends computed from the libraries (libbpf, libcurl)" \
	sh -c "printf '%s' '$deps' | grep -q libbpf1 && printf '%s' '$deps' | grep -q libcurl"
check "config files are conffiles" \
	sh -c "dpkg-deb -I '$DEB' conffiles | grep -qx /etc/redtap/redtap.yaml"

check "apt-get installs it" sh -c "apt-get install -y -q '$DEB' >'$E2E_TMP/apt.log' 2>&1"
expect_eq "package state" "$(dpkg-query -W -f '${Status}' redtap 2>/dev/null)" \
	"install ok installed"
dpkg -L redtap >"$E2E_TMP/files" 2>/dev/null
for f in /usr/bin/redtap /usr/lib/redtap/libredtap.so /lib/systemd/system/redtap.service \
	/usr/share/man/man8/redtap.8.gz /etc/redtap/redtap.yaml /etc/default/redtap; do
	check "installed $f" test -s "$f"
done
check "dashboards and rules installed" \
	sh -c 'ls /usr/share/redtap/dashboards/*.json /usr/share/redtap/rules/*.yml >/dev/null'
check "the unit runs the packaged binary" grep -q '^ExecStart=/usr/bin/redtap' \
	/lib/systemd/system/redtap.service
check "the shim's default path is the packaged one" \
	sh -c '/usr/bin/redtap --help | grep -q /usr/lib/redtap/libredtap.so'

# The packaged agent with the packaged config (the listen address from the flag).
REDTAP=/usr/bin/redtap
export REDTAP_CONFIG=/etc/redtap/redtap.yaml
start_agent $AGENT -p $$
unset REDTAP_CONFIG
check "/healthz answers" curl -sf -o /dev/null "http://127.0.0.1:$AGENT/healthz"
check "/metrics has redtap_build_info" sh -c "curl -sf http://127.0.0.1:$AGENT/metrics |
	grep -q '^redtap_build_info{'"
stop_agent

check "apt-get purges it" sh -c "apt-get purge -y -q redtap >>'$E2E_TMP/apt.log' 2>&1"
left=""
while read -r f; do
	# directories such as /usr/bin are shared; every file of the package must go
	if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
	case $f in /etc/redtap | /usr/lib/redtap | /usr/share/redtap | /usr/share/doc/redtap)
		[ -d "$f" ] && left="$left $f/" ;;
	esac
done <"$E2E_TMP/files"
expect_eq "nothing of the package is left" "$left" ""
check "no dpkg record left" sh -c '! dpkg -s redtap >/dev/null 2>&1'
check "no conffile left" sh -c '! test -e /etc/default/redtap && ! test -e /etc/redtap'
e2e_finish
