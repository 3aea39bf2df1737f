# shellcheck shell=bash disable=SC2034 # the benchmarks use the variables
# Shared helpers of profd's benchmarks (sourced by bench_*.sh, bash).
#
# A benchmark prints one result line per figure on standard output:
#   figure|value|unit|target|verdict
# where verdict is pass, miss, n/a or - (a figure without a target), and
# its progress on standard error. bench.sh collects the lines of every
# bench_*.sh into one table. Each script cleans up after itself: every
# process it registers with bench_track is killed, $B is removed, and
# every profd it started with bench_profd is stopped.

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$top_builddir}"
PROFD="$top_builddir/supervisor/profd"
PROFCTL="$top_builddir/profctl/profctl"
PERF_WORKER="$top_builddir/workers/perf/profd-perf"
BUSY_C="$top_builddir/tests/fixtures/busy_c"
FAULT="$top_builddir/tests/fault_worker"
RUSAGE="$top_builddir/contrib/bench/bench_rusage"
. "$top_srcdir/tests/cgroup_lib.sh"

# Runs of each measured figure; the table shows their median.
RUNS=${BENCH_RUNS:-3}

B=$(mktemp -d /tmp/profd-bench.XXXXXX)
chmod 0711 "$B"
BENCH_TRACKED=""
BENCH_PROFDS=""
BENCH_RUNDIRS=""

bench_track() { BENCH_TRACKED="$BENCH_TRACKED $*"; }
say() { echo "  ${BENCH_NAME:-bench}: $*" >&2; }

# bench_stop_profd PID: SIGTERM, up to 30 s for its workers to stop, then
# SIGKILL. profd removes its own cgroups when it stops cleanly.
bench_stop_profd() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

bench_cleanup() {
	for p in $BENCH_PROFDS; do bench_stop_profd "$p"; done
	for p in $BENCH_TRACKED; do kill -9 "$p" 2>/dev/null; done
	for p in $BENCH_TRACKED; do wait "$p" 2>/dev/null; done
	# Anything still running from this benchmark's directory is a leak.
	pkill -9 -f "$B" 2>/dev/null
	# Cgroups of a profd that had to be killed.
	# shellcheck disable=SC2086
	profd_cgroups_remove $BENCH_RUNDIRS
	rm -rf "$B"
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

# bench_result FIGURE VALUE UNIT TARGET VERDICT: one line of the table.
bench_result() { printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5"; }

# bench_na FIGURE TARGET REASON: a figure that could not be measured.
bench_na() { bench_result "$1" "n/a ($3)" "" "$2" n/a; }

# bench_le VALUE LIMIT: pass if VALUE <= LIMIT, else miss.
bench_le() { awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "pass" : "miss" }'; }

# bench_median V...: the median (mean of the middle two for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_fmt DIGITS V: V rounded to DIGITS decimals.
bench_fmt() { awk -v d="$1" -v v="$2" 'BEGIN { printf "%.*f\n", d, v }'; }

# bench_rusage OUT CMD...: runs CMD (its redirections are the caller's)
# and writes "cpu_seconds max_rss_kib exit_status" of it into OUT; returns
# its exit status.
bench_rusage() { "$RUSAGE" "$@"; }

# bench_perf_load SECONDS: busy_c and file-system work (small files read,
# a directory tree listed) in the background for SECONDS, for the perf
# benchmarks to record.
bench_perf_load() {
	"$BUSY_C" "$1" >/dev/null &
	bench_track $!
	(
		end=$((SECONDS + $1))
		while [ $SECONDS -lt $end ]; do
			find /usr/lib /usr/share -xdev -type f -size -64k 2>/dev/null |
				head -2000 | xargs -d '\n' cat >/dev/null 2>&1
			ls -lR /usr/share/doc >/dev/null 2>&1
		done
	) &
	bench_track $!
}

# bench_profd ARGS...: profd -c in the background with its own runtime
# dir $B/run.N and output dir $B/out.N; sets PROFD_PID and RUN.
bench_profd() {
	BENCH_NPROFD=$((${BENCH_NPROFD:-0} + 1))
	RUN="$B/run.$BENCH_NPROFD"
	OUT="$B/out.$BENCH_NPROFD"
	mkdir -p "$RUN"
	chmod 0711 "$RUN"
	"$PROFD" -c --runtime-dir "$RUN" --worker-dir "$top_builddir" \
		-o "$OUT" "$@" 2>"$RUN.err" &
	PROFD_PID=$!
	BENCH_PROFDS="$BENCH_PROFDS $PROFD_PID"
	BENCH_RUNDIRS="$BENCH_RUNDIRS $RUN"
	for _ in $(seq 100); do
		[ -S "$RUN/control.sock" ] && return 0
		kill -0 "$PROFD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RUN.err" >&2
	return 1
}


ctl() { timeout -k 2 15 "$PROFCTL" --runtime-dir "$RUN" "$@"; }
