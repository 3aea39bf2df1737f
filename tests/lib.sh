# shellcheck shell=bash
# Shared helpers for profd's integration tests (sourced, POSIX sh + bash).
# Every test creates its files under $T and registers every background
# process with track; cleanup runs on any exit.

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$top_builddir}"
PROFD="$top_builddir/supervisor/profd"
PERF_WORKER="$top_builddir/workers/perf/profd-perf"
UPLOAD_WORKER="$top_builddir/workers/upload/profd-upload"
BUSY_C="$top_builddir/tests/fixtures/busy_c"

# Time limits are multiplied by this (3 in sanitizer builds).
SLOW=${PROFD_TIME_FACTOR:-1}

T=$(mktemp -d /tmp/profd-test.XXXXXX)
chmod 0711 "$T"
TRACKED=""

track() { TRACKED="$TRACKED $*"; }

cleanup() {
	for p in $TRACKED; do kill -9 "$p" 2>/dev/null; done
	for p in $TRACKED; do wait "$p" 2>/dev/null; done
	# Anything still running from this test's directory is a leak.
	pkill -9 -f "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

require_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
require_perf() {
	command -v perf >/dev/null 2>&1 || skip "perf is not installed"
	perf record -e cpu-clock -o "$T/perf.probe" -- true >/dev/null 2>&1 ||
		skip "perf record does not work here"
	rm -f "$T/perf.probe"
}

# Starts busy_c for $1 seconds in the background; sets BUSY_PID.
start_busy() {
	"$BUSY_C" "$1" >"$T/busy.out" &
	BUSY_PID=$!
	track "$BUSY_PID"
	for _ in $(seq 50); do
		grep -q ready "$T/busy.out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "busy_c did not start"
}

# Sums the counts of the lines of file $1 that match the regex $2.
count_matching() {
	grep -E -- "$2" "$1" | awk '{ s += $NF } END { print s + 0 }'
}

# Fails if a process whose command line mentions $1 still runs.
assert_no_process() {
	if pgrep -f -- "$1" >/dev/null; then
		ps -ef | grep -F -- "$1" | grep -v grep
		fail "processes mentioning $1 are still running"
	fi
}
