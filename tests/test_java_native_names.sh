# Native frames of the JDK's own libraries are named by their function,
# also the static ones that only a library's .symtab knows (libjava's
# fileOpen and readSingle, under FileInputStream.open0 and read0), on
# JDK 17 and 25 (each skipped when absent): tests/fixtures/JavaFileIO.java.
# The names expected are read from the library itself: its local functions,
# which dladdr cannot name (what the agent did before: [libjava.so+0x...]).
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker
command -v readelf >/dev/null || skip "readelf (binutils) is needed"

FIX="$top_srcdir/tests/fixtures/JavaFileIO.java"
echo data >"$T/data"
chmod 0644 "$T/data"

# Runs JavaFileIO on JDK $1 and profiles it into $3 for 5 s (times SLOW).
profile_io() {
	"$1/bin/java" -Xmx32m -cp "$T/classes-$2" JavaFileIO "$T/data" $((60 * SLOW)) \
		>"$T/jvm$2.out" 2>&1 &
	JVM=$!
	track "$JVM"
	wait_ready "$T/jvm$2.out"
	sleep 2 # past the start, into compiled code
	timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$JVM" -d $((5 * SLOW)) -f 100 -v \
		--java-agent "$JAVA_AGENT" >"$3" 2>"$T/io$2.err"
	rv=$?
	[ "$rv" = 0 ] || { cat "$T/io$2.err"; fail "JDK $2: profd-java exited with $rv"; }
	grep 'JVM [0-9]* window' "$T/io$2.err"
	kill "$JVM"
	wait "$JVM" 2>/dev/null
}

check_jdk() {
	home=$1 v=$2 col="$T/io$2.col"
	lib="$home/lib/libjava.so"
	[ -f "$lib" ] || fail "JDK $v has no $lib"
	# Functions of libjava's .symtab that its .dynsym does not have.
	readelf -W --dyn-syms "$lib" | awk '$4 == "FUNC" && $7 != "UND" { print $8 }' |
		sed 's/@.*//' | sort -u >"$T/dyn$v"
	readelf -sW "$lib" | awk '$4 == "FUNC" && $5 == "LOCAL" { print $8 }' |
		sort -u | comm -23 - "$T/dyn$v" >"$T/local$v"
	grep -qx fileOpen "$T/local$v" ||
		skip "JDK $v: libjava's .symtab has no local fileOpen (stripped?)"
	mkdir -p "$T/classes-$v"
	chmod 0755 "$T/classes-$v"
	"$home/bin/javac" -d "$T/classes-$v" "$FIX" || fail "javac of JDK $v failed"
	# Another profd-java on the host (a test beside this one) may load its
	# agent into the JVM first: then a new JVM, up to 4 times.
	for try in 1 2 3 4; do
		profile_io "$home" "$v" "$col"
		other_java_owner "$col" "$T/io$v.err" || break
		echo "try $try: the JVM was taken"
	done
	# The frame right under a native file method, and how often.
	sed -n 's/.*java\.io\.File\(InputStream\|Descriptor\)\.\(open0\|read0\|close0\)_\[[01ji]\];\([^;]*\).* \([0-9]*\)$/\3 \4/p' "$col" |
		awk '{ n[$1] += $2 } END { for (f in n) print f, n[f] }' | sort -k2 -nr >"$T/under$v"
	echo "JDK $v: frames under the native file methods:"
	head -8 "$T/under$v" | sed 's/^/  /'
	named=$(awk 'NR == FNR { l[$1] = 1; next } ($1 in l) { s += $2 } END { print s + 0 }' "$T/local$v" "$T/under$v")
	raw=$(awk '$1 ~ /^\[libjava\.so\+0x/ { s += $2 } END { print s + 0 }' "$T/under$v")
	all=$(awk '{ s += $2 } END { print s + 0 }' "$T/under$v")
	echo "JDK $v: $named samples named by libjava's local functions, $raw as [libjava.so+0x...], of $all"
	# About 200 of 450 here. The two that must be there, right under
	# their native methods (a wrong load bias would give other names):
	fo=$(count_matching "$col" 'FileInputStream\.open0_\[[01ji]\];fileOpen[; ]')
	rs=$(count_matching "$col" 'FileInputStream\.read0_\[[01ji]\];readSingle[; ]')
	echo "JDK $v: open0 -> fileOpen $fo, read0 -> readSingle $rs"
	[ "$fo" -ge 5 ] && [ "$rs" -ge 5 ] ||
		fail "JDK $v: libjava's fileOpen or readSingle is not named"
	[ "$named" -ge 20 ] || fail "JDK $v: libjava's static functions are not named"
	[ "$raw" -le $((named / 10)) ] || fail "JDK $v: libjava frames left unnamed"
	pass "JDK $v: libjava's static functions are named by its .symtab"
}

ran=0
for jdk in "$JDK17:17" "$JDK25:25"; do
	home=${jdk%:*} v=${jdk##*:}
	[ -x "$home/bin/javac" ] || { echo "JDK $v is not installed: skipped"; continue; }
	check_jdk "$home" "$v"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "neither JDK 17 nor Temurin 25 is installed"
