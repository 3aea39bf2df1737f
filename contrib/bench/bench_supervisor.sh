# The supervisor: how soon a worker over its memory limit is
# dead, with cgroups and in poll mode; how soon a worker killed with
# SIGKILL is replaced by one that works again; and profd's open files
# over 100 windows, during which those workers are killed and restarted.
. "$(dirname "$0")/lib.sh"

FCG="memory limit crossed -> worker dead (cgroups)"
FPOLL="memory limit crossed -> worker dead (poll mode)"
FCALM="kill -9 -> working replacement (minimal worker)"
FPERF="kill -9 -> working replacement (profd-perf)"
FFDS="profd open fds over 100 windows"
WINDOWS=${BENCH_WINDOWS:-100}
HOG_MIB=40     # memory-max of the first hog run ...
HOG_STEP_MIB=12 # ... raised by this much each run (~60 ms of growth)
PAGE=$(getconf PAGESIZE)

na_all() {
	for f in "$FCG" "$FPOLL"; do bench_na "$f" "<= 1 s" "$1"; done
	for f in "$FCALM" "$FPERF"; do bench_na "$f" "<= 2 s" "$1"; done
	bench_na "$FFDS" "flat" "$1"
	exit "${2:-0}"
}

[ "$(id -u)" = 0 ] || na_all "needs root"
for f in "$PROFD" "$PROFCTL" "$FAULT"; do
	[ -x "$f" ] || na_all "$f is not built: run make bench"
done

# A sleep without a fork: reads with a timeout on a FIFO nobody writes.
mkfifo "$B/tick"
exec 9<>"$B/tick"
nap() { read -r -t "$1" -u 9 _; }

# row NAME: "STATE PID LAST_EXIT" of a worker from profctl status.
row() { ctl status 2>/dev/null | awk -v n="$1" '$1 == n { print $2, $3, $5 }'; }

# wait_row NAME STATE SECONDS: waits until the worker is in STATE; sets
# st, pid and ex from its row.
wait_row() {
	local end=$((${EPOCHREALTIME/./} + $3 * 1000000))
	while :; do
		read -r st pid ex <<<"$(row "$1")"
		[ "$st" = "$2" ] && { [ "$2" != running ] || [ "$pid" != - ]; } &&
			return 0
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		nap 0.01
	done
}

# ms_result FIGURE LIMIT_MS MS...: the median of the runs, in seconds.
ms_result() {
	local fig=$1 lim=$2 ms
	shift 2
	say "$fig: ms: $*"
	ms=$(bench_median "$@")
	bench_result "$fig" "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')" \
		s "<= $((lim / 1000)) s" "$(bench_le "$ms" "$lim")"
}

# watch_death PID LIMIT_BYTES: samples the worker every 5 ms until it is
# dead (a zombie or gone); prints the ms from the last sample in which it
# was alive and under the limit (the crossing came later) to the first
# sample in which it was dead: an upper bound of the time to kill it.
watch_death() {
	local now st rss under=0
	while :; do
		now=${EPOCHREALTIME/./}
		read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" || break
		[ "$st" = Z ] || [ "$st" = X ] && break
		read -r _ rss _ 2>/dev/null <"/proc/$1/statm" || break
		[ $((rss * PAGE)) -lt "$2" ] && under=$now
		nap 0.005
	done
	[ "$under" -gt 0 ] || return 1
	awk -v d=$((now - under)) 'BEGIN { printf "%.1f\n", d / 1000 }'
}

# hog_runs FIGURE: starts the memory hog RUNS times, each with another
# memory-max (so that its crossing falls at another point of profd's
# usage polls), and reports the median time from crossing to death.
hog_runs() {
	local all="" mib ms
	for i in $(seq "$RUNS"); do
		mib=$((HOG_MIB + (i - 1) * HOG_STEP_MIB))
		ctl set hog memory-max $((mib << 20)) >/dev/null &&
			ctl start hog >/dev/null && wait_row hog running 10 ||
			return 1
		ms=$(watch_death "$pid" $((mib << 20))) ||
			{ say "hog $pid: not seen alive"; return 1; }
		wait_row hog idle 10 && [ "$ex" = memory-limit ] ||
			{ say "hog: ended as $ex"; return 1; }
		all="$all $ms"
		nap 1.1 # profd starts a worker at most once a second
	done
	ms_result "$1" 1000 $all
}

