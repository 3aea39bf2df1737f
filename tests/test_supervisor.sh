# The supervisor: sandboxes, restarts, limits, profctl.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf
command -v python3 >/dev/null || skip "python3 is needed to read JSON"

start_profd -d 2
wait_field perf state running 60
wait_field upload state running 10

# Each worker runs as a non-root user with exactly its capabilities,
# no_new_privs and a seccomp filter.
check_sandbox() { # NAME CAPEFF
	pid=$(field "$1" pid)
	st="/proc/$pid/status"
	uid=$(awk '/^Uid:/ { print $3 }' "$st")
	[ "$uid" != 0 ] || fail "$1 runs as root"
	grep -q "^CapEff:[[:space:]]*$2$" "$st" ||
		fail "$1: $(grep CapEff "$st"), not $2"
	grep -q '^Seccomp:[[:space:]]*2$' "$st" || fail "$1: no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "$1: no no_new_privs"
	pass "$1 (pid $pid): uid $uid, CapEff $2, Seccomp 2"
}
# perf: CAP_DAC_READ_SEARCH(2), CAP_SYS_PTRACE(19), CAP_SYSLOG(34),
# CAP_PERFMON(38).
check_sandbox perf 0000004400080004
check_sandbox upload 0000000000000000
ctl status
ctl status --json | python3 -m json.tool >/dev/null || fail "status --json is not JSON"

# kill -9 of a healthy worker: a new one within 2 s.
sleep 2.5
old=$(field perf pid)
up=$(field upload pid)
kill -9 "$old"
t0=$(date +%s%N)
for _ in $(seq 40); do
	new=$(field perf pid)
	[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] && break
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$new" != "$old" ] && [ "$new" != 0 ] || fail "no new perf worker after kill -9"
[ "$ms" -le 2000 ] || fail "the new worker took $ms ms"
le=$(field perf last_exit)
[ "$le" = SIGKILL ] || { cat "$T/profd.err"; fail "last_exit is $le, not SIGKILL"; }
pass "kill -9 perf: replaced in $ms ms"

# A memory limit below its use: killed and restarted as memory-limit,
# within 2 s; the uploader is untouched.
wait_field perf state running 60
sleep 2.5
t0=$(date +%s%N)
ctl set perf memory-max 16M || fail "profctl set failed"
wait_field perf last_exit memory-limit 2
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(field upload pid)" = "$up" ] || fail "the uploader was restarted"
[ "$(field upload restarts)" = 0 ] || fail "the uploader restarted"
pass "memory-max 16M: perf killed as memory-limit in $ms ms, uploader untouched"

# Stop and start on command; bad requests are refused.
ctl set perf memory-max 256M
ctl stop perf || fail "profctl stop failed"
wait_field perf state idle 20
ctl start perf || fail "profctl start failed"
wait_field perf state running 60
ctl start nosuch 2>"$T/e" && fail "start of an unknown worker succeeded"
grep -q "no such worker" "$T/e" || fail "no error for an unknown worker"
ctl stop upload 2>/dev/null && fail "the uploader could be stopped"
pass "profctl stop, start, and refusals"

stop_profd 0
pass "clean stop"
