# Java fidelity: profd-java beside JFR on a real program nobody
# here wrote, the JDK's javac compiling java.util of openjdk-17-source
# (Debian's package; n/a without it) in a loop in one JVM, on JDK 17 and
# Temurin 25 (n/a when absent). JFR (settings=profile, jdk.ExecutionSample
# every 10 ms) and profd-java at 100 Hz sample the same JVM over the same
# window from its start; an identical run with JFR alone follows, for JFR
# against itself. On JDK 25 two more identical runs use JFR's CPU-time
# sampler (jdk.CPUTimeSample every 10 ms of a thread's CPU time, as
# profd-java's timers): it takes SIGPROF, as profd-java's agent does, so
# the two cannot share a JVM. Printed per JDK: samples each, the overlap
# of the ten leaf methods with the most samples, the largest difference
# of a leaf's share among them, and profd's error/unknown shares.
# Every JVM runs with -XX:+DebugNonSafepoints: a JVM records where inlined
# code lies between its safepoints only for an agent that asked for the
# JIT's CompiledMethodLoad events (profd-java's does, so HotSpot turns the
# flag on by itself) or with this flag; without it JFR alone puts a
# compiled leaf at the nearest safepoint's method (in a run here 6 % of
# JFR's samples were Type.hasTag without the flag, 2.4 % with it), and the
# runs with and without profd would not be identical.
# And at the level of the code the CPU ran, against a view no Java
# profiler makes: perf's cpu-clock sampling the same JVM (user-space frame
# of each sample), each address named by the JVM's perf map dumped every
# 2 s (contrib/bench/jvm_code_ref.py): a compiled method with everything
# inlined into it, the interpreter, stubs, native functions. This view
# exists on JDK 17 too, which has no CPU-time sampler of its own; perf in
# the identical JFR-alone run gives perf against itself.
# Environment: BENCH_FIDELITY_S (window, default 60),
# BENCH_FIDELITY_JDKS ("HOME:VERSION ..."), BENCH_FIDELITY_KEEP (a
# directory that keeps each JDK's leaf lists, profd's output and JFR's
# recordings).
. "$(dirname "$0")/lib.sh"

SECS=${BENCH_FIDELITY_S:-60}
SRCZIP=/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip
JDKS=${BENCH_FIDELITY_JDKS:-/usr/lib/jvm/java-17-openjdk-amd64:17 /usr/lib/jvm/temurin-25-jdk-amd64:25}
JAVA_WORKER="$top_builddir/workers/java/profd-java"
JAVA_AGENT="$top_builddir/workers/java/libprofd-jvmti.so"
CODE_REF="$top_srcdir/contrib/bench/jvm_code_ref.py"

