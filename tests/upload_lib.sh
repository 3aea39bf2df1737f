# shellcheck shell=bash
# Helpers for the upload tests: the test backend (tests/http_server.py) on
# 127.0.0.1, its request log, and the spool. Sourced after lib.sh.

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is needed"
SRV_PY="$top_srcdir/tests/http_server.py"
SRV="$T/srv"
REQS="$SRV/requests.jsonl"
TOKEN="tok-$$-$RANDOM-secret"

# start_server: the backend with token $TOKEN; sets URL.
start_server() {
	mkdir -p "$SRV"
	"$PY" "$SRV_PY" serve "$SRV" --token "$TOKEN" >"$T/srv.log" 2>&1 &
	track $!
	for _ in $(seq 100); do
		[ -s "$SRV/port" ] && [ -s "$SRV/control_port" ] && break
		sleep 0.1
	done
	[ -s "$SRV/control_port" ] || { cat "$T/srv.log"; fail "no server"; }
	URL="http://127.0.0.1:$(cat "$SRV/port")"
	printf '%s\n' "$TOKEN" >"$T/token"
	chmod 0600 "$T/token"
}

# srv MODE [SECONDS]: ok, fail, hang or refuse.
srv() { "$PY" "$SRV_PY" control "$SRV" "$@" || fail "server control $*"; }

# srv_wait PATH COUNT SECONDS: until COUNT requests to PATH got a 200.
srv_wait() {
	"$PY" "$SRV_PY" wait "$SRV" "$1" "$2" $(($3 * SLOW)) ||
		fail "fewer than $2 answered requests to $1 in $3 s"
}

# completions LOG ID: "status error" of each command completion reported
# for ID in the server's request log LOG.
completions() {
	"$PY" - "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    b = r.get("body")
    if r["path"] == "/api/metrics/command_completion" and \
            isinstance(b, dict) and b.get("command_id") == sys.argv[2]:
        print(b.get("status"), b.get("error_message"))
PY
}

# wait_completion LOG ID STATUS SECONDS: until LOG holds a completion for
# ID, which must have STATUS.
wait_completion() {
	end=$(($(date +%s) + $4 * SLOW))
	while [ "$(date +%s)" -le "$end" ]; do
		[ -n "$(completions "$1" "$2")" ] && break
		sleep 0.2
	done
	got=$(completions "$1" "$2")
	case "$got" in
	"$3 "*) ;;
	*)
		tail -n 40 "$T/profd.err"
		fail "completion of $2: '$got', not $3"
		;;
	esac
}

# spooled DIR QUEUE: windows waiting in a spool queue.
spooled() { find "$1/$2" -name '*.win' 2>/dev/null | wc -l; }

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	end=$(($(date +%s) + $1 * SLOW))
	shift
	while [ "$(date +%s)" -le "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
