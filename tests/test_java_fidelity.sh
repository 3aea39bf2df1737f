# profd-java's frame detail and lost samples, on JDK 17 and 25 (each skipped
# when absent), with tests/fixtures/JavaFidelity.java: frame types
# (_[j] compiled, _[0] interpreted, _[i] inlined, _[1] C1), line numbers
# and thread names only when asked, stable lambda names, compiler and GC/VM
# threads with native frames and their role, and at most 5 % of the Java
# thread's samples "[error unknown Java]" (megamorphic calls, exceptions).
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker

FIX="$top_srcdir/tests/fixtures/JavaFidelity.java"
# hotLeaf's loop: its header or its body (where the JIT's debug info puts
# the loop's PCs).
HOTLINE=$(grep -n 'HOT-LINE' "$FIX" | cut -d: -f1)
HOTLINES="($((HOTLINE - 1))|$HOTLINE)"

# Starts JavaFidelity with JDK $1 (classes in $2) for $3 s, more JVM flags
# after; sets JVM.
start_fidelity() {
	home=$1 classes=$2 secs=$3
	shift 3
	"$home/bin/java" -Xmx64m -XX:CompileCommand=quiet \
		-XX:CompileCommand=exclude,JavaFidelity.interpLeaf "$@" \
		-cp "$classes" JavaFidelity "$secs" >"$T/jvm.out" 2>&1 &
	JVM=$!
	track "$JVM"
	wait_ready "$T/jvm.out"
}

# Profiles $JVM for $1 s into $T/$2.col, more profd-java options after.
profile() {
	secs=$1 name=$2
	shift 2
	timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$JVM" -d "$secs" \
		-f 100 -v --java-agent "$JAVA_AGENT" "$@" >"$T/$name.col" \
		2>"$T/$name.err" ||
		{ cat "$T/$name.err"; fail "$name: profd-java exited with $?"; }
	grep 'JVM [0-9]* window' "$T/$name.err" | sed "s/^/$name: /"
}

# start_fidelity, then profile (same arguments, the JVM's seconds first,
# "--" between the two lists). Another profd-java on the host (any JVM is
# its business) may load its agent first, maybe an older one: when the JVM
# was taken (other_java_owner), a new JVM, up to 4 times.
run_profiled() {
	rp_home=$1 rp_classes=$2 rp_secs=$3
	shift 3
	jflags=""
	while [ "$1" != -- ]; do jflags="$jflags $1"; shift; done
	shift
	for try in 1 2 3 4; do
		# shellcheck disable=SC2086
		start_fidelity "$rp_home" "$rp_classes" "$rp_secs" $jflags
		profile "$@"
		other_java_owner "$T/$2.col" "$T/$2.err" || return 0
		echo "try $try: JVM $JVM was taken"
		kill "$JVM"
		wait "$JVM" 2>/dev/null
	done
	fail "another profd-java took every JVM of this test"
}

# Fails unless collapsed file $1 has a line matching the regex $2.
need() {
	grep -Eq -- "$2" "$1" || { head -c 3000 "$1"; fail "$3"; }
}

