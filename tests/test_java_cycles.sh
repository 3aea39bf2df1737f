# 50 attach / window / stop cycles against one JVM (itimer and cpu modes in
# turn): it keeps running, its thread count and caught signals return to
# their starting values, no POSIX timer is left, and nothing of ours stays in
# its /tmp but the agent library.
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker
for home in "$JDK17" "$JDK25"; do [ -x "$home/bin/javac" ] && break; done
[ -x "$home/bin/javac" ] || skip "no JDK installed"
compile_java_busy "$home" busy

# Fixed thread pools, and the attach listener from the start: the JVM's
# own thread count does not move, so any change is ours.
"$home/bin/java" -XX:+StartAttachListener -XX:+UseSerialGC \
	-XX:-UseDynamicNumberOfCompilerThreads -cp "$T/classes-busy" \
	JavaBusy 600 >"$T/jvm.out" 2>&1 &
jvm=$!
track "$jvm"
wait_ready "$T/jvm.out"
sleep 1
threads() { awk '/^Threads:/ { print $2 }' "/proc/$jvm/status"; }
sigcgt() { awk '/^SigCgt:/ { print $2 }' "/proc/$jvm/status"; }
t0=$(threads)
s0=$(sigcgt)
echo "start: $t0 threads, SigCgt $s0"

total=0 empty=0
for i in $(seq 50); do
	mode=itimer
	[ $((i % 2)) = 0 ] && mode=cpu
	timeout -k 5 $((30 * SLOW)) "$JAVA_WORKER" --pid "$jvm" -d 1 -f 100 \
		--java-async-profiler-mode "$mode" --java-agent "$JAVA_AGENT" \
		>"$T/c.col" 2>"$T/c.err" || { cat "$T/c.err"; fail "cycle $i ($mode): exit $?"; }
	kill -0 "$jvm" 2>/dev/null || fail "cycle $i ($mode): the JVM died"
	java_shares "$T/c.col"
	# About 75 at 100 Hz; a tenth of a CPU on a loaded host leaves few, so
	# one window without hotLeaf passes, not two.
	if [ "$HOT" = 0 ]; then
		empty=$((empty + 1))
		echo "cycle $i ($mode): no samples in hotLeaf"
		[ "$empty" -lt 2 ] || { cat "$T/c.col" "$T/c.err"; fail "cycle $i ($mode): no samples"; }
	fi
	total=$((total + HOT + COLD))
	if [ -s "/proc/$jvm/timers" ]; then
		cat "/proc/$jvm/timers"
		fail "cycle $i ($mode): POSIX timers left in the JVM"
	fi
done
echo "50 cycles, $total samples in the leaves"

sleep 1
kill -0 "$jvm" 2>/dev/null || fail "the JVM died"
grep -q . "$T/jvm.out" || fail "the JVM printed nothing"
t1=$(threads)
s1=$(sigcgt)
echo "end: $t1 threads, SigCgt $s1"
[ "$t1" = "$t0" ] || fail "thread count $t0 -> $t1"
[ "$s1" = "$s0" ] || fail "caught signals $s0 -> $s1"
# One loaded copy of the agent, found again by every later attach.
copies=$(awk '/libprofd-jvmti/ { print $5 }' "/proc/$jvm/maps" | sort -u | wc -l)
[ "$copies" = 1 ] || fail "$copies copies of the agent mapped in the JVM"
left=$(ls -A /tmp | grep -E "^\.profd-|^\.attach_pid$jvm$|^\.libprofd" || true)
[ -z "$left" ] || fail "left in the JVM's /tmp: $left"
# Still running its loop: its CPU time grows.
c0=$(awk '{ print $14 + $15 }' "/proc/$jvm/stat")
sleep 1
c1=$(awk '{ print $14 + $15 }' "/proc/$jvm/stat")
[ "$c1" -gt "$c0" ] || fail "the JVM stopped working"
pass "50 cycles: JVM running, threads $t0, signals and timers as before"
