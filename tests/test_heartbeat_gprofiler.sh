# Heartbeat as gProfiler does it, against two strict test servers:
# heartbeats and completions go to --api-server, profiles to
# --server-host, and no request URL carries the token. Profiler settings
# as objects ({"mode": ...}, {"enabled": ...}); a start for other hosts
# (target_hostnames) runs nothing; a command without command_type is a
# start and one without continuous profiles one window; an ad-hoc start
# pauses a continuous one, which resumes after its window; perf's
# enabled_restricted and enabled_aggressive carry gProfiler's process
# limits (600 and 1500).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf

# Two servers: profiles (SRV, as upload_lib sets it) and the API.
start_server
PROF_URL=$URL PROF_SRV=$SRV PROF_REQS=$REQS
SRV="$T/api" REQS="$T/api/requests.jsonl"
start_server
API_URL=$URL API_SRV=$SRV API_REQS=$REQS
[ "$API_URL" != "$PROF_URL" ] || fail "one server for both"

start_busy 600
start_profd -u --server-host "$PROF_URL" --api-server "$API_URL" \
	--service-name hb-svc --token-file "$T/token" --spool-dir "$T/spool" \
	--enable-heartbeat-server --heartbeat-interval 1 -v

children() { ps -o comm= --ppid "$PROFD_PID" | sort | tr '\n' ' '; }

command() { "$PY" "$SRV_PY" command "$API_SRV" "$@" || fail "queue $*"; }

# windows: "frequency" of each window the profiles server took, in order.
windows() {
	"$PY" - "$PROF_REQS" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"] == "/api/v2/profiles" and r["status"] == 200:
        head = json.loads(r["body"]["profile"].split("\n", 1)[0][1:])
        print(head["metadata"]["sampling_frequency"])
PY
}
nwindows() { windows | wc -l; }

PERF_ONLY='"profiler_configs": {"perf": {"mode": "fp"},
	"pyperf": {"mode": "disabled"}, "pyspy": {"enabled": false},
	"async_profiler": {"enabled": false}, "python": {"mode": "auto"}}'

# 1. Two servers; settings as objects.
SRV=$API_SRV srv_wait /api/metrics/heartbeat 2 20
command cont-1 start "{\"duration\": 2, \"frequency\": 49,
	\"continuous\": true, $PERF_ONLY}"
wait_completion "$API_REQS" cont-1 completed 30
[ "$(children)" = "profd-perf profd-upload " ] || fail "children: $(children)"
SRV=$PROF_SRV srv_wait /api/v2/profiles 2 30
"$PY" - "$API_REQS" "$PROF_REQS" "$TOKEN" <<'PY' || fail "requests"
import json, sys, urllib.parse
api = [json.loads(l) for l in open(sys.argv[1])]
prof = [json.loads(l) for l in open(sys.argv[2])]
tok = sys.argv[3]
paths = lambda rs: {r["path"] for r in rs}
assert paths(api) == {"/api/metrics/heartbeat",
                      "/api/metrics/command_completion"}, paths(api)
assert "/api/v2/profiles" in paths(prof), paths(prof)
assert not any(p.startswith("/api/metrics") for p in paths(prof)), \
    paths(prof)
for r in api + prof:
    assert tok not in r["url"] and \
        urllib.parse.quote(tok, safe="") not in r["url"], r["url"]
    assert r["status"] == 200, (r["path"], r["status"], r.get("answer"))
hb = [r for r in api if r["path"] == "/api/metrics/heartbeat"]
assert all(r["url"] == "/api/metrics/heartbeat" for r in hb), hb[0]["url"]
print("api requests", len(api), "profile requests", len(prof))
PY
for f in "$API_REQS" "$PROF_REQS"; do
	grep -o '"url": "[^"]*"' "$f" | grep -qF "$TOKEN" && fail "token in a URL"
done
[ "$(windows | sort -u)" = 49 ] || fail "window frequencies: $(windows)"
pass "heartbeats at --api-server, profiles at --server-host, no token in any URL; object settings"

# 2. An ad-hoc start (no command_type, no continuous) while cont-1 runs:
# the continuous profiling pauses, the ad-hoc window (11 Hz) is taken,
# then the 49-Hz windows come again, without a new command.
n0=$(nwindows)
command adhoc-1 - '{"duration": 3, "frequency": 11, "profiler_configs":
	{"perf": "fp", "pyperf": "disabled", "pyspy": "disabled",
	"async_profiler": "disabled"}}'
wait_completion "$API_REQS" adhoc-1 completed 30
wait_for 30 grep -q "continuous profiling resumes" "$T/profd.err" ||
	fail "the continuous profiling did not resume"
