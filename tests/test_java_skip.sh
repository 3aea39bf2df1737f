# JVMs profd-java must not profile become one "[Profiling skipped: reason]"
# frame each, never a stuck worker: a JVM that does not answer within
# --java-jattach-timeout, a JVM started with -XX:-EnableDynamicAgentLoading,
# a process with libjvm.so that does not catch SIGQUIT (never signalled),
# and, in safe mode, a JVM that crashed before (hs_err file) or died while
# profiled.
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker
for home in "$JDK17" "$JDK25"; do [ -x "$home/bin/javac" ] && break; done
[ -x "$home/bin/javac" ] || skip "no JDK installed"
compile_java_busy "$home" busy
AGENT="--java-agent $JAVA_AGENT"

start_jvm() { # name, extra JVM options...
	name=$1
	shift
	"$home/bin/java" "$@" -cp "$T/classes-busy" JavaBusy 60 >"$T/$name.out" 2>&1 &
	JVM=$!
	track "$JVM"
	wait_ready "$T/$name.out"
}

# A second profd-java finds the agent owned by the first: skipped, and the
# first one's window is whole.
start_jvm owned
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$JVM" -d $((4 * SLOW)) -f 100 -v $AGENT \
	>"$T/first.col" 2>"$T/first.err" &
first=$!
track "$first"
wait_grep "$T/first.err" "JVM $JVM (java): agent started" 10 "the first profd-java did not start its agent"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$JVM" -d 1 $AGENT \
	>"$T/second.col" 2>"$T/second.err" || fail "second profd-java exited with $?"
wait "$first" || fail "first profd-java exited with $?"
grep -q 'Profiling skipped: another profd-java owns the agent' "$T/second.col" ||
	{ cat "$T/second.col" "$T/second.err"; fail "the second owner was let in"; }
java_shares "$T/first.col"
# About 300 at 100 Hz over 4 s (times SLOW); a tenth of a CPU on a loaded host: 30.
[ "$HOT" -ge 20 ] || fail "the first owner's window was disturbed: $HOT samples"
pass "a second owner is refused while the first one samples"
kill "$JVM"

# --max-processes-runtime-profiler: only the busiest JVMs.
start_jvm busy1
busy1=$JVM
"$home/bin/java" -cp "$T/classes-busy" JavaBusy 60 idle >"$T/idle.out" 2>&1 &
idle=$!
track "$idle"
wait_ready "$T/idle.out"
sleep 1
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$idle,$busy1" -d 1 $AGENT \
	--max-processes-runtime-profiler 1 -v >"$T/top.col" 2>"$T/top.err" ||
	fail "profd-java exited with $?"
grep -q "JVM $busy1 (java): agent started" "$T/top.err" || { cat "$T/top.err"; fail "busy JVM not profiled"; }
grep -q "JVM $idle " "$T/top.err" && fail "the idle JVM was attached"
grep -q "libprofd-jvmti" "/proc/$idle/maps" && fail "agent loaded into the idle JVM"
pass "--max-processes-runtime-profiler 1: only the busiest JVM"
kill "$busy1" "$idle"

# A stopped JVM never answers: the attach gives up after the timeout.
start_jvm stopped
kill -STOP "$JVM"
stopped=$JVM
t0=$(date +%s)
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$stopped" -d 1 $AGENT \
	--java-jattach-timeout 2 >"$T/stopped.col" 2>"$T/stopped.err" ||
	{ cat "$T/stopped.err"; fail "profd-java exited with $?"; }
t1=$(date +%s)
grep -q "^java;\[Profiling skipped: attach timed out after 2 s\] 1$" "$T/stopped.col" ||
	{ cat "$T/stopped.col" "$T/stopped.err"; fail "no timeout frame"; }
[ $((t1 - t0)) -le $((8 * SLOW)) ] || fail "took $((t1 - t0)) s with a 2 s timeout"
[ ! -e "/tmp/.attach_pid$stopped" ] || fail "trigger file left behind"
pass "attach timeout: one skipped frame, in time, no trigger file left"
kill -CONT "$stopped"
kill "$stopped"

# A process that maps libjvm.so but leaves SIGQUIT alone is never sent it.
mkdir -p "$T/fakejdk/lib/server"
cp "$JAVA_AGENT" "$T/fakejdk/lib/server/libjvm.so"
python3 -c "import ctypes, sys, time; ctypes.CDLL(sys.argv[1]); print('ready', flush=True); time.sleep(60)" \
	"$T/fakejdk/lib/server/libjvm.so" >"$T/fake.out" 2>&1 &
