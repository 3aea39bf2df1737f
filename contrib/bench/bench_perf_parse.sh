# profd-perf's parser alone, through --perf-script-input: its
# peak RSS on 10 MB and on 500 MB of `perf script -F +pid` text (flat:
# the parser keeps one line and one stack whatever the input), and its
# CPU time against the CPU time of the `perf script` that produced the
# text. The text is real: busy_c and some file-system work recorded
# system-wide with perf record -F 999 -g; the large inputs are that text
# repeated with rising timestamps.
. "$(dirname "$0")/lib.sh"

F10="profd-perf peak RSS parsing 10 MB of perf script"
F500="profd-perf peak RSS parsing 500 MB of perf script"
FFLAT="profd-perf peak RSS from 10 MB to 500 MB"
FCPU="profd-perf CPU / perf script CPU"
RSS_MAX_KIB=16384   # 16 MiB, each input
FLAT_KIB=1024       # growth from 10 MB to 500 MB still called flat
CPU_MAX_PCT=10
RECORD_S=${BENCH_RECORD_S:-8}
SMALL_MIB=10
LARGE_MIB=${BENCH_LARGE_MIB:-500}

na_all() {
	bench_na "$F10" "<= 16 MB" "$1"
	bench_na "$F500" "<= 16 MB" "$1"
	bench_na "$FFLAT" "flat" "$1"
	bench_na "$FCPU" "<= $CPU_MAX_PCT %" "$1"
	exit "${2:-0}"
}
# fail_all REASON: profd-perf itself failed, which is an error of the run.
fail_all() { na_all "$1" 1; }

[ "$(id -u)" = 0 ] || na_all "needs root"
command -v perf >/dev/null 2>&1 || na_all "perf is not installed"
for f in "$PERF_WORKER" "$BUSY_C" "$RUSAGE"; do
	[ -x "$f" ] || na_all "$f is not built: run make bench"
done

# --- a real recording --------------------------------------------------------
say "recording busy_c and file-system work for $RECORD_S s at 999 Hz"
bench_perf_load $((RECORD_S + 1))
# cpu-clock: a software event that exists in virtual machines too.
perf record -F 999 -g -a -e cpu-clock -o "$B/perf.data" \
	-- sleep "$RECORD_S" >/dev/null 2>"$B/record.err" ||
	{ cat "$B/record.err" >&2; na_all "perf record failed"; }

# --- perf script's text ------------------------------------------------------
# script: one run of perf script into real.txt; sets cpu.
script() {
	bench_rusage "$B/ps.ru" perf script -F +pid -i "$B/perf.data" \
		>"$B/real.txt" 2>"$B/script.err" ||
		{ cat "$B/script.err" >&2; return 1; }
	read -r cpu _ <"$B/ps.ru"
}
script || na_all "perf script failed"
samples=$(grep -c '^[^[:space:]]' "$B/real.txt")
size=$(stat -c %s "$B/real.txt")
[ "$samples" -gt 0 ] || na_all "the recording holds no sample"
say "perf script: $samples samples, $((size / 1024)) KiB of text"

# parse FILE SAMPLES: one run of the parser; sets cpu and rss (KiB), and
# fails unless it accounted for every sample (added or skipped, as its
# -v line says) and printed the samples it added.
parse() {
	bench_rusage "$B/pp.ru" "$PERF_WORKER" -v --perf-script-input "$1" \
		>"$B/out.col" 2>"$B/parse.err" ||
		{ cat "$B/parse.err" >&2; return 1; }
	read -r cpu rss _ <"$B/pp.ru"
	read -r added skipped < <(sed -n \
		's/.*: \([0-9]*\) samples, \([0-9]*\) skipped.*/\1 \2/p' \
		"$B/parse.err")
	got=$(awk '{ s += $NF } END { print s + 0 }' "$B/out.col")
	if [ "${added:-x}" != "$got" ] || [ $((added + skipped)) != "$2" ]; then
		say "$1: $got samples printed, of ${added:-?} added and" \
			"${skipped:-?} skipped of $2"
		return 1
	fi
}