na_all() {
	for jdk in $JDKS; do
		v=${jdk##*:}
		bench_na "Java $v fidelity: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "$1"
	done
	exit 0
}
[ "$(id -u)" = 0 ] || na_all "needs root"
[ -x "$JAVA_WORKER" ] || na_all "profd-java is not built"
[ -f "$SRCZIP" ] && command -v unzip >/dev/null 2>&1 ||
	na_all "openjdk-17-source (or unzip) is not installed"

mkdir -p "$B/src"
unzip -q "$SRCZIP" 'java.base/java/util/*' -d "$B/src" ||
	na_all "cannot unpack $SRCZIP"
find "$B/src/java.base/java/util" -maxdepth 1 -name '*.java' >"$B/files"

# jfr_leaves HOME FILE EVENT [exact]: the first frame of each EVENT's
# stack, as "package.Class.method" (hidden classes' per-run parts cut as
# profd does); with exact, without the samples JFR marks "biased" (its
# metadata: "The sample is safepoint-biased", taken at the next
# safepoint because the exact place could not be walked).
jfr_leaves() {
	"$1/bin/jfr" print --events "$3" "$2" | awk -v exact="${4:-}" '
		/^jdk\./ { b = "false" }
		/biased = / { b = $3 }
		/stackTrace = \[/ { getline; s = $0; sub(/^[ \t]*/, "", s)
			sub(/\(.*$/, "", s); sub(/[ \t].*$/, "", s)
			gsub(/\$\$Lambda(\$[0-9]+)?([.\/+]0x[0-9a-f]+)?/, "$$Lambda", s)
			if (exact == "" || b != "true") print s }' |
		sort | uniq -c | awk '{ print $2, $1 }'
}

# profd's leaves: the last Java frame of each Java stack (a stub popped
# on top, or the VM's frames above a stack taken in the VM, are skipped),
# without its type and line. With java, only the stacks taken while the
# thread ran Java code (no native frame on top): what JFR's execution
# sampler looks at.
profd_leaves() {
	awk -v java="${2:-}" '{ n = $NF; st = $0; sub(/ [0-9]+$/, "", st)
		k = split(st, f, ";")
		if (k < 2 || f[2] ~ /^\[/) next
		if (java != "" && f[k] !~ /_\[[01ji]\]$/ && f[k] !~ /^\[/) next
		for (i = k; i > 1 && f[i] !~ /_\[[01ji]\]$/; i--) ;
		if (i < 2) next
		s = f[i]; sub(/_\[[01ji]\]$/, "", s); sub(/:[0-9]+$/, "", s)
		c[s] += n }
		END { for (s in c) print s, c[s] }' "$1"
}

# compare A B: "overlap maxdiff" of the top-10 leaves of two leaf files.
compare() {
	awk 'FNR == 1 { fi++ }
		{ cnt[fi, $1] = $2; tot[fi] += $2; names[$1] = 1 }
		END {
			for (f = 1; f <= 2; f++) {
				n = 0
				for (s in names) if ((f, s) in cnt) { k[++n] = s }
				# top 10 by count (selection; the lists are short)
				for (i = 1; i <= 10 && i <= n; i++) {
					b = i
					for (j = i + 1; j <= n; j++)
						if (cnt[f, k[j]] > cnt[f, k[b]]) b = j
					t = k[i]; k[i] = k[b]; k[b] = t
					top[f, k[i]] = 1; un[k[i]] = 1
				}
				delete k
			}
			ov = 0; md = 0
			for (s in un) {
				if ((1, s) in top && (2, s) in top) ov++
				d = 100 * (cnt[1, s] / tot[1] - cnt[2, s] / tot[2])
				if (d < 0) d = -d
				if (d > md) md = d
			}
			printf "%d %.1f\n", ov, md
		}' "$1" "$2"
}

# run_jvm JDK_HOME V NAME: starts JavacLoop, waits for it; sets JVM.
run_jvm() {
	flags="-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
	[ "$2" -ge 21 ] && flags="$flags -XX:+EnableDynamicAgentLoading"
	# shellcheck disable=SC2086
	"$1/bin/java" $flags -cp "$B/drv$2" JavacLoop $((SECS + 60)) \
		"$B/src/java.base" "$B/out$2" "$B/files" >"$B/$3.out" 2>&1 &
	JVM=$!
	bench_track "$JVM"
	for _ in $(seq 300); do
		grep -q ready "$B/$3.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# perf_start RUN V: perf's cpu-clock on $JVM for the window, and its perf
# map every 2 s; perf_end RUN V: their code view in $B/cRUN$V.
perf_start() {
	PERF_REF=""
	command -v perf >/dev/null 2>&1 || return 0
	mkdir -p "$B/maps$1$2"
	perf record -q -e cpu-clock -c 10000000 -g -k CLOCK_MONOTONIC \
		-p "$JVM" -o "$B/perf$1$2.data" -- sleep "$SECS" \
		>"$B/perf$1$2.err" 2>&1 &
	PERF_REF=$!
	python3 "$CODE_REF" dump "$JVM" "$B/maps$1$2" "$SECS" 2>>"$B/perf$1$2.err" &
	PERF_MAPS=$!
	bench_track "$PERF_REF" "$PERF_MAPS"
}
perf_end() {
	[ -n "$PERF_REF" ] || return 0
	wait "$PERF_REF" "$PERF_MAPS" 2>/dev/null
	# perf script must not name the JIT's code from the last map alone.
	rm -f "/tmp/perf-$JVM.map"
	perf script --ns -i "$B/perf$1$2.data" -F time,ip,sym,dso 2>/dev/null |
		python3 "$CODE_REF" leaves "$B/maps$1$2" >"$B/c$1$2"
}

# jfr_alone JDK_HOME V RUN SETTINGS: an identical run with JFR alone,
# recording to $B/RUN$V.jfr.
jfr_alone() {
	run_jvm "$1" "$2" "jvm$2$3" || { bench_na "Java $2 fidelity: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "the JVM did not start"; return 1; }
	# shellcheck disable=SC2086
	"$1/bin/jcmd" "$JVM" JFR.start name=fid settings=profile $4 \
		filename="$B/$3$2.jfr" >/dev/null
	[ "$3" = b ] && perf_start "$3" "$2"
	sleep "$SECS"
	"$1/bin/jcmd" "$JVM" JFR.stop name=fid >/dev/null
	[ "$3" = b ] && perf_end "$3" "$2"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
	return 0
}
CPU_SETTINGS="jdk.ExecutionSample#enabled=false jdk.CPUTimeSample#enabled=true jdk.CPUTimeSample#throttle=10ms"

# Both sample from the JVM's start: profd-java attaches at once (a JVM
# left alone for long may be taken by another profd on the host), and
# JFR starts with it, so that both see the same warm-up and steady state.
fidelity() {
	home=$1 v=$2
	F="Java $v fidelity"
	[ -x "$home/bin/jcmd" ] || { bench_na "$F: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "JDK $v is not installed"; return; }
	mkdir -p "$B/drv$v" "$B/out$v"
	chmod 0755 "$B" "$B/drv$v"
	"$home/bin/javac" -d "$B/drv$v" "$top_srcdir/contrib/bench/JavacLoop.java" ||
		{ bench_na "$F: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "javac failed"; return; }
	say "JDK $v: javac in a loop, ${SECS} s: profd-java with JFR, then JFR alone"
	run_jvm "$home" "$v" "jvm$v" || { bench_na "$F: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "the JVM did not start"; return; }
	"$home/bin/jcmd" "$JVM" JFR.start name=fid settings=profile \
		filename="$B/a$v.jfr" >/dev/null &
	jcmd=$!
	perf_start a "$v"
	# Windows of 60 s at most: a window of javac's deep stacks at 100 Hz
	# is 10 to 14 MB of text, and a dump is read up to 16 MiB.
	: >"$B/p$v.col"
	: >"$B/p$v.err"
	left=$SECS
	while [ "$left" -gt 0 ]; do
		d=$((left > 60 ? 60 : left))
		"$JAVA_WORKER" --pid "$JVM" -d "$d" -f 100 -v \
			--java-agent "$JAVA_AGENT" >>"$B/p$v.col" 2>>"$B/p$v.err"
		left=$((left - d))
	done
	if grep -q 'were not read' "$B/p$v.err"; then
		grep 'were not read' "$B/p$v.err" >&2
		say "JDK $v: profd-java lost samples to the dump size limit"
	fi
	wait "$jcmd"
	"$home/bin/jcmd" "$JVM" JFR.stop name=fid >/dev/null
	perf_end a "$v"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
	# The same run again, JFR alone: JFR against itself.
	jfr_alone "$home" "$v" b "" || return
	# On 25, JFR's CPU-time sampler alone, twice.
	if [ "$v" -ge 25 ]; then
		jfr_alone "$home" "$v" c "$CPU_SETTINGS" || return
		jfr_alone "$home" "$v" d "$CPU_SETTINGS" || return
	fi
	if ! grep -q 'window' "$B/p$v.err"; then
		cat "$B/p$v.err" >&2
		bench_na "$F: leaf top-10 overlap with JFR's execution sampler" ">= 8/10" "profd-java did not profile the JVM (see above)"
		return
	fi

	jfr_leaves "$home" "$B/a$v.jfr" jdk.ExecutionSample >"$B/ja$v"
	jfr_leaves "$home" "$B/b$v.jfr" jdk.ExecutionSample >"$B/jb$v"
	profd_leaves "$B/p$v.col" >"$B/pl$v"
	profd_leaves "$B/p$v.col" java >"$B/plj$v"
	js=$(awk '{ s += $2 } END { print s + 0 }' "$B/ja$v")
	ps=$(awk '{ s += $2 } END { print s + 0 }' "$B/pl$v")
	all=$(awk '{ s += $NF } END { print s + 0 }' "$B/p$v.col")
	err=$(grep '\[error ' "$B/p$v.col" | awk '{ s += $NF } END { print s + 0 }')
	unk=$(grep -E '^[^;]*;\[error (unknown|not walkable) Java\]' "$B/p$v.col" | awk '{ s += $NF } END { print s + 0 }')
	ush=$(awk -v u="$unk" -v t="$((ps + unk))" 'BEGIN { printf "%.1f", t ? 100 * u / t : 0 }')
	read -r ov md <<<"$(compare "$B/plj$v" "$B/ja$v")"
	read -r jov jmd <<<"$(compare "$B/jb$v" "$B/ja$v")"
	grep 'window' "$B/p$v.err" | sed 's/^/  /' >&2
	say "JDK $v: profd leaves:"; sort -k2 -nr "$B/pl$v" | head -10 | sed 's/^/    /' >&2
	say "JDK $v: JFR leaves:"; sort -k2 -nr "$B/ja$v" | head -10 | sed 's/^/    /' >&2
	bench_result "$F: samples, profd-java (in Java code) / JFR's execution sampler" \
		"$ps ($(awk '{ s += $2 } END { print s + 0 }' "$B/plj$v")) / $js" "" "-" "-"
	bench_result "$F: leaf top-10 overlap with JFR's execution sampler" "$ov/10" "" \
		">= 8/10 (JFR/JFR: $jov/10)" "$([ "$ov" -ge 8 ] && echo pass || echo miss)"
	bench_result "$F: largest leaf share difference with JFR's execution sampler" "$md" \
		"points" "<= 3 (JFR/JFR: $jmd)" "$(bench_le "$md" 3)"
	[ "$v" -ge 25 ] && cpu_compare "$home" "$v"
	code_compare "$home" "$v"
	bench_result "$F: [error unknown Java] and [error not walkable Java]: share of Java samples" \
		"$ush" "%" "<= 5 %" "$(bench_le "$ush" 5)"
	bench_result "$F: [error ...] share of all samples" \
		"$(awk -v e="$err" -v t="$all" 'BEGIN { printf "%.1f", t ? 100 * e / t : 0 }')" "%" "-" "-"
}

# cpu_compare HOME V: profd's leaves against JFR's CPU-time sampler, and
# that sampler against itself (two identical runs): all of its samples,
# and its exact ones (the safepoint-biased ones left out).
cpu_compare() {
	F="Java $2 fidelity"
	for r in c d; do
		jfr_leaves "$1" "$B/$r$2.jfr" jdk.CPUTimeSample >"$B/j$r$2"
		jfr_leaves "$1" "$B/$r$2.jfr" jdk.CPUTimeSample exact >"$B/j${r}x$2"
	done
	cs=$(awk '{ s += $2 } END { print s + 0 }' "$B/jc$2")
	cx=$(awk '{ s += $2 } END { print s + 0 }' "$B/jcx$2")
	say "JDK $2: JFR CPU-time leaves (exact):"; sort -k2 -nr "$B/jcx$2" | head -10 | sed 's/^/    /' >&2
	bench_result "$F: samples, JFR CPU-time sampler (exact)" "$cs ($cx)" "" "-" "-"
	for x in "" x; do
		read -r cov cmd <<<"$(compare "$B/pl$2" "$B/jc$x$2")"
		read -r jcov jcmd <<<"$(compare "$B/jd$x$2" "$B/jc$x$2")"
		what="JFR's CPU-time sampler"
		[ -n "$x" ] && what="$what, its exact samples"
		bench_result "$F: leaf top-10 overlap with $what" "$cov/10" "" \
			">= 8/10 (JFR/JFR: $jcov/10)" "$([ "$cov" -ge 8 ] && echo pass || echo miss)"
		bench_result "$F: largest leaf share difference with $what" "$cmd" "points" \
			"<= 3 (JFR/JFR: $jcmd)" "$(bench_le "$cmd" 3)"
	done
}

# code_compare HOME V: profd's stacks at the code the CPU ran against
# perf's view of the same JVM, and perf's of the identical run against it.
code_compare() {
	local home=$1 v=$2 ov md pov pmd pa un
	F="Java $v fidelity"
	what="perf's cpu-clock by compiled method, same JVM"
	if [ ! -s "$B/ca$v" ]; then
		bench_na "$F: top-10 overlap with $what" ">= 8/10" "perf did not record (see $B/perfa$v.err)"
		return
	fi
	python3 "$CODE_REF" profd "$B/p$v.col" "$home/lib/server/libjvm.so" >"$B/cp$v"
	say "JDK $v: perf's cpu-clock by compiled method:"; sort -k2 -nr "$B/ca$v" | head -10 | sed 's/^/    /' >&2
	say "JDK $v: profd by compiled method:"; sort -k2 -nr "$B/cp$v" | head -10 | sed 's/^/    /' >&2
	read -r ov md <<<"$(compare "$B/cp$v" "$B/ca$v")"
	read -r pov pmd <<<"$(compare "$B/cb$v" "$B/ca$v")"
	pa=$(awk '{ s += $2 } END { print s + 0 }' "$B/ca$v")
	un=$(awk '$1 == "[unmapped]" { s += $2 } END { print s + 0 }' "$B/ca$v")
	bench_result "$F: samples, profd-java / perf's cpu-clock (JIT code no map named)" \
		"$(awk '{ s += $2 } END { print s + 0 }' "$B/cp$v") / $pa ($un)" "" "-" "-"
	bench_result "$F: top-10 overlap with $what" "$ov/10" "" \
		">= 8/10 (perf/perf: $pov/10)" "$([ "$ov" -ge 8 ] && echo pass || echo miss)"
	bench_result "$F: largest share difference with $what" "$md" "points" \
		"<= 3 (perf/perf: $pmd)" "$(bench_le "$md" 3)"
	# The same, among compiled and inlined Java code only.
	for f in cp ca cb; do java_only "$B/$f$v" >"$B/${f}j$v"; done
	read -r ov md <<<"$(compare "$B/cpj$v" "$B/caj$v")"
	read -r pov pmd <<<"$(compare "$B/cbj$v" "$B/caj$v")"
	what="perf's cpu-clock by compiled Java method, same JVM"
	bench_result "$F: top-10 overlap with $what" "$ov/10" "" \
		">= 8/10 (perf/perf: $pov/10)" "$([ "$ov" -ge 8 ] && echo pass || echo miss)"
	bench_result "$F: largest share difference with $what" "$md" "points" \
		"<= 3 (perf/perf: $pmd)" "$(bench_le "$md" 3)"
	# The peer's own view the same way: JFR's execution sampler, same JVM.
	python3 "$CODE_REF" jfr "$home/bin/jfr" "$B/a$v.jfr" jdk.ExecutionSample |
		java_only /dev/stdin >"$B/cjj$v"
	read -r ov md <<<"$(compare "$B/cjj$v" "$B/caj$v")"
	bench_result "$F: JFR's execution sampler against $what" "$ov/10, $md points" "" "-" "-"
}
# java_only FILE: the Java methods of a code view (not [...], not C++).
java_only() { awk '$1 !~ /^\[/ && $1 !~ /::/ && $1 ~ /\./' "$1"; }


for jdk in $JDKS; do
	fidelity "${jdk%:*}" "${jdk##*:}"
	if [ -n "${BENCH_FIDELITY_KEEP:-}" ]; then
		mkdir -p "$BENCH_FIDELITY_KEEP"
		v=${jdk##*:}
		for f in pl plj ja jb jc jd jcx jdx ca cb cp caj cbj cpj cjj; do
			cp "$B/$f$v" "$BENCH_FIDELITY_KEEP/" 2>/dev/null
		done
		cp -r "$B/p$v.col" "$B/p$v.err" "$B"/[abcd]"$v.jfr" \
			"$B"/perf[ab]"$v".data "$B"/maps[ab]"$v" \
			"$BENCH_FIDELITY_KEEP/" 2>/dev/null
	fi
done
