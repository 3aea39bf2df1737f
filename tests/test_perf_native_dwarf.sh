# profd-perf's native engine in DWARF mode (--perf-mode dwarf and smart):
# a program built without frame pointers is unwound from each sample's
# copied user stack with libdwfl. Frame pointers alone cannot find its
# callers (the control), the perf engine's DWARF mode agrees on its leaf
# share, and a stack copy too small to unwind is counted, not hidden.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
[ "$(uname -m)" = x86_64 ] || skip "native DWARF unwinding is x86_64 only"
DWARF_C="$top_builddir/tests/fixtures/dwarf_c"
# Windows grow with the build's time factor: a sanitizer-stage CI run
# beside other tests gave the fixture 28 samples in 3 s.
LONG=$((6 * SLOW))
SHORT=$((3 * SLOW))
FULL=';main;outer;middle;leaf_spin '
SIDE=';main;outer;side_leaf '

# The fixture's samples in file $1; fails below 10, too few to judge (run
# in $(...): the message goes to stderr).
fixture_total() {
	n=$(count_matching "$1" '^dwarf_c;')
	[ "$n" -ge 10 ] || fail "too few samples of dwarf_c in $1: $n" >&2
	echo "$n"
}

# Share of leaf_spin among the fixture's two leaves in file $1, per mille.
leaf_share() {
	a=$(count_matching "$1" "^dwarf_c;.*$FULL")
	b=$(count_matching "$1" "^dwarf_c;.*$SIDE")
	echo "$1: leaf_spin=$a side_leaf=$b" >&2
	[ "$a" -gt 40 ] && [ "$b" -gt 15 ] || fail "too few samples in $1: leaf_spin=$a side_leaf=$b" >&2
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%d", 1000 * a / (a + b) }'
}

"$DWARF_C" $((120 * SLOW)) >"$T/dwarf.out" &
DW_PID=$!
track "$DW_PID"
for _ in $(seq 50); do grep -q ready "$T/dwarf.out" && break; sleep 0.1; done
grep -q ready "$T/dwarf.out" || fail "dwarf_c did not start"

# Both engines in DWARF mode on the PID at the same time (the same load).
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --perf-mode dwarf \
	--pid "$DW_PID" -d "$LONG" -f 99 >"$T/perf.col" 2>"$T/perf.err" &
PERF_RUN=$!
track "$PERF_RUN"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-mode dwarf \
	--pid "$DW_PID" -d "$LONG" -f 99 -v >"$T/native.col" 2>"$T/native.err" ||
	{ cat "$T/native.err"; fail "native engine (dwarf) exited with $?"; }
wait "$PERF_RUN" || { cat "$T/perf.err"; fail "perf engine (dwarf) exited with $?"; }
grep 'native engine' "$T/native.err"
grep -q 'perf record' "$T/native.err" && fail "the native engine ran perf"
grep -q 'user stacks unwound with DWARF' "$T/native.err" || fail "no DWARF unwinding reported"
full=$(count_matching "$T/native.col" "^dwarf_c;.*$FULL")
echo "native dwarf: $full samples in outer;middle;leaf_spin"
[ "$full" -gt 40 ] || fail "native dwarf: the full chain is missing: $(head -5 "$T/native.col")"
pass "native dwarf: main;outer;middle;leaf_spin unwound without frame pointers"

native=$(leaf_share "$T/native.col") || exit 1
perf=$(leaf_share "$T/perf.col") || exit 1
echo "leaf_spin share: native $native, perf $perf per mille"
diff=$((native > perf ? native - perf : perf - native))
[ "$diff" -le 100 ] || fail "the engines disagree by more than 10 points: native $native, perf $perf"
pass "native and perf engines agree in dwarf mode ($native and $perf per mille)"

# Control: frame pointers alone (the same program, the same engine) see
# the leaf but not its callers, so the check above can fail.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-mode fp \
	--pid "$DW_PID" -d "$SHORT" -f 99 >"$T/fp.col" 2>"$T/fp.err" ||
	{ cat "$T/fp.err"; fail "native engine (fp) exited with $?"; }
