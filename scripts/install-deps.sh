#!/bin/sh
# scripts/install-deps.sh - installs the Debian 12 packages redtap needs to
# build (default) and, with --test, to run its test suite. Only missing
# packages are installed; nothing happens when everything is there.
# Usage: scripts/install-deps.sh [--test] [--bench] [--container]
set -eu

BUILD="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
libmicrohttpd-dev libyaml-dev libpg-query-dev libcurl4-openssl-dev
libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev libdw-dev"
TEST="libcmocka-dev curl python3 python3-yaml python3-psycopg2 nginx-light
postgresql redis-server libpq-dev libhiredis-dev webdis prometheus wrk
iproute2 procps util-linux binutils python3-prometheus-client
clang-format cppcheck libclang-rt-14-dev openssl libssl-dev python3-redis
golang-go golang-github-lib-pq-dev golang-github-jackc-pgx-v4-dev
golang-github-gomodule-redigo-dev golang-github-rs-zerolog-dev
golang-google-grpc-dev golang-golang-x-net-dev nghttp2-client nghttp2-server
dpkg-dev fakeroot"
BENCH="wrk postgresql-contrib redis-tools hyperfine"
# make container-test only: building and running the image.
CONTAINER="dpkg-dev fakeroot debootstrap podman"

want="$BUILD"
for arg in "$@"; do
	case "$arg" in
	--test) want="$want $TEST" ;;
	--bench) want="$want $TEST $BENCH" ;;
	--container) want="$want $CONTAINER" ;;
	*) echo "usage: $0 [--test] [--bench] [--container]" >&2; exit 2 ;;
	esac
done

missing=""
# Node.js and npm (the OTLP test receiver, the dashboard type check): any
# installation will do; Debian's packages only when there is none.
case " $want " in
*" curl "*)
	command -v node >/dev/null || missing="$missing nodejs"
	command -v npm >/dev/null || missing="$missing npm"
	;;
esac
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "redtap: these packages are missing:$missing; run this script as root to install them" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Services must not start on their own: tests start what they need on their ports.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