# after: the frequencies of the windows since n0, on one line.
after() { windows | tail -n +"$((n0 + 1))" | tr '\n' ' '; }
resumed() { case "$(after)" in *11\ 49\ 49\ *) return 0 ;; esac; return 1; }
wait_for 40 resumed || fail "windows after the ad-hoc start: $(after)"
wait_field perf state running 20 || fail "perf is $(field perf state)"
after=$(after)
[ "$(windows | tail -n +"$((n0 + 1))" | grep -c '^11$')" = 1 ] ||
	fail "not one ad-hoc window: $after"
grep -q "remote start adhoc-1: 3 s windows at 11 Hz (one window)" \
	"$T/profd.err" || fail "adhoc-1 was not a one-window start"
pass "ad-hoc beside continuous: paused, one 11-Hz window, then 49 Hz again ($after)"

# 3. A start for other hosts: nothing is started or stopped; completed
# with the reason.
pid=$(field perf pid)
r0=$(grep -c "remote start" "$T/profd.err")
command elsewhere-1 start "{\"continuous\": true, \"duration\": 5,
	\"target_hostnames\": [\"not-$(uname -n)\", \"other\"], $PERF_ONLY}"
wait_completion "$API_REQS" elsewhere-1 completed 30
completions "$API_REQS" elsewhere-1 | grep -q "this host is not in target_hostnames" ||
	fail "elsewhere-1: $(completions "$API_REQS" elsewhere-1)"
grep -q "heartbeat: command elsewhere-1 ignored" "$T/profd.err" ||
	fail "no log line for elsewhere-1"
sleep 2
[ "$(grep -c "remote start" "$T/profd.err")" = "$r0" ] ||
	fail "profd acted on elsewhere-1"
[ "$(field perf pid)" = "$pid" ] || fail "perf was restarted"
pass "a start for other hosts is ignored (log line, completion says why)"

# 4. Stop; then a start without continuous alone: one window, then idle.
command stop-1 stop
wait_completion "$API_REQS" stop-1 completed 30
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
n0=$(nwindows)
command once-1 - '{"duration": 2, "frequency": 11, "profiler_configs":
	{"perf": "fp", "pyperf": "disabled", "pyspy": "disabled",
	"async_profiler": "disabled"}}'
wait_completion "$API_REQS" once-1 completed 30
wait_field perf state idle 20
sent_more() { [ "$(nwindows)" -gt "$n0" ]; }
wait_for 20 sent_more || fail "once-1 sent no window"
sleep 3 # and no second one
[ "$(nwindows)" = $((n0 + 1)) ] || fail "once-1 sent $(($(nwindows) - n0)) windows"
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
[ "$(grep -c "continuous profiling resumes" "$T/profd.err")" = 1 ] ||
	fail "something resumed after a stop"
pass "no command_type and no continuous: a start of one window"

# 5. perf's levels: with more than 600 processes on the host,
# enabled_restricted does not start perf and enabled_aggressive does.
ln -s /bin/sleep "$T/hold" # (command is the queue function here)
n=$(find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l)
want=$((700 - n))
[ "$want" -gt 0 ] || want=0
for _ in $(seq "$want"); do
	"$T/hold" 600 &
	track $!
done
n=$(find /proc -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l)
[ "$n" -gt 600 ] && [ "$n" -lt 1500 ] || fail "$n processes"
LEVEL='"pyperf": "disabled", "pyspy": "disabled", "async_profiler": "disabled"'
command lvl-r start "{\"continuous\": true, \"duration\": 2,
	\"profiler_configs\": {\"perf\": \"enabled_restricted\", $LEVEL}}"
wait_completion "$API_REQS" lvl-r completed 30
wait_for 20 grep -q "over --skip-system-profilers-above 600: perf is not started" \
	"$T/profd.err" || fail "restricted: perf was not skipped at $n processes"
n0=$(nwindows)
command lvl-a start "{\"continuous\": true, \"duration\": 2, \"frequency\": 49,
	\"profiler_configs\": {\"perf\": {\"mode\": \"enabled_aggressive\"}, $LEVEL}}"
wait_completion "$API_REQS" lvl-a completed 30
grep -q "remote start lvl-a: perf only below 1500 host processes, at most 50 containers" \
	"$T/profd.err" || fail "aggressive: no limits logged"
SRV=$PROF_SRV srv_wait /api/v2/profiles $((n0 + 2)) 40
grep -q "over --skip-system-profilers-above 1500" "$T/profd.err" &&
	fail "aggressive: perf was skipped"
"$PY" - "$PROF_REQS" <<'PY' || fail "aggressive: no busy_c in the last window"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
p = [r for r in p if r["path"] == "/api/v2/profiles" and r["status"] == 200]
assert "busy_c" in p[-1]["body"]["profile"]
PY
command stop-2 stop
wait_completion "$API_REQS" stop-2 completed 30
pass "perf levels at $n processes: restricted (600) skips perf, aggressive (1500) runs it"

stop_profd
grep -qF "$TOKEN" "$T/profd.err" && fail "the token was logged"
pass "clean stop"
