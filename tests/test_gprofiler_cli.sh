# profd run with gProfiler's own command line, environment and config
# file: a service command line as gProfiler's users write it (short flags
# combined, --token=..., its logging, PID and heartbeat files, and flags
# profd answers with a warning) profiles and uploads every window to the
# strict test backend; GPROFILER_* variables and /etc/gprofiler-style
# files are read as gProfiler reads them; what profd cannot do is refused
# by name; every flag of gProfiler's parser is known (none exits 2 as
# unknown), checked against the list read from gProfiler's main.py and
# profilers/*.py.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
require_root

start_server
RUN="$T/run"
mkdir -p "$RUN"
chmod 0711 "$RUN"

# 1. A real service command line.
mkdir -p "$T/log"
cat >"$T/ext.json" <<'EOF'
{"static": {"team": "profiling", "replicas": 3, "canary": false},
 "application": {"1": {"role": "init"}}}
EOF
"$PROFD" -cu --token="$TOKEN" --service-name=gp-svc --server-host "$URL" \
	-d 2 -f 49 --runtime-dir "$RUN" --worker-dir "$top_builddir" \
	--spool-dir "$T/spool" -o "$T/out" \
	--log-file "$T/log/gprofiler.log" --log-rotate-max-size 150 \
	--log-rotate-backup-count 2 --pid-file "$T/gprofiler.pid" \
	--heartbeat-file "$T/hb" --dont-send-logs --java-no-version-check \
	--java-safemode= --python-skip-pyperf-profiler-above 100 \
	--no-python-versions --nodejs-mode perf --min-duration 0 \
	--java-line-numbers none --perf-dwarf-stack-size 8192 \
	--perf-mode fp --no-java --disable-container-names \
	--disable-metrics-collection --disable-metadata-collection \
	--disable-application-metadata --external-metadata "$T/ext.json" \
	--app-id-args-filter '.*' --profile-spawned-processes \
	--java-collect-thread-names --glogger-server "$URL" \
	2>"$T/p.err" &
PROFD_PID=$!
track "$PROFD_PID"
srv_wait /api/v2/profiles 3 60
[ "$(cat "$T/gprofiler.pid" 2>/dev/null)" = "$PROFD_PID" ] ||
	fail "--pid-file does not hold profd's PID"
[ -s "$T/hb" ] || fail "--heartbeat-file was not written"
kill -TERM "$PROFD_PID"
wait "$PROFD_PID" || fail "profd exited $?: $(cat "$T/p.err")"
[ ! -e "$T/gprofiler.pid" ] || fail "the PID file outlived profd"
cat "$T"/log/gprofiler.log* | grep -q "window [0-9]* stored" ||
	fail "--log-file lacks profd's lines: $(ls -l "$T/log")"
[ -e "$T/log/gprofiler.log.1" ] ||
	fail "--log-rotate-max-size 150 did not rotate: $(ls -l "$T/log")"
[ ! -e "$T/log/gprofiler.log.3" ] ||
	fail "more backups than --log-rotate-backup-count 2"
for f in "$T"/log/gprofiler.log*; do
	[ "$(stat -c %s "$f")" -le 400 ] || fail "$f passed its bound"
done
grep -q "per-process \"application\" metadata is not added" "$T/p.err" ||
	fail "the external application metadata was dropped silently"
grep -q "warning: --python-skip-pyperf-profiler-above is ignored: profd has no PyPerf" \
	"$T/p.err" || fail "no warning for a PyPerf flag: $(cat "$T/p.err")"
[ "$(grep -c "warning: --no-python-versions" "$T/p.err")" = 1 ] ||
	fail "the warning is not one line"
if grep -q "$TOKEN" "$T"/log/gprofiler.log* "$REQS.urls" 2>/dev/null; then
	fail "the token reached the log"
fi
"$PY" - "$REQS" <<'PY' || fail "a window of the gProfiler command line was refused"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
prof = [r for r in reqs if r["path"] == "/api/v2/profiles"]
bad = [(r["status"], r.get("why")) for r in prof if r["status"] != 200]
assert prof and not bad, bad
for r in reqs:
    assert "tok-" not in r.get("url", r["path"]), r
lines = prof[-1]["body"]["profile"].splitlines()
hdr = json.loads(lines[0][2:])
md = hdr["metadata"]
assert md["run_arguments"]["duration"] == 2, md["run_arguments"]
assert md["run_arguments"]["frequency"] == 49, md["run_arguments"]
# --disable-application-metadata: no index field, and the header says so.
assert hdr["application_metadata_enabled"] is False, hdr
assert len(lines) > 1 and all(not l.split(";")[0].isdigit()
                              for l in lines[1:]), lines[1:3]
