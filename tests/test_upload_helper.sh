# The request helper: every HTTP request of profd-upload is made by a
# child of the helper (profd-upload -> helper -> request child), never by
# profd-upload itself or a child forked from its threads; the helper's
# death is noticed and logged, and leaves no request process behind; under
# profd, the uploader whose helper died stops and profd starts a new one,
# so that later windows still arrive.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"

start_server
PORT=$(cat "$SRV/port")
cat >"$T/in.col" <<'COL'
# {"metadata": {"start_time": "2026-01-02T03:04:05Z", "end_time": "2026-01-02T03:05:05Z"}}
0;;app;main;foo 5
COL

# conn_pid: the pid of the process connected to the test server, if any.
conn_pid() {
	ss -tnpH "( dport = :$PORT )" |
		sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1
}
has_conn() { [ -n "$(conn_pid)" ]; }
ppid_of() { awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null; }

# upload_bg N: profd-upload in the background against the server; its
# pid in UPID, stderr in $T/N.err.
upload_bg() {
	"$UPLOAD_WORKER" -v -u --server-host "$URL" --service-name helper-svc \
		--token-file "$T/token" --spool-dir "$T/spool$1" \
		--server-upload-timeout 30 "$T/in.col" >/dev/null 2>"$T/$1.err" &
	UPID=$!
	track "$UPID"
}

# helper_pid N: the helper's pid as logged by run N.
helper_pid() {
	wait_for 10 grep -q 'request helper pid' "$T/$1.err" ||
		{ cat "$T/$1.err"; fail "no 'request helper pid' logged"; }
	sed -n 's/.*request helper pid \([0-9]*\).*/\1/p' "$T/$1.err" | head -1
}

# 1. The server holds the request: who made it?
srv hang 60
upload_bg 1
H=$(helper_pid 1)
wait_for 20 has_conn || { cat "$T/1.err"; fail "no connection"; }
C=$(conn_pid)
[ "$C" != "$UPID" ] || fail "profd-upload ($UPID) made the request itself"
[ "$C" != "$H" ] || fail "the helper ($H) made the request itself"
[ "$(ppid_of "$C")" = "$H" ] ||
	fail "the request's process $C has parent $(ppid_of "$C"), not the helper $H"
[ "$(ppid_of "$H")" = "$UPID" ] ||
	fail "the helper $H has parent $(ppid_of "$H"), not profd-upload $UPID"
[ "$(pgrep -P "$UPID" | tr '\n' ' ')" = "$H " ] ||
	fail "profd-upload's children: $(pgrep -P "$UPID" | tr '\n' ' ')"
pass "request from $C, child of the request helper $H, child of profd-upload $UPID"

# The request goes through once the server answers; all end and are reaped.
srv ok
wait "$UPID"
rv=$?
[ "$rv" = 0 ] || { cat "$T/1.err"; fail "profd-upload exited with $rv"; }
grep -q '"/api/v2/profiles"' "$REQS" || fail "no profile reached the server"
for p in "$H" "$C"; do
	[ -e "/proc/$p" ] && fail "process $p outlived profd-upload"
done
pass "the upload completed; helper and request child are gone"

# 2. The helper killed in the middle of a request: the request fails,
# profd-upload says why, and no request process is left.
srv hang 60
upload_bg 2
H=$(helper_pid 2)
wait_for 20 has_conn || { cat "$T/2.err"; fail "no connection"; }
C=$(conn_pid)
kill -9 "$H"
wait_for 10 test ! -e "/proc/$C" || fail "request child $C outlived its helper"
wait_for $((20 * SLOW)) grep -q "request helper (pid $H) was killed by signal 9" \
	"$T/2.err" || { cat "$T/2.err"; fail "the helper's death was not logged"; }
srv ok
wait "$UPID"
rv=$?
[ "$rv" != 0 ] || fail "profd-upload reported success without its helper"
grep -E "request helper is gone|ended without an answer" "$T/2.err" >/dev/null ||
	{ cat "$T/2.err"; fail "no clear error for the failed request"; }
pass "the helper's death is logged; requests fail with a clear error (exit $rv)"

# 3. Under profd: after its helper is killed, profd-upload stops cleanly
# (a helper cannot be forked once threads run), profd starts a new one
# with a new helper, and windows keep arriving.
srv ok
start_profd --no-java -d 1 -u --server-host "$URL" --service-name helper-svc \
	--token-file "$T/token" --spool-dir "$T/spool3" -v
wait_field upload state running 30
srv_wait /api/v2/profiles 2 60
U1=$(field upload pid)
H1=$(pgrep -P "$U1" | head -1)
[ -n "$H1" ] || fail "profd-upload $U1 has no helper"
kill -9 "$H1"
new_uploader() { u=$(field upload pid); [ -n "$u" ] && [ "$u" != 0 ] && [ "$u" != "$U1" ]; }
wait_for $((30 * SLOW)) new_uploader || { cat "$T/profd.err"; fail "no new uploader after its helper died"; }
grep -q "profd-upload stops, to start again with a new request helper" "$T/profd.err" ||
	fail "the uploader did not say why it stopped"
[ "$(field upload last_exit)" = 0 ] || fail "the uploader ended with $(field upload last_exit)"
U2=$(field upload pid)
wait_for 10 pgrep -P "$U2" >/dev/null || fail "the new uploader $U2 has no helper"
n=$("$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if (e := json.loads(l))["path"] ==
          "/api/v2/profiles" and e.get("status") == 200))' "$REQS")
srv_wait /api/v2/profiles $((n + 2)) 60
pass "under profd: helper $H1 killed, uploader $U1 stopped cleanly, $U2 took over, windows still arrive"
