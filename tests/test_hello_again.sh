# A worker whose hello gets no answer says it again each second until
# profd answers: nng's pair socket on profd's side refuses a connection
# while the last incarnation's is still attached, and the hello sent on
# it is lost (a CI run saw profd-perf killed for a hello that never came).
# Here a stand-in for profd on the worker's channel never answers; it
# counts the hellos in SECS seconds from the first. The same for a
# profiler (the test worker calm) and for profd-upload, whose loop is its
# own.
. "$top_srcdir/tests/lib.sh"
require_root
FAULT="$top_builddir/tests/fault_worker"
UPLOAD="$top_builddir/workers/upload/profd-upload"
id profd-perf >/dev/null 2>&1 || skip "no profd-perf user"
RUN="$T/run"
mkdir -p "$RUN"
chmod 0711 "$RUN"
SECS=$((4 * SLOW))

# hello_unanswered NAME USER COMMAND...: runs the worker COMMAND (which
# must say hello as NAME on channel NAME.test.ctl) against the stand-in
# and checks what it said.
hello_unanswered() {
	name=$1 user=$2
	shift 2
	python3 "$top_srcdir/tests/hello_peer.py" "$RUN/$name.test.ctl" "$SECS" >"$T/$name.peer" 2>&1 &
	peer=$!
	track "$peer"
	wait_grep "$T/$name.peer" listening 10 "the stand-in did not listen"
	PROFD_CHANNEL=$name.test.ctl "$@" --supervised "$RUN" --user "$user" -v 2>"$T/$name.err" &
	w=$!
	track "$w"
	wait "$peer" || { cat "$T/$name.peer" "$T/$name.err"; fail "$name: the stand-in failed"; }
	cat "$T/$name.peer"
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	hellos=$(sed -n 's/^hellos //p' "$T/$name.peer")
	other=$(sed -n 's/^other //p' "$T/$name.peer")
	# One at once, then one a second (the stand-in listens SECS seconds).
	[ "${hellos:-0}" -ge 3 ] || { cat "$T/$name.err"; fail "$name: $hellos hellos in $SECS s without an answer"; }
	[ "${other:-1}" = 0 ] || fail "$name sent $other messages other than hello before it was configured"
	grep -q "no answer from profd: hello again" "$T/$name.err" ||
		fail "$name did not say why it said hello again"
	pass "$name, no answer: hello said again ($hellos in $SECS s)"
}

hello_unanswered calm profd-perf "$FAULT" --name calm --fault none
id profd-upload >/dev/null 2>&1 || skip "no profd-upload user"
# The uploader listens for chunks in RUN/upload and writes into OUT.
mkdir -p "$RUN/upload" "$T/out"
chown profd-upload "$RUN/upload" "$T/out"
hello_unanswered upload profd-upload "$UPLOAD" -o "$T/out"
