# profd-python at 100 Hz: the profiled program's slowdown
# (its work per CPU second, in phases with and without profiling in the
# same run: one profd-python, stopped with SIGSTOP in the phases without),
# profd-python's CPU per profiled process,
# the cost of one sample of a 50-frame stack, and its peak RSS while it
# profiles 50 Python processes.
. "$(dirname "$0")/lib.sh"

PYTHON_WORKER="$top_builddir/workers/python/profd-python"
FSLOW="Python: slowdown at 100 Hz"
FCPU="Python: profd-python CPU per profiled process"
FCOST="Python: cost of one sample of a 50-frame stack"
FRSS="Python: profd-python peak RSS profiling 50 processes"
ROUNDS=${BENCH_PY_ROUNDS:-10}
PHASE=3 # seconds

na_all() {
	bench_na "$FSLOW" "<= 1 %" "$1"
	bench_na "$FCPU" "<= 2 %" "$1"
	bench_na "$FCOST" "-" "$1"
	bench_na "$FRSS" "<= 16 MB" "$1"
	exit 0
}
[ "$(id -u)" = 0 ] || na_all "needs root"
[ -x "$PYTHON_WORKER" ] || na_all "profd-python is not built"
PY=""
for d in /root/.pyenv/versions/3.12.* /root/.pyenv/versions/3.11.*; do
	[ -x "$d/bin/python3" ] && { PY="$d/bin/python3"; break; }
done
[ -n "$PY" ] || PY=$(command -v python3) || na_all "no python3"

# A CPU-bound program that prints its calls per second every half second;
# at depth 50 its stacks are 50 frames deep.
cat >"$B/work.py" <<'PYEOF'
import sys, time
def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x
def deep(d, n):
    return deep(d - 1, n) if d > 1 else leaf(n)
def main(seconds, depth):
    end = time.time() + seconds
    t0, done = time.time(), 0
    print("ready", flush=True)
    while time.time() < end:
        deep(depth, 2000)
        done += 1
        now = time.time()
        if now - t0 >= 0.25:
            # wall time, calls so far, this process's CPU time so far
            print("%.3f %d %.6f" % (now, done, time.process_time()),
                  flush=True)
            t0 = now
main(float(sys.argv[1]), int(sys.argv[2]))
PYEOF

