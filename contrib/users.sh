#!/bin/sh
# Creates the users and groups profd needs (safe to run again): one
# system user per worker, so that a compromised worker is one uid and
# cannot touch the others; group profd-chunks, which the profilers keep
# to reach the uploader's chunk socket; group profd, whose members may
# use profctl. contrib/profd.sysusers says the same for systemd-sysusers.
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "users.sh: run as root" >&2
	exit 1
fi
for g in profd profd-chunks; do
	getent group "$g" >/dev/null || groupadd --system "$g"
done
for w in perf python java upload; do
	u="profd-$w"
	getent passwd "$u" >/dev/null && continue
	useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin \
		--comment "profd $w worker" "$u"
	echo "users.sh: created system user $u"
done
