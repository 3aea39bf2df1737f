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

. "$top_srcdir/tests/cgroup_lib.sh"

T=$(mktemp -d /tmp/profd-test.XXXXXX)
chmod 0711 "$T"
TRACKED=""

track() { TRACKED="$TRACKED $*"; }

cleanup() {
	for p in $TRACKED; do kill -9 "$p" 2>/dev/null; done
	for p in $TRACKED; do wait "$p" 2>/dev/null; done
	# Anything still running from this test's directory is a leak.
	pkill -9 -f "$T" 2>/dev/null
	# The cgroups of a profd that was killed (runtime dirs are in $T).
	# shellcheck disable=SC2046
	profd_cgroups_remove $(find "$T" -maxdepth 3 -type d 2>/dev/null)
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

# wait_grep FILE REGEX SECONDS WHAT: waits until a line of FILE matches
# the basic regex REGEX; fails with WHAT after SECONDS (times SLOW).
wait_grep() {
	wg_end=$(($(date +%s) + $3 * SLOW))
	until grep -q -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s)" -le "$wg_end" ] || fail "$4"
		sleep 0.2
	done
}

# wait_comm PID NAME: waits up to 5 s (times SLOW) until process PID runs
# a program called NAME (a child forked by the shell execs later).
wait_comm() {
	for _ in $(seq $((50 * SLOW))); do
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	fail "process $1 is $(cat "/proc/$1/comm" 2>/dev/null), not $2"
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

# --- Java ---------------------------------------------------------------------
JAVA_WORKER="$top_builddir/workers/java/profd-java"
JAVA_AGENT="$top_builddir/workers/java/libprofd-jvmti.so"
JDK17=/usr/lib/jvm/java-17-openjdk-amd64
JDK25=/usr/lib/jvm/temurin-25-jdk-amd64

require_java_worker() {
	[ -x "$JAVA_WORKER" ] && [ -f "$JAVA_AGENT" ] ||
		skip "profd-java was not built (no JVMTI headers)"
}

# Compiles tests/fixtures/JavaBusy.java with JDK $1 into $T/classes-$2.
compile_java_busy() {
	mkdir -p "$T/classes-$2"
	chmod 0755 "$T/classes-$2"
	"$1/bin/javac" -d "$T/classes-$2" "$top_srcdir/tests/fixtures/JavaBusy.java" ||
		fail "javac of JDK $2 failed"
}

# other_java_owner COL ERR: true when profd-java found another profd-java's
# agent in the JVM first (its output COL, its log ERR): a profd on the host
# (a test beside this one) profiles every JVM, and the test tries a new JVM.
other_java_owner() {
	grep -q 'Profiling skipped: another profd-java\|its agent is older' "$1" "$2" ||
		return 1
	echo "another profd-java's agent took the JVM" \
		"($(pgrep -f 'profd-java --supervised' | wc -l) supervised profd-java run now)"
}

# Waits until the file $1 says ready, or fails.
wait_ready() {
	for _ in $(seq $((100 * SLOW))); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$1"
	fail "the Java program did not start"
}

# Shares of JavaBusy's two leaves, nested under their callers through main,
# in collapsed file $1; sets HOT, COLD and SHARE (percent).
java_shares() {
	HOT=$(count_matching "$1" '^java;(.*;)?JavaBusy\.main_\[[01ji]\];JavaBusy\.run_\[[01ji]\];JavaBusy\.hotCaller_\[[01ji]\];JavaBusy\.hotLeaf_\[[01ji]\] ')
	COLD=$(count_matching "$1" '^java;(.*;)?JavaBusy\.main_\[[01ji]\];JavaBusy\.run_\[[01ji]\];JavaBusy\.coldCaller_\[[01ji]\];JavaBusy\.coldLeaf_\[[01ji]\] ')
	SHARE=$(awk -v h="$HOT" -v c="$COLD" 'BEGIN { printf "%d", (h + c) ? 100 * h / (h + c) : 0 }')
}
