# Who may talk to profd's sockets. The control socket: root and group
# profd, never another user, never a user a worker runs as. Each worker's
# channel: only that worker's uid and pid. The uploader's chunks.sock:
# the profilers' uids (group profd-chunks reaches it). Another uid is
# stopped by the file modes, and with those bypassed (CAP_DAC_OVERRIDE) by
# the peer checks: its chunk is dropped unanswered and never lands in a
# window, while the same chunk from a profiler's uid is acknowledged and
# merged.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 is needed"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed"
setpriv --reuid 65534 --regid 65534 --clear-groups true 2>/dev/null ||
	skip "setpriv cannot change uid here"

start_calm_profd
WUID=$(ps -o uid= -p "$(field upload pid)" | tr -d ' ')
WGID=$(ps -o gid= -p "$(field upload pid)" | tr -d ' ')
[ "$WUID" != 0 ] || skip "the workers run as root here"
# A uid that no worker runs as (the calm worker, with no profd-calm user,
# runs as nobody).
CUID=$(ps -o uid= -p "$(field calm pid)" | tr -d ' ')
OTHER=65534
{ [ "$WUID" = "$OTHER" ] || [ "$CUID" = "$OTHER" ]; } && OTHER=4242
CLIENT="$T/sp_client.py" # where any uid can read it
cp "$top_srcdir/tests/sp_client.py" "$CLIENT"
chmod 0644 "$CLIENT"
echo "workers run as uid $WUID, gid $WGID; the other uid is $OTHER"

# as UID GID [setpriv options...] -- COMMAND...
as() {
	u=$1 g=$2
	shift 2
	opts=""
	while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	setpriv --reuid "$u" --regid "$g" $opts "$@"
}
DAC="--inh-caps +dac_override,+dac_read_search --ambient-caps +dac_override,+dac_read_search"

# --- the control socket ---------------------------------------------------
CTL="$RUN/control.sock"
if getent group profd >/dev/null; then
	[ "$(stat -c '%a %U %G' "$CTL")" = "660 root profd" ] ||
		fail "control.sock is $(stat -c '%a %U %G' "$CTL")"
else
	[ "$(stat -c '%a %U' "$CTL")" = "600 root" ] ||
		fail "no group profd, yet control.sock is $(stat -c '%a %U %G' "$CTL")"
fi
out=$(as "$OTHER" "$OTHER" --clear-groups -- "$PROFCTL" --runtime-dir "$RUN" status 2>&1)
rv=$?
[ "$rv" = 1 ] && echo "$out" | grep -q "permission denied" ||
	fail "uid $OTHER outside group profd: exit $rv, $out"
pass "control socket: uid $OTHER outside group profd is refused"

if getent group profd >/dev/null; then
	out=$(as "$OTHER" "$OTHER" --groups profd -- "$PROFCTL" --runtime-dir "$RUN" status 2>&1) ||
		fail "a member of group profd was refused: $out"
	echo "$out" | grep -q '^calm  *running' || fail "status as a member: $out"
	pass "control socket: a member of group profd may use profctl"
	# The workers' user, also with group profd, is refused by profd.
	out=$(as "$WUID" "$WGID" --groups profd -- "$PROFCTL" --runtime-dir "$RUN" stop calm 2>&1)
	rv=$?
	[ "$rv" = 1 ] && echo "$out" | grep -q "refused: profd's workers run as this user" ||
		fail "the workers' uid: exit $rv, $out"
	grep -q "profctl request from uid $WUID refused" "$T/profd.err" ||
		fail "profd did not log the refusal"
	[ "$(field calm state)" = running ] || fail "the workers' uid stopped calm"
	pass "control socket: the workers' uid (in group profd) is refused"
else
	echo "note: no group profd here: only root may use profctl"
fi

# --- the worker sockets ----------------------------------------------------
CHUNKS="$RUN/upload/chunks.sock"
CHAN=$(ls "$RUN"/upload.*.ctl | tail -1)
[ -S "$CHUNKS" ] && [ -S "$CHAN" ] || fail "no $CHUNKS or upload channel"
PUID=$(ps -o uid= -p "$(field calm pid)" | tr -d ' ')
PGID=$(ps -o gid= -p "$(field calm pid)" | tr -d ' ')
echo "the calm profiler runs as uid $PUID, gid $PGID"
if getent group profd-chunks >/dev/null; then
	GROUPS_OK="--groups profd-chunks"
	[ "$(stat -c '%a %u %G' "$RUN/upload")" = "2710 $WUID profd-chunks" ] ||
		fail "$RUN/upload is $(stat -c '%a %u %G' "$RUN/upload")"
	[ "$(stat -c '%a %u %G' "$CHUNKS")" = "660 $WUID profd-chunks" ] ||
		fail "$CHUNKS is $(stat -c '%a %u %G' "$CHUNKS")"
