# profd-perf's native engine against the pipeline it replaces:
# on the load of bench_perf_parse (busy_c and file-system work), sampling
# system-wide with call graphs at 499 Hz for 8 s, the whole CPU (user +
# system of the worker and its children) and the peak RSS of
#   profd-perf --perf-engine native            (perf_event_open, libdwfl)
#   perf record -F 499 -g -a + perf script      (what gProfiler runs)
# in the same round, one after the other; the figures are the medians of
# the rounds' ratios. profd-perf --perf-engine perf (its parser of perf
# script, with perf record and perf script as children) is shown too.
# DWARF mode has rows of its own, at dwarf mode's highest frequency (99 Hz,
# 8 KiB of user stack per sample):
#   profd-perf --perf-engine native --perf-mode dwarf  (libdwfl, in-process)
#   perf record -F 99 --call-graph dwarf -a + perf script
. "$(dirname "$0")/lib.sh"

FCPU="native engine CPU / perf record + perf script CPU"
FRSS="native engine peak RSS / largest of perf record, perf script"
FDCPU="dwarf: native engine CPU / perf record --call-graph dwarf + perf script CPU"
FDRSS="dwarf: native engine peak RSS / largest of perf record, perf script"
CPU_MAX=0.25
RSS_MAX=0.5
DCPU_MAX=0.5
RECORD_S=${BENCH_RECORD_S:-8}
HZ=499
DHZ=99

na_all() {
	bench_na "$FCPU" "<= $CPU_MAX" "$1"
	bench_na "$FRSS" "<= $RSS_MAX" "$1"
	bench_na "$FDCPU" "<= $DCPU_MAX" "$1"
	bench_na "$FDRSS" "-" "$1"
	exit "${2:-0}"
}

[ "$(id -u)" = 0 ] || na_all "needs root"
command -v perf >/dev/null 2>&1 || na_all "perf is not installed"
for f in "$PERF_WORKER" "$BUSY_C" "$RUSAGE"; do
	[ -x "$f" ] || na_all "$f is not built: run make bench"
done

# One round: sets n_cpu n_rss p_cpu p_rss (perf record + perf script: CPU
# summed, the larger RSS) and w_cpu w_rss (profd-perf's perf engine).
round() {
	bench_perf_load $((RECORD_S + 1))
	bench_rusage "$B/n.ru" "$PERF_WORKER" --perf-engine native -d "$RECORD_S" \
		-f "$HZ" -v >"$B/n.col" 2>"$B/n.err" ||
		{ cat "$B/n.err" >&2; return 1; }
	read -r n_cpu n_rss _ <"$B/n.ru"
	bench_perf_load $((RECORD_S + 1))
	bench_rusage "$B/r.ru" perf record -F "$HZ" -g -a -e cpu-clock \
		-o "$B/perf.data" -- sleep "$RECORD_S" >/dev/null 2>"$B/r.err" ||
		{ cat "$B/r.err" >&2; return 1; }
	bench_rusage "$B/s.ru" perf script -F +pid -i "$B/perf.data" \
		>/dev/null 2>"$B/s.err" || { cat "$B/s.err" >&2; return 1; }
	read -r r_cpu r_rss _ <"$B/r.ru"
	read -r s_cpu s_rss _ <"$B/s.ru"
	p_cpu=$(awk -v a="$r_cpu" -v b="$s_cpu" 'BEGIN { print a + b }')
	p_rss=$((r_rss > s_rss ? r_rss : s_rss))
	rm -f "$B/perf.data"
	bench_perf_load $((RECORD_S + 1))
	bench_rusage "$B/w.ru" "$PERF_WORKER" --perf-engine perf -d "$RECORD_S" \
		-f "$HZ" >"$B/w.col" 2>"$B/w.err" || { cat "$B/w.err" >&2; return 1; }
	read -r w_cpu w_rss _ <"$B/w.ru"
	samples=$(awk '{ s += $NF } END { print s + 0 }' "$B/n.col")
	say "native: ${n_cpu} s CPU, ${n_rss} KiB peak, $samples samples;" \
		"perf record ${r_cpu} s ${r_rss} KiB, perf script ${s_cpu} s" \
		"${s_rss} KiB; profd-perf perf engine ${w_cpu} s ${w_rss} KiB"
}

