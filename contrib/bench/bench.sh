#!/bin/bash
# Runs profd's benchmarks and prints one table: figure, value, target,
# result. Exits 1 if a target is missed or a benchmark fails.
#
# usage: bench.sh [NAME...]
# Without NAME, every contrib/bench/bench_*.sh runs, one after the other,
# and each figure of contrib/bench/figures that none reported shows as
# "n/a (not built yet)"; with NAMEs, only bench_NAME.sh (e.g. perf_parse),
# or every bench_NAME_*.sh where there is no bench_NAME.sh (fidelity runs
# fidelity_java and fidelity_python).
# A benchmark is one script that sources lib.sh and prints result lines
# "figure|value|unit|target|verdict" on standard output (see lib.sh).
# Environment: BENCH_RUNS (runs per figure, default 3); BENCH_WINDOWS,
# BENCH_LARGE_MIB, BENCH_RECORD_S (smaller runs, see the scripts); top_builddir,
# top_srcdir (set by `make bench`).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_builddir top_srcdir

res=$(mktemp /tmp/profd-bench-results.XXXXXX)
trap 'rm -f "$res" "$res.out"' EXIT
trap 'exit 1' INT TERM

if [ $# -gt 0 ]; then
	scripts=""
	for n in "$@"; do
		if [ -f "$here/bench_$n.sh" ]; then
			scripts="$scripts $here/bench_$n.sh"
		elif ls "$here/bench_${n}"_*.sh >/dev/null 2>&1; then
			scripts="$scripts $(ls "$here/bench_${n}"_*.sh)"
		else
			echo "bench.sh: no benchmark $here/bench_$n.sh" >&2
			exit 2
		fi
	done
else
	scripts=$(ls "$here"/bench_*.sh)
fi

LINE_RE='^[^|]+\|[^|]*\|[^|]*\|[^|]*\|(pass|miss|n/a|-)$'
for s in $scripts; do
	name=$(basename "$s" .sh)
	name=${name#bench_}
	echo "bench: $name" >&2
	t0=$SECONDS
	BENCH_NAME=$name bash "$s" >"$res.out"
	rv=$?
	grep -E "$LINE_RE" "$res.out" >>"$res"
	grep -vE "$LINE_RE" "$res.out" >&2
	if [ "$rv" != 0 ]; then
		echo "bench_$name.sh|exited with status $rv||-|error" >>"$res"
	fi
	echo "bench: $name took $((SECONDS - t0)) s" >&2
done

# The catalogue's figures first, in its order, then any others.
awk -F'|' -v all=$(($# == 0)) '
	FNR == NR {
		if ($0 ~ /^#/ || NF < 2) next
		order[++n] = $1; target[$1] = $2; next
	}
	!($1 in got) {
		got[$1] = 1; line[$1] = $0
		if (!($1 in target)) extra[++m] = $1
	}
	END {
		for (i = 1; i <= n; i++) {
			f = order[i]
			if (f in got) print line[f]
			else if (all) print f "|n/a (not built yet)||" target[f] "|n/a"
		}
		for (i = 1; i <= m; i++) print line[extra[i]]
	}' "$here/figures" "$res" >"$res.out"

echo
echo "profd benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores," \
	"$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
awk -F'|' '
	{ f[NR] = $1; v[NR] = $3 == "" ? $2 : $2 " " $3; t[NR] = $4; r[NR] = $5
	  if (length(f[NR]) > wf) wf = length(f[NR])
	  if (length(v[NR]) > wv) wv = length(v[NR])
	  if (length(t[NR]) > wt) wt = length(t[NR]) }
	END {
		if (wf < 6) wf = 6; if (wv < 5) wv = 5; if (wt < 6) wt = 6
		fmt = "%-" wf "s  %-" wv "s  %-" wt "s  %s\n"
		printf fmt, "figure", "value", "target", "result"
		printf fmt, rep(wf), rep(wv), rep(wt), rep(6)
		for (i = 1; i <= NR; i++) printf fmt, f[i], v[i], t[i], r[i]
	}
	function rep(k,   s) { s = ""; while (k-- > 0) s = s "-"; return s }
' "$res.out"

awk -F'|' '{ c[$5]++ }
	END { printf "\n%d pass, %d miss, %d n/a, %d error\n",
	      c["pass"], c["miss"], c["n/a"], c["error"]
	      exit (c["miss"] + c["error"] > 0) }' "$res.out"
