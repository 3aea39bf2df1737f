# The supervisor: sandboxes, restarts, limits, profctl.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf
command -v python3 >/dev/null || skip "python3 is needed to read JSON"

# The perf engine: the memory-limit check below needs perf record's use.
start_profd -d 2 --perf-engine perf
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

# kill -9 of a healthy worker: a new one within 5 s (times SLOW).
sleep 2.5
old=$(field perf pid)
up=$(field upload pid)
kill -9 "$old"
t0=$(date +%s%N)
# Usually well under a second (make bench measures it); a loaded host
# can take a few.
for _ in $(seq $((100 * SLOW))); do
	new=$(field perf pid)
	[ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] && break
	sleep 0.05
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$new" != "$old" ] && [ "$new" != 0 ] || fail "no new perf worker after kill -9"
[ "$ms" -le $((5000 * SLOW)) ] || fail "the new worker took $ms ms"
le=$(field perf last_exit)
[ "$le" = SIGKILL ] || { cat "$T/profd.err"; fail "last_exit is $le, not SIGKILL"; }
pass "kill -9 perf: replaced in $ms ms"

# A memory limit below its use: killed and restarted as memory-limit (the
# latency itself is measured by make bench; on a loaded host it can take
# a few seconds); the uploader is untouched.
wait_field perf state running 60
sleep 2.5
t0=$(date +%s%N)
ctl set perf memory-max 16M || fail "profctl set failed"
wait_field perf last_exit memory-limit 20
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(field upload pid)" = "$up" ] || fail "the uploader was restarted"
[ "$(field upload restarts)" = 0 ] || fail "the uploader restarted"
pass "memory-max 16M: perf killed as memory-limit in $ms ms, uploader untouched"

# Stop and start on command; bad requests are refused.
ctl set perf memory-max 256M
# The default soft limit, 3/4 of the hard one, follows it back up.
[ "$(field perf memory_high)" = $((256 * 1024 * 1024 / 4 * 3)) ] ||
	fail "memory-max back to 256M, yet memory_high is $(field perf memory_high)"
ctl stop perf || fail "profctl stop failed"
wait_field perf state idle 20
ctl start perf || fail "profctl start failed"
wait_field perf state running 60
ctl start nosuch 2>"$T/e" && fail "start of an unknown worker succeeded"
grep -q "no such worker" "$T/e" || fail "no error for an unknown worker"
ctl stop upload 2>/dev/null && fail "the uploader could be stopped"
pass "profctl stop, start, and refusals"

# profctl's bounds (profctl(8)): memory-max at least 4M, memory-high at
# least 1M; refused with the bound named, and nothing changes.
max0=$(field perf memory_max)
out=$(ctl set perf memory-max 3M 2>&1) && fail "memory-max 3M accepted"
case $out in *"at least 4M"*) ;; *) fail "memory-max 3M: $out" ;; esac
out=$(ctl set perf memory-high 1023K 2>&1) && fail "memory-high 1023K accepted"
case $out in *"at least 1M"*) ;; *) fail "memory-high 1023K: $out" ;; esac
[ "$(field perf memory_max)" = "$max0" ] || fail "a refused value changed memory_max"
pass "profctl refuses memory-max under 4M and memory-high under 1M"

# The soft limit: the worker finishes its window and restarts cleanly.
before=$(field perf restarts)
ctl set perf memory-high 1M || fail "profctl set memory-high failed"
for _ in $(seq 100); do
	[ "$(field perf restarts)" -gt "$before" ] && break
	sleep 0.1
done
[ "$(field perf restarts)" -gt "$before" ] || fail "no restart over the soft limit"
[ "$(field perf last_exit)" = 0 ] || fail "soft restart was not clean: $(field perf last_exit)"
ctl set perf memory-high 160M
wait_field perf state running 60
pass "soft limit: perf restarted cleanly between windows"

# A soft limit set above a new hard limit goes back to 3/4 of it, and
# follows it from then on (profctl(8)).
ctl set perf memory-max 128M
[ "$(field perf memory_high)" = $((96 * 1024 * 1024)) ] ||
	fail "memory-max 128M under memory-high 160M: memory_high is $(field perf memory_high)"
ctl set perf memory-max 256M
[ "$(field perf memory_high)" = $((192 * 1024 * 1024)) ] ||
	fail "memory-max 256M: memory_high is $(field perf memory_high), not 192M"
pass "memory-high: set above a new memory-max, it is 3/4 of memory-max again, up and down"

# Reload: a bad file keeps the old table, a good one applies.
cat >"$T/reload.conf" <<CONF
[worker perf]
pids-max = 70
CONF
kill -TERM "$PROFD_PID"; wait "$PROFD_PID"
start_profd -d 2 --config "$T/reload.conf"
wait_field perf pids_max 70 10
printf '[worker perf]\npids-max = lots\n' >"$T/reload.conf"
ctl reload 2>"$T/e" && fail "a bad reload succeeded"
grep -q "reload.conf:2: invalid value 'lots' for pids-max" "$T/e" ||
	{ cat "$T/e"; fail "reload error does not name file and line"; }
[ "$(field perf pids_max)" = 70 ] || fail "a bad reload changed the table"
printf '[worker perf]\npids-max = 80\n' >"$T/reload.conf"
ctl reload || fail "a good reload failed"
wait_field perf pids_max 80 5
pass "reload: refused with file and line, then applied"

# profctl: bad arguments, and a user outside root and group profd.
ctl set perf memory-max lots 2>"$T/e"
[ $? = 2 ] || fail "bad size: exit status is not 2"
grep -q usage "$T/e" || fail "no usage line for a bad size"
ctl frobnicate 2>/dev/null
[ $? = 2 ] || fail "unknown command: exit status is not 2"
if command -v setpriv >/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$PROFCTL" --runtime-dir "$RUN" status 2>"$T/e" &&
		fail "nobody could use profctl"
	grep -q "permission denied" "$T/e" || { cat "$T/e"; fail "no permission error"; }
fi
pass "profctl refuses bad arguments and other users"

stop_profd 0
pass "clean stop"

# profd killed outright: every worker dies with it (the parent-death
# signal profd sets survives the sandbox's change of uid), and a new profd
# on the same runtime directory takes over its leftovers and stops clean.
start_profd -d 2
wait_field perf state running 60
wait_field upload state running 10
kids=$(ps -o pid= --ppid "$PROFD_PID" | tr -d ' ' | tr '\n' ' ')
[ -n "$kids" ] || fail "profd has no workers"
kill -9 "$PROFD_PID"
wait "$PROFD_PID" 2>/dev/null
for _ in $(seq $((50 * SLOW))); do
	alive=""
	for k in $kids; do kill -0 "$k" 2>/dev/null && alive="$alive $k"; done
	[ -z "$alive" ] && break
	sleep 0.1
done
[ -z "$alive" ] || { ps -fp "${alive# }"; fail "workers outlived a killed profd:$alive"; }
pgrep -f "$RUN" >/dev/null && fail "a process of the killed profd is left"
start_profd -d 2
wait_field perf state running 60
stop_profd 0
pass "kill -9 profd: its workers ($kids) die with it; the next profd stops clean"
