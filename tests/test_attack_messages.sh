# Messages over the limit of their channel. A worker that sends 4 MiB on
# its control channel (limit 64 KiB) has the message refused by nng and is
# killed as broken, with the reason in the log, while profd and the others
# go on; positive control: the same worker's 60 KiB message arrives and is
# rejected for its content ("does not decode"), so the sender really sends.
# The same on profctl's control socket: 4 MiB is dropped unanswered, 60 KiB
# is answered.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
command -v python3 >/dev/null || skip "python3 is needed"

conf="$T/profd.conf"
printf '[worker big]\nexecutable = %s\narguments = --fault big-message\n' "$FAULT" >"$conf"
printf '[worker near]\nexecutable = %s\narguments = --fault near-limit\n' "$FAULT" >>"$conf"
printf '[worker calm]\nexecutable = %s\narguments = --fault none\n' "$FAULT" >>"$conf"
start_profd -v -d 1 --perf-mode disabled --config "$conf"
wait_field calm state running 20
up=$(field upload pid)

# The attack: killed for the size of its message.
wait_field big last_exit SIGKILL 20
# nng drops the connection; profd notices it (lost channel), or first
# finds it cannot reach the worker when it next sends to it.
grep -E "profd-big \(pid [0-9]+\) lost its channel while running: a message over the 65536-byte limit|cannot reach profd-big" \
	"$T/profd.err" || { cat "$T/profd.err"; fail "no reason logged for big"; }
grep -q "profd-big (pid [0-9]*) sent a message that does not decode" "$T/profd.err" &&
	fail "the 4 MiB message reached the decoder"
# The worker's own line comes through profd's log pipe.
wait_grep "$T/profd.err" "sending a message of 4194304 bytes to profd" 10 \
	"big did not log its send"
pass "4 MiB on a worker's control channel: refused, the sender killed"
# It keeps sending and dying, so its count can pass 1 between two looks.
end=$(($(date +%s) + 20 * SLOW))
until [ "$(field big restarts)" -ge 1 ] 2>/dev/null; do
	[ "$(date +%s)" -le "$end" ] || fail "big was not restarted"
	sleep 0.2
done
pass "the big sender was restarted"

# Positive control: 60 KiB arrives and fails on its content.
wait_field near last_exit SIGKILL 20
grep -q "profd-near (pid [0-9]*) sent a message that does not decode" "$T/profd.err" ||
	{ cat "$T/profd.err"; fail "the 60 KiB message did not arrive"; }
grep -q "profd-near (pid [0-9]*) lost its channel" "$T/profd.err" &&
	fail "the 60 KiB message was dropped by size"
pass "control: 60 KiB on the same channel arrives (rejected as undecodable)"

# profctl's control socket: the same limit.
r=$(python3 "$top_srcdir/tests/sp_client.py" "$RUN/control.sock" req junk 4194304)
[ "$r" = closed ] || fail "4 MiB on the control socket: $r"
r=$(python3 "$top_srcdir/tests/sp_client.py" "$RUN/control.sock" req junk 61440)
case "$r" in ack*|answer*) ;; *) fail "control: 60 KiB on the control socket: $r" ;; esac
pass "control socket: 4 MiB dropped unanswered, 60 KiB answered ($r)"

kill -0 "$PROFD_PID" || fail "profd died"
[ "$(field upload pid)" = "$up" ] || fail "the uploader was restarted"
# calm is never blamed for another's message (a slow sanitizer build may
# restart it for being late to say hello: that is not this attack).
grep -E "profd-calm \(pid [0-9]+\) (lost its channel|sent a message)" "$T/profd.err" &&
	fail "calm was blamed for a message"
[ "$(field calm restarts)" = 0 ] || [ "$SLOW" -gt 1 ] || fail "calm was restarted"
wait_field calm state running $((20 * SLOW))
pass "profd, the uploader and the calm worker were unaffected"
# The attackers stopped first: one dying as profd stops would be its error.
ctl stop big >/dev/null
ctl stop near >/dev/null
for w in big near; do
	end=$(($(date +%s) + 30 * SLOW))
	until case "$(field "$w" state)" in idle | failed) true ;; *) false ;; esac do
		[ "$(date +%s)" -le "$end" ] || fail "$w did not stop"
		sleep 0.2
	done
done
stop_profd 0
