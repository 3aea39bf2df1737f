# perf's guard rails: too many processes, a chosen event, memory restarts.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
RUN="$T/run"
COMMON="--runtime-dir $RUN --worker-dir $top_builddir"

# --skip-system-profilers-above: perf never starts, the window is written.
# shellcheck disable=SC2086
timeout -k 5 60 "$PROFD" -d 2 -o "$T/o1" --skip-system-profilers-above 1 \
	$COMMON 2>"$T/skip.err" &
pid=$!
track "$pid"
while kill -0 "$pid" 2>/dev/null; do
	pgrep -f "perf record.*$RUN" >/dev/null && fail "perf record started"
	sleep 0.05
done
wait "$pid" || { cat "$T/skip.err"; fail "profd failed with perf skipped"; }
grep -q "over --skip-system-profilers-above 1: perf is not started" \
	"$T/skip.err" || { cat "$T/skip.err"; fail "the log does not say why"; }
head -c 3 "$T/o1/last_profile.col" | grep -q '^# {' ||
	fail "the uploader did not write the window"
pass "--skip-system-profilers-above 1: no perf, window written"

# --perf-events: the given event is used without discovery.
start_busy 30
timeout -k 5 60 "$PERF_WORKER" --pid "$BUSY_PID" -d 2 -f 49 -v \
	--perf-events cpu-clock >"$T/ev.col" 2>"$T/ev.err" ||
	{ cat "$T/ev.err"; fail "--perf-events cpu-clock failed"; }
grep -q 'hot_leaf' "$T/ev.col" || fail "no samples with --perf-events cpu-clock"
grep -q "perf event" "$T/ev.err" && fail "events were probed despite --perf-events"
timeout -k 5 60 "$PERF_WORKER" -d 1 --perf-events no-such-event \
	>/dev/null 2>"$T/bad.err"
[ $? = 78 ] || fail "a bad event did not end with status 78"
grep -q "perf record failed to start" "$T/bad.err" ||
	{ cat "$T/bad.err"; fail "no message for a bad event"; }
pass "--perf-events: used as given; a bad one is refused clearly"

# Memory restarts: with tiny thresholds perf record restarts between
# windows, and the windows keep coming. They are the perf engine's (the
# native engine runs no perf): profd asks for it where it has
# --perf-engine, else dwarf mode keeps auto on the perf engine.
mkdir -p "$RUN"
PERF_ENGINE="--perf-mode dwarf"
"$PROFD" --help 2>&1 | grep -q -- --perf-engine && PERF_ENGINE="--perf-engine perf"
# shellcheck disable=SC2086
"$PROFD" -c -d 2 -o "$T/o2" --perf-restart-rss 1 --perf-restart-after 1 \
	$PERF_ENGINE -v $COMMON 2>"$T/restart.err" &
