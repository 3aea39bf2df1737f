# Bad input: one clear line on stderr, a non-zero exit, nothing left.
. "$top_srcdir/tests/lib.sh"
require_root

RUN="$T/run"
COMMON="--runtime-dir $RUN --worker-dir $top_builddir"

# expect STATUS PATTERN CMD...: CMD exits with STATUS and stderr matches.
expect() {
	want=$1 pattern=$2
	shift 2
	timeout -k 5 60 "$@" >"$T/out" 2>"$T/err"
	rv=$?
	[ "$rv" = "$want" ] || { cat "$T/err"; fail "$* exited $rv, not $want"; }
	grep -qE -- "$pattern" "$T/err" ||
		{ cat "$T/err"; fail "$*: stderr lacks /$pattern/"; }
	pass "$* -> $rv: $(grep -E -- "$pattern" "$T/err" | head -1)"
}

expect 2 "unrecognized option" "$PROFD" --no-such-flag -o "$T/o"
expect 2 "invalid value 'abc' for -d" "$PROFD" -d abc -o "$T/o"
expect 2 "invalid value '0' for -f" "$PROFD" -f 0 -o "$T/o"
expect 2 "expected fp, dwarf, smart or disabled" "$PROFD" --perf-mode xyz -o "$T/o"
expect 2 "give an output directory" "$PROFD" -d 1
expect 2 "no process with PID 4000000" "$PROFD" --pids 4000000 -o "$T/o"
expect 2 "invalid value '1,,2' for --pids" "$PROFD" --pids 1,,2 -o "$T/o"
expect 2 "dwarf allows at most 100 Hz" "$PROFD" --perf-mode dwarf -f 200 -o "$T/o"
expect 2 "unexpected argument" "$PROFD" -o "$T/o" extra
# shellcheck disable=SC2086
expect 1 "cannot create the output directory" "$PROFD" -d 1 \
	-o "$T/missing/parent/out" $COMMON
expect 2 "invalid value 'x' for -d" "$PERF_WORKER" -d x
expect 2 "unrecognized option" "$UPLOAD_WORKER" --bogus
expect 2 "output directory" "$UPLOAD_WORKER"
printf 'profiling-duration = 2\nno-such-setting = 1\n' >"$T/bad1.conf"
printf '\n# comment\nprofiling-frequency = fast\n' >"$T/bad2.conf"
printf 'continuous = perhaps\n' >"$T/bad3.conf"
printf 'output-dir\n' >"$T/bad4.conf"
expect 2 "bad1.conf:2: unknown setting: no-such-setting" \
	"$PROFD" --config "$T/bad1.conf" -o "$T/o"
expect 2 "bad2.conf:3: invalid value 'fast'" \
	"$PROFD" --config "$T/bad2.conf" -o "$T/o"
expect 2 "bad3.conf:1: invalid value 'perhaps' for -c/--continuous: expected true or false" \
	"$PROFD" --config "$T/bad3.conf"
expect 2 "bad4.conf:1: a value is required" "$PROFD" --config "$T/bad4.conf"
expect 2 "none.conf:0: cannot read the file" "$PROFD" --config "$T/none.conf"
[ ! -e "$RUN" ] || fail "a refused start left $RUN behind"

# A PID that does not exist, standalone.
expect 78 "no process with PID 4000000" "$PERF_WORKER" --pid 4000000 -d 1

# No perf installed: with the perf engine asked for, the worker says so
# and profd stops everything; the native engine needs no perf program.
# shellcheck disable=SC2086
PROFD_PERF=/nonexistent/perf expect 1 "perf is not installed" \
	"$PROFD" -d 1 -o "$T/o2" --perf-engine perf $COMMON
assert_no_process "$RUN"
[ ! -e "$RUN" ] || { ls -la "$RUN"; fail "runtime directory left behind"; }
# shellcheck disable=SC2086
PROFD_PERF=/nonexistent/perf "$PROFD" -d 1 -o "$T/o2n" --perf-engine native \
	$COMMON 2>"$T/native.err" ||
	fail "the native engine needed perf: $(cat "$T/native.err")"
assert_no_process "$RUN"

# A second profd on the same runtime directory is refused.
if command -v perf >/dev/null; then
	mkdir -p "$RUN"
	# shellcheck disable=SC2086
	"$PROFD" -c -d 5 -o "$T/o3" $COMMON 2>"$T/first.err" &
	first=$!
	track "$first"
	for _ in $(seq 50); do [ -s "$RUN/profd.pid" ] && break; sleep 0.1; done
	# shellcheck disable=SC2086
	expect 1 "another profd is running \\(pid $first" \
		"$PROFD" -d 1 -o "$T/o4" $COMMON
	# The refused one leaves the first one's files alone.
	[ -S "$RUN/control.sock" ] && [ -d "$RUN/upload" ] && [ -s "$RUN/profd.pid" ] ||
		{ ls -la "$RUN"; fail "the refused profd removed the first one's files"; }
	kill -TERM "$first"
	wait "$first" || { cat "$T/first.err"; fail "the first profd did not stop cleanly"; }
	[ -e "$RUN/profd.pid" ] && fail "lock file left behind"
	assert_no_process "$RUN"
fi
# An output directory someone else could plant files or links in is
# refused; one of root's is handed to the uploader's user.
mkdir -m 0755 "$T/alien" "$T/open" "$T/mine"
chown nobody "$T/alien"
chmod 0777 "$T/open"
# shellcheck disable=SC2086
expect 1 "output directory .*/alien is refused: it is owned by another user" \
	"$PROFD" -d 1 -o "$T/alien" $COMMON
# shellcheck disable=SC2086
expect 1 "output directory .*/open is refused: others may write in it" \
	"$PROFD" -d 1 -o "$T/open" $COMMON
# shellcheck disable=SC2086
timeout -k 5 120 "$PROFD" -d 1 --perf-mode disabled --no-python --no-java \
	-o "$T/mine" $COMMON 2>"$T/err" || { cat "$T/err"; fail "a root-owned output directory was refused"; }
up=$(stat -c %U "$T/mine")
[ -f "$T/mine/last_profile.col" ] || fail "no profile in a root-owned output directory"
echo "a root-owned output directory now belongs to $up"
assert_no_process "$RUN"
pass "bad input refused cleanly"
