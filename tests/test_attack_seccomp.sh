# Attacks of a compromised worker on its seccomp filter. tests/inject_syscall
# makes the real, running workers under profd (profd-perf, profd-python,
# profd-upload, and profd-java when built and a JDK is here) execute one
# system call each: io_uring (a TCP connection past the AF_UNIX-only
# socket rule), bpf, a user namespace (unshare, clone), file handles
# (open_by_handle_at, with profd-perf's CAP_DAC_READ_SEARCH), userfaultfd,
# ptrace, typing into a terminal (TIOCSTI, also with the request's high
# bits set, which the kernel ignores), TIOCLINUX, prctl options no worker
# uses, setns into a user namespace, mount, pivot_root and keyctl. Each is
# killed by the filter (SYS_SECCOMP SIGSYS), profd says so and starts the
# worker again. The calls profd-perf's perf makes and copes with failing
# are refused with EPERM (where the kernel would answer otherwise) and the
# worker goes on.
#
# Positive controls: the same injections into a throwaway process without
# a filter (a root sleeper on a pseudo-terminal this test makes) are
# executed: each returns; TIOCSTI's byte arrives on that terminal; and
# tests/uring_connect, through io_uring alone, reaches a loopback listener.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf
command -v python3 >/dev/null || skip "python3 is needed"
[ "$(uname -m)" = x86_64 ] || skip "tests/inject_syscall is x86_64 only"
INJECT="$top_builddir/tests/inject_syscall"
URING="$top_builddir/tests/uring_connect"
SAN=0
grep -q '^#define PROFD_SANITIZERS 1' "$top_builddir/config.h" && SAN=1

# Numbers (x86_64, Linux uapi).
CLONE_FS=0x200
CLONE_NEWNS=0x20000
CLONE_NEWUSER=0x10000000
CLONE_NEWNET=0x40000000
SIGCHLD=17
TIOCSTI=0x5412
TIOCSTI_HIGH=0xffffffff00005412 # the kernel reads the low 32 bits only
TCGETS_HIGH=0xffffffff00005401
TIOCLINUX=0x541c
PR_SET_SECUREBITS=28
PR_SET_MM=35
PR_SET_MM_START_CODE=1
BPF_MAP_CREATE=0
BPF_PROG_GET_NEXT_ID=11
EPERM_RV=-1

# The attacks: NAME|CALL ARG..., the same for the control and each worker.
# ptrace is allowed in sanitizer builds only (LeakSanitizer), so it is
# not attacked there.
ATTACKS="io_uring_setup|io_uring_setup 1 zero:120
io_uring_enter|io_uring_enter -1 0 0 0 0 0
io_uring_register|io_uring_register -1 0 0 0
bpf|bpf $BPF_MAP_CREATE zero:72 72
clone(CLONE_NEWUSER)|clone $((CLONE_NEWUSER | SIGCHLD)) 0 0 0 0
clone(CLONE_NEWNET)|clone $((CLONE_NEWNET | SIGCHLD)) 0 0 0 0
open_by_handle_at|open_by_handle_at -100 zero:16 0
userfaultfd|userfaultfd 0x80000
TIOCSTI on 0|ioctl 0 $TIOCSTI str:Z
TIOCSTI on 1|ioctl 1 $TIOCSTI str:Z
TIOCSTI on 2|ioctl 2 $TIOCSTI str:Z
TIOCSTI, high bits set|ioctl 0 $TIOCSTI_HIGH str:Y
TIOCLINUX|ioctl 0 $TIOCLINUX hex:02
prctl(PR_SET_MM)|prctl $PR_SET_MM $PR_SET_MM_START_CODE 0 0 0
prctl(PR_SET_SECUREBITS)|prctl $PR_SET_SECUREBITS 0 0 0 0
setns(CLONE_NEWUSER)|setns -1 $CLONE_NEWUSER
mount|mount 0 0 0 0 0
pivot_root|pivot_root 0 0
keyctl|keyctl 0 0 0 0 0"
[ "$SAN" = 1 ] || ATTACKS="$ATTACKS
ptrace|ptrace 0 0 0 0"
# Last: in the control it moves the sleeper out of the first user
# namespace, where TIOCSTI could need CAP_SYS_ADMIN.
ATTACKS="$ATTACKS
unshare(CLONE_NEWUSER)|unshare $CLONE_NEWUSER"
[ "$SAN" = 1 ] && echo "note: sanitizer build: ptrace is allowed (LeakSanitizer), not attacked"

