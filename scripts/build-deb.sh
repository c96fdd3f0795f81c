#!/bin/sh
# scripts/build-deb.sh - makes redtap_<version>_<arch>.deb with dpkg-deb
# (`make deb` calls it). OUT is an output directory whose tree was built
# with prefix=/usr (the shim's default path is compiled in); the package is
# staged in OUT/pkg and written to OUT. Depends is computed by
# dpkg-shlibdeps from the binaries' libraries.
#
#   scripts/build-deb.sh OUT
set -eu
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(cat "$ROOT/VERSION")
ARCH=$(dpkg --print-architecture)
PKG="$OUT/pkg"
D="$ROOT/deploy/debian"

rm -rf "$PKG"
make -s -C "$ROOT" OUTPUT="$OUT" prefix=/usr sysconfdir=/etc install DESTDIR="$PKG" >/dev/null
# the config is a conffile, not an example; the unit runs the packaged binary
mv "$PKG/etc/redtap/redtap.yaml.example" "$PKG/etc/redtap/redtap.yaml"
install -d "$PKG/lib/systemd/system" "$PKG/etc/default" "$PKG/usr/share/doc/redtap" \
	"$PKG/DEBIAN"
sed -e 's|/usr/local/bin/redtap|/usr/bin/redtap|' \
	-e 's|^# Install: make install;.*|# Installed by the redtap package; settings in /etc/default/redtap.|' \
	-e '/^# systemctl daemon-reload; systemctl enable/d' \
	"$ROOT/deploy/redtap.service" >"$PKG/lib/systemd/system/redtap.service"
install -m 0644 "$D/default" "$PKG/etc/default/redtap"
install -m 0644 "$D/copyright" "$PKG/usr/share/doc/redtap/copyright"
gzip -9n "$PKG/usr/share/man/man8/redtap.8"
strip --strip-unneeded "$PKG/usr/bin/redtap" "$PKG/usr/lib/redtap/libredtap.so"
chmod 0644 "$PKG/lib/systemd/system/redtap.service"
for s in postinst prerm postrm; do install -m 0755 "$D/$s" "$PKG/DEBIAN/$s"; done
printf '/etc/redtap/redtap.yaml\n/etc/default/redtap\n' >"$PKG/DEBIAN/conffiles"

# Depends: the shared libraries' packages (dpkg-shlibdeps wants a debian/control)
SHL="$OUT/shlibdeps"
rm -rf "$SHL"
mkdir -p "$SHL/debian"
printf 'Source: redtap\n\nPackage: redtap\nArchitecture: any\n' >"$SHL/debian/control"
DEPENDS=$(cd "$SHL" && dpkg-shlibdeps -O "$PKG/usr/bin/redtap" "$PKG/usr/lib/redtap/libredtap.so" |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || { echo "build-deb: dpkg-shlibdeps found no dependency" >&2; exit 1; }
# libcurl is dlopen()ed on first use (user/export/curl_lazy.c): no DT_NEEDED says so.
DEPENDS="$DEPENDS, libcurl4"
SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$SIZE|" \
	-e "s|@DEPENDS@|$DEPENDS|" "$D/control.in" >"$PKG/DEBIAN/control"
(cd "$PKG" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' |
	sort -z | xargs -0 md5sum) >"$PKG/DEBIAN/md5sums"
DEB="$OUT/redtap_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "$DEB"
