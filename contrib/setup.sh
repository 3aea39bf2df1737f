#!/bin/sh
# Installs what building, running and testing profd need on Debian 12, and
# creates the system users the workers run as, from contrib/profd.sysusers
# (systemd-sysusers where there is one, else groupadd and useradd).
# Safe to run again. With --users, only the users.
set -eu

# systemd-sysusers takes an absolute path.
sysusers=$(cd "$(dirname "$0")" && pwd)/profd.sysusers

PACKAGES="build-essential autoconf automake libtool pkg-config \
libseccomp-dev libcap-ng-dev libprotobuf-c-dev protobuf-c-compiler \
libnng-dev libcurl4-openssl-dev zlib1g-dev libdw-dev check linux-perf procps \
python3 nodejs golang-go chromium openjdk-17-jdk-headless clang-14 \
libclang-rt-14-dev"

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root (it installs packages and adds a user)" >&2
	exit 1
fi

# Creates the groups (g NAME -) and users (u NAME - "GECOS" HOME SHELL,
# each with its own group) of the sysusers.d(5) file that do not exist yet.
users_from() {
	while read -r type name _ rest; do
		case $type in
		g) getent group "$name" >/dev/null || groupadd --system "$name" ;;
		u)
			gecos=${rest#\"} && gecos=${gecos%%\"*}
			# shellcheck disable=SC2086 # two words: home, shell
			set -- ${rest##*\"}
			home=$1 shell=$2
			getent passwd "$name" >/dev/null && continue
			useradd --system --user-group --no-create-home \
				--home-dir "$home" --shell "$shell" \
				--comment "$gecos" "$name"
			echo "setup.sh: created system user $name"
			;;
		esac
	done <"$sysusers"
}

# Each worker runs as a system user of its own, never as root.
users() {
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers "$sysusers"
	else
		users_from
	fi
}

if [ "${1-}" = --users ]; then
	users
	exit 0
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

users
echo "setup.sh: ready"