# start_work SECONDS DEPTH OUT: a work.py in the background; sets WP.
start_work() {
	"$PY" "$B/work.py" "$1" "$2" >"$3" &
	WP=$!
	bench_track "$WP"
	for _ in $(seq 100); do
		grep -q ready "$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- slowdown: profiling on and off in turns, one run ----------------------
say "slowdown: $ROUNDS rounds of ${PHASE} s without and ${PHASE} s with profiling"
start_work $((ROUNDS * PHASE * 2 + 10)) 10 "$B/work.out" || na_all "python did not start"
"$PYTHON_WORKER" --pid "$WP" -d $((ROUNDS * PHASE * 2 + 8)) -f 100 >/dev/null 2>&1 &
WK=$!
bench_track "$WK"
sleep 2
: >"$B/phases"
for _ in $(seq "$ROUNDS"); do
	kill -STOP "$WK"
	s=$(date +%s.%N); sleep "$PHASE"; e=$(date +%s.%N)
	echo "off $s $e" >>"$B/phases"
	kill -CONT "$WK"
	s=$(date +%s.%N); sleep "$PHASE"; e=$(date +%s.%N)
	echo "on $s $e" >>"$B/phases"
done
kill -TERM "$WK" "$WP" 2>/dev/null
wait "$WK" "$WP" 2>/dev/null
# Per phase, the work done per CPU second of the profiled program, from
# its own counters (the host's load changes how much CPU it gets, not
# what a CPU second buys); then each "on" phase against the mean of the
# "off" phases on either side of it, and the median of those ratios.
slow=$(awk 'NR == FNR { k[NR] = $1; s[NR] = $2; e[NR] = $3; n = NR; next }
	NF == 3 && /^[0-9]/ { for (i = 1; i <= n; i++)
		if ($1 >= s[i] + 0.3 && $1 <= e[i]) {
			if (!(i in c0)) { c0[i] = $2; t0[i] = $3 }
			c1[i] = $2; t1[i] = $3 } }
	END { for (i = 1; i <= n; i++)
		if ((i in c0) && t1[i] > t0[i]) rate[i] = (c1[i] - c0[i]) / (t1[i] - t0[i])
	      m = 0
	      for (i = 2; i < n; i += 2) {
		if (!(i in rate) || !((i - 1) in rate) || !((i + 1) in rate)) continue
		off = (rate[i - 1] + rate[i + 1]) / 2
		r[++m] = 100 * (off - rate[i]) / off }
	      if (m == 0) { print "nan"; exit }
	      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
		if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
	      print (m % 2) ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2 }' \
	"$B/phases" "$B/work.out")
if [ "$slow" = nan ]; then
	bench_na "$FSLOW" "<= 1 %" "no phase measured"
else
	bench_result "$FSLOW" "$(bench_fmt 2 "$slow")" "%" "<= 1 %" "$(bench_le "$slow" 1)"
fi

# --- CPU per process and cost per sample: 10 programs, 50 frames deep ------
N=10
D=10
say "CPU: $N programs 50 frames deep, $D s at 100 Hz"
L=""
for i in $(seq "$N"); do
	start_work $((D + 8)) 48 "$B/cpu$i.out" || na_all "python did not start"
	L="${L:+$L,}$WP"
done
bench_rusage "$B/cpu.ru" "$PYTHON_WORKER" --pid "$L" -d "$D" -f 100 \
	>"$B/cpu.col" 2>/dev/null
read -r cpu _ _ <"$B/cpu.ru"
samples=$(awk '{ s += $NF } END { print s + 0 }' "$B/cpu.col")
depth=$(awk -F';' '{ n = NF - 1; if (n > m) m = n } END { print m + 0 }' "$B/cpu.col")
say "$samples samples, stacks up to $depth frames, $cpu s of CPU"
pct=$(awk -v c="$cpu" -v n="$N" -v d="$D" 'BEGIN { print 100 * c / (d * n) }')
bench_result "$FCPU" "$(bench_fmt 2 "$pct")" "% of a core" "<= 2 %" "$(bench_le "$pct" 2)"
if [ "$samples" -gt 0 ]; then
	bench_result "$FCOST" "$(awk -v c="$cpu" -v s="$samples" 'BEGIN { printf "%.1f", 1e6 * c / s }')" \
		"µs ($depth frames)" "-" "-"
else
	bench_na "$FCOST" "-" "no samples"
fi
pkill -f "$B/work.py" 2>/dev/null

# --- RSS with 50 processes ---------------------------------------------------
say "RSS: 50 Python processes, 15 s at 100 Hz"
cat >"$B/nap.py" <<'PYEOF'
import sys, time
def nap():
    time.sleep(0.01)
def work():
    return sum(i for i in range(500))
end = time.time() + float(sys.argv[1])
print("ready", flush=True)
while time.time() < end:
    nap()
    work()
PYEOF
L=""
for i in $(seq 50); do
	"$PY" "$B/nap.py" 30 >/dev/null &
	bench_track $!
	L="${L:+$L,}$!"
done
sleep 3
bench_rusage "$B/rss.ru" "$PYTHON_WORKER" --pid "$L" -d 15 -f 100 --python-idle \
	>"$B/rss.col" 2>/dev/null
read -r _ kib _ <"$B/rss.ru"
mb=$(awk -v k="$kib" 'BEGIN { print k / 1024 }')
bench_result "$FRSS" "$(bench_fmt 1 "$mb")" "MB" "<= 16 MB" "$(bench_le "$mb" 16)"
pkill -f "$B/nap.py" 2>/dev/null
exit 0