check_jdk() {
	home=$1 v=$2 col="$T/full$2.col"
	mkdir -p "$T/classes-$v"
	chmod 0755 "$T/classes-$v"
	"$home/bin/javac" -d "$T/classes-$v" "$FIX" || fail "javac of JDK $v failed"

	# From the JVM's start: the JIT compilers are busy, and the small
	# heap keeps the GC working. cpu mode gives every thread its timer.
	run_profiled "$home" "$T/classes-$v" $((60 * SLOW)) -- $((8 * SLOW)) "full$v" \
		--java-async-profiler-mode cpu --java-line-numbers \
		--java-collect-thread-names
	W='^java;\[fidelity-worker tid=[0-9]+\];'
	need "$col" "${W}java\.lang\.Thread\.run:[0-9]+_\[[01ji]\];" \
		"JDK $v: no thread-name root frame with lines"
	need "$col" "${W}.*JavaFidelity\.hotLeaf:${HOTLINES}_\[[j1]\] " \
		"JDK $v: no compiled hotLeaf at lines $HOTLINES"
	need "$col" "${W}.*JavaFidelity\.interpLeaf:[0-9]+_\[0\] " \
		"JDK $v: no interpreted interpLeaf"
	need "$col" "${W}.*JavaFidelity\.thrower1:[0-9]+_\[i\];" \
		"JDK $v: no inlined frame"
	need "$col" "${W}.*JavaFidelity\\\$\\\$Lambda\.run_\[[01ji]\];JavaFidelity\.lambda\\\$main\\\$[0-9]+:[0-9]+_" \
		"JDK $v: no stable lambda frame"
	! grep -Eq '\$\$Lambda[$/.+]?[0-9]|0x[0-9a-f]{8}' "$col" ||
		{ grep -E '\$\$Lambda[$/.+]?[0-9]|0x[0-9a-f]{8}' "$col" | head -3; fail "JDK $v: a per-run lambda name or address"; }
	pass "JDK $v: frame types, line numbers, thread names, lambda names"

	# A Java thread sampled in the VM: the VM's frames on top of its Java
	# stack, walked down to the Java code that called in (exceptions()
	# spends its time in Throwable.fillInStackTrace's native method).
	need "$col" "${W}.*JavaFidelity\.exceptions:[0-9]+_\[[01ji]\];.*java\.lang\.Throwable\.fillInStackTrace(:[0-9]+)?_\[[01ji]\];(Java_java_lang_Throwable_fillInStackTrace;)?JVM_FillInStackTrace;java_lang_Throwable::fill_in_stack_trace" \
		"JDK $v: no VM frames above the Java stack of Throwable.fillInStackTrace"
	invm=$(sed -n 's/.*JVM [0-9]* window: .* in_vm=\([0-9]*\) .*/\1/p' "$T/full$v.err")
	echo "JDK $v: Java stacks with the VM's or native frames on top: $invm"
	[ "${invm:-0}" -gt 0 ] || fail "JDK $v: the window line counts no in_vm stacks"
	pass "JDK $v: a Java thread in the VM shows the VM's frames above its Java frames"

	need "$col" '^java;\[C[12] CompilerThre[^]]*tid=[0-9]+\];\[JIT compiler thread\];([^;]+;){3,}' \
		"JDK $v: no compiler thread with native frames"
	need "$col" '^java;\[[^]]*tid=[0-9]+\];\[(GC|VM) thread\];([^;]+;){2,}' \
		"JDK $v: no GC or VM thread with native frames"
	! grep -Eq '^java;\[C[12] CompilerThre[^]]*\];\[error' "$col" ||
		{ grep -E '^java;\[C[12] CompilerThre[^]]*\];\[error' "$col" | cut -c1-300; fail "JDK $v: a compiler thread's samples are an error"; }
	comp=$(count_matching "$col" '\[JIT compiler thread\];')
	gcvm=$(count_matching "$col" '\[(GC|VM) thread\];')
	echo "JDK $v: compiler thread samples=$comp GC/VM thread samples=$gcvm"
	pass "JDK $v: compiler and GC/VM threads with native frames and a role"

	# The Java thread's samples that AsyncGetCallTrace could not walk.
	total=$(count_matching "$col" "$W")
	unk=$(count_matching "$col" "${W}\[error unknown Java\]")
	nwj=$(count_matching "$col" "${W}\[error not walkable Java\]")
	share=$(awk -v u="$unk" -v t="$total" 'BEGIN { printf "%.2f", t ? 100 * u / t : 100 }')
	echo "JDK $v: fidelity-worker samples=$total unknown_Java=$unk not_walkable_Java=$nwj share=$share %"
	# What AsyncGetCallTrace alone gave (recovered: all threads' stacks
	# re-walked after popping an unwalkable top frame).
	rec=$(sed -n 's/.*JVM [0-9]* window: .* recovered=\([0-9]*\) .*/\1/p' "$T/full$v.err")
	echo "JDK $v: recovered=$rec: without recovery unknown/not walkable Java would be $(awk -v u="$((unk + nwj + rec))" -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * u / t : 0 }') %"
	# Recovered stacks are whole: the Java thread's stacks start at
	# Thread.run (all but a few samples in native code: on JDK 25 once
	# 10 of 199, so 93 % of a window of about 200).
	rooted=$(count_matching "$col" "${W}java\.lang\.Thread\.run")
	echo "JDK $v: stacks rooted at Thread.run: $rooted of $total"
	[ $((100 * rooted)) -ge $((93 * total)) ] ||
		fail "JDK $v: fewer than 93 % of the Java thread's stacks are whole"
	[ "$total" -ge 150 ] || fail "JDK $v: too few samples of the Java thread"
	awk -v s="$share" 'BEGIN { exit !(s <= 5) }' ||
		fail "JDK $v: [error unknown Java] is $share % of the Java thread's samples"
	pass "JDK $v: unknown Java $share % <= 5 %"
	kill "$JVM"
	wait "$JVM" 2>/dev/null

	# Not asked: no lines, no thread frames (a fresh JVM and agent).
	run_profiled "$home" "$T/classes-$v" $((30 * SLOW)) -- 3 "plain$v"
	need "$T/plain$v.col" '^java;java\.lang\.Thread\.run_\[[01ji]\];' \
		"JDK $v: no plain Java stack"
	! grep -Eq ':[0-9]+_\[|tid=' "$T/plain$v.col" ||
		fail "JDK $v: lines or thread names that were not asked for"
	pass "JDK $v: no lines or thread names unless asked"
	kill "$JVM"
	wait "$JVM" 2>/dev/null

	# C1 only: compiled frames are _[1].
	run_profiled "$home" "$T/classes-$v" $((30 * SLOW)) -XX:TieredStopAtLevel=1 -- \
		3 "c1$v"
	need "$T/c1$v.col" 'JavaFidelity\.hotLeaf_\[1\] ' "JDK $v: no C1 hotLeaf"
	! grep -q 'hotLeaf_\[j\] ' "$T/c1$v.col" || fail "JDK $v: hotLeaf as C2 code in a C1-only JVM"
	pass "JDK $v: C1-compiled frames are _[1]"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
}

