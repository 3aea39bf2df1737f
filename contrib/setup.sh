#!/bin/sh
# Installs what building, running and testing profd need on Debian 12, and
# creates the system users the workers run as. Safe to run again.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config \
libseccomp-dev libcap-ng-dev libprotobuf-c-dev protobuf-c-compiler \
libnng-dev libcurl4-openssl-dev zlib1g-dev libdw-dev check linux-perf procps \
python3 nodejs golang-go chromium openjdk-17-jdk-headless clang-14 \
libclang-rt-14-dev"

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root (it installs packages and adds a user)" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Each worker runs as a system user of its own, never as root.
"$(dirname "$0")/users.sh"
echo "setup.sh: ready"
