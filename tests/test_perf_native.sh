# profd-perf's native engine (perf_event_open, libdwfl): a known 2:1 split
# found by both engines alike, kernel frames, a process that exits in the
# window, a stripped binary, and the fallback to perf when the kernel
# refuses perf_event_open.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
SPLIT_C="$top_builddir/tests/fixtures/split_c"

# Windows grow with the build's time factor: tests beside this one
# (sanitizer builds) can leave a fixture a tenth of a CPU.
# Share of alpha_leaf among the two leaves of file $1, in percent (x10).
leaf_share() {
	a=$(count_matching "$1" '^split_c;.*;main;alpha_caller;alpha_leaf ')
	b=$(count_matching "$1" '^split_c;.*;main;beta_caller;beta_leaf ')
	echo "$1: alpha=$a beta=$b" >&2
	[ "$a" -gt 50 ] && [ "$b" -gt 25 ] || fail "too few samples in $1: alpha=$a beta=$b" >&2
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%d", 1000 * a / (a + b) }'
}

"$SPLIT_C" $((60 * SLOW)) 1.5 >"$T/split.out" &
SPLIT_PID=$!
track "$SPLIT_PID"
for _ in $(seq 50); do grep -q ready "$T/split.out" && break; sleep 0.1; done
grep -q ready "$T/split.out" || fail "split_c did not start"

# Both engines on the PID at the same time, so that the host's load is the
# same for both (the native engine follows the child it starts as well:
# SIGUSR1 starts it once the engine samples).
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --pid "$SPLIT_PID" -d $((5 * SLOW)) -f 499 \
	>"$T/perf.col" 2>"$T/perf.err" &
PERF_RUN=$!
track "$PERF_RUN"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --pid "$SPLIT_PID" -d $((5 * SLOW)) -f 499 -v \
	>"$T/native.col" 2>"$T/native.err" &
NATIVE_RUN=$!
track "$NATIVE_RUN"
wait_grep "$T/native.err" 'native engine: sampling' 10 "the native engine did not start"
kill -USR1 "$SPLIT_PID"
wait "$NATIVE_RUN" || { cat "$T/native.err"; fail "native engine exited with $?"; }
wait "$PERF_RUN" || { cat "$T/perf.err"; fail "perf engine exited with $?"; }
grep 'native engine' "$T/native.err"
grep -q 'perf record' "$T/native.err" && fail "the native engine ran perf"
native=$(leaf_share "$T/native.col") || exit 1
# 2:1 is a share of 667 per mille: within +- 15 % of it.
echo "native: alpha share $native per mille"
[ "$native" -ge 567 ] && [ "$native" -le 767 ] ||
	fail "native: alpha:beta is not 2:1 +- 15 % (share $native per mille)"
pass "native engine: both leaves by name, under their callers, 2:1"

# A process that exited in the window keeps its name and its symbols: the
# child exec'd itself, named itself split_short and ended after 1.5 s.
pgrep -x split_short >/dev/null && fail "the short-lived child still runs"
short=$(count_matching "$T/native.col" '^split_short;.*;main;run_short;short_leaf ')
echo "short-lived child: $short samples"
[ "$short" -gt 30 ] || fail "the exited child's stacks are missing: $short"
pass "a process that exited in the window keeps its name and symbols"

# The perf engine, on the same process at the same time, agrees within
# 10 % of its share.
perf=$(leaf_share "$T/perf.col") || exit 1
echo "perf engine: alpha share $perf per mille"
[ "$perf" -ge 566 ] && [ "$perf" -le 766 ] ||
	fail "perf engine: alpha:beta is not 2:1 (share $perf per mille)"
diff=$(( native > perf ? native - perf : perf - native ))
[ $(( diff * 10 )) -le "$perf" ] ||
	fail "the engines disagree: native $native, perf $perf per mille"
# The same frame names: every leaf frame of one is among the other's.
for f in native perf; do
	grep '^split_c;' "$T/$f.col" | sed 's/ [0-9]*$//' | sort -u >"$T/$f.stacks"
done
comm -12 "$T/native.stacks" "$T/perf.stacks" | grep -q ';main;alpha_caller;alpha_leaf$' ||
	fail "the engines name alpha's stack differently: $(head -2 "$T/native.stacks" "$T/perf.stacks")"
pass "native and perf engines agree ($native and $perf per mille)"

# System-wide (the default engine is native): kernel frames marked _[k].
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" -d $((2 * SLOW)) -f 99 -v >"$T/all.col" 2>"$T/all.err" ||
	{ cat "$T/all.err"; fail "system-wide native engine failed"; }
grep -q 'native engine: sampling' "$T/all.err" || fail "auto did not choose the native engine"
grep -q '_\[k\]' "$T/all.col" || fail "no kernel frame marked _[k]"
grep -q '^split_c;.*alpha_caller;alpha_leaf ' "$T/all.col" || fail "split_c missing system-wide"
pass "system-wide with kernel frames"

