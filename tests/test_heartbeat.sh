# Heartbeat mode against the test backend: while idle only profd and
# profd-upload run; a remote start brings profd-perf up and its windows
# reach the server; a stop takes it down; every command's completion is
# reported; bad fields are refused; a repeated command id is acted on once.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf

start_server
start_busy 600
start_profd -u --server-host "$URL" --service-name hb-svc \
	--token-file "$T/token" --spool-dir "$T/spool" \
	--enable-heartbeat-server --heartbeat-interval 1 -v

# children: the programs profd runs now, sorted.
children() { ps -o comm= --ppid "$PROFD_PID" | sort | tr '\n' ' '; }

# tree_rss_kb: memory of profd and its children.
tree_rss_kb() {
	ps -o rss= -p "$PROFD_PID" --ppid "$PROFD_PID" |
		awk '{ s += $1 } END { print s }'
}

command() { "$PY" "$SRV_PY" command "$SRV" "$@" || fail "queue $*"; }

# Idle: heartbeats go out, and only the uploader runs beside profd.
srv_wait /api/metrics/heartbeat 3 20
[ "$(children)" = "profd-upload " ] || fail "idle children: $(children)"
[ "$(field perf state)" = idle ] || fail "perf is $(field perf state)"
idle_rss=$(tree_rss_kb)
"$PY" - "$REQS" "$TOKEN" "$(uname -n)" <<'PY' || fail "heartbeat request"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
hb = [r for r in reqs if r["path"] == "/api/metrics/heartbeat"]
r = hb[-1]
b = r["body"]
assert r["method"] == "POST", r["method"]
assert r["headers"].get("authorization") == "Bearer " + sys.argv[2], \
    "no bearer token"
assert r["query"] == {}, r["query"]  # gProfiler's heartbeat URL has none
assert b["hostname"] == sys.argv[3] and b["service_name"] == "hb-svc", b
assert b["status"] == "active" and b["last_command_id"] is None, b
assert b["received_command_ids"] == [] and \
    b["executed_command_ids"] == [], b
assert b["timestamp"].endswith("Z"), b
assert b["ip_address"] == "127.0.0.1", b  # learnt from the first answer
PY
pass "idle: only profd-upload runs ($idle_rss kB in all); heartbeats carry the fields"

# The uploader never maps libcurl or a TLS library: each request runs in
# a child of its own (forked by the request helper, the uploader's one
# child), which ends with the request.
UP=$(pgrep -P "$PROFD_PID" -x profd-upload) || fail "no profd-upload"
grep -E 'libcurl|libssl|libcrypto|libgnutls' "/proc/$UP/maps" &&
	fail "profd-upload maps libcurl or a TLS library"
HELPER=$(pgrep -P "$UP") || fail "no request helper"
[ "$(echo "$HELPER" | wc -l)" = 1 ] || fail "helpers: $HELPER"
busy=0
for _ in $(seq 40); do
	[ -n "$(pgrep -P "$HELPER")" ] && busy=$((busy + 1))
	sleep 0.1
done
[ "$busy" -lt 20 ] || fail "request children linger ($busy of 40 samples)"
pass "profd-upload maps no libcurl; request children seen in $busy of 40 samples"

# Start: perf only, 2-s windows.
command start-1 start '{"duration": 2, "frequency": 49, "continuous": true,
	"profiler_configs": {"perf": "enabled_restricted", "pyspy": "disabled",
	"pyperf": "disabled", "async_profiler": {"enabled": false}}}'
wait_completion "$REQS" start-1 completed 30
[ "$(field perf state)" = running ] || fail "perf is $(field perf state)"
[ "$(field python state)" = idle ] || fail "python is $(field python state)"
n0=$(grep -c '"/api/v2/profiles"' "$REQS")
srv_wait /api/v2/profiles $((n0 + 2)) 30
"$PY" - "$REQS" <<'PY' || fail "the profiles do not hold busy_c"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
p = [r for r in p if r["path"] == "/api/v2/profiles" and r["status"] == 200]
text = p[-1]["body"]["profile"]
assert "busy_c" in text, text[:2000]
assert '"sampling_frequency": 49' in text.splitlines()[0] or \
    "49" in text.splitlines()[0], text.splitlines()[0]
PY
run_rss=$(tree_rss_kb)
pass "start: profd-perf runs, completion reported, windows uploaded"

# Stop: profd-perf goes, the completion says so, no more windows.
command stop-1 stop
wait_completion "$REQS" stop-1 completed 30
[ "$(field perf pid)" = 0 ] || fail "perf still has pid $(field perf pid)"
[ "$(children)" = "profd-upload " ] || fail "children after stop: $(children)"
pgrep -f "profd-perf.*$RUN" >/dev/null && fail "profd-perf still runs"
sleep 1
n1=$(grep -c '"/api/v2/profiles"' "$REQS")
sleep 4
n2=$(grep -c '"/api/v2/profiles"' "$REQS")
[ "$n2" -le $((n1 + 1)) ] || fail "windows keep coming after stop: $n1 -> $n2"
stop_rss=$(tree_rss_kb)
echo "memory (profd + children): idle $idle_rss kB, profiling $run_rss kB, after stop $stop_rss kB"
[ "$stop_rss" -le $((idle_rss + 8192)) ] ||
	fail "after stop $stop_rss kB, idle was $idle_rss kB"
