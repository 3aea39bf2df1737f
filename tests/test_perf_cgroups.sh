# --perf-use-cgroups: perf profiles the programs of a cgroup this test
# makes, and not a busy program outside it; no cgroup means no perf.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
grep -q '^perf_event[[:space:]].*1$' /proc/cgroups ||
	skip "the kernel has no perf_event cgroup controller"

# The hierarchy perf -G uses, found as perf finds it: the first v1 mount
# with perf_event, else the first cgroup2 mount.
ROOT=$(awk '$3 == "cgroup" && $4 ~ /(^|,)perf_event(,|$)/ { print $2; exit }' \
	/proc/self/mounts)
[ -n "$ROOT" ] || ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$ROOT" ] || skip "no cgroup hierarchy holds perf_event"
NAME="profd-test-perfcg.$$"
CG="$ROOT/$NAME"

# Kills what is in the cgroup and removes it, on any exit.
cg_cleanup() {
	[ -d "$CG" ] || return 0
	for _ in $(seq 50); do
		while read -r p; do
			kill -9 "$p" 2>/dev/null
		done <"$CG/cgroup.procs"
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "cannot remove $CG"
}
trap 'cg_cleanup; cleanup' EXIT
mkdir "$CG" || fail "cannot create $CG"

# Two copies of busy_c, told apart by their names (comm).
cp "$BUSY_C" "$T/busy_inside"
cp "$BUSY_C" "$T/busy_outside"
start_named() {
	"$T/$1" 60 >"$T/$1.out" &
	track "$!"
	eval "$2=\$!"
	for _ in $(seq 50); do
		grep -q ready "$T/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1 did not start"
}
start_named busy_inside IN_PID
start_named busy_outside OUT_PID
echo "$IN_PID" >"$CG/cgroup.procs" || fail "cannot move busy_inside into $CG"
# Outside: in the root cgroup, which perf -G is never given, wherever
# this test itself runs.
echo "$OUT_PID" >"$ROOT/cgroup.procs" || fail "cannot move busy_outside to $ROOT"
grep -qx "$IN_PID" "$CG/cgroup.procs" || fail "busy_inside is not in $CG"

# Both programs are visible to a system-wide perf: the check below means
# something.
timeout -k 5 60 "$PERF_WORKER" -d 2 -f 49 --perf-events cpu-clock \
	>"$T/all.col" 2>"$T/all.err" || { cat "$T/all.err"; fail "system-wide run failed"; }
grep -q '^busy_outside;.*hot_leaf ' "$T/all.col" ||
	fail "busy_outside is not seen system-wide"
grep -q '^busy_inside;.*hot_leaf ' "$T/all.col" ||
	fail "busy_inside is not seen system-wide"
pass "system-wide: both busy programs seen"

# With cgroups: only the program in the cgroup.
timeout -k 5 60 "$PERF_WORKER" --perf-use-cgroups --perf-max-cgroups 128 \
	-d 5 -f 49 -v >"$T/cg.col" 2>"$T/cg.err" ||
	{ cat "$T/cg.err"; fail "profd-perf --perf-use-cgroups exited with $?"; }
cat "$T/cg.err"
grep -q "perf profiles .* cgroups in $ROOT .*$NAME" "$T/cg.err" ||
	fail "the log does not name $NAME among the cgroups"
inside=$(count_matching "$T/cg.col" '^busy_inside;.*;main;run;hot_caller;hot_leaf ')
outside=$(count_matching "$T/cg.col" '^busy_outside;')
echo "busy_inside hot_leaf samples=$inside busy_outside samples=$outside"
[ "$inside" -gt 20 ] || fail "too few samples of busy_inside: $inside"
[ "$outside" = 0 ] || fail "busy_outside was profiled: $outside samples"
pass "--perf-use-cgroups: the program in $NAME, not the one outside"

# A restart of perf record ranks the cgroups again.
timeout -k 5 60 "$PERF_WORKER" --perf-use-cgroups --perf-restart-rss 1 \
	--perf-restart-after 1 -d 2 -f 49 -v >"$T/re.col" 2>"$T/re.err" ||
	{ cat "$T/re.err"; fail "profd-perf with a restart failed"; }
grep -q "restarting perf record" "$T/re.err" || { cat "$T/re.err"; fail "no restart"; }
[ "$(grep -c "perf profiles .*$NAME" "$T/re.err")" = 2 ] ||
	{ cat "$T/re.err"; fail "the cgroups were not ranked again at the restart"; }
grep -q '^busy_outside;' "$T/re.col" && fail "busy_outside profiled"
pass "ranked again when perf record restarts"

# No cgroup chosen: no perf at all (not even the event probes, which
# record the whole host), and the window is still made (empty).
timeout -k 5 60 "$PERF_WORKER" --perf-use-cgroups --perf-max-cgroups 0 \
	-d 1 -vv >"$T/none.col" 2>"$T/none.err" ||
	{ cat "$T/none.err"; fail "no cgroup made profd-perf fail"; }
grep -q "no cgroup to profile in $ROOT.*perf is not started" "$T/none.err" ||
	{ cat "$T/none.err"; fail "no clear line when no cgroup is found"; }
grep -q "perf record started" "$T/none.err" && fail "perf record started"
grep -q "perf event" "$T/none.err" && fail "perf events were probed"
[ -s "$T/none.col" ] && fail "samples without any cgroup: $(head -2 "$T/none.col")"
pass "no cgroup: perf not started, an empty window"

# Refused: --pids with cgroups, values out of range.
timeout -k 5 30 "$PERF_WORKER" --perf-use-cgroups --pid "$IN_PID" -d 1 \
	>/dev/null 2>"$T/pids.err"
[ $? = 78 ] || fail "--perf-use-cgroups with --pid did not end with 78"
grep -q "exclude each other" "$T/pids.err" || fail "no reason given for --pid"
for bad in "--perf-max-cgroups 129" "--perf-max-docker-containers -1" \
	"--perf-max-cgroups x"; do
	# shellcheck disable=SC2086
	"$PERF_WORKER" --perf-use-cgroups $bad -d 1 >/dev/null 2>&1
	[ $? = 2 ] || fail "$bad was accepted"
	# shellcheck disable=SC2086
	"$PROFD" -o "$T/bad" --perf-use-cgroups $bad >/dev/null 2>&1
	[ $? = 2 ] || fail "profd accepted $bad"
done
"$PROFD" -o "$T/bad" --perf-use-cgroups --pids "$IN_PID" >/dev/null 2>&1 &&
	fail "profd accepted --perf-use-cgroups with --pids"
pass "bad values and --pids refused"

# Through profd: the flags reach profd-perf in its Configure.
RUN="$T/run"
timeout -k 5 60 "$PROFD" -d 3 -o "$T/o" --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" --perf-use-cgroups --perf-max-cgroups 128 \
	--perf-max-docker-containers 2 -v 2>"$T/profd.err" ||
	{ cat "$T/profd.err"; fail "profd --perf-use-cgroups failed"; }
grep -q "perf profiles .*$NAME" "$T/profd.err" ||
	{ cat "$T/profd.err"; fail "profd-perf did not use the cgroups"; }
grep -q ';busy_inside;.*hot_leaf ' "$T/o/last_profile.col" ||
	fail "busy_inside missing from profd's profile"
grep -q ';busy_outside;' "$T/o/last_profile.col" &&
	fail "busy_outside in profd's profile"
assert_no_process "$RUN"
pass "profd passes --perf-use-cgroups on"
