# A whole profd run: supervisor -> profd-perf -> profd-upload -> files.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf

RUN="$T/run"
OUT="$T/out"
start_busy 60
# A Python program started as "python3 spin.py" from its directory.
if command -v python3 >/dev/null; then
	cp "$top_srcdir/tests/fixtures/spin.py" "$T/spin.py"
	(cd "$T" && exec python3 spin.py 60) &
	track $!
fi

# One window: profd exits by itself once the window is written.
timeout -k 5 60 "$PROFD" -d 3 -f 49 -o "$OUT" --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" >"$T/profd.out" 2>"$T/profd.err"
rv=$?
cat "$T/profd.err" "$T/profd.out"
[ "$rv" = 0 ] || fail "profd exited with $rv"
grep -q "flame graph: $OUT/last_flamegraph.html" "$T/profd.out" ||
	fail "profd did not say where the flame graph is"

col="$OUT/last_profile.col"
[ -f "$col" ] || fail "no last_profile.col"
head -c 3 "$col" | grep -q '^# {' || fail "first line is not '# {json}'"
if command -v python3 >/dev/null; then
	head -1 "$col" | cut -c3- | python3 -c '
import json, sys
h = json.load(sys.stdin)
m = h["metadata"]
assert m["sampling_frequency"] == 49, m
assert m["run_arguments"]["profiling_duration"] == 3, m
assert h["application_metadata"] == [None], h
assert 0 <= h["metrics"]["cpu_avg"] <= 100, h
' || fail "the JSON header does not parse or lacks fields"
fi
grep -qE '^0;;busy_c;.*;main;run;hot_caller;hot_leaf [0-9]+$' "$col" ||
	fail "busy_c's hot stack is missing"
grep -qE '^0;;busy_c;.*;main;run;cold_caller;cold_leaf [0-9]+$' "$col" ||
	fail "busy_c's cold stack is missing"
grep -q '_\[k\];' "$col" || grep -q '_\[k\] ' "$col" || fail "no kernel frame"
if command -v python3 >/dev/null; then
	grep -qF "0;;python3;appid: python: spin.py ($T/spin.py);" "$col" ||
		fail "the Python program lacks its application id"
fi
ls "$OUT"/profile_*.col >/dev/null || fail "no profile_<time>.col"
ls "$OUT"/profile_*.html >/dev/null || fail "no profile_<time>.html"
grep -q '<!DOCTYPE html>' "$OUT/last_flamegraph.html" || fail "bad HTML"
grep -q 'hot_leaf' "$OUT/last_flamegraph.html" || fail "HTML lacks the stacks"
pass "one window written with the expected stacks"

sleep 0.5
assert_no_process "$RUN"
[ ! -e "$RUN" ] || { ls -la "$RUN"; fail "runtime directory left behind"; }
pass "nothing left running, runtime directory removed"

# Continuous mode until SIGTERM: every window written, clean exit. The
# settings come from a configuration file; the command line overrides it.
mkdir -p "$RUN"
chmod 0711 "$RUN"
cat >"$T/profd.conf" <<CONF
# a comment, then settings named like the long options
profiling-duration = 2
profiling-frequency = 7
continuous
no-flamegraph
output-dir = $T/out2
CONF
"$PROFD" --config "$T/profd.conf" -f 19 --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" 2>"$T/c.err" &
PROFD_PID=$!
track "$PROFD_PID"
for _ in $(seq 200); do
	[ "$(ls "$T/out2"/profile_*.col 2>/dev/null | wc -l)" -ge 2 ] && break
	sleep 0.1
done
kill -TERM "$PROFD_PID"
for _ in $(seq 300); do kill -0 "$PROFD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PROFD_PID" 2>/dev/null && fail "profd did not stop within 30 s of SIGTERM"
wait "$PROFD_PID"
rv=$?
cat "$T/c.err"
[ "$rv" = 0 ] || fail "profd exited with $rv after SIGTERM"
n=$(ls "$T/out2"/profile_*.col | wc -l)
[ "$n" -ge 2 ] || fail "only $n windows written in continuous mode"
ls "$T/out2"/*.html 2>/dev/null && fail "--no-flamegraph wrote HTML"
grep -q '"sampling_frequency": 19,' "$T/out2/last_profile.col" ||
	fail "the command line did not override the configuration file"
grep -q '"profiling_duration": 2,' "$T/out2/last_profile.col" ||
	fail "the configuration file's duration was not used"
assert_no_process "$RUN"
[ -z "$(ls -A "$RUN")" ] || { ls -la "$RUN"; fail "runtime directory not empty"; }
pass "continuous mode: $n windows, clean stop on SIGTERM"