pass "stop: profd-perf gone, completion reported, memory back near idle"

# Bad fields: refused with a failed completion that says why, and nothing
# started (no worker was spawned while they were handled).
started() { grep -c "started profd-" "$T/profd.err"; }
s0=$(started)
pids1025=$("$PY" -c 'print(",".join(["1"] * 1025))')
long=$("$PY" -c 'print("x" * 4000)')
bad() { # ID REASON CONFIG [TYPE]
	command "$1" "${4:-start}" "$3"
	printf '%s\t%s\n' "$1" "$2" >>"$T/bad.list"
}
bad bad-freq "frequency" '{"duration": 2, "frequency": 0}'
bad bad-freq-hi "frequency must be 1 to 1000 Hz" '{"duration": 2, "frequency": 1001}'
bad bad-freq-u32 "bad frequency" '{"duration": 2, "frequency": 4294967297}'
bad bad-dur "duration must be 1 to 3600 seconds" '{"duration": 3601, "frequency": 11}'
bad bad-type "bad duration" '{"duration": "2; reboot", "frequency": 11}'
bad bad-mode "perf mode" '{"duration": 2, "frequency": 11,
	"profiler_configs": {"perf": "x; rm -rf /"}}'
bad bad-mode-path "perf mode must be fp, dwarf, smart or disabled" \
	'{"duration": 2, "frequency": 11, "profiler_configs": {"perf": "/bin/sh"}}'
bad bad-mode-long "bad perf_mode" \
	"{\"duration\": 2, \"frequency\": 11, \"perf_mode\": \"/usr/bin/$long\"}"
bad bad-pid "a PID is out of range" '{"duration": 2, "frequency": 11, "pids": [0]}'
bad bad-pid-max "a PID is out of range" '{"duration": 2, "frequency": 11, "pids": [4194305]}'
bad bad-pid-text "bad pids" '{"duration": 2, "frequency": 11, "pids": [1, "2; reboot"]}'
bad bad-pid-list "bad pids" '{"duration": 2, "frequency": 11, "pids": "1,2,/bin/sh"}'
bad bad-pid-many "bad pids" "{\"duration\": 2, \"frequency\": 11, \"pids\": [$pids1025]}"
bad bad-cfg "combined_config is not an object" '"/bin/sh -c reboot"'
bad bad-java "bad profiler_configs" '{"duration": 2, "frequency": 11,
	"profiler_configs": {"async_profiler": {"enabled": "/usr/bin/java"}}}'
bad bad-kind "unknown command_type" '{"duration": 2, "frequency": 11}' exec
# An unknown profiler is no profiler: nothing to run.
bad bad-prof "no profiler enabled" '{"duration": 2, "frequency": 11,
	"profiler_configs": {"perf": "disabled", "pyspy": "disabled", "pyperf": "disabled",
	"async_profiler": {"enabled": false}, "rbspy": "enabled"}}'
# An id over 64 characters cannot even be answered: ignored.
command "id-$long" start '{"duration": 2, "frequency": 11}'
while IFS="$(printf '\t')" read -r id why; do
	wait_completion "$REQS" "$id" failed 30
	completions "$REQS" "$id" | grep -qF "$why" ||
		fail "$id: no reason '$why': $(completions "$REQS" "$id")"
done <"$T/bad.list"
wait_for 20 grep -q "heartbeat: a command was ignored: bad command_id" "$T/profd.err" ||
	fail "the over-long command id was not refused"
[ -z "$(completions "$REQS" "id-$long")" ] || fail "the over-long id was answered"
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
[ "$(started)" = "$s0" ] || fail "a worker was started by a bad command"
[ "$(field perf restarts)" = 0 ] || fail "perf was started again"
pass "bad fields ($(wc -l <"$T/bad.list") kinds): failed completions with reasons, no worker started"

# Keys that gProfiler's backend may send and profd does not know are
# ignored (so that real backends work); none of them runs anything.
printf '#!/bin/sh\ntouch "%s"\n' "$T/pwned" >"$T/evil.sh"
chmod 0755 "$T/evil.sh"
command unknown-1 start "{\"duration\": 2, \"frequency\": 11, \"pids\": [$BUSY_PID], \"continuous\": true,
	\"exec\": \"$T/evil.sh\", \"perf_binary\": \"$T/evil.sh\",
	\"profiling_mode\": \"cpu\", \"target_hostnames\": [\"$(uname -n)\"],
	\"profiler_configs\": {\"perf\": \"fp\", \"pyspy\": \"disabled\", \"pyperf\": \"disabled\",
	\"async_profiler\": {\"enabled\": false}, \"rbspy\": \"$T/evil.sh\"}}"
