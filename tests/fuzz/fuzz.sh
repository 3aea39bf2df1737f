#!/bin/bash
# Builds the libFuzzer targets of tests/fuzz/ with clang and runs each for
# FUZZ_SECONDS (see `make fuzz`). Usage: fuzz.sh build|run [TARGET...]
# Environment (set by make): srcdir, builddir, FUZZ_CC, FUZZ_CFLAGS,
# FUZZ_CPPFLAGS, FUZZ_LIBS, FUZZ_SECONDS, FUZZ_RSS_MB, FUZZ_TIMEOUT, and
# LIB_common, LIB_supervisor, LIB_perf, ... (the sources of each library).
set -eu

srcdir=${srcdir:-.}
builddir=${builddir:-.}
FUZZ_CC=${FUZZ_CC:-clang-14}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-1024}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_CFLAGS=${FUZZ_CFLAGS:-"-g -O1 -fno-omit-frame-pointer \
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"}
FUZZ_CPPFLAGS=${FUZZ_CPPFLAGS:-"-I$builddir -I$srcdir/common -I$builddir/proto \
-I$srcdir/workers/perf -I$srcdir/workers/python -I$srcdir/supervisor \
-I$srcdir/workers/upload -I$srcdir/workers/java -I$srcdir/tests"}
FUZZ_LIBS=${FUZZ_LIBS:-"-lprotobuf-c -lnng -lpthread -lseccomp -lcap-ng -lz"}
bin=$builddir/tests/fuzz/bin
obj=$builddir/tests/fuzz/obj

# What each target links besides tests/fuzz/fuzz_NAME.c: sources, and
# libraries of Makefile.am by name (lib:NAME, whose sources make passes
# in LIB_NAME), rebuilt here with FUZZ_CC; lib:common goes with each.
parts() {
	case $1 in
	perf_script | perf_jit) echo lib:perf ;;
	collapsed | proto | appid) ;;
	config) echo lib:supervisor ;;
	pyreader) echo "tests/pyimage.c lib:python" ;;
	upload) echo lib:upload ;;
	heartbeat) echo "lib:upload lib:supervisor" ;;
	attach) echo lib:java ;;
	*) return 1 ;;
	esac
}
ALL="perf_script perf_jit collapsed proto config appid pyreader upload attach heartbeat"