# --disable-container-names: the container field is there, empty.
assert all(l.startswith(";") for l in lines[1:]), lines[1:3]
assert hdr["container_names_enabled"] is False and hdr["containers"] == []
# --disable-metrics-collection: no CPU or memory figures.
assert hdr["metrics"] == {"cpu_avg": None, "mem_avg": None}, hdr["metrics"]
assert prof[-1]["body"]["cpu_avg"] is None
# --disable-metadata-collection: the host is not described beyond its name.
assert md["os_name"] == "unknown" and md["mac_address"] == "unknown", md
assert md["processors"] == 0 and md["private_ip"] == "unknown", md
# --external-metadata: its static members are added.
assert md["team"] == "profiling" and md["replicas"] == 3, md
assert md["canary"] is False, md
# gProfiler's page in the header, with its hardware-metrics members.
assert hdr["hwmetrics"] is None and hdr["htmlblob"] is None, hdr.keys()
assert "<html" in hdr["flamegraph_html"][:200].lower(), hdr["flamegraph_html"][:80]
print("%d windows accepted" % len(prof))
PY
pass "gProfiler's service command line profiles, logs, rotates and uploads"

# 2. The environment and gProfiler's file, as configargparse reads them;
# the command line wins over both.
run_once() {
	"$PROFD" -d 1 --runtime-dir "$RUN" --worker-dir "$top_builddir" \
		--perf-mode disabled --no-java "$@" 2>"$T/e.err"
}
GPROFILER_OUTPUT_DIR="$T/env-out" GPROFILER_PROFILING_FREQUENCY=13 \
	GPROFILER_NO_FLAMEGRAPH=true GPROFILER_INSERT_DSO_NAME=false \
	run_once || fail "GPROFILER_* run: $(cat "$T/e.err")"
[ -s "$T/env-out/last_profile.col" ] ||
	fail "GPROFILER_OUTPUT_DIR/NO_FLAMEGRAPH not used: $(ls "$T/env-out")"
[ ! -e "$T/env-out/last_flamegraph.html" ] ||
	fail "GPROFILER_NO_FLAMEGRAPH=true made a flame graph"
head -1 "$T/env-out/last_profile.col" | grep -q '"flamegraph_html": null' ||
	fail "no flame graph, yet the header carries one"
head -1 "$T/env-out/last_profile.col" | grep -q '"frequency": 13' ||
	fail "GPROFILER_PROFILING_FREQUENCY not used"
GPROFILER_PROFILING_FREQUENCY=13 run_once -o "$T/cli-out" -f 17 ||
	fail "run: $(cat "$T/e.err")"
head -1 "$T/cli-out/last_profile.col" | grep -q '"frequency": 17' ||
	fail "the command line did not win over GPROFILER_*"
GPROFILER_PROFILING_FREQUENCY=abc run_once -o "$T/x" &&
	fail "a bad GPROFILER_* value was accepted"
grep -q "GPROFILER_PROFILING_FREQUENCY: invalid value 'abc'" "$T/e.err" ||
	fail "a bad variable is not named: $(cat "$T/e.err")"
GPROFILER_NO_FLAMEGRAPH=maybe run_once -o "$T/x" &&
	fail "a flag variable of 'maybe' was accepted"
cat >"$T/gp.ini" <<EOF
# gProfiler's syntax: sections ignored, "key: value", flags as true/false
[gprofiler]
output-dir: $T/ini-out
profiling-frequency = 19
no-flamegraph = true
rotating-output = false
EOF
chmod 0600 "$T/gp.ini"
run_once --config "$T/gp.ini" || fail "config run: $(cat "$T/e.err")"
head -1 "$T/ini-out/last_profile.col" | grep -q '"frequency": 19' ||
	fail "the gProfiler-style file was not read"
[ ! -e "$T/ini-out/last_flamegraph.html" ] || fail "no-flamegraph = true ignored"
pass "GPROFILER_* variables and gProfiler's file syntax, command line first"

# --controller-pid: profd stops when its controller exits (and refuses a
# controller that does not exist).
sleep 300 &
ctl_pid=$!
track "$ctl_pid"
"$PROFD" -c -d 1 --runtime-dir "$RUN" --worker-dir "$top_builddir" \
	--perf-mode disabled --no-java -o "$T/ctl-out" \
	--controller-pid "$ctl_pid" 2>"$T/ctl.err" &
cp=$!
track "$cp"
sleep 2
kill -0 "$cp" || fail "profd stopped with its controller alive: $(cat "$T/ctl.err")"
kill "$ctl_pid"
wait "$ctl_pid" 2>/dev/null
for _ in $(seq $((100 * SLOW))); do kill -0 "$cp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$cp" 2>/dev/null && fail "profd outlived its controller by 10 s"
wait "$cp" || fail "profd exited $? after its controller"
grep -q "the controller (PID $ctl_pid) exited" "$T/ctl.err" ||
	fail "no word of the controller's exit: $(cat "$T/ctl.err")"