fake=$!
track "$fake"
wait_ready "$T/fake.out"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$fake" -d 1 $AGENT \
	>"$T/fake.col" 2>"$T/fake.err" || { cat "$T/fake.err"; fail "profd-java exited with $?"; }
grep -q '\[Profiling skipped: the JVM does not handle SIGQUIT\] 1$' "$T/fake.col" ||
	{ cat "$T/fake.col" "$T/fake.err"; fail "no SIGQUIT frame"; }
sleep 0.5
kill -0 "$fake" 2>/dev/null || fail "the process without a SIGQUIT handler was signalled"
pass "no SIGQUIT handler: skipped, not signalled"

# A JDK newer than profd knows is not attached to.
mkdir -p "$T/jdk99/lib/server"
cp "$JAVA_AGENT" "$T/jdk99/lib/server/libjvm.so"
printf 'IMPLEMENTOR="test"\nJAVA_VERSION="99.0.1"\n' >"$T/jdk99/release"
python3 -c "import ctypes, sys, time; ctypes.CDLL(sys.argv[1]); print('ready', flush=True); time.sleep(60)" \
	"$T/jdk99/lib/server/libjvm.so" >"$T/jdk99.out" 2>&1 &
jdk99=$!
track "$jdk99"
wait_ready "$T/jdk99.out"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$jdk99" -d 1 $AGENT \
	>"$T/jdk99.col" 2>"$T/jdk99.err" || fail "profd-java exited with $?"
grep -q '\[Profiling skipped: JDK version 99 is not supported\] 1$' "$T/jdk99.col" ||
	{ cat "$T/jdk99.col" "$T/jdk99.err"; fail "no frame for an unsupported JDK"; }
pass "an unsupported JDK version: skipped"

# -XX:-EnableDynamicAgentLoading (JDK 21 and later).
if [ -x "$JDK25/bin/java" ]; then
	"$JDK25/bin/java" -XX:-EnableDynamicAgentLoading -cp "$T/classes-busy" JavaBusy 60 \
		>"$T/nodyn.out" 2>&1 &
	nodyn=$!
	track "$nodyn"
	wait_ready "$T/nodyn.out"
	timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$nodyn" -d 1 $AGENT \
		>"$T/nodyn.col" 2>"$T/nodyn.err" || fail "profd-java exited with $?"
	grep -q 'Profiling skipped: dynamic agent loading is disabled' "$T/nodyn.col" ||
		{ cat "$T/nodyn.col"; fail "no frame for -XX:-EnableDynamicAgentLoading"; }
	[ ! -e "/tmp/.java_pid$nodyn" ] || fail "attached to a JVM that forbids agents"
	pass "-XX:-EnableDynamicAgentLoading: skipped"
else
	echo "Temurin 25 is not installed: -XX:-EnableDynamicAgentLoading not tested"
fi

# Safe mode: an hs_err file in the JVM's directory means it crashed.
mkdir -p "$T/cwd"
(cd "$T/cwd" && exec "$home/bin/java" -cp "$T/classes-busy" JavaBusy 60 >"$T/hserr.out" 2>&1) &
hserr=$!
track "$hserr"
wait_ready "$T/hserr.out"
touch "$T/cwd/hs_err_pid$hserr.log"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$hserr" -d 1 --java-safemode $AGENT \
	>"$T/hserr.col" 2>"$T/hserr.err" || fail "profd-java exited with $?"
grep -q 'Profiling skipped: safe mode: the JVM crashed' "$T/hserr.col" ||
	{ cat "$T/hserr.col"; fail "safe mode attached to a crashed JVM"; }
# Without safe mode the same JVM is profiled.
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$hserr" -d 2 $AGENT \
	>"$T/nosafe.col" 2>"$T/nosafe.err" || fail "profd-java exited with $?"
grep -q 'JavaBusy.hotLeaf_\[[j01i]\]' "$T/nosafe.col" || fail "not profiled without safe mode"
pass "safe mode: a JVM with an hs_err file is not attached"

# Safe mode: a JVM that dies while profiled is logged.
"$home/bin/java" -cp "$T/classes-busy" JavaBusy $((2 * SLOW + 1)) >"$T/dies.out" 2>&1 &
dies=$!
track "$dies"
wait_ready "$T/dies.out"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$dies" -d $((4 * SLOW + 2)) --java-safemode $AGENT \
	>"$T/dies.col" 2>"$T/dies.err" || fail "profd-java exited with $?"
grep -q "JVM $dies (java) exited while profiled: safe mode" "$T/dies.err" ||
	{ cat "$T/dies.err"; fail "death while profiled not logged"; }
pass "safe mode: a JVM that died while profiled is logged and remembered"