# JFR's sampler beside profd's agent, sampling every millisecond: it stops
# the thread with HotSpot's suspend signal, and a SIGPROF that comes with
# it or while the thread waits in that handler (SR_handler) must be put on
# what the handler interrupted, not on the handler's frames (the agent
# before this check showed them in 6 of 1034 samples).
jfr_beside() {
	home=$1 v=$2
	sed '/"jdk.ExecutionSample"/,/<\/event>/s/>[0-9]* ms</>1 ms</' \
		"$home/lib/jfr/profile.jfc" >"$T/fast$v.jfc"
	grep -A3 '"jdk.ExecutionSample"' "$T/fast$v.jfc" | grep -q '>1 ms<' ||
		fail "JDK $v: no 1-ms JFR settings"
	run_profiled "$home" "$T/classes-$v" $((30 * SLOW)) \
		"-XX:StartFlightRecording=settings=$T/fast$v.jfc,filename=$T/jfr$v.jfr" \
		-- $((8 * SLOW)) "jfr$v" --java-async-profiler-mode cpu
	total=$(count_matching "$T/jfr$v.col" '^java;')
	sr=$(count_matching "$T/jfr$v.col" ';SR_handler([; ]|$)')
	echo "JDK $v, JFR sampling every 1 ms beside: $total samples, $sr with SR_handler's frames"
	# About 1000 here; a CI run under load gave JDK 25 344.
	[ "$total" -ge 150 ] || fail "JDK $v: too few samples beside JFR ($total)"
	[ "$sr" = 0 ] || { grep ';SR_handler[; ]' "$T/jfr$v.col" | head -3 | cut -c1-400; fail "JDK $v: $sr samples show JFR's suspend handler instead of what it interrupted"; }
	pass "JDK $v: with JFR's sampler beside, no sample is put on its suspend handler"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
}

