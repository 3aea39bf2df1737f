# The seccomp allowlist of every real worker (profd-perf, profd-python,
# profd-java when built and a JDK is here, profd-upload), as installed:
# tests/inject_syscall makes each running worker execute one system call.
# Calls its policy allows return and the worker goes on; calls outside it
# are refused by the kernel (its SYS_SECCOMP SIGSYS for that call), the
# worker dies, profd reports `seccomp` as its last exit and starts it
# again, and the windows go on with every profiler's stacks.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf
command -v python3 >/dev/null || skip "python3 is needed"
INJECT="$top_builddir/tests/inject_syscall"
[ "$(uname -m)" = x86_64 ] || skip "tests/inject_syscall is x86_64 only"

# Calls outside each worker's allowlist (common/sandbox.c's base set plus
# the policy in its *_main.c, also in sanitizer builds), with why:
#  socket 2 1 0        socket(AF_INET): every policy here allows AF_UNIX
#                      only (profd-upload has no backend in this test)
#  process_vm_writev   perf, python and java may read other processes
#                      (CAP_SYS_PTRACE) but never write them
#  execveat            python, java, upload never exec (perf may: perf)
# Round by round, so each worker is up a while before its next death.
PROBES="perf:socket:2:1:0 python:socket:2:1:0 java:socket:2:1:0
	upload:socket:2:1:0
	perf:process_vm_writev python:execveat java:execveat upload:execveat
	python:process_vm_writev java:process_vm_writev"

# The programs to profile, so that each profiler has stacks to send.
start_busy 600
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
"$PY" "$top_srcdir/tests/fixtures/py_leaves.py" 600 >"$T/py.out" 2>&1 &
PY_PID=$!
track "$PY_PID"
wait_ready "$T/py.out"
PIDS="$BUSY_PID,$PY_PID"
WORKERS="upload perf python"
JAVA_OPT=(--no-java)
JVM_PID=""
home=""
for h in "$JDK17" "$JDK25"; do [ -x "$h/bin/javac" ] && home=$h && break; done
if [ -x "$JAVA_WORKER" ] && [ -f "$JAVA_AGENT" ] && [ -n "$home" ]; then
	compile_java_busy "$home" busy
	"$home/bin/java" -cp "$T/classes-busy" JavaBusy 600 >"$T/jvm.out" 2>&1 &
	JVM_PID=$!
	track "$JVM_PID"
	wait_ready "$T/jvm.out"
	PIDS="$PIDS,$JVM_PID"
	WORKERS="$WORKERS java"
	JAVA_OPT=(--java-jattach-timeout 5)
else
	echo "note: profd-java not built or no JDK: its policy is not tested"
	# shellcheck disable=SC2086
	PROBES=$(printf '%s\n' $PROBES | grep -v '^java:')
fi

start_profd -v -d 2 -f 49 --pids "$PIDS" "${JAVA_OPT[@]}"
for w in $WORKERS; do wait_field "$w" state running 60; done

# windows: how many windows the uploader has written.
windows() { ls "$T/out"/profile_*.col 2>/dev/null | wc -l; }
# wait_windows N: until N more windows than now are written.
wait_windows() {
	want=$(($(windows) + $1))
	end=$(($(date +%s) + 30 * SLOW))
	while [ "$(windows)" -lt "$want" ]; do
		[ "$(date +%s)" -le "$end" ] || { cat "$T/profd.err"; fail "no new windows"; }
		sleep 0.2
	done
}