# One DWARF round: sets d_cpu d_rss (native) and q_cpu q_rss (perf record
# --call-graph dwarf + perf script).
round_dwarf() {
	load $((RECORD_S + 1))
	bench_rusage "$B/nd.ru" "$PERF_WORKER" --perf-engine native --perf-mode dwarf \
		-d "$RECORD_S" -f "$DHZ" -v >"$B/nd.col" 2>"$B/nd.err" ||
		{ cat "$B/nd.err" >&2; return 1; }
	read -r d_cpu d_rss _ <"$B/nd.ru"
	load $((RECORD_S + 1))
	bench_rusage "$B/rd.ru" perf record -F "$DHZ" --call-graph dwarf,8192 -a \
		-e cpu-clock -o "$B/perf.data" -- sleep "$RECORD_S" >/dev/null 2>"$B/rd.err" ||
		{ cat "$B/rd.err" >&2; return 1; }
	bench_rusage "$B/sd.ru" perf script -F +pid -i "$B/perf.data" \
		>/dev/null 2>"$B/sd.err" || { cat "$B/sd.err" >&2; return 1; }
	read -r r_cpu r_rss _ <"$B/rd.ru"
	read -r s_cpu s_rss _ <"$B/sd.ru"
	q_cpu=$(awk -v a="$r_cpu" -v b="$s_cpu" 'BEGIN { print a + b }')
	q_rss=$((r_rss > s_rss ? r_rss : s_rss))
	rm -f "$B/perf.data"
	samples=$(awk '{ s += $NF } END { print s + 0 }' "$B/nd.col")
	say "dwarf: native ${d_cpu} s CPU, ${d_rss} KiB peak, $samples samples" \
		"($(sed -n 's/.*native engine: \([0-9]* user stacks.*stopped early\).*/\1/p' "$B/nd.err"));" \
		"perf record ${r_cpu} s ${r_rss} KiB, perf script ${s_cpu} s ${s_rss} KiB"
}

cpu_ratios=""
rss_ratios=""
dcpu_ratios=""
drss_ratios=""
for i in $(seq "$RUNS"); do
	say "round $i: $RECORD_S s at $HZ Hz, system-wide, each engine"
	round || na_all "a run failed" 1
	cpu_ratios="$cpu_ratios $(awk -v n="$n_cpu" -v p="$p_cpu" 'BEGIN { print n / p }')"
	rss_ratios="$rss_ratios $(awk -v n="$n_rss" -v p="$p_rss" 'BEGIN { print n / p }')"
	round_dwarf || na_all "a dwarf run failed" 1
	dcpu_ratios="$dcpu_ratios $(awk -v n="$d_cpu" -v p="$q_cpu" 'BEGIN { print n / p }')"
	drss_ratios="$drss_ratios $(awk -v n="$d_rss" -v p="$q_rss" 'BEGIN { print n / p }')"
	echo "$n_cpu $n_rss $p_cpu $p_rss $w_cpu $w_rss $d_cpu $d_rss $q_cpu $q_rss" >>"$B/rounds"
done
say "CPU ratios:$cpu_ratios; RSS ratios:$rss_ratios"
# shellcheck disable=SC2086 # lists of numbers
cpu=$(bench_median $cpu_ratios)
# shellcheck disable=SC2086
rss=$(bench_median $rss_ratios)
col() { bench_median $(awk -v c="$1" '{ print $c }' "$B/rounds"); }
bench_result "native engine CPU" "$(bench_fmt 2 "$(col 1)")" s - -
bench_result "perf record + perf script CPU" "$(bench_fmt 2 "$(col 3)")" s - -
bench_result "profd-perf perf engine CPU (with its perf children)" \
	"$(bench_fmt 2 "$(col 5)")" s - -
bench_result "native engine peak RSS" "$(bench_fmt 1 "$(awk -v k="$(col 2)" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "largest of perf record, perf script peak RSS" \
	"$(bench_fmt 1 "$(awk -v k="$(col 4)" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "profd-perf perf engine peak RSS (with its perf children)" \
	"$(bench_fmt 1 "$(awk -v k="$(col 6)" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "$FCPU" "$(bench_fmt 3 "$cpu")" "x" "<= $CPU_MAX" "$(bench_le "$cpu" "$CPU_MAX")"
bench_result "$FRSS" "$(bench_fmt 3 "$rss")" "x" "<= $RSS_MAX" "$(bench_le "$rss" "$RSS_MAX")"
say "dwarf CPU ratios:$dcpu_ratios; RSS ratios:$drss_ratios"
# shellcheck disable=SC2086
dcpu=$(bench_median $dcpu_ratios)
# shellcheck disable=SC2086
drss=$(bench_median $drss_ratios)
bench_result "dwarf: native engine CPU" "$(bench_fmt 2 "$(col 7)")" s - -
bench_result "dwarf: perf record + perf script CPU" "$(bench_fmt 2 "$(col 9)")" s - -
bench_result "dwarf: native engine peak RSS" "$(bench_fmt 1 "$(awk -v k="$(col 8)" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "dwarf: largest of perf record, perf script peak RSS" \
	"$(bench_fmt 1 "$(awk -v k="$(col 10)" 'BEGIN { print k / 1024 }')")" MB - -
bench_result "$FDCPU" "$(bench_fmt 3 "$dcpu")" "x" "<= $DCPU_MAX" "$(bench_le "$dcpu" "$DCPU_MAX")"
bench_result "$FDRSS" "$(bench_fmt 3 "$drss")" "x" - -
