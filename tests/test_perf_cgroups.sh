# --perf-use-cgroups: perf profiles the programs of a cgroup this test
# makes, and not a busy program outside it; no cgroup means no perf. Both
# engines: perf record -G, and the native engine's events per (cgroup,
# CPU) writing into one ring per CPU, chosen again at each window.
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
# A second one, made while profd runs (the native engine's new choice).
NAME2="profd-test-perfcg2.$$"
CG2="$ROOT/$NAME2"

# Kills what is in the cgroups and removes them, on any exit.
cg_remove() {
	[ -d "$1" ] || return 0
	for _ in $(seq 50); do
		while read -r p; do
			kill -9 "$p" 2>/dev/null
		done <"$1/cgroup.procs"
		rmdir "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "cannot remove $1"
}
cg_cleanup() { cg_remove "$CG"; cg_remove "$CG2"; }
trap 'cg_cleanup; cleanup' EXIT
mkdir "$CG" || fail "cannot create $CG"

# Two copies of busy_c, told apart by their names (comm).
cp "$BUSY_C" "$T/busy_inside"
cp "$BUSY_C" "$T/busy_outside"
start_named() {
	"$T/$1" $((60 * SLOW)) >"$T/$1.out" &
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
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native -d 2 -f 49 --perf-events cpu-clock \
	>"$T/all.col" 2>"$T/all.err" || { cat "$T/all.err"; fail "system-wide run failed"; }
grep -q '^busy_outside;.*hot_leaf ' "$T/all.col" ||
	fail "busy_outside is not seen system-wide"
grep -q '^busy_inside;.*hot_leaf ' "$T/all.col" ||
	fail "busy_inside is not seen system-wide"
pass "system-wide (native engine): both busy programs seen"

# The native engine with cgroups: only the program in the cgroup, from
# events per (cgroup, CPU) that write into the CPU's one ring.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-use-cgroups \
	--perf-max-cgroups 128 -d $((5 * SLOW)) -f 49 -v >"$T/ncg.col" 2>"$T/ncg.err" ||
	{ cat "$T/ncg.err"; fail "native engine --perf-use-cgroups exited with $?"; }
grep -q "native engine: sampling" "$T/ncg.err" || { cat "$T/ncg.err"; fail "not the native engine"; }
grep -q "perf record" "$T/ncg.err" && fail "the native engine ran perf record"
grep -q "native engine profiles .* cgroups in $ROOT .*$NAME" "$T/ncg.err" ||
	{ cat "$T/ncg.err"; fail "the native engine's log does not name $NAME"; }
inside=$(count_matching "$T/ncg.col" '^busy_inside;.*;main;run;hot_caller;hot_leaf ')
outside=$(count_matching "$T/ncg.col" '^busy_outside;')
echo "native: busy_inside hot_leaf samples=$inside busy_outside samples=$outside"
[ "$inside" -gt 20 ] || fail "native: too few samples of busy_inside: $inside"
[ "$outside" = 0 ] || fail "native: busy_outside was profiled: $outside samples"
pass "--perf-use-cgroups (native engine): the program in $NAME, not the one outside"

# With cgroups: only the program in the cgroup.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --perf-use-cgroups --perf-max-cgroups 128 \
	-d $((5 * SLOW)) -f 49 -v >"$T/cg.col" 2>"$T/cg.err" ||
	{ cat "$T/cg.err"; fail "profd-perf --perf-use-cgroups exited with $?"; }
cat "$T/cg.err"
grep -q "perf profiles .* cgroups in $ROOT .*$NAME" "$T/cg.err" ||
	fail "the log does not name $NAME among the cgroups"
inside=$(count_matching "$T/cg.col" '^busy_inside;.*;main;run;hot_caller;hot_leaf ')
outside=$(count_matching "$T/cg.col" '^busy_outside;')
echo "busy_inside hot_leaf samples=$inside busy_outside samples=$outside"
[ "$inside" -gt 20 ] || fail "too few samples of busy_inside: $inside"
[ "$outside" = 0 ] || fail "busy_outside was profiled: $outside samples"
pass "--perf-use-cgroups (perf engine): the program in $NAME, not the one outside"

# A restart of perf record ranks the cgroups again.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --perf-use-cgroups --perf-restart-rss 1 \
	--perf-restart-after 1 -d 2 -f 49 -v >"$T/re.col" 2>"$T/re.err" ||
	{ cat "$T/re.err"; fail "profd-perf with a restart failed"; }
grep -q "restarting perf record" "$T/re.err" || { cat "$T/re.err"; fail "no restart"; }
[ "$(grep -c "perf profiles .*$NAME" "$T/re.err")" = 2 ] ||
	{ cat "$T/re.err"; fail "the cgroups were not ranked again at the restart"; }
grep -q '^busy_outside;' "$T/re.col" && fail "busy_outside profiled"
pass "ranked again when perf record restarts"

# No cgroup chosen: no perf at all (not even the event probes, which
# record the whole host), and the window is still made (empty).
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --perf-use-cgroups --perf-max-cgroups 0 \
	-d 1 -vv >"$T/none.col" 2>"$T/none.err" ||
	{ cat "$T/none.err"; fail "no cgroup made profd-perf fail"; }
grep -q "no cgroup to profile in $ROOT.*perf is not started" "$T/none.err" ||
	{ cat "$T/none.err"; fail "no clear line when no cgroup is found"; }
grep -q "perf record started" "$T/none.err" && fail "perf record started"
grep -q "perf event" "$T/none.err" && fail "perf events were probed"
[ -s "$T/none.col" ] && fail "samples without any cgroup: $(head -2 "$T/none.col")"
pass "no cgroup: perf not started, an empty window"

# The native engine without a cgroup: its rings only, nothing sampled.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-use-cgroups \
	--perf-max-cgroups 0 -d 1 -v >"$T/nnone.col" 2>"$T/nnone.err" ||
	{ cat "$T/nnone.err"; fail "no cgroup made the native engine fail"; }
grep -q "no cgroup to profile in $ROOT.*samples nothing" "$T/nnone.err" ||
	{ cat "$T/nnone.err"; fail "native: no clear line when no cgroup is found"; }
[ -s "$T/nnone.col" ] && fail "native: samples without any cgroup: $(head -2 "$T/nnone.col")"
pass "no cgroup (native engine): an empty window"

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

# Through profd: the flags reach profd-perf in its Configure (the
# default engine is the native one).
RUN="$T/run"
timeout -k 5 $((60 * SLOW)) "$PROFD" -d 3 -o "$T/o" --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" --perf-use-cgroups --perf-max-cgroups 128 \
	--perf-max-docker-containers 2 --no-java -v 2>"$T/profd.err" ||
	{ cat "$T/profd.err"; fail "profd --perf-use-cgroups failed"; }
grep -q "native engine profiles .*$NAME" "$T/profd.err" ||
	{ cat "$T/profd.err"; fail "profd-perf did not use the cgroups"; }
grep -q ';busy_inside;.*hot_leaf ' "$T/o/last_profile.col" ||
	fail "busy_inside missing from profd's profile"
grep -q ';busy_outside;' "$T/o/last_profile.col" &&
	fail "busy_outside in profd's profile"
assert_no_process "$RUN"
pass "profd passes --perf-use-cgroups on"

# Windows after windows: the native engine chooses the cgroups again at
# each one. A cgroup made while it runs is profiled from the next window
# on, and the events never outnumber
# (cgroups + 1) x CPUs, with one ring mapped per CPU.
. "$top_srcdir/tests/supervisor_lib.sh"
trap 'profd_cleanup; cg_cleanup' EXIT
RUN="$T/run2"
start_profd -d 2 -f 49 --perf-engine native --perf-use-cgroups \
	--perf-max-cgroups 128 --no-java --no-python -v
wait_field perf state running 20
grep -q "native engine profiles .*$NAME" "$T/profd.err" ||
	{ cat "$T/profd.err"; fail "profd-perf did not choose $NAME"; }
mkdir "$CG2" || fail "cannot create $CG2"
echo "$OUT_PID" >"$CG2/cgroup.procs" || fail "cannot move busy_outside into $CG2"
for _ in $(seq $((100 * SLOW))); do
	grep -q "native engine profiles .*$NAME2" "$T/profd.err" && break
	sleep 0.1
done
grep "native engine profiles" "$T/profd.err"
grep -q "native engine profiles .*$NAME2" "$T/profd.err" ||
	fail "$NAME2 was not chosen at a later window"
# Two full windows with both cgroups.
w=$(grep -c "window [0-9]* stored" "$T/profd.err")
for _ in $(seq $((150 * SLOW))); do
	[ "$(grep -c "window [0-9]* stored" "$T/profd.err")" -ge $((w + 2)) ] && break
	sleep 0.1
done
pid=$(field perf pid)
ncpu=$(grep -c '^processor' /proc/cpuinfo)
events=$(find "/proc/$pid/fd" -lname 'anon_inode:*perf_event*' | wc -l)
rings=$(grep -c 'perf_event' "/proc/$pid/maps")
chosen=$(grep "native engine profiles" "$T/profd.err" | tail -1 |
	sed 's/.*native engine profiles \([0-9]*\) of.*/\1/')
echo "$ncpu CPUs, $chosen cgroups: $events perf_event fds, $rings rings mapped"
[ "$rings" = "$ncpu" ] || fail "$rings rings mapped, not one per CPU ($ncpu)"
[ "$events" = $(((chosen + 1) * ncpu)) ] ||
	fail "$events perf_event fds for $chosen cgroups on $ncpu CPUs"
# A cgroup removed and made again under the same name is another one:
# its events are opened anew (the old ones, on the removed cgroup, would
# see nothing), which the engine logs as a change.
n=$(grep -c "native engine profiles .*$NAME2" "$T/profd.err")
echo "$OUT_PID" >"$ROOT/cgroup.procs" && rmdir "$CG2" && mkdir "$CG2" &&
	echo "$OUT_PID" >"$CG2/cgroup.procs" || fail "cannot make $CG2 again"
for _ in $(seq $((100 * SLOW))); do
	[ "$(grep -c "native engine profiles .*$NAME2" "$T/profd.err")" -gt "$n" ] && break
	sleep 0.1
done
[ "$(grep -c "native engine profiles .*$NAME2" "$T/profd.err")" -gt "$n" ] ||
	fail "$NAME2 made again: its events were not opened again"
w=$(grep -c "window [0-9]* stored" "$T/profd.err")
for _ in $(seq $((150 * SLOW))); do
	[ "$(grep -c "window [0-9]* stored" "$T/profd.err")" -ge $((w + 2)) ] && break
	sleep 0.1
done
stop_profd
# The last window profiled both cgroups (the second one made again).
grep -q ';busy_inside;.*hot_leaf ' "$T/out/last_profile.col" ||
	fail "busy_inside missing from the last window"
grep -q ';busy_outside;.*hot_leaf ' "$T/out/last_profile.col" ||
	fail "busy_outside (now in $NAME2) missing from the last window"
pass "the native engine chose $NAME2 at a later window, and again when it was made again; one ring per CPU"
