#!/bin/bash
# Benchmark of profd-python at 100 Hz, each figure against its target:
#  1. the profiled program's throughput with and without profiling, in the
#     same run (it reports its work every 0.5 s; profiling is switched on
#     and off in turns): drop at most 1 %;
#  2. profd-python's CPU time per profiled process: at most 2 % of a core;
#  3. profd-python's peak RSS while profiling 50 Python processes: < 16 MB.
# Usage: contrib/bench/python_bench.sh [BUILDDIR] (run as root).
set -u
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
W="$B/workers/python/profd-python"
PY=""
for d in /root/.pyenv/versions/3.12.* /root/.pyenv/versions/3.11.*; do
	[ -x "$d/bin/python3" ] && { PY="$d/bin/python3"; break; }
done
[ -n "$PY" ] || PY=$(command -v python3)
[ -x "$W" ] || { echo "no $W: build first" >&2; exit 1; }
T=$(mktemp -d /tmp/profd-bench.XXXXXX)
chmod 0711 "$T"
PIDS=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

# --- 1. throughput, same run ------------------------------------------
cat >"$T/work.py" <<'PYEOF'
import sys, time
def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x
def main(seconds):
    end = time.time() + seconds
    t0, done = time.time(), 0
    print("ready", flush=True)
    while time.time() < end:
        leaf(2000)
        done += 1
        now = time.time()
        if now - t0 >= 0.5:
            print("%.3f %.1f" % (now, done / (now - t0)), flush=True)
            t0, done = now, 0
main(float(sys.argv[1]))
PYEOF
ROUNDS=8
PHASE=3
"$PY" "$T/work.py" $((ROUNDS * PHASE * 2 + 8)) >"$T/work.out" &
WP=$!
PIDS="$PIDS $WP"
until grep -q ready "$T/work.out" 2>/dev/null; do sleep 0.1; done
# One profd-python for the whole run, paused (SIGSTOP) in the phases
# without profiling: start-up costs are left out, both kinds of phase
# see the same machine.
"$W" --pid "$WP" -d $((ROUNDS * PHASE * 2 + 6)) -f 100 >/dev/null 2>&1 &
WK=$!
PIDS="$PIDS $WK"
sleep 2
: >"$T/phases"
for r in $(seq "$ROUNDS"); do
	kill -STOP "$WK"
	s=$(date +%s.%N); sleep "$PHASE"; e=$(date +%s.%N)
	echo "off $s $e" >>"$T/phases"
	kill -CONT "$WK"
	s=$(date +%s.%N); sleep "$PHASE"; e=$(date +%s.%N)
	echo "on $s $e" >>"$T/phases"
done
kill -TERM "$WK"
wait "$WK" 2>/dev/null
kill "$WP" 2>/dev/null
wait "$WP" 2>/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
awk 'NR == FNR { k[NR] = $1; s[NR] = $2; e[NR] = $3; n = NR; next }
     /^[0-9]/ { for (i = 1; i <= n; i++)
		 if ($1 - 0.5 >= s[i] && $1 <= e[i]) { sum[k[i]] += $2; cnt[k[i]]++ } }
     END { off = sum["off"] / cnt["off"]; on = sum["on"] / cnt["on"];
	   drop = 100 * (off - on) / off;
	   printf "throughput without profiling: %.1f calls/s (%d half-seconds)\n", off, cnt["off"];
	   printf "throughput with profiling at 100 Hz: %.1f calls/s (%d half-seconds)\n", on, cnt["on"];
	   printf "throughput drop: %.2f %% (target: at most 1 %%) %s\n", drop, drop <= 1 ? "OK" : "OVER" }' \
	"$T/phases" "$T/work.out"

# --- 2. CPU per profiled process --------------------------------------
N=10
D=10
for i in $(seq "$N"); do
	"$PY" "$T/work.py" $((D + 8)) >/dev/null &
	PIDS="$PIDS $!"
	L="${L:+$L,}$!"
done
sleep 2
"$W" --pid "$L" -d "$D" -f 100 >"$T/cpu.col" 2>/dev/null &
WK=$!
sleep $((D - 1))
read -r ut st < <(awk '{ print $14, $15 }' "/proc/$WK/stat")
wait "$WK"
samples=$(awk '{ s += $NF } END { print s + 0 }' "$T/cpu.col")
awk -v u="$ut" -v s="$st" -v hz="$HZ" -v n="$N" -v d="$((D - 1))" -v sm="$samples" 'BEGIN {
	pct = 100 * (u + s) / hz / (d * n);
	printf "profd-python CPU: %.2f %% of a core per profiled process (%d processes, 100 Hz, %d samples) (target: at most 2 %%) %s\n",
	    pct, n, sm, pct <= 2 ? "OK" : "OVER" }'
for p in $PIDS; do [ "$p" = "$WP" ] || kill "$p" 2>/dev/null; done
wait 2>/dev/null
PIDS=""
L=""

# --- 3. RSS while profiling 50 processes ------------------------------
cat >"$T/nap.py" <<'PYEOF'
import sys, time
def nap(n):
    time.sleep(0.01)
def work():
    return sum(i for i in range(500))
end = time.time() + float(sys.argv[1])
while time.time() < end:
    nap(1)
    work()
PYEOF
for i in $(seq 50); do
	"$PY" "$T/nap.py" 30 &
	PIDS="$PIDS $!"
	L="${L:+$L,}$!"
done
sleep 2
"$W" --pid "$L" -d 15 -f 100 --python-idle >"$T/rss.col" 2>/dev/null &
WK=$!
peak=0
while kill -0 "$WK" 2>/dev/null; do
	r=$(awk '/^VmRSS/ { print $2 }' "/proc/$WK/status" 2>/dev/null)
	[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
procs=$(cut -d';' -f1 "$T/rss.col" | sort -u | wc -l)
stacks=$(wc -l <"$T/rss.col")
awk -v k="$peak" -v p="$procs" -v s="$stacks" 'BEGIN {
	printf "profd-python peak RSS: %.1f MB while profiling 50 processes (%d stacks) (target: under 16 MB) %s\n",
	    k / 1024, s, k < 16 * 1024 ? "OK" : "OVER" }'
