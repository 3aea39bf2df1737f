# profd-perf's native engine over a long run: profd with its
# perf worker only, --perf-engine native, 99 Hz system-wide, windows of
# BENCH_SOAK_WINDOW s (10; 1 for many more windows), for BENCH_SOAK_MIN
# minutes (10), on a host with 500 sleeping processes and 10 busy ones.
# The figure is the growth of profd-perf's RSS: its peak over minute 2
# (the minute before the mark) against its peak over the last minute,
# read from /proc every second; the target is within 1 MB. Also the
# samples and lost samples the engine reported over all windows, and
# the worker's restarts (must be none). With BENCH_SOAK_MIN=2 (a short
# try) the mark is minute 1.
# BENCH_SOAK_LOG=FILE keeps profd's log (the engine's line per window:
# processes, threads, symbol files) in FILE.
. "$(dirname "$0")/lib.sh"

MIN=${BENCH_SOAK_MIN:-10}
WINDOW=${BENCH_SOAK_WINDOW:-10}
HZ=99
LIMIT_KB=1024
FRSS="native soak (500 sleepers, 10 busy, 99 Hz): profd-perf RSS growth, minute 2 to end"

na() { bench_na "$FRSS" "<= $LIMIT_KB kB" "$1"; exit "${2:-0}"; }
[ "$(id -u)" = 0 ] || na "needs root"
[ -x "$PROFD" ] && [ -x "$PROFCTL" ] && [ -x "$BUSY_C" ] || na "not built: run make bench"
case $MIN in '' | *[!0-9]*) na "BENCH_SOAK_MIN is not a number of minutes" 1 ;; esac
[ "$MIN" -ge 2 ] || na "BENCH_SOAK_MIN must be at least 2" 1
# The mark: minute 2, or minute 1 for a 2-minute try.
MARK=$((MIN > 2 ? 120 : 60))
DUR=$((MIN * 60))

say "starting 500 sleepers and 10 busy processes"
for _ in $(seq 500); do
	sleep $((DUR + 120)) &
	bench_track $!
done
for _ in $(seq 10); do
	"$BUSY_C" $((DUR + 120)) >/dev/null &
	bench_track $!
done

bench_profd -v -d "$WINDOW" -f "$HZ" --perf-engine native --no-python \
	--no-java --no-flamegraph || na "profd did not start" 1
# The perf worker's pid (it changes only if the worker restarts).
perf_pid() {
	ctl status --json 2>/dev/null |
		sed -n 's/.*"name":"perf","state":"[a-z]*","pid":\([0-9]*\).*/\1/p'
}
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

say "profiling for $MIN min, $WINDOW-s windows at $HZ Hz (mark at minute $((MARK / 60)))"
start=$SECONDS
mark_peak=0 end_peak=0 mark_now="" end_now="" first_pid=""
while [ $((SECONDS - start)) -lt "$DUR" ]; do
	t=$((SECONDS - start))
	pid=$(perf_pid)
	[ -z "$first_pid" ] && [ -n "$pid" ] && first_pid=$pid
	r=$(rss_of "${pid:-0}")
	if [ -n "$r" ]; then
		if [ "$t" -ge $((MARK - 60)) ] && [ "$t" -lt "$MARK" ]; then
			[ "$r" -gt "$mark_peak" ] && mark_peak=$r
			mark_now=$r
		fi
		if [ "$t" -ge $((DUR - 60)) ]; then
			[ "$r" -gt "$end_peak" ] && end_peak=$r
			end_now=$r
		fi
	fi
	[ $((t % 60)) = 0 ] && say "minute $((t / 60)): profd-perf ${pid:-?} RSS ${r:-?} kB"
	sleep 1
done
last_pid=$(perf_pid)
restarts=$(ctl status --json 2>/dev/null |
	sed -n 's/.*"name":"perf","state":"[a-z]*","pid":[0-9]*,"restarts":\([0-9]*\).*/\1/p')
bench_stop_profd "$PROFD_PID"

# The engine's line per window: "N samples, ..., M lost, ...".
log="$RUN.err"
windows=$(grep -c 'native engine: [0-9]* samples,' "$log")
samples=$(sed -n 's/.*native engine: \([0-9]*\) samples,.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
lost=$(sed -n 's/.*native engine: [0-9]* samples, [0-9]* stacks, \([0-9]*\) lost.*/\1/p' "$log" |
	awk '{ s += $1 } END { print s + 0 }')
say "RSS at minute $((MARK / 60)): ${mark_now:-?} kB (peak $mark_peak kB over that minute);" \
	"at the end: ${end_now:-?} kB (peak $end_peak kB over the last minute)"
[ -n "${BENCH_SOAK_LOG:-}" ] && cp "$log" "$BENCH_SOAK_LOG"
say "$windows windows, $samples samples, $lost lost; worker pid $first_pid -> $last_pid, ${restarts:-?} restarts"
grep 'native engine: [0-9]* samples,' "$log" | tail -1 >&2

[ "$mark_peak" -gt 0 ] && [ "$end_peak" -gt 0 ] || na "no RSS of profd-perf was read" 1
growth=$((end_peak - mark_peak))
verdict=$(bench_le "$growth" "$LIMIT_KB")
[ "$first_pid" = "$last_pid" ] && [ "${restarts:-1}" = 0 ] || verdict=miss
bench_result "native soak: profd-perf peak RSS, minute $((MARK / 60))" "$(bench_fmt 1 "$(awk -v k="$mark_peak" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "native soak: profd-perf peak RSS, last minute" "$(bench_fmt 1 "$(awk -v k="$end_peak" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "native soak: samples / lost samples ($windows windows)" "$samples / $lost" "" - -
bench_result "$FRSS" "$growth" "kB" "<= $LIMIT_KB kB" "$verdict"
