# profd-perf on its own: a busy C program's stacks, nesting and proportion.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf

# Scratch directories go to $TMPDIR: this test's own, to check they go.
# (sticky and writable like /tmp, for the sandbox user to remove them).
mkdir -m 1777 "$T/tmp"
export TMPDIR="$T/tmp"
start_busy 30
timeout -k 5 60 "$PERF_WORKER" --pid "$BUSY_PID" -d 5 -f 99 >"$T/pid.col" 2>"$T/pid.err" ||
	{ cat "$T/pid.err"; fail "profd-perf --pid exited with $?"; }
cat "$T/pid.err"

hot=$(count_matching "$T/pid.col" '^busy_c;.*;main;run;hot_caller;hot_leaf ')
cold=$(count_matching "$T/pid.col" '^busy_c;.*;main;run;cold_caller;cold_leaf ')
total=$(awk '{ s += $NF } END { print s + 0 }' "$T/pid.col")
echo "hot=$hot cold=$cold total=$total"
# Few samples on a loaded host, but enough for the proportion below.
[ "$hot" -gt 20 ] || fail "too few samples in hot_leaf: $hot"
[ "$cold" -gt 5 ] || fail "too few samples in cold_leaf: $cold"
# Only the given PID is profiled.
if grep -v '^busy_c;' "$T/pid.col" | grep -q .; then
	fail "samples from other processes: $(grep -v '^busy_c;' "$T/pid.col" | head -3)"
fi
# hot_leaf does 3/4 of the work: accept 0.75 +- 20 %.
share=$(awk -v h="$hot" -v c="$cold" 'BEGIN { printf "%d", 100 * h / (h + c) }')
echo "hot share: $share %"
[ "$share" -ge 60 ] && [ "$share" -le 90 ] || fail "hot share $share % is not 75 % +- 20 %"
pass "--pid: leaves nested under their callers in the known proportion"

# smart: fp and dwarf together, one of them per process, never both.
timeout -k 5 60 "$PERF_WORKER" --perf-engine perf --pid "$BUSY_PID" -d 4 -f 97 --perf-mode smart -v \
	>"$T/smart.col" 2>"$T/smart.err" ||
	{ cat "$T/smart.err"; fail "profd-perf --perf-mode smart exited with $?"; }
grep -q 'dwarf, 97 Hz' "$T/smart.err" || fail "smart mode did not start a dwarf perf"
hot=$(count_matching "$T/smart.col" '^busy_c;.*;main;run;hot_caller;hot_leaf(;spin)? ')
cold=$(count_matching "$T/smart.col" '^busy_c;.*;main;run;cold_caller;cold_leaf(;spin)? ')
total=$(awk '{ s += $NF } END { print s + 0 }' "$T/smart.col")
share=$(awk -v h="$hot" -v c="$cold" 'BEGIN { printf "%d", (h + c) ? 100 * h / (h + c) : 0 }')
echo "smart: hot=$hot cold=$cold total=$total share=$share %"
[ "$share" -ge 60 ] && [ "$share" -le 90 ] || fail "smart: hot share $share % is not 75 % +- 20 %"
# At most one perf's worth of samples (97 Hz x 4 s, fewer when the host is
# busy), not fp's and dwarf's added up.
[ "$hot" -ge 20 ] || fail "smart: too few samples in hot_leaf: $hot"
[ "$total" -le 560 ] || fail "smart: $total samples, expected at most about 390"
"$PERF_WORKER" --pid "$BUSY_PID" -d 1 -f 101 --perf-mode smart >/dev/null 2>"$T/smart101.err" &&
	fail "smart mode accepted 101 Hz"
grep -q 'at most 100 Hz' "$T/smart101.err" || fail "no clear message for smart at 101 Hz"
pass "--perf-mode smart: one stack set per process, fp's sample count"

# System-wide: kernel frames are marked, and busy_c is there too.
timeout -k 5 60 "$PERF_WORKER" -d 2 -f 49 >"$T/all.col" 2>"$T/all.err" ||
	{ cat "$T/all.err"; fail "profd-perf system-wide failed"; }
grep -q '_\[k\]' "$T/all.col" || fail "no kernel frame marked _[k]"
grep -q '^busy_c;.*hot_caller;hot_leaf ' "$T/all.col" || fail "busy_c missing system-wide"
pass "system-wide with kernel frames"

# Nothing left behind: no perf of ours, no scratch directory.
assert_no_process "perf record.*--pid $BUSY_PID"
[ -z "$(ls -A "$T/tmp")" ] || fail "scratch directory left: $(ls "$T/tmp")"
pass "no process or directory left"