pid=$!
track "$pid"
for _ in $(seq $((300 * SLOW))); do
	[ "$(grep -c 'restarting perf record' "$T/restart.err")" -ge 2 ] &&
		[ "$(ls "$T/o2"/profile_*.col 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || { cat "$T/restart.err"; fail "profd failed"; }
[ "$(grep -c 'restarting perf record' "$T/restart.err")" -ge 2 ] ||
	{ cat "$T/restart.err"; fail "perf record was not restarted"; }
[ "$(ls "$T/o2"/profile_*.col | wc -l)" -ge 3 ] || fail "windows stopped"
assert_no_process "$RUN"
pass "memory restarts between windows, windows go on"

# --perf-dwarf-stack-size reaches perf record through profd.
mkdir -p "$RUN"
# shellcheck disable=SC2086
# Only busy_c: DWARF unwinding of a whole busy host can take perf script
# past the worker's memory limit.
start_busy 30
timeout -k 5 60 "$PROFD" -d 3 -f 49 -o "$T/o3" --perf-mode dwarf $PERF_ENGINE \
	--pids "$BUSY_PID" --perf-dwarf-stack-size 4096 $COMMON 2>"$T/dwarf.err" &
pid=$!
track "$pid"
seen=0
while kill -0 "$pid" 2>/dev/null; do
	pgrep -f "perf record.*--call-graph dwarf,4096.*$RUN" >/dev/null && seen=1
	sleep 0.05
done
wait "$pid" || { cat "$T/dwarf.err"; fail "profd failed in dwarf mode"; }
[ "$seen" = 1 ] || fail "perf record did not get --call-graph dwarf,4096"
grep -q 'hot_leaf' "$T/o3/last_profile.col" || fail "no busy_c stacks in dwarf mode"
pass "--perf-dwarf-stack-size 4096 reaches perf record"

# PIDs that exit mid-window: the window keeps what was sampled before,
# the other PIDs go on, and a list that empties stops perf, not the worker.
start_busy $((30 * SLOW))
# The short-lived one under another name, to tell their stacks apart.
cp "$BUSY_C" "$T/busy_short"
# It lives long enough for profd-perf's start, slower in sanitizer builds.
"$T/busy_short" $((2 * SLOW + 1)) >/dev/null &
SHORT=$!
track "$SHORT"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --pids "$BUSY_PID,$SHORT" -d $((4 * SLOW + 2)) -f 49 -v \
	--perf-events cpu-clock >"$T/exit2.col" 2>"$T/exit2.err" ||
	{ cat "$T/exit2.err"; fail "profd-perf failed when one PID exited"; }
long=$(count_matching "$T/exit2.col" '^busy_c;.*hot_leaf')
short=$(count_matching "$T/exit2.col" '^busy_short;.*hot_leaf')
echo "samples: long-lived $long, exited after $((2 * SLOW + 1)) s $short"
[ "$short" -gt 0 ] || fail "the samples of the PID that exited are lost"
# The long-lived PID ran twice as long: it was profiled after the other
# one exited (counts are small and noisy on a loaded host).
[ "$long" -gt "$short" ] || fail "sampling stopped when one PID exited"
kill -0 "$BUSY_PID" || fail "the long busy_c ended early"
# It lives long enough for profd-perf's start, slower in sanitizer builds.
"$BUSY_C" $((3 * SLOW)) >/dev/null &
SHORT=$!
track "$SHORT"
timeout -k 5 60 "$PERF_WORKER" --pids "$SHORT" -d $((3 * SLOW + 3)) -f 49 -v \
	--perf-events cpu-clock >"$T/exit1.col" 2>"$T/exit1.err" ||
	{ cat "$T/exit1.err"; fail "profd-perf failed when its only PID exited"; }
cat "$T/exit1.err"
[ "$(count_matching "$T/exit1.col" 'hot_leaf')" -gt 0 ] ||
	fail "the samples before the PID exited are lost"
grep -q "every given PID has exited" "$T/exit1.err" || fail "no message for the exited PIDs"
pass "PIDs exiting mid-window: their samples are kept, the worker goes on"

# Under profd: windows keep coming after the only PID exited (it lives
# long enough for perf's event discovery and first start on a busy host).
"$BUSY_C" $((8 * SLOW)) >/dev/null &
SHORT=$!
track "$SHORT"
# shellcheck disable=SC2086
"$PROFD" -c -d 2 -f 49 -o "$T/o4" --pids "$SHORT" -v $COMMON 2>"$T/exitd.err" &
pid=$!
track "$pid"
wait_grep "$T/exitd.err" "every given PID has exited" $((8 + 20)) "no message under profd"
# Two more windows after the PID exited.
nwin() { ls "$T/o4"/profile_*.col 2>/dev/null | wc -l; }
after=$(($(nwin) + 2))
for _ in $(seq $((100 * SLOW))); do
	[ "$(nwin)" -ge "$after" ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || { cat "$T/exitd.err"; fail "profd failed after the PID exited"; }
[ "$(nwin)" -ge "$after" ] || { cat "$T/exitd.err"; fail "windows stopped"; }
cat "$T/o4"/profile_*.col | grep -q 'hot_leaf' ||
	{ cat "$T/exitd.err"; fail "no samples of the PID before it exited"; }
grep -q "window .* lost\|window dropped\|output is dropped" "$T/exitd.err" &&
	{ cat "$T/exitd.err"; fail "a window was lost"; }
assert_no_process "$RUN"
pass "under profd: the PID exits, windows go on"

# Rotation timeout: while profd asks for no window (stopped here), perf's
# output is rotated and dropped after 3 windows instead of growing; then the
# windows go on.
# shellcheck disable=SC2086
"$PROFD" -c -d 1 -f 49 -o "$T/o5" -v $COMMON 2>"$T/stall.err" &
pid=$!
track "$pid"
for _ in $(seq 300); do
	[ "$(ls "$T/o5"/profile_*.col 2>/dev/null | wc -l)" -ge 1 ] && break
	sleep 0.1
done
# The worker's messages reach profd's log through profd, so they show
# once profd runs again.
kill -STOP "$pid"
sleep $((5 * SLOW))
kill -CONT "$pid"
for _ in $(seq $((50 * SLOW))); do
	grep -q "perf's output is dropped" "$T/stall.err" && break
	sleep 0.1
done
grep -q "no window asked for in 3 s: perf's output is dropped" "$T/stall.err" ||
	{ kill "$pid"; cat "$T/stall.err"; fail "perf's output was not dropped while profd was stopped"; }
before=$(ls "$T/o5"/profile_*.col | wc -l)
for _ in $(seq $((100 * SLOW))); do
	[ "$(ls "$T/o5"/profile_*.col | wc -l)" -ge $((before + 2)) ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || { cat "$T/stall.err"; fail "profd failed after the stall"; }
[ "$(ls "$T/o5"/profile_*.col | wc -l)" -ge $((before + 2)) ] || fail "windows did not resume"
assert_no_process "$RUN"
pass "rotation timeout: output dropped while no window is asked for"