else
	[ "$PUID" = "$WUID" ] || fail "no group profd-chunks, yet profd ran"
	GROUPS_OK="--clear-groups"
fi
[ "$(stat -c '%a %u' "$CHAN")" = "600 $WUID" ] ||
	fail "$CHAN is $(stat -c '%a %u' "$CHAN")"
# A window a little ahead, that both test chunks would go to.
wait_grep "$T/profd.err" "window [0-9]* written" 20 "no window was written"
n=$(grep -o "window [0-9]* written" "$T/profd.err" | tail -1 | awk '{ print $2 }')
win=$((n + 3))
OK_MARK="sec_ok_$$"
BAD_MARK="sec_intruder_$$"

out=$(as "$OTHER" "$OTHER" --clear-groups -- "$PY" "$CLIENT" "$CHUNKS" req chunk intruder "$win" "$BAD_MARK")
[ "$out" = denied ] || fail "chunks.sock, uid $OTHER: $out"
out=$(as "$OTHER" "$OTHER" --clear-groups -- "$PY" "$CLIENT" "$CHAN" pair hello)
[ "$out" = denied ] || fail "the upload channel, uid $OTHER: $out"
# shellcheck disable=SC2086
out=$(as "$PUID" "$PGID" $GROUPS_OK -- "$PY" "$CLIENT" "$CHAN" pair hello)
[ "$PUID" = "$WUID" ] || [ "$out" = denied ] ||
	fail "the upload channel, a profiler's uid $PUID: $out"
pass "worker sockets: uid $OTHER cannot even connect (file modes); nor a profiler to the uploader's channel"

# shellcheck disable=SC2086
out=$(as "$OTHER" "$OTHER" --clear-groups $DAC -- "$PY" "$CLIENT" "$CHUNKS" req chunk intruder "$win" "$BAD_MARK")
[ "$out" = closed ] || fail "chunks.sock, uid $OTHER with CAP_DAC_OVERRIDE: $out"
# The uploader's log line reaches profd.err through profd's log pipe,
# maybe after the client saw the connection close.
wait_grep "$T/profd.err" "profd-upload: warning: refused a connection from uid $OTHER" 10 \
	"profd-upload did not refuse uid $OTHER"
# shellcheck disable=SC2086
out=$(as "$OTHER" "$OTHER" --clear-groups $DAC -- "$PY" "$CLIENT" "$CHAN" pair hello)
[ "$out" = closed ] || fail "the upload channel, uid $OTHER with CAP_DAC_OVERRIDE: $out"
wait_grep "$T/profd.err" "^profd: warning: refused a connection from uid $OTHER" 10 \
	"profd did not refuse uid $OTHER on the upload channel"
pass "worker sockets: uid $OTHER past the file modes is refused by its uid"

# The uploader's own uid, but not its pid: refused by the pid check.
out=$(as "$WUID" "$WGID" --clear-groups -- "$PY" "$CLIENT" "$CHAN" pair hello)
[ "$out" = closed ] || fail "the upload channel, uid $WUID from another pid: $out"
wait_grep "$T/profd.err" "^profd: warning: refused a connection from uid $WUID pid " 10 \
	"profd did not refuse another process of uid $WUID"
pass "worker sockets: the worker's uid from another process is refused by its pid"

# The same chunk from a profiler's uid is stored and merged.
# shellcheck disable=SC2086
out=$(as "$PUID" "$PGID" $GROUPS_OK -- "$PY" "$CLIENT" "$CHUNKS" req chunk probe "$win" "$OK_MARK")
[ "$out" = "ack 1" ] || fail "chunks.sock, a profiler's uid: $out"
end=$(($(date +%s) + 30 * SLOW))
until grep -q "$OK_MARK 7$" "$T/out"/profile_*.col 2>/dev/null; do
	[ "$(date +%s)" -le "$end" ] || fail "the profiler's chunk never landed"
	sleep 0.2
done
if grep -l "$BAD_MARK" "$T/out"/*; then fail "the refused chunk landed"; fi
grep -q "profd-upload: warning: refused a connection from uid $PUID" "$T/profd.err" &&
	fail "a connection from a profiler's uid was refused"
[ "$(field upload restarts)" = 0 ] || fail "the uploader restarted"
pass "worker sockets: a profiler's uid is let in; the refused chunk is nowhere"

stop_profd 0
pass "clean stop"
