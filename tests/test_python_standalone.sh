# profd-python on its own, for every CPython installed here: two leaves
# with known CPU shares (3:1), nested under their callers, hot lines exact.
. "$top_srcdir/tests/lib.sh"
require_root

PYTHON_WORKER="$top_builddir/workers/python/profd-python"
FIX="$top_srcdir/tests/fixtures/py_leaves.py"
hot_line=$(grep -n '# HOT' "$FIX" | cut -d: -f1)
cold_line=$(grep -n '# COLD' "$FIX" | cut -d: -f1)
hot_call=$(grep -n 'return hot_leaf' "$FIX" | cut -d: -f1)
cold_call=$(grep -n 'return cold_leaf' "$FIX" | cut -d: -f1)

PYTHONS=""
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
	for d in /root/.pyenv/versions/$v.*; do
		[ -x "$d/bin/python$v" ] && PYTHONS="$PYTHONS $d/bin/python$v"
	done
done
[ -x /usr/bin/python3.11 ] && PYTHONS="$PYTHONS /usr/bin/python3.11"
[ -n "$PYTHONS" ] || skip "no CPython 3.8-3.13 installed"

# Starts the fixture under interpreter $1 for $2 seconds; sets PY_PID.
start_leaves() {
	rm -f "$T/leaves.out"
	"$1" "$FIX" "$2" >"$T/leaves.out" 2>&1 &
	PY_PID=$!
	track "$PY_PID"
	for _ in $(seq 100); do
		grep -q ready "$T/leaves.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1 did not start the fixture"
}

# Prints the line numbers of frame $2 as a leaf in $1, with counts,
# busiest first.
leaf_lines() {
	grep -E ";$2 \([^)]*:[0-9]+\)_\[p\] [0-9]+$" "$1" |
		sed -E "s/.*;$2 \([^)]*:([0-9]+)\)_\[p\] ([0-9]+)$/\1 \2/" |
		awk '{ c[$1] += $2 } END { for (l in c) print l, c[l] }' |
		sort -k2,2nr
}

for py in $PYTHONS; do
	start_leaves "$py" 30
	out="$T/$(basename "$(dirname "$(dirname "$py")")")-$(basename "$py").col"
	timeout -k 5 60 "$PYTHON_WORKER" --pid "$PY_PID" -d 5 -f 100 \
		>"$out" 2>"$T/err" || { cat "$T/err"; fail "$py: exit $?"; }
	kill "$PY_PID"; wait "$PY_PID" 2>/dev/null
	f="[^;]*py_leaves.py"
	hot=$(count_matching "$out" ";main \($f:[0-9]+\)_\[p\];hot_caller \($f:$hot_call\)_\[p\];hot_leaf \($f:[0-9]+\)_\[p\] ")
	cold=$(count_matching "$out" ";main \($f:[0-9]+\)_\[p\];cold_caller \($f:$cold_call\)_\[p\];cold_leaf \($f:[0-9]+\)_\[p\] ")
	total=$(awk '{ s += $NF } END { print s + 0 }' "$out")
	[ $((hot + cold)) -ge 200 ] ||
		{ cat "$out"; fail "$py: only $hot + $cold samples in the leaves"; }
	grep -q "^[^;]*;<module> ($f:[0-9]*)_\[p\];main " "$out" ||
		fail "$py: <module> is not the root"
	share=$(awk -v h="$hot" -v c="$cold" 'BEGIN { printf "%d", 100 * h / (h + c) }')
	hl=$(leaf_lines "$out" hot_leaf | head -1 | cut -d' ' -f1)
	cl=$(leaf_lines "$out" cold_leaf | head -1 | cut -d' ' -f1)
	line="$py: hot=$hot cold=$cold total=$total hot share $share % (expect 75, 60-90), hot line $hl (expect $hot_line), cold line $cl (expect $cold_line)"
	echo "$line"
	[ "$share" -ge 60 ] && [ "$share" -le 90 ] || fail "$py: hot share $share %"
	[ "$hl" = "$hot_line" ] || fail "$py: hot_leaf's busiest line is $hl"
	[ "$cl" = "$cold_line" ] || fail "$py: cold_leaf's busiest line is $cl"
	pass "$py"
done

# Lines merged: one frame per function.
py=${PYTHONS##* }
start_leaves "$py" 30
"$PYTHON_WORKER" --pid "$PY_PID" -d 2 -f 100 --python-no-line-numbers >"$T/nolines.col" 2>"$T/err" ||
	{ cat "$T/err"; fail "--python-no-line-numbers: exit $?"; }
grep -q ';hot_caller ([^)]*py_leaves.py)_\[p\];hot_leaf ([^)]*py_leaves.py)_\[p\] ' "$T/nolines.col" ||
	fail "--python-no-line-numbers: no merged hot_leaf frame"
if grep -q 'py_leaves.py:[0-9]' "$T/nolines.col"; then fail "line numbers left"; fi
[ "$(grep -c ';hot_caller ([^)]*)_\[p\];hot_leaf ' "$T/nolines.col")" = 1 ] ||
	{ cat "$T/nolines.col"; fail "hot_leaf not merged"; }
pass "--python-no-line-numbers merges lines"
kill "$PY_PID"; wait "$PY_PID" 2>/dev/null

# A sleeping program: left out, unless --python-idle.
rm -f "$T/leaves.out"
"$py" -c 'import time
def nap():
    time.sleep(60)
print("ready", flush=True)
nap()' >"$T/leaves.out" 2>&1 &
PY_PID=$!
track "$PY_PID"
for _ in $(seq 50); do grep -q ready "$T/leaves.out" 2>/dev/null && break; sleep 0.1; done
"$PYTHON_WORKER" --pid "$PY_PID" -d 1 -f 50 >"$T/busy.col" 2>"$T/err" || fail "exit $?"
if grep -q 'nap' "$T/busy.col"; then fail "idle thread sampled without --python-idle"; fi
"$PYTHON_WORKER" --pid "$PY_PID" -d 1 -f 50 --python-idle >"$T/idle.col" 2>"$T/err" || fail "exit $?"
n=$(count_matching "$T/idle.col" ';nap \(<string>:3\)_\[p\] ')
[ "$n" -ge 20 ] || { cat "$T/idle.col"; fail "--python-idle: $n samples of nap"; }
# --python-gil: the sleeper does not hold the GIL.
"$PYTHON_WORKER" --pid "$PY_PID" -d 1 -f 50 --python-idle --python-gil >"$T/gil.col" 2>"$T/err" || fail "exit $?"
if grep -q 'nap' "$T/gil.col"; then fail "--python-gil kept a thread without the GIL"; fi
pass "idle threads only with --python-idle; --python-gil keeps the holder only"
kill "$PY_PID"; wait "$PY_PID" 2>/dev/null

# Not Python, and gone: one error frame each, no crash.
sleep 30 &
SL=$!
track "$SL"
wait_comm "$SL" sleep
"$PYTHON_WORKER" --pid "$SL,4194000" -d 1 -f 50 >"$T/bad.col" 2>"$T/err" || fail "exit $? on bad PIDs"
grep -q "^sleep;\[Profiling error: not a Python process\] 1$" "$T/bad.col" ||
	{ cat "$T/bad.col"; fail "no error frame for a non-Python PID"; }
grep -q "\[Profiling error: no such process\] 1$" "$T/bad.col" ||
	{ cat "$T/bad.col"; fail "no error frame for a missing PID"; }
pass "error frames for bad PIDs"