run_once -o "$T/x" --controller-pid 4000000 &&
	fail "a controller that does not exist was accepted"
pass "--controller-pid: profd stops with its controller"

# 3. What profd cannot do is refused by name, never silently dropped.
for args in "--rootless" "--mode allocation" "--alloc-interval 1mb" \
	"--perf-event-period 1000" "--profile-api-version v1"; do
	# shellcheck disable=SC2086
	run_once -o "$T/x" $args && fail "profd ran with $args"
	grep -Eq "(not supported|invalid value)" "$T/e.err" ||
		fail "$args: no reason given: $(cat "$T/e.err")"
done
run_once -o "$T/x" --python-mode pyperf --perf-mode disabled ||
	fail "--python-mode pyperf refused"
grep -q "warning: --python-mode is ignored: profd has no PyPerf" "$T/e.err" ||
	fail "--python-mode pyperf: no warning"
run_once -o "$T/x" --pids "$$" --profile-spawned-processes &&
	fail "--pids went with --profile-spawned-processes"
run_once -o "$T/x" --nodejs-mode perf --perf-mode dwarf -f 11 &&
	fail "--nodejs-mode perf went with --perf-mode dwarf"
pass "flags profd cannot honour are refused with their reason"

# 4. Every flag of gProfiler's parser is known to profd. The list was
# read from intel/gprofiler (gprofiler/main.py, profilers/*.py and the
# --<name>-mode/--no-<name> pair each registered profiler gets).
GP_FLAGS="pid-file config profiling-frequency profiling-duration min-duration
insert-dso-name output-dir flamegraph no-flamegraph mode alloc-interval
rotating-output pids max-processes-runtime-profiler
skip-system-profilers-above rootless perf-event perf-event-period
hw-events-file spark-sample-period collect-spark-metrics nodejs-mode
no-nodejs log-usage upload-results dont-disable-core-files server-host
api-server glogger-server server-upload-timeout token service-name
curlify-requests no-verify version verbose log-file log-rotate-max-size
log-rotate-backup-count dont-send-logs disable-container-names continuous
profile-api-version disable-pidns-check disable-metrics-collection
disable-metadata-collection disable-application-identifiers
app-id-args-filter disable-application-metadata controller-pid
external-metadata databricks-job-name-as-service-name
profile-spawned-processes diagnostics heartbeat-file
enable-heartbeat-server heartbeat-interval enable-hw-metrics-collection
perfspect-path perfspect-duration perf-mode no-perf perf-dwarf-stack-size
perf-no-memory-restart perf-use-cgroups perf-max-cgroups
perf-max-docker-containers python-mode no-python no-python-versions
pyperf-user-stacks-pages python-pyperf-verbose python-pyspy-process
python-skip-pyperf-profiler-above java-mode no-java java-no-version-check
java-async-profiler-mode java-async-profiler-safemode
java-async-profiler-features java-async-profiler-args java-safemode
java-jattach-timeout java-async-profiler-mcache
java-collect-spark-app-name-as-appid java-async-profiler-no-report-meminfo
java-collect-jvm-flags java-full-hserr java-include-method-modifiers
java-line-numbers java-collect-thread-names php-mode no-php
php-proc-filter ruby-mode no-ruby dotnet-mode no-dotnet"
help=$("$PROFD" --help)
unknown=""
for f in $GP_FLAGS; do
	"$PROFD" "--$f" --no-such-flag-xyz >/dev/null 2>"$T/f.err"
	if grep -q "unrecognized option '--$f" "$T/f.err"; then
		unknown="$unknown $f"
	fi
done
[ -z "$unknown" ] || fail "gProfiler flags profd does not know:$unknown"
echo "$help" | grep -q -- "--log-rotate-backup-count" ||
	fail "--help lacks a flag of the table"
# profd(8)'s "Coming from gProfiler" says what each of them does.
sed -n '/^\.SH COMING FROM GPROFILER/,/^\.SH SANDBOX/p' \
	"$top_srcdir/man/profd.8" | sed 's/\\-/-/g' >"$T/coming.txt"
[ -s "$T/coming.txt" ] || fail "profd(8) has no COMING FROM GPROFILER"
missing=""
for f in $GP_FLAGS; do
	grep -Eq -- "--$f([^a-z-]|\$)" "$T/coming.txt" || missing="$missing $f"
done
[ -z "$missing" ] || fail "profd(8)'s gProfiler table lacks:$missing"
pass "all $(echo $GP_FLAGS | wc -w) flags of gProfiler's parser are known and in profd(8)"