# inject PID CALL ARG...: runs the injector; sets OUT, RV, and ERR (file).
inject() {
	pid=$1
	shift
	OUT=$("$INJECT" "$pid" "$@" 2>"$T/inject.err")
	RV=$?
	[ "$RV" = 77 ] && skip "ptrace is not allowed here: $(cat "$T/inject.err")"
	return 0
}

# --- positive controls: no filter -------------------------------------------
# A root sleeper whose stdin, stdout and stderr are a pseudo-terminal in
# raw mode; the script prints the sleeper's pid and then each byte that
# arrives as input on that terminal.
cat >"$T/pty_sleeper.py" <<'EOF'
import os, select, subprocess, sys, tty
master, slave = os.openpty()
tty.setraw(slave)
p = subprocess.Popen(["sleep", "600"], stdin=slave, stdout=slave, stderr=slave)
print("pid", p.pid, flush=True)
while True:
    r, _, _ = select.select([slave], [], [], 1)
    if r:
        print("got", os.read(slave, 64).hex(), flush=True)
EOF
python3 "$T/pty_sleeper.py" >"$T/pty.out" 2>&1 &
track $!
for _ in $(seq 50); do grep -q '^pid ' "$T/pty.out" && break; sleep 0.1; done
SLEEPER=$(sed -n 's/^pid //p' "$T/pty.out")
[ -n "$SLEEPER" ] || { cat "$T/pty.out"; fail "the pty sleeper did not start"; }
track "$SLEEPER"
grep -q '^Seccomp:[[:space:]]*0$' "/proc/$SLEEPER/status" || fail "the sleeper has a filter"

# pty_got HEX: waits until the terminal received the byte HEX.
pty_got() {
	for _ in $(seq $((30 * SLOW))); do
		grep -q "^got .*$1" "$T/pty.out" && return 0
		sleep 0.1
	done
	cat "$T/pty.out"
	fail "byte $1 did not arrive on the terminal"
}

echo "$ATTACKS" | while IFS='|' read -r name call; do
	# shellcheck disable=SC2086
	inject "$SLEEPER" $call
	case "$RV:$OUT" in
	"3:${call%% *} returned "*) ;;
	*) cat "$T/inject.err"; fail "control, $name: '$OUT' (exit $RV)" ;;
	esac
	kill -0 "$SLEEPER" || fail "control, $name: the sleeper died"
	echo "control, $name: $OUT"
done || exit $?
# The clones made above are the sleeper's children: cleaned up with it.
for c in $(pgrep -P "$SLEEPER"); do track "$c"; done
# Z from TIOCSTI; Y from it with the request's high bits set, which is
# TIOCSTI to the kernel too.
pty_got 5a
pty_got 59
pass "control: every attack is executed without a filter; TIOCSTI types into the terminal"

# The calls profd-perf refuses (EPERM) are answered otherwise by the kernel.
inject "$SLEEPER" unshare $CLONE_FS
[ "$OUT" = "unshare returned 0" ] || fail "control, unshare(CLONE_FS): $OUT"
inject "$SLEEPER" setns -1 $CLONE_NEWNS
[ "$OUT" = "setns returned -9" ] || fail "control, setns(-1, CLONE_NEWNS): $OUT"
inject "$SLEEPER" bpf $BPF_PROG_GET_NEXT_ID zero:12 65536
[ "$OUT" = "bpf returned -7" ] || fail "control, bpf(BPF_PROG_GET_NEXT_ID, size 64K): $OUT"
pass "control: unshare(CLONE_FS) 0, setns(-1) EBADF, bpf with a 64 KiB attr E2BIG"