# Ring buffer overrun: a worker stopped for 10 s cannot read its rings;
# the samples the kernel could not write are counted and reported with
# the window. System-wide, so that every CPU's clock fires however busy
# the host is. A ring has 64 pages (256 kB) per CPU; the smallest sample
# (an idle CPU's short kernel chain) takes 40 bytes or more, so 10 s at
# 999 Hz (400 kB) cannot fit. 4 s could, on idle CPUs: a CI run lost none.
"$PERF_WORKER" --perf-engine native -d 14 -f 999 -v \
	>"$T/lost.col" 2>"$T/lost.err" &
W=$!
track "$W"
wait_grep "$T/lost.err" 'native engine: sampling' 10 "overrun: the native engine did not start"
sleep 0.5
kill -STOP "$W"
sleep 1
grep '^State:' "/proc/$W/status"
grep -q '^State:.*stopped' "/proc/$W/status" || fail "the worker did not stop"
sleep 9
kill -CONT "$W"
wait "$W" || { cat "$T/lost.err"; fail "native engine failed after an overrun"; }
grep 'native engine:' "$T/lost.err"
lost=$(sed -n 's/.*native engine: \([0-9]*\) samples lost in this window.*/\1/p' "$T/lost.err")
[ "${lost:-0}" -gt 0 ] || fail "no lost samples reported after an overrun"
grep -q ';main;alpha_caller;alpha_leaf ' "$T/lost.col" || fail "no stacks after an overrun"
pass "ring buffer overrun: $lost lost samples reported, the window kept"

# A stripped binary: named by its file where it has no symbols, no crash.
strip -o "$T/split_stripped" "$SPLIT_C"
"$T/split_stripped" 30 >"$T/stripped.out" &
STRIP_PID=$!
track "$STRIP_PID"
sleep 0.5
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --pid "$STRIP_PID" -d $((2 * SLOW)) -f 199 \
	>"$T/stripped.col" 2>"$T/stripped.err" ||
	{ cat "$T/stripped.err"; fail "native engine on a stripped binary exited with $?"; }
grep -q 'alpha_leaf' "$T/stripped.col" && fail "symbols from a stripped binary?"
n=$(count_matching "$T/stripped.col" "^split_stripped;.*\\($T/split_stripped\\)")
all=$(count_matching "$T/stripped.col" "^split_stripped;")
echo "stripped: $n of $all samples in ($T/split_stripped)"
# On a loaded host it may get little CPU: the share is what counts.
[ "$n" -ge 20 ] && [ "$((n * 10))" -ge "$((all * 9))" ] ||
	fail "stripped binary's frames not named by its file: $(head -3 "$T/stripped.col")"
pass "stripped binary: frames named (file), no crash"

# Fallback: without capabilities the kernel (perf_event_paranoid >= 2)
# refuses a system-wide perf_event_open to the worker's user; auto warns
# once and the perf engine profiles the process that user owns.
[ "$(cat /proc/sys/kernel/perf_event_paranoid)" -ge 2 ] ||
	skip "perf_event_paranoid < 2: the refusal cannot be made real"
uid=$(id -u profd-perf 2>/dev/null) || skip "no profd-perf user"
gid=$(id -g profd-perf)
setpriv --reuid="$uid" --regid="$gid" --clear-groups "$SPLIT_C" 30 >"$T/own.out" &
OWN_PID=$!
track "$OWN_PID"
sleep 0.5
"$PERF_WORKER" --perf-engine native --caps none --pid "$OWN_PID" -d 1 -f 99 \
	>/dev/null 2>"$T/refused.err" && fail "native engine started without capabilities"
grep -q 'perf_event_open refused' "$T/refused.err" || fail "no clear message: $(cat "$T/refused.err")"
timeout -k 5 60 "$PERF_WORKER" --caps none --perf-events cpu-clock --pid "$OWN_PID" -d 3 -f 99 -v \
	>"$T/fallback.col" 2>"$T/fallback.err" ||
	{ cat "$T/fallback.err"; fail "fallback exited with $?"; }
cat "$T/fallback.err"
[ "$(grep -c 'falling back to the perf engine' "$T/fallback.err")" = 1 ] ||
	fail "no single fallback warning"
grep -q 'perf record started' "$T/fallback.err" || fail "the perf engine did not start"
grep -q '^split_c;.*;main;alpha_caller;alpha_leaf ' "$T/fallback.col" ||
	fail "the perf engine's output is missing"
pass "perf_event_open refused: one warning, the perf engine's stacks"

"$PERF_WORKER" --perf-engine fast -d 1 >/dev/null 2>"$T/bad.err" && fail "--perf-engine fast accepted"
grep -q 'expected auto, perf or native' "$T/bad.err" || fail "no clear message for a bad --perf-engine"
pass "--perf-engine checked"
