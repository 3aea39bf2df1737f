# --java-mode perfmap: no agent; the JVM writes /tmp/perf-PID.map through
# Compiler.perfmap, and profd-perf names the JIT frames from it.
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker
[ -x "$JDK17/bin/javac" ] && home=$JDK17 || home=$JDK25
[ -x "$home/bin/javac" ] || skip "no JDK installed"
compile_java_busy "$home" busy
"$home/bin/java" -cp "$T/classes-busy" JavaBusy 60 >"$T/jvm.out" 2>&1 &
jvm=$!
track "$jvm"
map=/tmp/perf-$jvm.map
trap 'rm -f "$map"; cleanup' EXIT
wait_ready "$T/jvm.out"
sleep "$SLOW" # hotLeaf compiled before the map is written
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$jvm" -d 1 --java-mode perfmap \
	>"$T/pm.col" 2>"$T/pm.err" || { cat "$T/pm.err"; fail "profd-java exited with $?"; }
[ ! -s "$T/pm.col" ] || fail "perfmap mode printed stacks: $(head -2 "$T/pm.col")"
grep -q 'JavaBusy.hotLeaf' "$map" || fail "no JavaBusy.hotLeaf in $map"
grep -q "libprofd-jvmti" "/proc/$jvm/maps" && fail "perfmap mode loaded the agent"
pass "Compiler.perfmap wrote $map, no agent loaded"

require_perf
# profd-perf loses a window when perf is slow to rotate on a loaded host:
# one more try then.
for try in 1 2; do
	timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --pid "$jvm" -d $((3 * SLOW)) -f 99 >"$T/perf.col" 2>"$T/perf.err" &&
		break
	cat "$T/perf.err"
	[ "$try" = 2 ] && fail "profd-perf failed twice"
done
hot=$(count_matching "$T/perf.col" 'JavaBusy.hotLeaf')
echo "perf samples in JavaBusy.hotLeaf: $hot"
[ "$hot" -gt 20 ] || { head -5 "$T/perf.col"; fail "profd-perf did not name the JIT frames"; }
pass "profd-perf names JIT frames from the map"
