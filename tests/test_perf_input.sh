# profd-perf --perf-script-input: saved perf script text through the live
# parser, standalone only.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
SAMPLE="$top_srcdir/tests/fixtures/perf_script_sample.txt"

# Every sample of the fixture comes out, and nothing waits for -d.
t0=$(date +%s)
"$PERF_WORKER" -d 60 --perf-script-input "$SAMPLE" >"$T/file.col" ||
	fail "profd-perf --perf-script-input failed"
[ $(($(date +%s) - t0)) -lt $((10 * SLOW)) ] || fail "it waited for -d"
want=$(grep -c '^[^[:space:]]' "$SAMPLE")
got=$(count_matching "$T/file.col" .)
[ "$got" = "$want" ] || fail "$got samples out of the $want in the fixture"
for comm in find python3 swapper; do
	[ "$(count_matching "$T/file.col" "^$comm;")" -gt 0 ] ||
		fail "no stack of $comm"
done
pass "all $want samples of the fixture, without waiting for -d"

"$PERF_WORKER" --perf-script-input - <"$SAMPLE" >"$T/stdin.col" ||
	fail "reading standard input failed"
cmp -s <(sort "$T/file.col") <(sort "$T/stdin.col") ||
	fail "standard input gave other stacks than the file"
pass "- reads standard input"

"$PERF_WORKER" --perf-script-input "$T/absent" >/dev/null 2>"$T/err"
rv=$?
[ "$rv" = 2 ] || fail "a missing file exited $rv, not 2"
grep -q "cannot open" "$T/err" || fail "no message for a missing file"
pass "a missing file is a usage error"

# Under profd it is refused: the worker fails to start.
[ "$(id -u)" = 0 ] || skip "the supervised part needs root"
command -v python3 >/dev/null || skip "python3 is needed to read JSON"
printf '[worker pin]\nexecutable = %s\narguments = --perf-script-input %s\n' \
	"$PERF_WORKER" "$SAMPLE" >"$T/profd.conf"
start_profd -d 1 --perf-mode disabled --config "$T/profd.conf"
wait_field pin last_exit 78 20
grep -q "for standalone runs only" "$T/profd.err" ||
	fail "the refusal was not logged"
pass "refused under profd"
stop_profd 0
