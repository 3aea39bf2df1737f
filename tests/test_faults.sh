# Misbehaving workers, started through the worker table, each end as
# designed while the others go on.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 is needed to read JSON"

conf="$T/profd.conf"
{
	for spec in "calm none" "hog memory-hog" "bomb fork-bomb" \
		"sys forbidden-syscall" "crash crash-loop" "garbage garbage" \
		"hang hang-on-stop"; do
		set -- $spec
		printf '[worker %s]\nexecutable = %s\narguments = --fault %s\n' \
			"$1" "$FAULT" "$2"
	done
	printf '[worker hog]\nmemory-max = 32M\n[worker bomb]\npids-max = 24\n'
} >"$conf"
start_profd -d 1 --perf-mode disabled --config "$conf" \
	--cgroup-mode "${CGROUP_MODE:-auto}"
echo "cgroups: $(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cgroup_mode"])')"
wait_field calm state running 20
up=$(field upload pid)
calm=$(field calm pid)

wait_field hog last_exit memory-limit 10
pass "memory hog: killed as memory-limit"
wait_field bomb last_exit pids-limit 10
pass "fork bomb: killed as pids-limit"
wait_field sys last_exit seccomp 10
pass "forbidden system call: killed by seccomp"
wait_field crash last_exit 3 10
wait_field crash state failed 40
pass "crash loop: given up after 5 quick deaths"
wait_field garbage last_exit SIGKILL 10
pass "garbage messages: killed"

# One stop that hangs does not block another.
t0=$(date +%s)
ctl stop hang
ctl restart calm
wait_field calm state running 10
# hang's stop deadline is 15 s: it is still being stopped.
[ $(($(date +%s) - t0)) -lt 14 ] || fail "restarting calm waited for hang"
[ "$(field hang state)" = stopping ] || fail "hang is $(field hang state) when calm runs again"
wait_field hang state idle 25
[ "$(field hang last_exit)" = SIGKILL ] || fail "hang was not killed"
pass "a hung stop is killed after its deadline, others go on"

[ "$(field upload pid)" = "$up" ] || fail "the uploader was restarted"
[ "$(field upload restarts)" = 0 ] || fail "the uploader restarted"
[ "$(field calm restarts)" = 1 ] || fail "calm restarted more than asked"
ls "$T/out"/profile_*.col >/dev/null 2>&1 || fail "no window was written"
pass "the uploader and the calm worker were unaffected"

stop_profd 0
pass "clean stop with every fault worker"
