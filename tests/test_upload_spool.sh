# profd with uploads against the test backend: every window arrives once
# and in order; an outage of 3 windows (refused connections), a failing
# server and a hanging one lose nothing; windows left at a stop are sent
# by the next run, first; profd-upload stays small.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
require_root

# spool_ge QUEUE N, spool_eq QUEUE N: windows in a queue of $T/spool.
spool_ge() { [ "$(spooled "$T/spool" "$1")" -ge "$2" ]; }
spool_eq() { [ "$(spooled "$T/spool" "$1")" -eq "$2" ]; }

start_server
RUN="$T/run"
mkdir -p "$RUN"
chmod 0711 "$RUN"
# One-second windows without profilers: the windows themselves are what
# travels, numbered in their headers.
common="-d 1 --perf-mode disabled --runtime-dir $RUN --worker-dir $top_builddir
	-u --server-host $URL --service-name spool-svc --pyroscope-url $URL
	--spool-dir $T/spool --upload-retry-max 2 --server-upload-timeout 2"
# shellcheck disable=SC2086
"$PROFD" -c $common -o "$T/out1" --token "$TOKEN" -v 2>"$T/p1.err" &
PROFD_PID=$!
track "$PROFD_PID"
srv_wait /api/v2/profiles 2 20
grep -qF "$TOKEN" "/proc/$PROFD_PID/cmdline" && fail "token in profd's title"
up=$(pgrep -f "profd-upload --supervised $RUN" | head -1)
[ -n "$up" ] || fail "no profd-upload"
grep -qF "$TOKEN" "/proc/$up/cmdline" && fail "token in the uploader's title"
tr '\0' '\n' <"/proc/$up/environ" | grep -qF "$TOKEN" &&
	fail "token left in the uploader's environment"
pass "windows arrive; the token is in no process title or environment"

# Outage: the backend refuses connections for 3 windows and more.
srv refuse
wait_for 20 spool_ge studio 3 ||
	fail "3 windows were not spooled during the outage"
wait_for 20 spool_ge pyroscope 3 ||
	fail "3 windows were not spooled for pyroscope"
srv ok
wait_for 20 spool_eq studio 0 ||
	fail "the spool was not delivered after the outage"
pass "a 3-window outage: spooled, then delivered"

# A failing (503) then hanging backend.
srv fail 3
sleep 3.5
srv hang 3
sleep 3.5
wait_for 20 spool_eq studio 0 ||
	fail "the spool was not delivered after 503s and a hang"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$up/status")
echo "profd-upload RSS: $rss kB"
# Sanitizer builds (SLOW > 1) carry their runtimes' shadow memory.
[ "$SLOW" != 1 ] || [ "$rss" -lt 16384 ] ||
	fail "profd-upload uses $rss kB (limit 16 MB)"
pass "failing and hanging backends lose nothing; RSS $rss kB"

# Stopped during an outage: the windows stay in the spool ...
srv fail
wait_for 20 spool_ge studio 2 ||
	fail "no windows spooled before the stop"
kill -TERM "$PROFD_PID"
wait_for 30 sh -c "! kill -0 $PROFD_PID 2>/dev/null" || fail "profd hangs"
wait "$PROFD_PID"
rv=$?
[ "$rv" = 0 ] || { cat "$T/p1.err"; fail "profd exited with $rv"; }
left=$(spooled "$T/spool" studio)
[ "$left" -ge 2 ] || fail "only $left windows left in the spool"
grep -q "windows left in the spool" "$T/p1.err" || fail "no message"
written=$(find "$T/out1" -name 'profile_*.col' | wc -l)
# ... and the next run sends them first, then its own window.
srv ok
# shellcheck disable=SC2086
timeout -k 5 60 "$PROFD" $common --token-file "$T/token" -o "$T/out2" \
	2>"$T/p2.err" || { cat "$T/p2.err"; fail "second run failed"; }
[ "$(spooled "$T/spool" studio)" = 0 ] || fail "studio spool not empty"
[ "$(spooled "$T/spool" pyroscope)" = 0 ] || fail "pyroscope spool not empty"
grep -qF "$TOKEN" "$T/p1.err" "$T/p2.err" && fail "the token was logged"

"$PY" - "$REQS" "$written" <<'PY' || fail "windows lost, repeated or out of order"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
written = int(sys.argv[2])
studio, gpids, pyro, fresh = [], [], [], False
for r in reqs:
    if r["path"] == "/api/v1/health_check":
        fresh = True  # a new process: its first upload has no gpid yet
        continue
    if r.get("status") != 200:
        continue
    if r["path"] == "/api/v2/profiles":
        head = json.loads(r["body"]["profile"].splitlines()[0][2:])
        studio.append(head["metadata"]["window"])
        gpids.append((fresh, r["body"]["gpid"]))
        fresh = False
    elif r["path"] == "/ingest":
        pyro.append(int(r["query"]["from"]))
print("run 1 wrote %d windows; studio got %s" % (written, studio))
# Every window of run 1, once, in order; then run 2's own window.
assert studio == list(range(1, written + 1)) + [1], studio
# gpid: "" on a process's first upload, then the server's, echoed.
assert all(g == ("" if f else 4242) for f, g in gpids), gpids
assert len(pyro) == written + 1 and pyro == sorted(pyro), pyro
PY
pass "every window once, in order, across outages and a restart"
