# profd with profd-python: Python stacks replace perf's for the profiled
# Python process in the merged profile, scaled to perf's sample count.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf

PY=""
for d in /root/.pyenv/versions/3.12.* /root/.pyenv/versions/3.11.*; do
	[ -x "$d/bin/python3" ] && { PY="$d/bin/python3"; break; }
done
[ -n "$PY" ] || PY=$(command -v python3.11 || command -v python3) ||
	skip "no CPython installed"

RUN="$T/run"
OUT="$T/out"
FIX="$top_srcdir/tests/fixtures/py_leaves.py"
"$PY" "$FIX" $((60 * SLOW)) >"$T/leaves.out" 2>&1 &
PY_PID=$!
track "$PY_PID"
for _ in $(seq 100); do grep -q ready "$T/leaves.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$T/leaves.out" || fail "the fixture did not start"

timeout -k 5 $((90 * SLOW)) "$PROFD" -d $((4 * SLOW)) -f 49 -o "$OUT" --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" --pids "$PY_PID" >"$T/profd.out" 2>"$T/profd.err"
rv=$?
cat "$T/profd.err"
[ "$rv" = 0 ] || fail "profd exited with $rv"
col="$OUT/last_profile.col"
[ -f "$col" ] || fail "no last_profile.col"
sed 1d "$col" >"$T/stacks"
cat "$T/stacks" | cut -c1-200 | head -20

f="[^;]*py_leaves.py"
hot=$(count_matching "$T/stacks" ";main \($f:[0-9]+\)_\[p\];hot_caller \($f:[0-9]+\)_\[p\];hot_leaf \($f:[0-9]+\)_\[p\] ")
cold=$(count_matching "$T/stacks" ";main \($f:[0-9]+\)_\[p\];cold_caller \($f:[0-9]+\)_\[p\];cold_leaf \($f:[0-9]+\)_\[p\] ")
total=$(awk '{ s += $NF } END { print s + 0 }' "$T/stacks")
echo "hot=$hot cold=$cold total=$total"
[ "$hot" -gt 0 ] && [ "$cold" -gt 0 ] || fail "no Python stacks in the merged profile"
# Nothing but Python frames: perf's native stacks for the PID are gone.
native=$(grep -v -E ';[^;]*_\[p\] [0-9]+$' "$T/stacks" | grep -v 'Profiling error' | head -3)
[ -z "$native" ] || fail "perf's stacks left for the Python process: $native"
share=$(awk -v h="$hot" -v c="$cold" 'BEGIN { printf "%d", 100 * h / (h + c) }')
[ "$share" -ge 60 ] && [ "$share" -le 90 ] || fail "hot share $share %"
# Scaled to perf's count: about 4 s (times SLOW) x 49 Hz of one busy
# thread, far less on a loaded host (perf's count, not Python's, which
# need not match it).
[ "$total" -ge 20 ] && [ "$total" -le $((300 * SLOW)) ] || fail "total $total is not perf's count"
pass "Python stacks replace perf's for PID $PY_PID ($share % hot, $total samples)"

sleep 0.5
assert_no_process "$RUN"
pass "nothing left running"

# profctl status tells each window's samples and lost ticks as the
# Python worker counted them: about 2 s x 49 Hz of one thread, none lost.
. "$top_srcdir/tests/supervisor_lib.sh"
RUN="$T/run2"
start_profd -d 2 -f 49 --pids "$PY_PID" --perf-mode disabled --no-java
got=0
for _ in $(seq $((150 * SLOW))); do
	# One answer for both numbers: they are of the same window.
	set -- $(ctl status --json | python3 -c '
import json, sys
w = {x["name"]: x for x in json.load(sys.stdin)["workers"]}["python"]
print(w["window_samples"], w["window_lost"])' 2>/dev/null)
	got=${1:-0} lost=${2:-0}
	[ "$got" -gt 0 ] && break
	sleep 0.1
done
ctl status | sed -n '2,$p'
[ "$got" -ge 80 ] && [ "$got" -le 110 ] ||
	fail "profctl status: python's window had $got samples, not about 98"
# A busy machine may make the sampler late now and then (counted as lost).
[ "$lost" -le $((3 * SLOW)) ] || fail "profctl status: python lost $lost ticks"
ctl status | grep -E '^python +running .* [0-9]+ +[0-9]+$' >/dev/null ||
	fail "profctl status's text lacks SAMPLES and LOST"
stop_profd
pass "profctl status: python's last window had $got samples, $lost lost"