# kill_runs NAME FIGURE: SIGKILLs a healthy worker RUNS times and reports
# the median time until its replacement says it runs (profctl status).
kill_runs() {
	local all="" old t0 t1
	for i in $(seq "$RUNS"); do
		wait_row "$1" running 60 || { say "$1 is not running"; return 1; }
		nap 2.2 # healthy: restarted at once, without backoff
		wait_row "$1" running 1 || return 1
		old=$pid
		t0=${EPOCHREALTIME/./}
		kill -9 "$old"
		while :; do
			read -r st pid ex <<<"$(row "$1")"
			t1=${EPOCHREALTIME/./}
			[ "$st" = running ] && [ "$pid" != - ] && [ "$pid" != "$old" ] &&
				break
			[ $((t1 - t0)) -lt 30000000 ] ||
				{ say "$1: no replacement in 30 s"; return 1; }
			nap 0.01
		done
		all="$all $(((t1 - t0) / 1000))"
	done
	ms_result "$2" 2000 $all
}

windows() { find "$OUT" -maxdepth 1 -name 'profile_*.col' | wc -l; }
fds() { ls "/proc/$PROFD_PID/fd" | wc -l; }

cat >"$B/profd.conf" <<CONF
[worker calm]
executable = $FAULT
arguments = --fault none
[worker hog]
executable = $FAULT
arguments = --fault memory-hog
memory-max = ${HOG_MIB}M
restart = never
enabled = no
CONF

# --- profd with the best cgroups here, perf on, 1-s windows -------------
say "profd with cgroups, perf, upload, calm and hog; windows of 1 s"
bench_profd -d 1 --config "$B/profd.conf" || na_all "profd did not start" 1
mode=$(ctl status | awk '/^cgroups:/ { print $2 }')
say "cgroup mode: $mode"
hog_runs "$FCG" || bench_na "$FCG" "<= 1 s" "the memory hog did not die"

# Every worker has run once now (a worker's first start opens its
# listener and cgroup files for good): the fds from here on must not grow.
wait_row perf running 60 && wait_row calm running 10 ||
	na_all "perf and calm did not run" 1
w0=$(windows)
fd0=$(fds)
say "window $w0: profd has $fd0 open fds"

kill_runs calm "$FCALM" || bench_na "$FCALM" "<= 2 s" "no replacement"
kill_runs perf "$FPERF" || bench_na "$FPERF" "<= 2 s" "no replacement"

say "waiting for $WINDOWS windows after window $w0"
for _ in $(seq $((WINDOWS * 30))); do
	[ $(($(windows) - w0)) -ge "$WINDOWS" ] && break
	nap 0.1
done
w1=$(windows)
fd1=$(fds)
say "window $w1: profd has $fd1 open fds"
if [ $((w1 - w0)) -lt "$WINDOWS" ]; then
	bench_na "$FFDS" "flat" "only $((w1 - w0)) windows written"
else
	[ "$WINDOWS" = 100 ] || fd1="$fd1 (over only $WINDOWS windows)"
	bench_result "$FFDS" "$fd0 -> $fd1" "" "flat (equal)" \
		"$([ "$fd0" = "${fd1%% *}" ] && echo pass || echo miss)"
fi
bench_stop_profd "$PROFD_PID"

# --- profd in poll mode: limits checked from /proc ------------------------
say "profd in poll mode"
bench_profd -d 1 --perf-mode disabled --cgroup-mode poll \
	--config "$B/profd.conf" || {
	bench_na "$FPOLL" "<= 1 s" "profd did not start"
	exit 1
}
hog_runs "$FPOLL" || bench_na "$FPOLL" "<= 1 s" "the memory hog did not die"
bench_stop_profd "$PROFD_PID"
exit 0