# io_uring alone reaches the network: a loopback listener sees it.
cat >"$T/listener.py" <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(float(sys.argv[1]))
print("port", s.getsockname()[1], flush=True)
c, a = s.accept()
c.settimeout(float(sys.argv[1]))
print("accepted", a[0], c.recv(64).decode(), flush=True)
EOF
python3 "$T/listener.py" $((20 * SLOW)) >"$T/listener.out" 2>&1 &
LISTENER=$!
track "$LISTENER"
for _ in $(seq 50); do grep -q '^port ' "$T/listener.out" && break; sleep 0.1; done
port=$(sed -n 's/^port //p' "$T/listener.out")
[ -n "$port" ] || fail "the listener did not start"
"$URING" "$port" profd-uring-probe >"$T/uring.out" 2>&1
rv=$?
[ "$rv" = 77 ] && skip "io_uring or IORING_OP_SOCKET is missing here: $(cat "$T/uring.out")"
[ "$rv" = 0 ] || fail "uring_connect failed: $(cat "$T/uring.out")"
wait "$LISTENER"
grep -q '^accepted 127.0.0.1 profd-uring-probe$' "$T/listener.out" ||
	fail "the listener saw no io_uring connection: $(cat "$T/listener.out")"
pass "control: a TCP connection and its bytes through io_uring alone reach a loopback listener"

# --- the real workers under profd ---------------------------------------------
start_busy 900
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
"$PY" "$top_srcdir/tests/fixtures/py_leaves.py" 900 >"$T/py.out" 2>&1 &
PY_PID=$!
track "$PY_PID"
wait_ready "$T/py.out"
PIDS="$BUSY_PID,$PY_PID"
WORKERS="perf python upload"
JAVA_OPT=(--no-java)
home=""
for h in "$JDK17" "$JDK25"; do [ -x "$h/bin/javac" ] && home=$h && break; done
if [ -x "$JAVA_WORKER" ] && [ -f "$JAVA_AGENT" ] && [ -n "$home" ]; then
	compile_java_busy "$home" busy
	"$home/bin/java" -cp "$T/classes-busy" JavaBusy 900 >"$T/jvm.out" 2>&1 &
	JVM_PID=$!
	track "$JVM_PID"
	wait_ready "$T/jvm.out"
	PIDS="$PIDS,$JVM_PID"
	WORKERS="$WORKERS java"
	JAVA_OPT=(--java-jattach-timeout 5)
else
	echo "note: profd-java not built or no JDK: not attacked"
fi
start_profd -v -d 2 -f 49 --pids "$PIDS" "${JAVA_OPT[@]}"
for w in $WORKERS; do wait_field "$w" state running 60; done

# A worker up for PROFD_HEALTHY_MS (2 s) restarts at once after a death;
# one that dies sooner backs off and is given up on at its fifth death.
declare -A READY
now_ms() { echo $(($(date +%s%N) / 1000000)); }
for w in $WORKERS; do READY[$w]=$(($(now_ms) + 3000)); done
healthy() {
	while [ "$(now_ms)" -lt "${READY[$1]}" ]; do sleep 0.2; done
}

# Allowed calls return and the worker goes on: TCGETS with the high bits
# of the request set is TCGETS to the kernel and to the filter.
for w in $WORKERS; do
	pid=$(field "$w" pid)
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" ||
		fail "profd-$w runs without a seccomp filter"
	inject "$pid" ioctl 2 $TCGETS_HIGH zero:64
	[ "$RV" = 3 ] || { cat "$T/inject.err"; fail "TCGETS in profd-$w: '$OUT' (exit $RV)"; }
	echo "profd-$w: $OUT"
done
pass "TCGETS (request compared on its low 32 bits) returns in every worker"

