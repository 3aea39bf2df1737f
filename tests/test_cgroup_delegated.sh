# --cgroup-delegated (what the systemd unit runs): with profd started in
# cgroups of its own (as systemd's Delegate=yes gives it; here the test
# makes them), every worker's cgroup is made inside them, so the unit's
# limits hold the whole suite and a second profd never meets the first's
# groups; none is made under the host's "profd" parents, and profd leaves
# its own groups in place at exit. Without such groups, profd refuses to
# start. This host has cgroup v1 memory and pids (v2 without them): the v2
# variant (profd moving itself into a "_supervisor" leaf) is not tried here.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
MEM=/sys/fs/cgroup/memory
PIDS=/sys/fs/cgroup/pids
[ -w "$MEM/cgroup.procs" ] && [ -w "$PIDS/cgroup.procs" ] ||
	skip "no writable cgroup v1 memory and pids hierarchies here"
OWN="profd-delegated-test.$$"
own_cleanup() {
	profd_cleanup
	for h in "$MEM" "$PIDS"; do
		[ -d "$h/$OWN" ] || continue
		find "$h/$OWN" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		rmdir "$h/$OWN" 2>/dev/null
	done
}
trap own_cleanup EXIT

# From the host's root groups: refused.
# shellcheck disable=SC2016
out=$(sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' \
	sh "$MEM" "$PIDS" "$PROFD" -d 1 --cgroup-delegated --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" -o "$T/o0" 2>&1)
rv=$?
[ "$rv" = 1 ] && echo "$out" | grep -q "cgroup-delegated: profd is in no cgroup of its own" ||
	fail "from the root group: exit $rv, $out"
pass "--cgroup-delegated outside a group of its own: refused"

mkdir "$MEM/$OWN" "$PIDS/$OWN"
echo $((512 << 20)) >"$MEM/$OWN/memory.limit_in_bytes"
mkdir -p "$RUN"
chmod 0711 "$RUN"
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' \
	sh "$MEM/$OWN" "$PIDS/$OWN" \
	"$PROFD" -c -v --cgroup-delegated --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" -o "$T/out" -d 1 --no-java 2>"$T/profd.err" &
PROFD_PID=$!
track "$PROFD_PID"
for w in upload perf python; do wait_field "$w" state running 60; done
for w in upload perf python; do
	pid=$(field "$w" pid)
	for h in memory pids; do
		got=$(sed -n "s/^[0-9]*:$h:\(.*\)/\1/p" "/proc/$pid/cgroup")
		[ "$got" = "/$OWN/$w" ] || fail "profd-$w's $h group is $got, not /$OWN/$w"
	done
done
[ "$(cat "$MEM/$OWN/perf/memory.limit_in_bytes")" = $((256 << 20)) ] ||
	fail "perf's limit is $(cat "$MEM/$OWN/perf/memory.limit_in_bytes")"
parent=$(profd_cgroup_parent "$RUN")
[ ! -e "$MEM/$parent" ] && [ ! -e "$MEM/profd/perf" ] ||
	fail "a group was made outside profd's own"
# The suite counts against profd's own group.
used=$(cat "$MEM/$OWN/memory.usage_in_bytes")
wused=$(cat "$MEM/$OWN/perf/memory.usage_in_bytes")
[ "$used" -ge "$wused" ] && [ "$wused" -gt 0 ] ||
	fail "own group $used bytes, perf's $wused"
pass "workers' groups inside profd's own: /$OWN/{upload,perf,python} (perf $((wused >> 10)) KiB of the $((used >> 10)) KiB counted there)"

# Limits still hold inside: a memory-max under perf's use kills it.
ctl set perf memory-max 4M >/dev/null || fail "profctl set failed"
end=$(($(date +%s) + 30 * SLOW))
until [ "$(field perf last_exit)" = memory-limit ]; do
	[ "$(date +%s)" -le "$end" ] || fail "perf was not killed at 4M (last exit $(field perf last_exit))"
	sleep 0.2
done
pass "a limit inside the delegated subtree holds (perf killed as memory-limit)"

stop_profd 0
for w in upload perf python; do
	[ ! -e "$MEM/$OWN/$w" ] || fail "$MEM/$OWN/$w left behind"
done
[ -d "$MEM/$OWN" ] && [ -d "$PIDS/$OWN" ] || fail "profd removed its own groups"
pass "clean stop: worker groups removed, profd's own left to its manager"