# Compiles one source into the object directory, only when it changed.
compile() {
	local src=$1 out
	case $src in
	/*) ;;
	*) if [ -e "$srcdir/$src" ]; then src=$srcdir/$src; else
		src=$builddir/$src; fi ;; # generated, such as proto/*.pb-c.c
	esac
	out=$obj/$(echo "${src#"$srcdir"/}" | tr / _).o
	if [ ! -e "$out" ] || [ "$src" -nt "$out" ] ||
		{ [ -n "$newest_h" ] && [ "$newest_h" -nt "$out" ]; }; then
		# shellcheck disable=SC2086
		$FUZZ_CC $FUZZ_CFLAGS $FUZZ_CPPFLAGS -std=gnu11 -c "$src" \
			-o "$out" >&2 || return 1
	fi
	echo "$out"
}

# Objects are rebuilt when their source or any header changed.
# shellcheck disable=SC2012 # our own file names
newest_h=$(ls -t "$srcdir"/common/*.h "$srcdir"/workers/*/*.h \
	"$srcdir"/workers/java/agent/*.h "$srcdir"/supervisor/*.h "$srcdir"/tests/*.h "$builddir"/proto/*.h "$builddir"/config.h \
	2>/dev/null | head -n 1)

# Builds library $1 from the .c files of LIB_$1 into the object directory
# and prints the archive's path.
archive() {
	local var=LIB_$1 a=$obj/libprofd-$1.a objs="" s o

	if [ -z "${!var-}" ]; then
		echo "fuzz.sh: $var is not set (run it as make fuzz)" >&2
		return 1
	fi
	for s in ${!var}; do
		case $s in
		*.c) o=$(compile "$s") || return 1 && objs="$objs $o" ;;
		esac
	done
	rm -f "$a"
	# shellcheck disable=SC2086
	"${AR:-ar}" rcs "$a" $objs >&2 || return 1
	echo "$a"
}

build() {
	local t=$1 objs="" s o
	mkdir -p "$bin" "$obj"
	for s in tests/fuzz/fuzz_$t.c $(parts "$t") lib:common; do
		case $s in
		lib:*) o=$(archive "${s#lib:}") || return 1 ;;
		*) o=$(compile "$s") || return 1 ;;
		esac
		objs="$objs $o"
	done
	echo "  FUZZ-LD  $bin/fuzz_$t"
	# shellcheck disable=SC2086
	$FUZZ_CC $FUZZ_CFLAGS -o "$bin/fuzz_$t" $objs $FUZZ_LIBS
}

# Can FUZZ_CC build a libFuzzer program? 0, or 1 with the reason printed.
probe() {
	local d rv=0

	if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
		echo "$FUZZ_CC not found"
		return 1
	fi
	d=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' >"$d/probe.c"
	# shellcheck disable=SC2086
	if ! $FUZZ_CC $FUZZ_CFLAGS -o "$d/probe" "$d/probe.c" >"$d/err" 2>&1; then
		echo "$FUZZ_CC cannot link -fsanitize=fuzzer: $(head -n 3 "$d/err")"
		rv=1
	fi
	rm -rf "$d"
	return $rv
}

# Records target $1's result $2 (PASS, FAIL, SKIP) in fuzz_$1.trs, in
# automake's format (its log is fuzz_$1.log), and prints it with $3.
result() {
	local again=no
	[ "$2" = FAIL ] && again=yes
	printf ':test-result: %s\n:global-test-result: %s\n:recheck: %s\n:copy-in-global-log: %s\n' \
		"$2" "$2" "$again" "$again" >"$out/fuzz_$1.trs"
	echo "$2: fuzz_$1${3:+ $3}"
}

# Runs one target on a copy of its corpus (new inputs land in the work
# directory, not in the source tree); records and prints its result with
# its exec count.
run() {
	local t=$1
	local work=$builddir/tests/fuzz/work/$t log=$out/fuzz_$t.log
	mkdir -p "$work/corpus" "$work/crashes"
	echo "  FUZZ     $t for ${FUZZ_SECONDS}s"
	if ! "$bin/fuzz_$t" -max_total_time="$FUZZ_SECONDS" \
		-rss_limit_mb="$FUZZ_RSS_MB" -timeout="$FUZZ_TIMEOUT" \
		-malloc_limit_mb="$FUZZ_RSS_MB" \
		-close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$work/crashes/" \
		"$work/corpus" "$srcdir/tests/fuzz/corpus/$t" >>"$log" 2>&1; then
		result "$t" FAIL "(see $log; inputs in $work/crashes/)"
		tail -n 40 "$log"
		return 1
	fi
	result "$t" PASS "$(awk '/stat::number_of_executed_units/ { n = $2 }
		/stat::peak_rss_mb/ { r = $2 }
		END { printf "%s execs, peak RSS %s MB", n, r }' "$log")"
}

cmd=${1:-run}
shift || true
targets=${*:-$ALL}
out=$builddir/tests/fuzz
case $cmd in
build) for t in $targets; do build "$t" || exit 1; done ;;
run)
	rc=0
	mkdir -p "$out"
	for t in $targets; do
		parts "$t" >/dev/null || { echo "no fuzz target $t" >&2; exit 2; }
		rm -f "$out/fuzz_$t.trs" "$out/fuzz_$t.log"
	done
	# No compiler or no libFuzzer: every target says SKIP, and why.
	if ! why=$(probe); then
		for t in $targets; do
			echo "$why" >"$out/fuzz_$t.log"
			result "$t" SKIP "($why)"
		done
		exit 0
	fi
	for t in $targets; do
		if ! build "$t" >"$out/fuzz_$t.log" 2>&1; then
			cat "$out/fuzz_$t.log"
			result "$t" FAIL "(does not build)"
			rc=1
		elif ! run "$t"; then
			rc=1
		fi
	done
	exit $rc
	;;
*)
	echo "usage: fuzz.sh build|run [TARGET...]" >&2
	exit 2
	;;
esac
