#!/bin/bash
# tests/e2e/test_install.sh - `make install` honours DESTDIR and prefix and
# installs the binary, the shim, the man page, the example config, the
# dashboards and the rules; the installed binary runs.
. "$(dirname "$0")/lib.sh"
D="$E2E_TMP/root"
make -s -C "$E2E_ROOT" install DESTDIR="$D" prefix=/opt/rt >/dev/null
for f in /opt/rt/bin/redtap /opt/rt/lib/redtap/libredtap.so /opt/rt/share/man/man8/redtap.8 \
	/etc/redtap/redtap.yaml.example; do
	check "installed $f" test -s "$D$f"
done
check "dashboards installed" sh -c "ls '$D/opt/rt/share/redtap/dashboards/'*.json >/dev/null"
check "rules installed" sh -c "ls '$D/opt/rt/share/redtap/rules/'*.yml >/dev/null"
check "installed binary runs" sh -c "'$D/opt/rt/bin/redtap' --version | grep -q redtap"
check "nothing installed outside DESTDIR" sh -c "! test -e /opt/rt/bin/redtap"
e2e_finish
