# Privilege separation, tried as a compromised worker would try it. Under
# a profd started from a terminal (the README's quick start does that):
#  - each worker runs as its own uid (profd-NAME), none as root;
#  - no worker shares profd's session or holds the terminal: stdin is
#    /dev/null, stdout and stderr a pipe profd reads;
#  - what a worker writes reaches profd's log under its name, with control
#    characters escaped (a process named with an escape sequence and a
#    newline cannot forge a line or drive the operator's terminal);
#  - one worker cannot signal another, connect to another's channel, or,
#    without CAP_SYS_PTRACE, read another's memory.
# Each attack has a positive control: the same attack code against a
# process where the separation is absent (the same uid) works, so a
# broken attack cannot pass as a refused one.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 is needed"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed"
INJECT="$top_builddir/tests/inject_syscall"
[ "$(uname -m)" = x86_64 ] || skip "tests/inject_syscall is x86_64 only"
WORKERS="upload perf python"
JAVA_OPT=(--no-java)
if [ -x "$JAVA_WORKER" ]; then
	WORKERS="$WORKERS java"
	JAVA_OPT=()
fi
for w in $WORKERS; do
	getent passwd "profd-$w" >/dev/null ||
		fail "user profd-$w does not exist (contrib/users.sh makes it)"
done

# A Python process whose name is an escape sequence, a newline and a
# forged line: profd-python names it in its log.
EVIL='\033[31m\nFORGED'
"$PY" -c '
import ctypes, sys, time
ctypes.CDLL(None).prctl(15, b"\x1b[31m\nFORGED", 0, 0, 0)
print("ready", flush=True)
end = time.time() + 600
while time.time() < end:
    sum(i * i for i in range(10000))
' >"$T/evil.out" 2>&1 &
EVIL_PID=$!
track "$EVIL_PID"
wait_ready "$T/evil.out"
od -c "/proc/$EVIL_PID/comm" | grep -q '033' ||
	fail "the test process's name has no escape character"

# profd as an operator starts it: from a terminal, in the terminal's
# session.
mkdir -p "$RUN"
chmod 0711 "$RUN"
"$PY" "$top_srcdir/tests/pty_run.py" "$T/tty.log" "$T/profd.pid" -- \
	"$PROFD" -c -v --runtime-dir "$RUN" --worker-dir "$top_builddir" \
	-o "$T/out" -d 2 --pids "$EVIL_PID" "${JAVA_OPT[@]}" &
PTY_PID=$!
track "$PTY_PID"
for _ in $(seq 100); do
	[ -s "$T/profd.pid" ] && [ -S "$RUN/control.sock" ] && break
	sleep 0.1
done
PROFD_PID=$(cat "$T/profd.pid")
track "$PROFD_PID"
[ -S "$RUN/control.sock" ] || { cat "$T/tty.log"; fail "profd did not start"; }
for w in $WORKERS; do wait_field "$w" state running 60; done

