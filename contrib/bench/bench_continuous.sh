# Continuous profiling on a busy host: 500 extra sleeping
# processes, 10 busy Python processes and 2 busy JVMs, every profiler
# profd has on, 10-second windows. The figure is the total RSS of profd
# and every process under it (workers, perf record, perf script), sampled
# every 0.5 s over several windows: the median of the per-run peaks.
# Also profd-upload's own peak RSS in those runs, and profd's open fds
# over 100 windows (1-second windows here, to keep it short), which must
# be flat.
. "$(dirname "$0")/lib.sh"

FRSS="continuous (500 sleepers, 10 Python, 2 JVMs): total RSS"
WINDOW=10
WINDOWS=${BENCH_CONT_WINDOWS:-4}
LIMIT_MB=64
FUP="continuous: profd-upload peak RSS"
UP_LIMIT_MB=16
FFDS="continuous: profd open fds over 100 windows, busy host"
FD_WINDOWS=100

na() { bench_na "$FRSS" "<= $LIMIT_MB MB" "$1"; exit 0; }
[ "$(id -u)" = 0 ] || na "needs root"
command -v perf >/dev/null 2>&1 || na "perf is not installed"
[ -x "$PROFD" ] || na "profd is not built: run make bench"
PY=$(command -v python3) || na "no python3"
JAVA=$(command -v java) || JAVA=""

# --- the host's load ---------------------------------------------------------
say "starting 500 sleepers, 10 busy Python processes and 2 busy JVMs"
for _ in $(seq 500); do
	sleep 3600 &
	bench_track $!
done
for _ in $(seq 10); do
	"$PY" -c 'import time
def work():
    return sum(i * i for i in range(20000))
while True:
    work()
    time.sleep(0.02)' &
	bench_track $!
done
njvm=0
if [ -n "$JAVA" ] && command -v javac >/dev/null 2>&1; then
	mkdir -p "$B/java"
	cat >"$B/java/Spin.java" <<'JEOF'
public class Spin {
    static long work(long n) { long x = 0; for (long i = 0; i < n; i++) x += i * i; return x; }
    public static void main(String[] a) throws Exception {
        long s = 0;
        while (true) { s += work(2000000); Thread.sleep(20); }
    }
}
JEOF
	if javac -d "$B/java" "$B/java/Spin.java" 2>/dev/null; then
		for _ in 1 2; do
			"$JAVA" -Xmx64m -cp "$B/java" Spin &
			bench_track $!
			njvm=$((njvm + 1))
		done
	fi
fi
say "$njvm JVMs running"

# tree_rss PID: the RSS in KiB of PID and all its descendants.
tree_rss() {
	ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
		{ parent[$1] = $2; rss[$1] = $3 }
		END { for (p in rss) { q = p
			while (q != "" && q != root && q in parent && q != 1) q = parent[q]
			if (q == root) sum += rss[p] }
		      print sum + 0 }'
}

# child_rss PID COMM: the RSS in KiB of PID's child named COMM (0: none).
child_rss() {
	ps -o comm=,rss= --ppid "$1" | awk -v c="$2" '$1 == c { s += $2 } END { print s + 0 }'
}

peaks="" uppeaks=""
for run in $(seq "$RUNS"); do
	bench_profd -d "$WINDOW" || { bench_na "$FRSS" "<= $LIMIT_MB MB" "profd did not start"; exit 1; }
	end=$((SECONDS + WINDOW * WINDOWS + 5))
	peak=0 uppeak=0
	while [ "$SECONDS" -lt "$end" ]; do
		r=$(tree_rss "$PROFD_PID")
		[ "$r" -gt "$peak" ] && peak=$r
		r=$(child_rss "$PROFD_PID" profd-upload)
		[ "$r" -gt "$uppeak" ] && uppeak=$r
		sleep 0.5
	done
	n=$(ls "$OUT"/profile_*.col 2>/dev/null | wc -l)
	workers=$(ctl status 2>/dev/null | awk 'NR > 1 && $2 == "running" { printf "%s ", $1 }')
	bench_stop_profd "$PROFD_PID"
	say "run $run: peak $((peak / 1024)) MB (profd-upload $((uppeak / 1024)) MB) over $n windows; running: $workers"
	peaks="$peaks $((peak))"
	uppeaks="$uppeaks $((uppeak))"
done
mb=$(awk -v k="$(bench_median $peaks)" 'BEGIN { print k / 1024 }')
bench_result "$FRSS" "$(bench_fmt 1 "$mb")" "MB" "<= $LIMIT_MB MB" "$(bench_le "$mb" "$LIMIT_MB")"
mb=$(awk -v k="$(bench_median $uppeaks)" 'BEGIN { print k / 1024 }')
bench_result "$FUP" "$(bench_fmt 1 "$mb")" "MB" "<= $UP_LIMIT_MB MB" "$(bench_le "$mb" "$UP_LIMIT_MB")"

# --- profd's fds over 100 windows ------------------------------------------
bench_profd -d 1 || { bench_na "$FFDS" "flat" "profd did not start"; exit 1; }
fds() { ls "/proc/$PROFD_PID/fd" 2>/dev/null | wc -l; }
first="" last="" min="" max="" n=0
end=$((SECONDS + FD_WINDOWS * 3))
while [ "$SECONDS" -lt "$end" ] && [ "$n" -lt $((FD_WINDOWS + 1)) ]; do
	n=$(ls "$OUT"/profile_*.col 2>/dev/null | wc -l)
	f=$(fds)
	# The first figure once the first window is out (all sockets open).
	if [ "$n" -ge 1 ]; then
		[ -z "$first" ] && first=$f min=$f max=$f
		[ "$f" -lt "$min" ] && min=$f
		[ "$f" -gt "$max" ] && max=$f
		last=$f
	fi
	sleep 0.5
done
bench_stop_profd "$PROFD_PID"
say "fds: $first after the first window, $last after window $((n - 1)), between $min and $max"
verdict=miss
[ "$n" -gt "$FD_WINDOWS" ] && [ -n "$first" ] && [ "$last" -le "$first" ] &&
	[ $((max - min)) -le 4 ] && verdict=pass
bench_result "$FFDS" "${first:-?} -> ${last:-?} (${n} windows)" "" "flat" "$verdict"