# Two copies of the agent in one JVM (two profd versions): the second
# finds SIGPROF taken and fails, and must leave the first one sampling
# (its process-wide interval timer and its handler untouched).
# On JDK 21 and later, -XX:-EnableDynamicAgentLoading (overridden by the
# + that follows) keeps every profd-java on the host away from this JVM.
two_agents() {
	home=$1 v=$2
	if [ "$v" -ge 21 ]; then
		start_fidelity "$home" "$T/classes-$v" $((30 * SLOW)) \
			-XX:-EnableDynamicAgentLoading -XX:+EnableDynamicAgentLoading
	else
		start_fidelity "$home" "$T/classes-$v" $((30 * SLOW))
	fi
	"$home/bin/jcmd" "$JVM" VM.version >/dev/null || fail "jcmd failed"
	cp "$JAVA_AGENT" "$T/agent-a.so"
	cp "$JAVA_AGENT" "$T/agent-b.so"
	chmod 0644 "$T/agent-a.so" "$T/agent-b.so"
	ta=$(printf 'a%.0s' $(seq 32)) tb=$(printf 'b%.0s' $(seq 32))
	ra=$(python3 "$top_srcdir/tests/attach_load.py" "$JVM" "$T/agent-a.so" "cmd=start,token=$ta")
	rb=$(python3 "$top_srcdir/tests/attach_load.py" "$JVM" "$T/agent-b.so" "cmd=start,token=$tb")
	echo "JDK $v: first agent: $ra; second agent: $rb"
	case $ra in *"return code: 0"*) ;; *) fail "JDK $v: the first agent did not start: $ra" ;; esac
	case $rb in *"return code: 4"*) ;; *) fail "JDK $v: the second agent did not find SIGPROF taken: $rb" ;; esac
	# A dump ends the first agent's window: the next one counts only
	# samples taken after the second agent failed.
	out="/proc/$JVM/root/tmp/.profd-$ta.out"
	python3 "$top_srcdir/tests/attach_load.py" "$JVM" "$T/agent-a.so" "cmd=dump,token=$ta" >/dev/null
	rm -f "$out"
	sleep $((2 * SLOW))
	rd=$(python3 "$top_srcdir/tests/attach_load.py" "$JVM" "$T/agent-a.so" "cmd=dump,token=$ta")
	n=$(sed -n 's/^# samples=\([0-9]*\) .*/\1/p' "$out")
	rm -f "$out"
	python3 "$top_srcdir/tests/attach_load.py" "$JVM" "$T/agent-a.so" "cmd=stop,token=$ta" >/dev/null
	echo "JDK $v: the first agent's samples in $((2 * SLOW)) s after the second failed: ${n:-none} ($rd)"
	# At 100 Hz over 2 s (times SLOW) of a busy JVM: 200 and more (about 100 in a
	# loaded sanitizer run). A failed start that disarmed the process's
	# timer leaves none in this window.
	[ "${n:-0}" -ge 40 ] || fail "JDK $v: the failed second agent stopped the first one's sampling"
	pass "JDK $v: a second agent that cannot start leaves the first sampling"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
}

ran=0
for jdk in "$JDK17:17" "$JDK25:25"; do
	home=${jdk%:*} v=${jdk##*:}
	[ -x "$home/bin/javac" ] || { echo "JDK $v is not installed: skipped"; continue; }
	check_jdk "$home" "$v"
	jfr_beside "$home" "$v"
	# Not when another profd-java's agent may join in (a shared host).
	if [ "$v" -ge 21 ] ||
		[ "$(pgrep -f 'profd-java --supervised' | wc -l)" -eq 0 ]; then
		two_agents "$home" "$v"
	else
		echo "JDK $v: two agents not tried: another profd-java runs here"
	fi
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "neither JDK 17 nor Temurin 25 is installed"