# Positive control: profd itself holds the terminal, in its session.
ptty=$(ps -o tty= -p "$PROFD_PID" | tr -d ' ')
case "$ptty" in pts/*) ;; *) fail "profd has no terminal ($ptty)" ;; esac
[ "$(ps -o sid= -p "$PROFD_PID" | tr -d ' ')" = "$PROFD_PID" ] ||
	fail "profd does not lead its session"
readlink "/proc/$PROFD_PID/fd/0" | grep -q '^/dev/pts/' ||
	fail "profd's stdin is not the terminal"

# --- users, sessions, terminals ----------------------------------------------
uids=""
for w in $WORKERS; do
	pid=$(field "$w" pid)
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	[ "$uid" = "$(id -u "profd-$w")" ] ||
		fail "profd-$w runs as uid $uid, not profd-$w's"
	[ "$uid" != 0 ] || fail "profd-$w runs as root"
	uids="$uids $uid"
	sid=$(ps -o sid= -p "$pid" | tr -d ' ')
	[ "$sid" != "$PROFD_PID" ] || fail "profd-$w shares profd's session"
	[ "$(ps -o tty= -p "$pid" | tr -d ' ')" = "?" ] ||
		fail "profd-$w has a controlling terminal"
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ] ||
		fail "profd-$w's stdin is $(readlink "/proc/$pid/fd/0")"
	for fd in 1 2; do
		readlink "/proc/$pid/fd/$fd" | grep -q '^pipe:' ||
			fail "profd-$w's fd $fd is $(readlink "/proc/$pid/fd/$fd")"
	done
	echo "profd-$w: pid $pid, uid $uid, session $sid"
done
n=$(echo "$uids" | tr ' ' '\n' | grep -c .)
[ "$(echo "$uids" | tr ' ' '\n' | grep . | sort -u | wc -l)" = "$n" ] ||
	fail "workers share a uid:$uids"
# No process of profd's tree (perf's children included) holds a terminal
# or is in profd's session, but profd (and the test's terminal runner).
for pid in $(ps -e -o pid=,sid= | awk -v s="$PROFD_PID" '$2 == s { print $1 }'); do
	[ "$pid" = "$PROFD_PID" ] || fail "pid $pid is in profd's session: $(ps -o args= -p "$pid")"
done
for pid in $(pgrep -f "$RUN"); do
	[ "$pid" = "$PROFD_PID" ] || [ "$pid" = "$PTY_PID" ] && continue
	for fd in /proc/"$pid"/fd/*; do
		case "$(readlink "$fd")" in /dev/pts/* | /dev/tty*)
			fail "pid $pid ($(ps -o args= -p "$pid")) holds $(readlink "$fd")" ;;
		esac
	done
done
pass "$n workers, $n uids ($uids ), none in profd's session or holding its terminal"

# --- what workers write, in profd's log --------------------------------------
end=$(($(date +%s) + 20 * SLOW))
until grep -q "profiling PID $EVIL_PID" "$T/tty.log"; do
	[ "$(date +%s)" -le "$end" ] || { cat "$T/tty.log"; fail "profd-python did not name the process"; }
	sleep 0.2
done
line=$(grep -a "profiling PID $EVIL_PID" "$T/tty.log" | head -1)
echo "$line"
echo "$line" | grep -q '^profd-python: profiling PID [0-9]* (\\x1b\[31m\\x0aFORGED)' ||
	fail "the process name is not escaped in: $line"
if grep -a -q "$(printf '\033')\[31m" "$T/tty.log"; then fail "an escape sequence reached the terminal"; fi
if grep -a -q '^FORGED' "$T/tty.log"; then fail "a forged line reached the log"; fi
[ "$EVIL" != "" ]
pass "a worker's output is logged under its name, control characters escaped"

# --- signals -------------------------------------------------------------------
# profd-perf may call kill (it stops perf) and profd-java (the attach
# helper's SIGQUIT): neither may signal another worker.
UPID=$(field upload pid)
PYPID=$(field python pid)
attackers="perf"
[ -x "$JAVA_WORKER" ] && attackers="perf java"
for a in $attackers; do
	for victim in "$UPID" "$PYPID"; do
		out=$("$INJECT" "$(field "$a" pid)" kill "$victim" 0 2>"$T/inject.err")
		[ "$out" = "kill returned -1" ] ||
			fail "kill($victim, 0) from profd-$a: $out"
	done
done
# Positive control: the same call from a process of the victim's uid.
setpriv --reuid profd-python --regid profd-python --clear-groups sleep 300 &
SAME=$!
track "$SAME"
sleep 0.3
out=$("$INJECT" "$SAME" kill "$PYPID" 0 2>"$T/inject.err")
[ "$out" = "kill returned 0" ] || fail "control: kill from uid profd-python: $out"
for w in $WORKERS; do [ "$(field "$w" state)" = running ] || fail "profd-$w is $(field "$w" state)"; done
pass "signals: profd-{${attackers// /,}} cannot signal the uploader or profd-python (EPERM); the same call from profd-python's uid can"

# --- channels ------------------------------------------------------------------
CLIENT="$T/sp_client.py"
cp "$top_srcdir/tests/sp_client.py" "$CLIENT"
chmod 0644 "$CLIENT"
PERF_CHAN=$(ls "$RUN"/perf.*.ctl | tail -1)
as_worker() {
	w=$1
	shift
	setpriv --reuid "profd-$w" --regid "profd-$w" --groups profd-chunks "$@"
}
out=$(as_worker python "$PY" "$CLIENT" "$PERF_CHAN" pair hello)
[ "$out" = denied ] || fail "profd-python's uid on profd-perf's channel: $out"
# Control: the same client gets past the file modes as perf's own uid
# (and is then refused as another process than the worker).
out=$(as_worker perf "$PY" "$CLIENT" "$PERF_CHAN" pair hello)
[ "$out" = closed ] || fail "control: profd-perf's uid on its channel: $out"
[ "$(field perf restarts)" = 0 ] || fail "profd-perf restarted"
pass "channels: profd-python's uid cannot reach profd-perf's channel; perf's own uid from another process is dropped"

# --- memory --------------------------------------------------------------------
# The uploader holds no capability: it cannot read another worker.
addr_of() { awk 'NR == 1 { split($1, a, "-"); print a[1] }' "/proc/$1/maps"; }
for w in perf python; do
	pid=$(field "$w" pid)
	out=$(as_worker upload "$PY" "$top_srcdir/tests/peek.py" "$pid" "$(addr_of "$pid")") &&
		fail "profd-upload's uid read profd-$w's memory: $out"
	echo "$out" | grep -q "vm_readv error EPERM" || fail "peek at profd-$w: $out"
done
# Control: the same reader on a process of its own uid.
setpriv --reuid profd-upload --regid profd-upload --clear-groups sleep 300 &
MINE=$!
track "$MINE"
wait_comm "$MINE" sleep
out=$(as_worker upload "$PY" "$top_srcdir/tests/peek.py" "$MINE" "$(addr_of "$MINE")") ||
	fail "control: profd-upload's uid cannot read its own process: $out"
pass "memory: profd-upload's uid cannot read profd-perf or profd-python; it can read a process of its own"

kill -TERM "$PROFD_PID"
wait "$PTY_PID"
rv=$?
[ "$rv" = 0 ] || { cat "$T/tty.log"; fail "profd exited $rv"; }
assert_no_process "$RUN"
[ -z "$(ls -A "$RUN")" ] || { ls -la "$RUN"; fail "$RUN not empty"; }
pass "clean stop"
