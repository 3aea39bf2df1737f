# Idle heartbeat mode: profd with --enable-heartbeat-server
# against the test backend on 127.0.0.1, no command given: only profd and
# profd-upload run. The figure is their total RSS after a few heartbeats
# (the median of samples every 0.5 s over 10 s, median of the runs).
# Each HTTP request runs in a short-lived child of profd-upload; a sample
# that catches one counts it, and the largest sample is reported too.
. "$(dirname "$0")/lib.sh"

FIDLE="idle heartbeat: RSS of profd + profd-upload"
LIMIT_MB=8
SRV_PY="$top_srcdir/tests/http_server.py"

na() { bench_na "$FIDLE" "<= $LIMIT_MB MB" "$1"; exit 0; }
[ "$(id -u)" = 0 ] || na "needs root"
PY=$(command -v python3) || na "no python3"
[ -x "$PROFD" ] || na "profd is not built: run make bench"

mkdir -p "$B/srv"
"$PY" "$SRV_PY" serve "$B/srv" --token bench-token >"$B/srv.log" 2>&1 &
bench_track $!
for _ in $(seq 100); do [ -s "$B/srv/port" ] && break; sleep 0.1; done
[ -s "$B/srv/port" ] || na "the test backend did not start"
printf 'bench-token\n' >"$B/token"
chmod 0600 "$B/token"

tree_rss() {
	ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
		{ parent[$1] = $2; rss[$1] = $3 }
		END { for (p in rss) { q = p
			while (q != "" && q != root && q in parent && q != 1) q = parent[q]
			if (q == root) sum += rss[p] }
		      print sum + 0 }'
}

meds=""
for run in $(seq "$RUNS"); do
	bench_profd --enable-heartbeat-server --heartbeat-interval 1 -u \
		--server-host "http://127.0.0.1:$(cat "$B/srv/port")" \
		--service-name bench --token-file "$B/token" --spool-dir "$B/spool" ||
		na "profd did not start"
	sleep 5
	kill -0 "$PROFD_PID" 2>/dev/null || { cat "$RUN.err" >&2; na "profd ended"; }
	vals=""
	for _ in $(seq 20); do
		vals="$vals $(tree_rss "$PROFD_PID")"
		sleep 0.5
	done
	procs=$(ps -o comm= --ppid "$PROFD_PID" | tr '\n' ' ')
	[ -n "$procs" ] || { cat "$RUN.err" >&2; na "profd-upload is not running"; }
	bench_stop_profd "$PROFD_PID"
	m=$(bench_median $vals)
	peak=$(printf '%s\n' $vals | sort -n | tail -1)
	say "run $run: $((m / 1024)) MB (profd and: $procs); largest sample $((peak / 1024)) MB"
	meds="$meds $m"
done
mb=$(awk -v k="$(bench_median $meds)" 'BEGIN { print k / 1024 }')
bench_result "$FIDLE" "$(bench_fmt 1 "$mb")" "MB" "<= $LIMIT_MB MB" "$(bench_le "$mb" "$LIMIT_MB")"