wait_completion "$REQS" unknown-1 completed 30
[ "$(children)" = "profd-perf profd-upload " ] || fail "children: $(children)"
pgrep -af "profd-perf --supervised $RUN" | grep -q evil && fail "evil.sh reached profd-perf"
command stop-u stop
wait_completion "$REQS" stop-u completed 30
[ -e "$T/pwned" ] && fail "a program named in a command ran"
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
pass "unknown keys naming a program are ignored and run nothing"

# The same id twice: acted on once.
command dup-1 start '{"duration": 2, "frequency": 11, "continuous": true, "profiler_configs":
	{"perf": "fp", "pyspy": "disabled", "pyperf": "disabled", "async_profiler": {"enabled": false}}}'
command dup-1 start '{"duration": 2, "frequency": 11, "continuous": true, "profiler_configs":
	{"perf": "fp", "pyspy": "disabled", "pyperf": "disabled", "async_profiler": {"enabled": false}}}'
wait_completion "$REQS" dup-1 completed 30
sleep 3
[ "$(completions "$REQS" dup-1 | wc -l)" = 1 ] || fail "dup-1: $(completions "$REQS" dup-1)"
[ "$(grep -c "remote start dup-1" "$T/profd.err")" = 1 ] ||
	fail "dup-1 was acted on more than once"
"$PY" - "$REQS" <<'PY' || fail "dup-1 was not answered twice"
import json, sys
n = sum(1 for l in open(sys.argv[1])
        if json.loads(l).get("answer", {}).get("command_id") == "dup-1")
assert n == 2, n
PY
command stop-2 stop
wait_completion "$REQS" stop-2 completed 30
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
pass "a repeated command id is acted on once"

# continuous false: one window, then the profilers stop by themselves.
n0=$(grep -c '"/api/v2/profiles"' "$REQS")
command once-1 start '{"duration": 2, "frequency": 11, "continuous": false,
	"profiler_configs": {"perf": "enabled_aggressive", "pyspy": "disabled", "pyperf": "disabled", "async_profiler": {"enabled": false}}}'
wait_completion "$REQS" once-1 completed 30
wait_field perf state idle 20
sent_more() { [ "$(grep -c '"/api/v2/profiles"' "$REQS")" -gt "$n0" ]; }
wait_for 20 sent_more || fail "one-window start sent no window"
sleep 3 # and no second one
n1=$(grep -c '"/api/v2/profiles"' "$REQS")
[ "$n1" = $((n0 + 1)) ] || fail "one-window start sent $((n1 - n0)) windows"
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
pass "a start with continuous false profiles one window and stops"

# Every start configured the running uploader again; it stayed up.
[ "$(field upload restarts)" = 0 ] || fail "the uploader restarted $(field upload restarts) times"
! grep "broke the protocol" "$T/profd.err" || fail "a worker broke the protocol"
pass "the uploader, configured again by each start, never restarted"

stop_profd
grep -qF "$TOKEN" "$T/profd.err" && fail "the token was logged"
pass "clean stop"

# A stop while a start waits for its profilers wins: a perf worker that
# takes 6 s to start (a test fault worker) is stopped before it runs.
printf '[worker perf]\nexecutable = %s\narguments = --fault slow-start\n' \
	"$FAULT" >"$T/slow.conf"
start_profd -u --server-host "$URL" --service-name hb-svc \
	--token-file "$T/token" --spool-dir "$T/spool" --config "$T/slow.conf" \
	--enable-heartbeat-server --heartbeat-interval 1 -v --no-python
# Python is disabled here: a command cannot start it.
command py-only start '{"duration": 2, "frequency": 11, "profiler_configs":
	{"perf": "disabled", "pyspy": "enabled", "async_profiler": {"enabled": false}}}'
wait_completion "$REQS" py-only failed 20
completions "$REQS" py-only | grep -q "no profiler enabled" ||
	fail "py-only: $(completions "$REQS" py-only)"
command slow-1 start '{"duration": 2, "frequency": 11, "continuous": true, "profiler_configs":
	{"perf": "fp", "pyspy": "disabled", "async_profiler": {"enabled": false}}}'
wait_field perf state starting 20
command stop-slow stop
wait_completion "$REQS" slow-1 failed 20
wait_completion "$REQS" stop-slow completed 30
completions "$REQS" slow-1 | grep -q "superseded by stop stop-slow" ||
	fail "slow-1: $(completions "$REQS" slow-1)"
[ "$(children)" = "profd-upload " ] || fail "children: $(children)"
stop_profd
pass "a stop while a start is pending wins; a disabled worker is not started"
