# profd-python's fidelity: profd-python beside a peer sampling
# the same process at the same time, at the same rate.
#  - Every CPython 3.8-3.13 here runs tests/fixtures/py_short_calls.py
#    (many tiny Python calls against long C calls), whose own timing is a
#    deterministic estimate of the short phase's share: profd-python's
#    share is compared with it.
#  - Austin (Debian's `austin`, which reads CPython <= 3.8 only) samples
#    the same processes where the interpreter is 3.8 or older, on the
#    fixture and on a standard-library workload (json, re, difflib,
#    textwrap, statistics): samples each, top-10 leaf functions in common,
#    the largest difference of a leaf's share, and the share of
#    error/unknown samples. Without such an interpreter, or without
#    austin, the Austin pairs print as n/a with the reason.
# Environment: BENCH_FID_SECONDS (default 10), BENCH_FID_HZ (default 99).
. "$(dirname "$0")/lib.sh"

PYTHON_WORKER="$top_builddir/workers/python/profd-python"
FIX="$top_srcdir/tests/fixtures/py_short_calls.py"
SECS=${BENCH_FID_SECONDS:-10}
HZ=${BENCH_FID_HZ:-99}

[ "$(id -u)" = 0 ] || { bench_na "Python fidelity" "-" "needs root"; exit 0; }
[ -x "$PYTHON_WORKER" ] || { bench_na "Python fidelity" "-" "profd-python is not built"; exit 0; }

# A standard-library workload nobody here tuned for a profiler.
cat >"$B/stdlib_work.py" <<'PYEOF'
import difflib, json, re, statistics, sys, textwrap, time
text = open(json.__file__).read() * 3
words = re.findall(r"[A-Za-z_]+", text)
doc = {"k%d" % i: {"w": words[i % len(words)], "n": [i, i * 2.5, str(i)]}
       for i in range(3000)}
a, b = text.splitlines()[:400], text.splitlines()[5:405]
print("ready", flush=True)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    json.loads(json.dumps(doc))
    re.sub(r"(\w+)\s+(\w+)", r"\2 \1", text[:20000])
    list(difflib.unified_diff(a, b))
    textwrap.fill(text[:8000], 60)
    statistics.pstdev(range(20000))
PYEOF

