# Container names as the runtimes name them: a busy process in a cgroup
# named like a Docker container's, with Docker's state for that id (in a
# private mount namespace, so the host's /var/lib is untouched), shows up
# under its container name in the collapsed file's container field; with
# containers/storage's state (CRI-O, Podman) too. The positive control:
# without any runtime state, the same process is labelled with the
# short id, so the name can only have come from the state file.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
ID=c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789
CG=/sys/fs/cgroup/pids/docker-$ID.scope
[ -d /sys/fs/cgroup/pids ] || skip "no cgroup v1 pids tree to name a container"
mkdir "$CG" || fail "cannot make $CG"
cleanup_cg() {
	[ -n "${BUSY_PID:-}" ] && kill -9 "$BUSY_PID" 2>/dev/null
	wait 2>/dev/null
	rmdir "$CG" 2>/dev/null
	cleanup
}
trap cleanup_cg EXIT
start_busy 60
echo "$BUSY_PID" >"$CG/cgroup.procs" || fail "cannot move busy_c into $CG"
mkdir -p "$T/run"
chmod 0711 "$T/run"

# run_profd OUT STATE: one 2 s window of busy_c, the host's /var/lib
# replaced by a tmpfs holding STATE (a shell snippet) when given.
run_profd() {
	unshare -m --propagation private sh -ec "
		if [ -n '$2' ]; then
			mount -t tmpfs profd-test /var/lib
			$2
		fi
		exec '$PROFD' -d 2 -f 49 --pids $BUSY_PID -o '$1' \
			--runtime-dir '$T/run' --worker-dir '$top_builddir' \
			--no-java --python-mode disabled
	" >"$T/p.out" 2>"$T/p.err" || fail "profd: $(cat "$T/p.err")"
}
field_of_busy() {
	grep -v '^#' "$1/last_profile.col" | grep ';busy_c;' |
		cut -d';' -f2 | sort -u
}

D=/var/lib/docker/containers/$ID
run_profd "$T/docker" "mkdir -p $D && printf '%s' \
'{\"MountPoints\":{\"/data\":{\"Name\":\"vol\"}},\"ID\":\"$ID\",\"Name\":\"/shop-web-1\"}' \
>$D/config.v2.json"
got=$(field_of_busy "$T/docker")
[ "$got" = "shop-web-1" ] || fail "Docker's name not used: '$got'"
head -1 "$T/docker/last_profile.col" |
	grep -q '"containers": \["shop-web-1"\], "container_names_enabled": true' ||
	fail "the header does not list the container: $(head -c 300 "$T/docker/last_profile.col")"
pass "a Docker container is named from config.v2.json: $got"

S=/var/lib/containers/storage/overlay-containers
run_profd "$T/storage" "mkdir -p $S && printf '%s' \
'[{\"id\":\"0000\",\"names\":[\"other\"]},{\"id\":\"$ID\",\"names\":[\"k8s_api_shop\"]}]' \
>$S/containers.json"
got=$(field_of_busy "$T/storage")
[ "$got" = "k8s_api_shop" ] || fail "containers/storage's name not used: '$got'"
pass "a CRI-O/Podman container is named from containers.json: $got"

# Control: no runtime state, the short id.
run_profd "$T/none" ""
got=$(field_of_busy "$T/none")
[ "$got" = "${ID%"${ID#????????????}"}" ] || fail "without state: '$got'"
pass "without any runtime state the container is its short id: $got"
