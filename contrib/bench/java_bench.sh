#!/bin/bash
# Throughput cost of profd-java on a CPU-bound JVM: the work its thread does
# per second of CPU time with the agent sampling at 100 Hz (the signal
# handler and AsyncGetCallTrace run on that thread's time), against the
# seconds before and after without it, over several rounds; per CPU second,
# so that other load on the host does not blur the figures. Prints the figures and exits 1 if
# the median drop is over 2 %.
#
# Usage: contrib/bench/java_bench.sh [BUILD_DIR] [ROUNDS] [SECONDS]
# (as root; JAVA_HOME picks the JDK, default OpenJDK 17, else Temurin 25)
set -u
B=${1:-.}
ROUNDS=${2:-5}
SECS=${3:-10}
HZ=${HZ:-100}
WORKER="$B/workers/java/profd-java"
HERE=$(cd "$(dirname "$0")" && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
[ -x "$JAVA_HOME/bin/javac" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
[ -x "$JAVA_HOME/bin/javac" ] || { echo "no JDK (set JAVA_HOME)"; exit 2; }
[ -x "$WORKER" ] || { echo "no $WORKER: build first"; exit 2; }

T=$(mktemp -d /tmp/profd-bench.XXXXXX)
chmod 0755 "$T"
JVM=
trap '[ -n "$JVM" ] && kill "$JVM" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
"$JAVA_HOME/bin/javac" -d "$T" "$HERE/JavaBench.java" || exit 2
total=$((ROUNDS * (3 * SECS + 4) + 30))
"$JAVA_HOME/bin/java" -cp "$T" JavaBench "$total" >"$T/ops" 2>&1 &
JVM=$!
until grep -q ready "$T/ops"; do sleep 0.1; done
sleep 10 # JIT warm-up

# Work units per CPU second, from the "ops" lines of the next $1 seconds.
ops_for() {
	local before after
	before=$(grep -c '^ops' "$T/ops")
	sleep "$1"
	after=$(grep -c '^ops' "$T/ops")
	sed -n "$((before + 1)),${after}p" "$T/ops" | awk '{ s += $2; c += $3 } END { printf "%.1f\n", c ? s * 1e9 / c : 0 }'
}

echo "JDK: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1); $HZ Hz; $ROUNDS rounds of $SECS s"
printf "%-6s %12s %12s %12s %8s\n" round "off/cpu-s" "on/cpu-s" "off/cpu-s" "drop %"
drops=""
for r in $(seq "$ROUNDS"); do
	a=$(ops_for "$SECS")
	"$WORKER" --pid "$JVM" -d "$SECS" -f "$HZ" >"$T/col" 2>"$T/err" &
	w=$!
	sleep 1 # the attach
	b=$(ops_for $((SECS - 2)))
	wait "$w" || { cat "$T/err"; exit 2; }
	c=$(ops_for "$SECS")
	d=$(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "%.2f", 100 * (1 - 2 * b / (a + c)) }')
	samples=$(awk '{ s += $NF } END { print s + 0 }' "$T/col")
	printf "%-6s %12s %12s %12s %8s  (%s samples)\n" "$r" "$a" "$b" "$c" "$d" "$samples"
	drops="$drops $d"
done
median=$(echo "$drops" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "median throughput drop: $median % (limit 2 %)"
awk -v m="$median" 'BEGIN { exit !(m <= 2) }'
