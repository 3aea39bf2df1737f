# A Python process that swaps its libpython for a FIFO (a bind mount in its
# own mount namespace, so /proc/PID/root/<path in maps> is a FIFO) must not
# hang profd-python: the worker finishes in its window plus a margin and
# reports the process unreadable. Positive control: the same path opened the
# old way (a plain blocking open) blocks.
. "$top_srcdir/tests/lib.sh"
require_root

PYTHON_WORKER="$top_builddir/workers/python/profd-python"
FIX="$top_srcdir/tests/fixtures/py_leaves.py"
command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	skip "unshare/nsenter are not installed"

PY=""
for d in /root/.pyenv/versions/3.*; do
	v=$(basename "$d" | cut -d. -f1,2)
	[ -x "$d/bin/python$v" ] && [ -e "$d/lib/libpython$v.so.1.0" ] &&
		PY="$d/bin/python$v"
done
[ -n "$PY" ] || skip "no CPython with a shared libpython installed"

# The fixture in a private mount namespace of its own.
unshare -m --propagation private "$PY" "$FIX" 60 >"$T/py.out" 2>&1 &
PY_PID=$!
track "$PY_PID"
for _ in $(seq 100); do
	grep -q ready "$T/py.out" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$T/py.out" || fail "$PY did not start"
LIB=$(awk '$6 ~ /\/libpython3\.[0-9]+\.so/ { print $6; exit }' "/proc/$PY_PID/maps")
[ -n "$LIB" ] || fail "no libpython in the maps of $PY_PID"

# Before the attack the worker reads it (the fixture really is readable).
timeout -k 2 20 "$PYTHON_WORKER" --pid "$PY_PID" -d 1 -f 50 >"$T/before.col" \
	2>"$T/err" || { cat "$T/err"; fail "profd-python failed before the attack"; }
grep -q 'hot_leaf' "$T/before.col" ||
	{ cat "$T/before.col"; fail "no Python stack before the attack"; }

mkfifo -m 0644 "$T/fifo"
nsenter -t "$PY_PID" -m mount --bind "$T/fifo" "$LIB" ||
	fail "cannot bind the FIFO over $LIB in the fixture's namespace"
[ -p "/proc/$PY_PID/root$LIB" ] || fail "/proc/$PY_PID/root$LIB is not a FIFO"
[ -p "$LIB" ] && fail "the bind mount leaked into the host namespace"
grep -q " $LIB\$" "/proc/$PY_PID/maps" || fail "$LIB left the maps"

# Positive control: a plain open of that path blocks (timeout's 124).
rc=0
timeout 3 cat "/proc/$PY_PID/root$LIB" >/dev/null 2>&1 || rc=$?
[ "$rc" = 124 ] || fail "control: a plain open of the FIFO returned ($rc)"
pass "control: a plain open of /proc/$PY_PID/root$LIB blocks for 3 s"

# The attack on the real worker: a 2 s window, 5 s allowed in all.
start=$(date +%s%N)
rc=0
timeout -k 1 $((10 * SLOW)) "$PYTHON_WORKER" --pid "$PY_PID" -d 2 -f 50 \
	>"$T/after.col" 2>"$T/err" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 0 ] || { cat "$T/err"; fail "profd-python exit $rc after ${ms} ms"; }
[ "$ms" -le $((5000 * SLOW)) ] || fail "profd-python took ${ms} ms for a 2 s window"
grep -qF "[Profiling error: cannot open $LIB: not a regular file] 1" "$T/after.col" ||
	{ cat "$T/after.col"; fail "no unreadable-process error frame"; }
grep -q 'hot_leaf' "$T/after.col" && fail "a stack was read through the FIFO"
pass "profd-python finished in ${ms} ms (window 2000 ms) and reported the FIFO unreadable"