# attack WORKER NAME CALL ARG...: killed by seccomp, reported, restarted.
attack() {
	w=$1 name=$2
	shift 2
	healthy "$w"
	pid=$(field "$w" pid)
	r0=$(field "$w" restarts)
	inject "$pid" "$@"
	[ "$RV" = 0 ] && [ "$OUT" = "$pid killed by SIGSYS" ] || {
		cat "$T/inject.err"
		fail "$name in profd-$w: '$OUT' (exit $RV)"
	}
	grep -q "seccomp refused $1" "$T/inject.err" || fail "$name in profd-$w: no SYS_SECCOMP"
	wait_field "$w" restarts $((r0 + 1)) 20
	[ "$(field "$w" last_exit)" = seccomp ] ||
		fail "profd-$w: last exit $(field "$w" last_exit), not seccomp"
	# The line may land a moment after the status shows the restart.
	for _ in $(seq $((50 * SLOW))); do
		grep -q "profd-$w (pid $pid) died: seccomp" "$T/profd.err" && break
		sleep 0.1
	done
	grep -q "profd-$w (pid $pid) died: seccomp" "$T/profd.err" || {
		grep "profd-$w" "$T/profd.err" | tail -5
		fail "profd did not log the seccomp death of profd-$w"
	}
	wait_field "$w" state running 30
	READY[$w]=$(($(now_ms) + 3000))
	echo "$name in profd-$w: killed (seccomp), started again"
}

# refused WORKER NAME WANT CALL ARG...: returns WANT, the worker goes on.
refused() {
	w=$1 name=$2 want=$3
	shift 3
	pid=$(field "$w" pid)
	r0=$(field "$w" restarts)
	inject "$pid" "$@"
	[ "$RV" = 3 ] && [ "$OUT" = "$1 returned $want" ] || {
		cat "$T/inject.err"
		fail "$name in profd-$w: '$OUT' (exit $RV), not $want"
	}
	sleep 0.5
	[ "$(field "$w" restarts)" = "$r0" ] && [ "$(field "$w" pid)" = "$pid" ] ||
		fail "profd-$w restarted after $name"
	echo "$name in profd-$w: $OUT"
}

n=0
while IFS='|' read -r name call <&3; do
	for w in $WORKERS; do
		# shellcheck disable=SC2086
		attack "$w" "$name" $call
		n=$((n + 1))
	done
done 3<<EOF
$ATTACKS
EOF
pass "$n attacks in $(echo $WORKERS | wc -w) workers: each killed by seccomp"

# setns: profd-java's attach helper enters mount, network and IPC
# namespaces (by type; EBADF here), profd-perf's perf is refused, and a
# user namespace kills both (attacked above).
[[ " $WORKERS " = *" java "* ]] && refused java "setns(-1, CLONE_NEWNS)" -9 setns -1 $CLONE_NEWNS
refused perf "setns(-1, CLONE_NEWNS)" $EPERM_RV setns -1 $CLONE_NEWNS
refused perf "unshare(CLONE_FS)" $EPERM_RV unshare $CLONE_FS
refused perf "bpf(BPF_PROG_GET_NEXT_ID, size 64K)" $EPERM_RV bpf $BPF_PROG_GET_NEXT_ID zero:12 65536
pass "profd-perf: perf's own setns, unshare and bpf calls are refused (EPERM), never run"

# Windows go on with perf's and Python's stacks after every restart.
windows() { ls "$T/out"/profile_*.col 2>/dev/null | wc -l; }
want=$(($(windows) + 1))
end=$(($(date +%s) + 60 * SLOW))
while :; do
	col=$(ls -t "$T/out"/profile_*.col 2>/dev/null | head -1)
	[ "$(windows)" -ge "$want" ] && grep -q 'busy_c' "$col" &&
		grep -q 'hot_leaf ([^)]*py_leaves.py:[0-9]*)_\[p\]' "$col" && break
	[ "$(date +%s)" -le "$end" ] || { tail -20 "$T/profd.err"; fail "no window with perf's and Python's stacks"; }
	sleep 1
done
for w in $WORKERS; do
	[ "$(field "$w" state)" = running ] || fail "profd-$w is $(field "$w" state)"
done
kill -0 "$BUSY_PID" && kill -0 "$PY_PID" || fail "a profiled program died"
pass "windows go on with perf's and Python's stacks: $(basename "$col")"

stop_profd 0
pass "clean stop"
