# Under profd, a JVM's Java stacks replace perf's stacks for that JVM in the
# merged profile (with perf's application id and about perf's sample count);
# --no-java leaves perf's own stacks for it. Only this JVM is profiled
# (--pids): other JVMs on the host come and go.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
require_java_worker
for home in "$JDK17" "$JDK25"; do [ -x "$home/bin/javac" ] && break; done
[ -x "$home/bin/javac" ] || skip "no JDK installed"
compile_java_busy "$home" busy
"$home/bin/java" -cp "$T/classes-busy" JavaBusy $((120 * SLOW)) >"$T/jvm.out" 2>&1 &
jvm=$!
track "$jvm"
wait_ready "$T/jvm.out"
sigcgt() { awk '/^SigCgt:/ { print $2 }' "/proc/$jvm/status"; }
s0=$(sigcgt)

run_profd() { # name, extra options...
	name=$1
	shift
	timeout -k 5 $((90 * SLOW)) "$PROFD" -d $((4 * SLOW)) -f 49 -o "$T/$name" \
		--runtime-dir "$T/run-$name" --worker-dir "$top_builddir" --pids "$jvm" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" ||
		{ cat "$T/$name.err"; fail "$name: profd exited with $?"; }
	COL="$T/$name/last_profile.col"
	[ -f "$COL" ] || fail "$name: no profile written"
}

run_profd java
java_lines="$T/java.lines"
grep -E '^[^;]*;[^;]*;java;' "$COL" >"$java_lines" || fail "no stacks of the JVM"
sed -E 's/^[^;]*;[^;]*;/java;/; s/;appid: [^;]*;/;/' "$java_lines" >"$T/java.col"
java_shares "$T/java.col"
total=$(awk '{ s += $NF } END { print s + 0 }' "$java_lines")
echo "merged: hotLeaf=$HOT coldLeaf=$COLD share=$SHARE % total=$total"
[ "$HOT" -ge 15 ] || { head -5 "$java_lines"; fail "no Java stacks for the JVM"; }
[ "$SHARE" -ge 56 ] && [ "$SHARE" -le 94 ] || fail "hot share $SHARE %"
grep -q ';appid: java: JavaBusy;' "$java_lines" || fail "perf's application id lost"
# Only the agent's stacks for the JVM: Java frames (typed, the VM's own
# frames above them when the thread was in the VM) or bracketed pseudo
# frames at the leaf, or the JVM's own threads walked by the agent under
# their role; perf's (which never type a Java frame) are gone.
agent_re='_\[[j01i]\](;| [0-9]+$)|\] [0-9]+$|;\[(VM|GC|JIT compiler|JVM) thread\];|;\[error [^]]*\];'
if grep -vE "$agent_re" "$java_lines" | grep -q .; then
	grep -vE "$agent_re" "$java_lines" | head -3
	fail "perf's stacks are still there for the JVM"
fi
# perf's count for the JVM: about 4 s (times SLOW) x 49 Hz of one busy
# thread, far less on a loaded host (a tenth of a CPU: 20).
[ "$total" -ge 20 ] && [ "$total" -le $((500 * SLOW)) ] || fail "total $total is not perf's count"
pass "Java stacks replace perf's for the JVM, scaled to perf's count"
# profd's stop stopped the agent: the JVM's signal handlers are as before.
[ "$(sigcgt)" = "$s0" ] || fail "SIGPROF still caught after profd stopped"
kill -0 "$jvm" || fail "the JVM died"

# gProfiler's Java detail flags reach profd-java: line numbers and the
# thread's name as the stack's root, only when asked (above: neither).
grep -qE ':[0-9]+_\[[j01i]\]' "$java_lines" && fail "line numbers without asking"
run_profd detail --java-line-numbers line-of-function --java-collect-thread-names
grep -E '^[^;]*;[^;]*;java;' "$COL" >"$T/detail.lines" || fail "detail: no stacks"
grep -qE 'hotLeaf:[0-9]+_\[[j01i]\]' "$T/detail.lines" ||
	{ head -3 "$T/detail.lines"; fail "--java-line-numbers: no line numbers"; }
grep -qE ';\[[^];]* tid=[0-9]+\];' "$T/detail.lines" ||
	{ head -3 "$T/detail.lines"; fail "--java-collect-thread-names: no thread name"; }
pass "--java-line-numbers and --java-collect-thread-names reach profd-java"

run_profd nojava --no-java
grep -E '^[^;]*;[^;]*;java;' "$COL" | grep -q '_\[[j01i]\]' &&
	fail "--no-java: Java agent stacks in the profile"
grep -qE '^[^;]*;[^;]*;java;.*libjvm\.so|^[^;]*;[^;]*;java;.*JavaBusy' "$COL" ||
	{ grep ';java;' "$COL" | head -3; fail "--no-java: perf's stacks of the JVM are missing"; }
pass "--no-java: perf's own stacks for the JVM"
sleep 0.5
assert_no_process "$T/run-"
