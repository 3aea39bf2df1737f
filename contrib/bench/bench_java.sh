# profd-java at 100 Hz: the throughput drop of a CPU-bound
# JVM, as work per CPU second with and without the agent sampling, through
# contrib/bench/java_bench.sh (3 rounds of 10 s; see that script).
. "$(dirname "$0")/lib.sh"

FJAVA="Java: slowdown"
[ "$(id -u)" = 0 ] || { bench_na "$FJAVA" "<= 2 %" "needs root"; exit 0; }
[ -x "$top_builddir/workers/java/profd-java" ] ||
	{ bench_na "$FJAVA" "<= 2 %" "profd-java is not built"; exit 0; }
say "3 rounds of 10 s with and without profd-java at 100 Hz"
bash "$top_srcdir/contrib/bench/java_bench.sh" "$top_builddir" \
	"${BENCH_JAVA_ROUNDS:-3}" 10 >"$B/java.out" 2>&1
median=$(sed -n 's/^median throughput drop: \([-0-9.]*\) %.*/\1/p' "$B/java.out")
if [ -z "$median" ]; then
	cat "$B/java.out" >&2
	bench_na "$FJAVA" "<= 2 %" "the benchmark failed"
	exit 1
fi
bench_result "$FJAVA" "$(bench_fmt 2 "$median")" "%" "<= 2 %" "$(bench_le "$median" 2)"