leaf=$(count_matching "$T/fp.col" '^dwarf_c;(.*;)?leaf_spin ')
fpfull=$(count_matching "$T/fp.col" "^dwarf_c;.*$FULL")
echo "native fp: leaf_spin $leaf samples, the full chain $fpfull"
# A few samples in leaf_spin show the control.
[ "$leaf" -ge 5 ] || fail "native fp: no samples in leaf_spin: $(head -3 "$T/fp.col")"
[ "$fpfull" -eq 0 ] || fail "frame pointers found the full chain: the fixture has frame pointers?"
pass "control: fp mode does not find outer;middle (no frame pointers)"

# smart: per process the deeper of the two chains, here DWARF's.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-mode smart \
	--pid "$DW_PID" -d "$SHORT" -f 99 -v >"$T/smart.col" 2>"$T/smart.err" ||
	{ cat "$T/smart.err"; fail "native engine (smart) exited with $?"; }
total=$(fixture_total "$T/smart.col") || exit 1
smart=$(count_matching "$T/smart.col" "^dwarf_c;.*$FULL")
short=$(count_matching "$T/smart.col" '^dwarf_c;leaf_spin ')
echo "native smart: $total samples, full chain $smart, fp's leaf_spin alone $short"
# leaf_spin is about 55 % of the fixture's work.
[ $((4 * smart)) -ge "$total" ] && [ "$short" -eq 0 ] || fail "smart did not keep DWARF's stacks: $(head -3 "$T/smart.col")"
pass "native smart: DWARF's deeper stacks kept for the process"

# A stack copy of 64 bytes holds leaf_spin's return address at most (its
# frame is in the red zone), not middle's: each chain stops early, keeps
# the leaf, and the stops are counted in the window's log line.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-mode dwarf \
	--perf-dwarf-stack-size 64 --pid "$DW_PID" -d "$SHORT" -f 99 -v \
	>"$T/small.col" 2>"$T/small.err" ||
	{ cat "$T/small.err"; fail "native engine (64-byte stacks) exited with $?"; }
grep 'unwound with DWARF' "$T/small.err"
early=$(sed -n 's/.* with DWARF, \([0-9]*\) stopped early.*/\1/p' "$T/small.err" | head -1)
total=$(fixture_total "$T/small.col") || exit 1
leaf=$(count_matching "$T/small.col" '^dwarf_c;(middle;)?leaf_spin ')
echo "64-byte stacks: $total samples, $early stopped early, leaf_spin alone $leaf"
# Every chain stops early (the log line counts them as they are unwound).
[ $((10 * ${early:-0})) -ge $((9 * total)) ] || fail "early stops not counted: $(cat "$T/small.err")"
[ $((4 * leaf)) -ge "$total" ] || fail "a chain that stops early lost its leaf: $(head -3 "$T/small.col")"
[ "$(count_matching "$T/small.col" "$FULL")" -eq 0 ] || fail "unwound past a 64-byte stack copy?"
pass "a stack copy too small: chains keep the leaf, the stops are counted"

# System-wide in dwarf mode: every process's Dwfl (at most the cap), no
# crash, the fixture still unwound, the worker's memory bounded.
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --perf-mode dwarf \
	-d "$SHORT" -f 49 -v >"$T/all.col" 2>"$T/all.err" ||
	{ cat "$T/all.err"; fail "system-wide native dwarf exited with $?"; }
grep 'native engine' "$T/all.err"
grep -q "^dwarf_c;.*$FULL" "$T/all.col" || fail "dwarf_c not unwound system-wide"
rss=$(sed -n 's/.*RSS \([0-9]*\) kB.*/\1/p' "$T/all.err" | head -1)
[ "${rss:-0}" -gt 0 ] && [ "$rss" -lt $((200 * 1024 * SLOW)) ] || fail "RSS ${rss:-?} kB"
pass "system-wide dwarf: the fixture unwound, RSS $rss kB"

"$PERF_WORKER" --perf-engine native --perf-mode dwarf -f 499 -d 1 \
	>/dev/null 2>"$T/freq.err" && fail "dwarf mode at 499 Hz accepted"
grep -q 'at most 100 Hz' "$T/freq.err" || fail "no clear message: $(cat "$T/freq.err")"
pass "dwarf mode's frequency bound holds for the native engine"