# A JVM's agent answers only the profd-java that started it until it has
# heard nothing for its idle timeout (300 s): after profd-java's death the
# new one reports the JVM as skipped, "another profd-java owns the agent",
# until then. The same report means another profd on this host (a soak
# test run beside this one) holds our JVM.
JAVA_BUSY='Profiling skipped: another profd-java owns the agent'
java_foreign() {
	pgrep -af "profd-java --supervised" | grep -v "$RUN" | grep -q .
}
# has_stacks FILE WHEN: the window holds perf's stacks of busy_c, Python's
# of the fixture and, WHEN is "before" profd-java was killed, Java's of
# the JVM (or else the busy report for it).
has_stacks() {
	grep -q 'busy_c' "$1" &&
		grep -q 'hot_leaf ([^)]*py_leaves.py:[0-9]*)_\[p\]' "$1" || return 1
	[ -n "$JVM_PID" ] || return 0
	grep -q 'JavaBusy\.hotLeaf_\[[j01i]\]' "$1" && return 0
	grep -q "$JAVA_BUSY" "$1" || return 1
	[ "$2" = after ] && return 0
	java_foreign && echo "note: another profd-java holds our JVM's agent"
}
# wait_stacks WHEN: until a new window has every profiler's stacks.
wait_stacks() {
	wait_windows 1
	end=$(($(date +%s) + 30 * SLOW))
	col=$(ls -t "$T/out"/profile_*.col | head -1)
	until has_stacks "$col" "$1"; do
		[ "$(date +%s)" -le "$end" ] || {
			grep -E "profd-(java|python|perf)" "$T/profd.err" | tail -5
			fail "no window with every profiler's stacks (last: $col)"
		}
		sleep 1
		col=$(ls -t "$T/out"/profile_*.col | head -1)
	done
}

# Every worker runs under a seccomp filter (mode 2), as profd started it.
for w in $WORKERS; do
	pid=$(field "$w" pid)
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" ||
		fail "profd-$w runs without a seccomp filter"
done
pass "every worker runs under a seccomp filter"

# Allowed calls go through: the injector works, and refuses nothing itself.
for w in $WORKERS; do
	pid=$(field "$w" pid)
	out=$("$INJECT" "$pid" getppid 2>"$T/inject.err")
	rv=$?
	[ "$rv" = 77 ] && skip "ptrace is not allowed here: $(cat "$T/inject.err")"
	[ "$rv" = 3 ] || { cat "$T/inject.err"; fail "getppid in profd-$w: $out (exit $rv)"; }
	[ "$out" = "getppid returned $PROFD_PID" ] ||
		fail "getppid in profd-$w: '$out', profd is $PROFD_PID"
done
wait_stacks before
for w in $WORKERS; do
	[ "$(field "$w" restarts)" = 0 ] || fail "profd-$w restarted after getppid"
	[ -z "$(field "$w" last_exit)" ] || fail "profd-$w: $(field "$w" last_exit)"
done
pass "allowed calls (getppid) return in every worker, which goes on ($(basename "$col"))"

# probe WORKER CALL [ARG...]: the call kills the worker by seccomp, profd
# says so and starts it again.
probe() {
	w=$1
	shift
	pid=$(field "$w" pid)
	r0=$(field "$w" restarts)
	out=$("$INJECT" "$pid" "$@" 2>"$T/inject.err")
	rv=$?
	[ "$rv" = 0 ] && [ "$out" = "$pid killed by SIGSYS" ] || {
		cat "$T/inject.err"
		fail "$* in profd-$w: '$out' (exit $rv)"
	}
	grep -q "seccomp refused $1" "$T/inject.err" || fail "no SYS_SECCOMP for $1"
	wait_field "$w" restarts $((r0 + 1)) 20
	[ "$(field "$w" last_exit)" = seccomp ] ||
		fail "profd-$w: last exit $(field "$w" last_exit), not seccomp"
	wait_grep "$T/profd.err" "profd-$w (pid $pid) died: seccomp" 5 \
		"profd did not log the seccomp death of profd-$w"
	wait_field "$w" state running 30
	pass "$* in profd-$w: refused, killed (seccomp), started again"
}

for p in $PROBES; do
	# shellcheck disable=SC2046
	probe $(echo "$p" | tr ':' ' ')
done

# Windows go on, with every profiler's stacks after the restarts.
wait_stacks after
[ -z "$JVM_PID" ] || kill -0 "$JVM_PID" || fail "the JVM died"
kill -0 "$PY_PID" || fail "the Python program died"
for w in $WORKERS; do
	[ "$(field "$w" state)" = running ] || fail "profd-$w is $(field "$w" state)"
done
pass "windows go on with every profiler's stacks: $(basename "$col")"

stop_profd 0
pass "clean stop"