# start_py PYTHON OUT ARGS...: starts a Python program; sets PID.
start_py() {
	local py=$1 out=$2
	shift 2
	"$py" "$@" >"$out" 2>&1 &
	PID=$!
	bench_track "$PID"
	for _ in $(seq 150); do
		grep -q ready "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Leaf functions of profd-python's collapsed output $1, with counts.
profd_leaves() {
	awk '{ n = $NF; $NF = ""; k = split($0, f, ";"); leaf = f[k]
	       sub(/ \(.*$/, "", leaf); sub(/ $/, "", leaf); c[leaf] += n }
	     END { for (l in c) print c[l], l }' "$1" | sort -rn
}

# Leaf functions of Austin's output $1 (one sample a line:
# "Thread T;fn (file);L12;... TIME"), with counts.
austin_leaves() {
	grep '^Thread' "$1" | awk '{ $NF = ""; k = split($0, f, ";")
	       leaf = f[k]; if (leaf ~ /^L[0-9]+ ?$/) leaf = f[k - 1]
	       sub(/ \(.*$/, "", leaf); if (k < 2) leaf = "[idle]"; c[leaf]++ }
	     END { for (l in c) print c[l], l }' | sort -rn
}

# compare LABEL A B [-]: top-10 overlap and largest share difference of
# the leaf lists A and B ("count name" lines); with "-", no targets (the
# fixture has fewer than 10 leaves that matter: its tail is noise).
compare() {
	awk -v label="$1" -v notarget="${4:-}" '
		FNR == 1 { f++ }
		{ n = $1; $1 = ""; sub(/^ /, ""); c[f, $0] += n; tot[f] += n
		  if (FNR <= 10) top[f, $0] = 1; names[$0] = 1 }
		END {
			for (k in names) {
				if (top[1, k] && top[2, k]) common++
				d = 100 * c[1, k] / tot[1] - 100 * c[2, k] / tot[2]
				if (d < 0) d = -d
				if (d > maxd) { maxd = d; which = k }
			}
			v1 = (common >= 8) ? "pass" : "miss"
			v2 = (maxd <= 3) ? "pass" : "miss"
			t1 = ">= 8/10"; t2 = "<= 3"
			if (notarget != "") { v1 = v2 = t1 = t2 = "-" }
			printf "%s|%d/10||%s|%s\n", label " top-10 leaves in common", common, t1, v1
			printf "%s|%.1f (%s)|points|%s|%s\n", label " largest leaf share difference", maxd, which, t2, v2
		}' "$2" "$3"
}

# share FILE REGEX: percent of the samples of collapsed FILE matching REGEX.
share() {
	awk -v re="$2" '{ t += $NF; if ($0 ~ re) m += $NF }
		END { printf "%.1f\n", t ? 100 * m / t : 0 }' "$1"
}

ERR_RE='\[torn stack\]|\[unknown code\]|\[truncated\]|\[Profiling error'

# run_pair PYTHON LABEL PROGRAM ARGS...: profd-python (and Austin where it
# can read the interpreter) on one run of PROGRAM.
run_pair() {
	local py=$1 label=$2 austin=""
	shift 2
	start_py "$py" "$B/prog.out" "$@" || { bench_na "$label" "-" "program did not start"; return; }
	sleep 1
	before=$(cat "$B/est" 2>/dev/null)
	if [ -n "$AUSTIN_OK" ]; then
		timeout -s INT "$SECS" austin -i $((1000000 / HZ)) -s -p "$PID" \
			-o "$B/austin.out" >"$B/austin.err" 2>&1 &
		austin=$!
		bench_track "$austin"
	fi
	timeout -k 5 $((SECS + 30)) "$PYTHON_WORKER" --pid "$PID" -d "$SECS" \
		-f "$HZ" -v >"$B/profd.col" 2>"$B/profd.err"
	[ -n "$austin" ] && wait "$austin" 2>/dev/null
	after=$(cat "$B/est" 2>/dev/null)
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	n=$(awk '{ s += $NF } END { print s + 0 }' "$B/profd.col")
	line=$(grep -o 'window [0-9]*: .*' "$B/profd.err" | head -1 | sed 's/^window [0-9]*: //')
	ticks=$(echo "$line" | tr ' ' '\n' | sed -n 's/^target_ticks=//p')
	nos=$(echo "$line" | tr ' ' '\n' | sed -n 's/^no_sample=//p')
	late=$(echo "$line" | tr ' ()' '\n\n\n' | sed -n 's/^late=//p')
	bench_result "$label: profd-python samples" "$n (ticks $ticks, without a sample ${nos:-?}, late ${late:-?})" "" "-" "-"
	bench_result "$label: profd-python error/unknown samples" "$(share "$B/profd.col" "$ERR_RE")" "%" "-" "-"
	pct=$(awk -v t="${ticks:-0}" -v n="${nos:-0}" -v l="${late:-0}" 'BEGIN { printf "%.1f", (t > l) ? 100 * (n - l) / (t - l) : 100 }')
	bench_result "$label: profd-python ticks without a sample (late ones aside)" "$pct" "%" "<= 1" "$(bench_le "$pct" 1)"
	bench_result "$label: profd-python ticks missed late (machine busy)" \
		"$(awk -v t="${ticks:-0}" -v l="${late:-0}" 'BEGIN { printf "%.1f", t ? 100 * l / t : 0 }')" "%" "-" "-"
	say "$label: profd-python: $line"
	if [ -n "$before" ] && [ -n "$after" ]; then
		short=$(grep -E ';short_calls \(' "$B/profd.col" | awk '{ s += $NF } END { print s + 0 }')
		long=$(grep -E ';long_c_calls \(' "$B/profd.col" | awk '{ s += $NF } END { print s + 0 }')
		read -r est got dev <<EOF
$(echo "$before $after $short $long" | awk '{ ds = $5 - $1; dl = $6 - $2
	est = 100 * ds / (ds + dl); got = ($9 + $10) ? 100 * $9 / ($9 + $10) : 0
	printf "%.1f %.1f %.1f\n", est, got, est ? 100 * (got - est) / est : 100 }')
EOF
		bench_result "$label: short calls' share, profd-python vs estimate" "$got % vs $est % (${dev} % off)" "" "+-25 %" \
			"$(bench_le "$(echo "$dev" | tr -d -)" 25)"
	fi
	if [ -n "$austin" ]; then
		an=$(grep -c '^Thread' "$B/austin.out")
		bench_result "$label: Austin samples" "$an" "" "-" "-"
		aerr=$(grep -ao 'Error rate : [0-9]*/[0-9]*' "$B/austin.out" "$B/austin.err" | head -1 | sed 's/.*: //')
		bench_result "$label: Austin error/unknown samples" \
			"$(echo "${aerr:-0/0}" | awk -F/ '{ printf "%.1f", $2 ? 100 * $1 / $2 : 0 }')" "%" "-" "-"
		profd_leaves "$B/profd.col" >"$B/profd.leaves"
		austin_leaves "$B/austin.out" >"$B/austin.leaves"
		compare "$label: profd-python vs Austin" "$B/profd.leaves" "$B/austin.leaves" \
			"$([ -n "$before" ] && echo -)"
		if [ -n "$before" ]; then
			as=$(grep '^Thread' "$B/austin.out" | grep -c ';short_calls (')
			al=$(grep '^Thread' "$B/austin.out" | grep -c ';long_c_calls (')
			bench_result "$label: short calls' share, Austin vs estimate" \
				"$(awk -v s="$as" -v l="$al" 'BEGIN { printf "%.1f", (s + l) ? 100 * s / (s + l) : 0 }') % vs $est %" "" "-" "-"
		fi
	fi
	rm -f "$B/est" "$B/austin.out"
}

command -v austin >/dev/null 2>&1 && have_austin=1 || have_austin=""
old_seen=""
for v in 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
	py=""
	for d in /root/.pyenv/versions/$v.*; do
		[ -x "$d/bin/python$v" ] && py="$d/bin/python$v"
	done
	[ -n "$py" ] || continue
	minor=${v#3.}
	AUSTIN_OK=""
	if [ "$minor" -le 8 ]; then
		[ -n "$have_austin" ] && AUSTIN_OK=1
		old_seen=1
	fi
	# profd-python reads 3.8 and later only.
	[ "$minor" -ge 8 ] || continue
	say "CPython $v"
	run_pair "$py" "Python $v fixture" "$FIX" $((SECS + 15)) "$B/est"
	if [ -n "$AUSTIN_OK" ]; then
		run_pair "$py" "Python $v stdlib" "$B/stdlib_work.py" $((SECS + 15))
	fi
done
if [ -z "$have_austin" ]; then
	bench_na "Python: profd-python vs Austin" "-" "austin is not installed"
elif [ -z "$old_seen" ]; then
	bench_na "Python: profd-python vs Austin" "-" "Austin reads CPython <= 3.8 only and none is installed; >= 3.9 is compared with the estimate"
else
	say "Austin skipped for CPython >= 3.9: it reads 3.8 and older only; those runs compare with the estimate"
fi
exit 0