# --- the parser's CPU time on that text, less its start-up ----------------
# A round runs perf script, the parser on its text and the parser on an
# empty input (its start-up) back to back, so that each round's ratio
# compares the two programs under the same load of this shared host; the
# figure is the median of the rounds' ratios. The runs are short (tenths
# of a second): at least 5 rounds.
: >"$B/empty.txt"
cpu_runs=$((RUNS > 5 ? RUNS : 5))
ps_cpu=""
pp_cpu=""
base_cpu=""
ratios=""
for i in $(seq "$cpu_runs"); do
	script || na_all "perf script failed"
	ps=$cpu
	parse "$B/real.txt" "$samples" || fail_all "profd-perf failed"
	pp=$cpu
	real_skipped=$skipped
	parse "$B/empty.txt" 0 || fail_all "profd-perf failed"
	ps_cpu="$ps_cpu $ps"
	pp_cpu="$pp_cpu $pp"
	base_cpu="$base_cpu $cpu"
	ratios="$ratios $(awk -v p="$pp" -v b="$cpu" -v s="$ps" \
		'BEGIN { d = p - b; if (d < 0) d = 0; print 100 * d / s }')"
done
rm -f "$B/perf.data"
say "perf script CPU s:$ps_cpu"
say "profd-perf CPU s:$pp_cpu; on an empty input (start-up):$base_cpu;" \
	"$real_skipped samples skipped"
say "profd-perf / perf script, each round (%):$ratios"
# shellcheck disable=SC2086 # a list of numbers
pct=$(bench_median $ratios)
bench_result "$FCPU" "$(bench_fmt 1 "$pct")" "%" "<= $CPU_MAX_PCT %" \
	"$(bench_le "$pct" "$CPU_MAX_PCT")"

# --- peak RSS on 10 MB and on 500 MB --------------------------------------
# repeat MIB OUT: the text repeated up to MIB MiB; prints the sample count.
repeat() {
	copies=$((($1 * 1048576 + size - 1) / size))
	awk -v copies="$copies" -f /dev/stdin "$B/real.txt" >"$2" <<'AWK'
# Each copy's timestamps follow the previous copy's last one.
{
	text[++n] = $0
	if ($0 !~ /^[ \t]/ && match($0, / [0-9]+\.[0-9]+: /)) {
		t = substr($0, RSTART + 1, RLENGTH - 3) + 0
		if (first == "") first = t
		last = t
	}
}
END {
	span = last - first + 1
	for (k = 0; k < copies; k++)
		for (i = 1; i <= n; i++) {
			l = text[i]
			if (k && l !~ /^[ \t]/ && match(l, / [0-9]+\.[0-9]+: /)) {
				t = substr(l, RSTART + 1, RLENGTH - 3) + k * span
				l = substr(l, 1, RSTART) sprintf("%.6f", t) \
				    substr(l, RSTART + RLENGTH - 2)
			}
			print l
		}
}
AWK
	echo $((copies * samples))
}

# peak MIB: the median peak RSS (KiB) of the parser on MIB MiB of text.
peak() {
	n=$(repeat "$1" "$B/big.txt") || return 1
	made=$(($(stat -c %s "$B/big.txt") >> 20))
	all=""
	for i in $(seq "$RUNS"); do
		parse "$B/big.txt" "$n" || return 1
		all="$all $rss"
	done
	rm -f "$B/big.txt" "$B/out.col"
	say "$made MiB of text ($n samples): peak RSS KiB:$all"
	bench_median $all
}

mib_result() { # FIGURE KIB [MIB]: MIB, an input other than the figure's
	local unit=MB
	[ "${3:-500}" = 500 ] || unit="MB (on only $3 MiB)"
	bench_result "$1" "$(bench_fmt 1 "$(awk -v k="$2" 'BEGIN { print k / 1024 }')")" \
		"$unit" "<= 16 MB" "$(bench_le "$2" "$RSS_MAX_KIB")"
}

rss_small=$(peak "$SMALL_MIB") || fail_all "profd-perf failed"
mib_result "$F10" "$rss_small"
avail_kib=$(df -Pk /tmp | awk 'NR == 2 { print $4 }')
if [ "$avail_kib" -lt $(((LARGE_MIB + 512) * 1024)) ]; then
	bench_na "$F500" "<= 16 MB" "$((avail_kib / 1024)) MiB free in /tmp"
	bench_na "$FFLAT" "flat" "no large input"
	exit 0
fi
rss_large=$(peak "$LARGE_MIB") || {
	bench_na "$F500" "<= 16 MB" "profd-perf failed"
	bench_na "$FFLAT" "flat" "profd-perf failed"
	exit 1
}
mib_result "$F500" "$rss_large" "$LARGE_MIB"
growth=$((rss_large - rss_small))
bench_result "$FFLAT" "$(awk -v g="$growth" 'BEGIN { printf "%+.2f", g / 1024 + 0 }' |
	sed 's/^-0\.00$/+0.00/')" \
	MB "flat (+1 MB at most)" "$(bench_le "$growth" "$FLAT_KIB")"
