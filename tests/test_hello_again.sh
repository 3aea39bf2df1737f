# A worker whose hello gets no answer says it again each second until
# profd answers: nng's pair socket on profd's side refuses a connection
# while the last incarnation's is still attached, and the hello sent on
# it is lost (a CI run saw profd-perf killed for a hello that never came).
# Here a stand-in for profd on the worker's channel never answers; it
# counts the hellos in SECS seconds from the first.
. "$top_srcdir/tests/lib.sh"
require_root
FAULT="$top_builddir/tests/fault_worker"
id profd-perf >/dev/null 2>&1 || skip "no profd-perf user"
RUN="$T/run"
mkdir -p "$RUN"
chmod 0711 "$RUN"
SECS=$((4 * SLOW))
python3 "$top_srcdir/tests/hello_peer.py" "$RUN/calm.test.ctl" "$SECS" >"$T/peer.out" 2>&1 &
PEER=$!
track "$PEER"
wait_grep "$T/peer.out" listening 10 "the stand-in did not listen"
PROFD_CHANNEL=calm.test.ctl "$FAULT" --supervised "$RUN" --user profd-perf \
	--name calm -v --fault none 2>"$T/worker.err" &
W=$!
track "$W"
wait "$PEER" || { cat "$T/peer.out"; fail "the stand-in failed"; }
cat "$T/peer.out"
kill "$W" 2>/dev/null
wait "$W" 2>/dev/null
hellos=$(sed -n 's/^hellos //p' "$T/peer.out")
other=$(sed -n 's/^other //p' "$T/peer.out")
# One at once, then one a second (the stand-in listens SECS seconds).
[ "${hellos:-0}" -ge 3 ] || { cat "$T/worker.err"; fail "$hellos hellos in $SECS s without an answer"; }
[ "${other:-1}" = 0 ] || fail "the worker sent $other messages other than hello before it was configured"
grep -q "no answer from profd: hello again" "$T/worker.err" ||
	fail "the worker did not say why it said hello again"
pass "no answer: hello said again ($hellos in $SECS s)"
