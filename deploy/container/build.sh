#!/bin/sh
# deploy/container/build.sh - builds the redtap image with podman, offline
# but for the Debian archive: `make deb`, then a debootstrap base with the
# package's runtime Depends included (imported as localhost/redtap-base),
# then deploy/container/Containerfile installs the .deb into it.
#
#   deploy/container/build.sh OUT [TAG]
#     OUT: a working directory (the deb build, the base's root file system)
#     TAG: the image (default localhost/redtap:<version>, also tagged latest)
# MIRROR (default http://deb.debian.org/debian), SUITE (bookworm) and
# BUILD_ARGS (more podman build options) can be set.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
VERSION=$(cat "$ROOT/VERSION")
TAG=${2:-localhost/redtap:$VERSION}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# The RUN step only runs dpkg: chroot isolation needs no OCI runtime (crun
# refuses hosts with cgroup v1 and v2 controllers mounted at once: "cgroups
# in hybrid mode not supported"). BUILD_ARGS="" builds with the runtime.
BUILD_ARGS=${BUILD_ARGS---isolation=chroot}

DEB=$(make -s -C "$ROOT" OUTPUT="$OUT/build" deb | tail -n 1)
# the runtime libraries, without version constraints: "libbpf1 (>= 1:0.1.0), libc6 ..." -> "libbpf1,libc6,..."
DEPS=$(dpkg-deb -f "$DEB" Depends | sed -e 's/([^)]*)//g' -e 's/ //g')
BASE="localhost/redtap-base:$SUITE"
if ! podman image exists "$BASE"; then
	rm -rf "$OUT/rootfs"
	debootstrap --variant=minbase --include="$DEPS" "$SUITE" "$OUT/rootfs" "$MIRROR" \
		>"$OUT/debootstrap.log" 2>&1 || { tail -n 20 "$OUT/debootstrap.log" >&2; exit 1; }
	tar -C "$OUT/rootfs" -c . | podman import - "$BASE" >/dev/null
	rm -rf "$OUT/rootfs"
fi
cp "$DEB" "$OUT/redtap.deb"
cp "$ROOT/deploy/container/Containerfile" "$OUT/Containerfile"
# shellcheck disable=SC2086
podman build --pull=never $BUILD_ARGS --build-arg BASE="$BASE" -t "$TAG" -t localhost/redtap:latest \
	-f "$OUT/Containerfile" "$OUT" >"$OUT/podman-build.log" 2>&1 ||
	{ tail -n 20 "$OUT/podman-build.log" >&2; exit 1; }
echo "$TAG"
