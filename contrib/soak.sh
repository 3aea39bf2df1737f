#!/bin/bash
# Chaos soak: profd profiles continuously in 1-second windows and uploads
# them to the test backend (tests/http_server.py on 127.0.0.1) while this
# script kills random workers with SIGKILL, makes the backend fail and
# hang, starts and ends Python, Java and native programs, and sets tiny
# memory limits for a while. Every 10 s it prints profd's RSS and open
# fds, zombies, worker restarts by cause, and windows written and
# uploaded. At the end it checks that profd's RSS and fds are flat, that
# no child was left unreaped (a zombie for a second), that window numbers have no gap, and that every
# window was uploaded or counted as lost by a named cause.
#
# Usage (as root, from a built tree): contrib/soak.sh [--short] [MINUTES]
# (SOAK_PERF_ENGINE=perf|native|auto picks profd-perf's engine; auto.)
#   --short   1 minute (CI); the default is 30 minutes.
# Environment: top_builddir, top_srcdir (default: this tree).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
: "${top_builddir:=$here}"
: "${top_srcdir:=$here}"
MINUTES=30
[ "${1:-}" = --short ] && { MINUTES=1; shift; }
[ -n "${1:-}" ] && MINUTES=$1
[ "$(id -u)" = 0 ] || { echo "soak: run as root" >&2; exit 2; }

PROFD="$top_builddir/supervisor/profd"
PROFCTL="$top_builddir/profctl/profctl"
BUSY_C="$top_builddir/tests/fixtures/busy_c"
SRV_PY="$top_srcdir/tests/http_server.py"
PY=$(command -v python3) || { echo "soak: python3 is needed" >&2; exit 2; }
for f in "$PROFD" "$PROFCTL" "$BUSY_C" "$SRV_PY"; do
	[ -e "$f" ] || { echo "soak: $f is missing: build first" >&2; exit 2; }
done

T=$(mktemp -d /tmp/profd-soak.XXXXXX)
chmod 0711 "$T"
RUN="$T/run" OUT="$T/out" SPOOL="$T/spool" SRV="$T/srv"
mkdir -p "$RUN" "$SRV"
chmod 0711 "$RUN"
KIDS=""
PROFD_PID=""
cleanup() {
	[ -n "$PROFD_PID" ] && kill -TERM "$PROFD_PID" 2>/dev/null
	for _ in $(seq 300); do
		[ -n "$PROFD_PID" ] && kill -0 "$PROFD_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$PROFD_PID" ] && kill -9 "$PROFD_PID" 2>/dev/null
	for p in $KIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	pkill -9 -f "$T" 2>/dev/null
	[ "${SOAK_KEEP:-}" ] && echo "soak: kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
say() { printf '%s soak: %s\n' "$(date +%T)" "$*"; }
ctl() { timeout -k 2 10 "$PROFCTL" --runtime-dir "$RUN" "$@"; }
srv() { "$PY" "$SRV_PY" control "$SRV" "$@" >/dev/null 2>&1; }

# --- the backend and profd --------------------------------------------------
TOKEN="soak-$$-$RANDOM"
"$PY" "$SRV_PY" serve "$SRV" --token "$TOKEN" >"$T/srv.log" 2>&1 &
KIDS="$KIDS $!"
for _ in $(seq 100); do [ -s "$SRV/control_port" ] && break; sleep 0.1; done
[ -s "$SRV/control_port" ] || { cat "$T/srv.log"; exit 1; }
printf '%s\n' "$TOKEN" >"$T/token"
chmod 0600 "$T/token"
"$PROFD" -c -d 1 -f 49 -v -o "$OUT" --runtime-dir "$RUN" \
	--perf-engine "${SOAK_PERF_ENGINE:-auto}" \
	--worker-dir "$top_builddir" -u --server-host "http://127.0.0.1:$(cat "$SRV/port")" \
	--service-name soak --token-file "$T/token" --spool-dir "$SPOOL" \
	--upload-retry-max 2 2>"$T/profd.log" &
PROFD_PID=$!
for _ in $(seq 100); do [ -S "$RUN/control.sock" ] && break; sleep 0.1; done
[ -S "$RUN/control.sock" ] || { cat "$T/profd.log"; exit 1; }
say "profd $PROFD_PID runs; soaking for $MINUTES min in $T"

# --- chaos -------------------------------------------------------------------
JAVA_CP=""
if command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
	mkdir -p "$T/java"
	printf '%s\n' 'public class Spin { public static void main(String[] a) throws Exception {' \
		'long e = System.currentTimeMillis() + Long.parseLong(a[0]) * 1000, x = 0;' \
		'while (System.currentTimeMillis() < e) { for (int i = 0; i < 1000000; i++) x += i * i; }' \
		'System.out.println(x); } }' >"$T/java/Spin.java"
	javac -d "$T/java" "$T/java/Spin.java" 2>/dev/null && JAVA_CP="$T/java"
fi
worker_pid() { ctl status 2>/dev/null | awk -v n="$1" '$1 == n && $2 == "running" { print $3 }'; }
chaos() {
	local w pid
	case $((RANDOM % 7)) in
	0 | 1)
		w=$(printf 'perf\npython\nupload\n' | shuf -n 1)
		pid=$(worker_pid "$w")
		[ -n "$pid" ] && [ "$pid" != - ] && kill -9 "$pid" 2>/dev/null &&
			say "chaos: kill -9 $w ($pid)"
		;;
	2) srv fail 3 && say "chaos: the backend answers 503 for 3 s" ;;
	3) srv hang 3 && say "chaos: the backend hangs for 3 s" ;;
	4)
		"$PY" -c 'import time
e = time.time() + 6
while time.time() < e: sum(i * i for i in range(10000))' &
		KIDS="$KIDS $!"
		"$BUSY_C" 5 >/dev/null &
		KIDS="$KIDS $!"
		say "chaos: a Python and a native program for 5-6 s"
		;;
	5)
		if [ -n "$JAVA_CP" ]; then
			java -Xmx32m -cp "$JAVA_CP" Spin 6 >/dev/null &
			KIDS="$KIDS $!"
			say "chaos: a JVM for 6 s"
		fi
		;;
	6)
		w=$(printf 'perf\npython\n' | shuf -n 1)
		ctl set "$w" memory-max 12M >/dev/null 2>&1 &&
			say "chaos: $w memory-max 12M for 4 s"
		(sleep 4; ctl set "$w" memory-max "$([ "$w" = perf ] && echo 256M || echo 64M)" >/dev/null 2>&1) &
		;;
	esac
}

# --- measures ----------------------------------------------------------------
zombies_seen=0
# zombie_pids: the dead children in profd's tree not reaped yet.
zombie_pids() {
	ps -e -o pid=,ppid=,stat= | awk -v root="$PROFD_PID" '
		{ parent[$1] = $2; st[$1] = $3 }
		END { for (p in st) { if (st[p] !~ /^Z/) continue
			q = parent[p]
			while (q != "" && q != root && q in parent && q != 1) q = parent[q]
			if (q == root) print p }
		      }'
}
# zombies: how many of them are still unreaped a second later. A child
# is a zombie for the moment between its end and its parent's wait; one
# left for a second is one nobody waits for.
zombies() {
	local pids p n=0
	pids=$(zombie_pids)
	[ -n "$pids" ] || { echo 0; return; }
	sleep 1
	for p in $pids; do
		case "$(ps -o stat= -p "$p" 2>/dev/null)" in
		Z*)
			n=$((n + 1))
			say "unreaped: $(ps -o pid=,comm= -p "$p") of $(ps -o pid=,comm= -p "$(ps -o ppid= -p "$p")")" >&2
			;;
		esac
	done
	echo "$n"
}
profd_fds() { ls "/proc/$PROFD_PID/fd" | wc -l; }
sample() {
	local rss fds z written uploaded restarts
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PROFD_PID/status")
	fds=$(profd_fds)
	z=$(zombies)
	zombies_seen=$((zombies_seen > z ? zombies_seen : z))
	written=$(grep -c 'window [0-9]* stored' "$T/profd.log")
	uploaded=$(grep -c '"path": "/api/v2/profiles".*"status": 200' "$SRV/requests.jsonl" 2>/dev/null)
	restarts=$(ctl status --json 2>/dev/null | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join("%s:%d(%s)" % (w["name"], w["restarts"], w["last_exit"]) for w in d["workers"]))' 2>/dev/null)
	echo "$SECONDS $rss $fds" >>"$T/samples"
	say "rss ${rss} KiB, fds $fds, zombies $z, windows written $written, uploaded $uploaded, restarts $restarts"
}

end=$((SECONDS + MINUTES * 60))
next_sample=$((SECONDS + 10))
sleep 5
sample
while [ "$SECONDS" -lt "$end" ]; do
	chaos
	sleep $((2 + RANDOM % 3))
	if [ "$SECONDS" -ge "$next_sample" ]; then
		sample
		next_sample=$((SECONDS + 10))
	fi
	kill -0 "$PROFD_PID" 2>/dev/null || { say "profd died"; cat "$T/profd.log"; exit 1; }
done

# --- the end: calm, let the spool drain, stop -------------------------------
say "chaos over: restoring limits and the backend, draining the spool"
srv ok
ctl set perf memory-max 256M >/dev/null 2>&1
ctl set python memory-max 64M >/dev/null 2>&1
sleep 5
sample
# What profd holds open, by kind, should a later check find fds grown,
# and the peers of its Unix sockets.
ls -l "/proc/$PROFD_PID/fd" 2>/dev/null | awk 'NR > 1 { print $NF }' |
	sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn >"$T/fds.txt"
ss -xap 2>/dev/null | grep "pid=$PROFD_PID," | awk '{ print $1, $2, $5 }' |
	sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn >"$T/socks.txt"
# A count above the first sample's may be connections on their way out
# (a slow sanitizer build closes them late): what stays for 10 s is kept.
read -r _ _ fds_first < <(sed -n 2p "$T/samples")
read -r _ rss_last fds_last < <(tail -1 "$T/samples")
if [ "$fds_last" -gt "$((fds_first + 2))" ]; then
	low=$fds_last
	for _ in $(seq 10); do
		sleep 1
		f=$(profd_fds)
		[ "$f" -lt "$low" ] && low=$f
		[ "$low" -le "$((fds_first + 2))" ] && break
	done
	say "profd's fds: $fds_last at the last sample, $low at the lowest in the 10 s after"
	echo "$SECONDS $rss_last $low" >>"$T/samples"
fi
ctl stop perf >/dev/null 2>&1
ctl stop python >/dev/null 2>&1
for _ in $(seq 120); do
	left=$(find "$SPOOL" -name '*.win' 2>/dev/null | wc -l)
	[ "$left" = 0 ] && break
	sleep 1
done
kill -TERM "$PROFD_PID"
wait "$PROFD_PID"
rv=$?
PROFD_PID=""

# --- the verdict -------------------------------------------------------------
fail=0
bad() { say "FAIL: $*"; fail=1; }
[ "$rv" = 0 ] || bad "profd exited with $rv"
# Every window number up to the last: written by the uploader (also one
# it recovered from its journal after a SIGKILL), or lost with a cause.
ids=$(sed -n -e 's/.*profd-upload: window \([0-9]*\) \(written\|failed\).*/\1/p' \
	-e 's/.*profd: window \([0-9]*\) \(stored\|could not be written\).*/\1/p' \
	-e 's/.*window \([0-9]*\) lost: the uploader is not running.*/\1/p' \
	"$T/profd.log" | sort -nu)
last=$(echo "$ids" | tail -1)
nwritten=$(sed -n 's/.*profd-upload: window \([0-9]*\) written.*/\1/p' "$T/profd.log" | sort -nu | grep -c .)
unwritten=$(sed -n 's/.*profd-upload: window \([0-9]*\) failed.*/\1/p' "$T/profd.log" | sort -nu | grep -c .)
nolost=$(grep -c 'window [0-9]* lost: the uploader is not running' "$T/profd.log")
missing=$(seq 1 "${last:-0}" | grep -vxF -f <(echo "$ids") | tr '\n' ' ')
[ -z "$missing" ] || bad "windows neither written nor counted as lost: $missing"
# Windows that lost a worker's stacks, by worker (the cause is the
# worker's death, logged with its reason just before).
lost=$(sed -n "s/.*window [0-9]* lost profd-\([a-z]*\)'s stacks.*/\1/p" "$T/profd.log" | sort | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')
causes=$(sed -n -e 's/.*profd-\([a-z]*\) ended: \(.*\)/\1: \2/p' \
	-e 's/.*profd-\([a-z]*\) (pid [0-9]*) died: \(.*\)/\1: \2/p' "$T/profd.log" |
	sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s x%d,", $0, c }')
uploaded=$("$PY" - "$SRV/requests.jsonl" <<'PYEOF'
import hashlib, json, sys
# A window sent twice (its answer was lost) has the same body: count
# distinct bodies.
seen = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("path") == "/api/v2/profiles" and e.get("status") == 200:
        b = json.dumps(e.get("body"), sort_keys=True).encode()
        seen.add(hashlib.sha256(b).hexdigest())
print(len(seen))
PYEOF
)
spooled=$(find "$SPOOL" -name '*.win' 2>/dev/null | wc -l)
[ "$((uploaded + spooled))" -ge "$nwritten" ] ||
	bad "$nwritten windows written, only $uploaded uploaded ($spooled left in the spool)"
read -r _ rss0 fds0 < <(sed -n 2p "$T/samples")
read -r _ rss1 fds1 < <(tail -1 "$T/samples")
if [ "$fds1" -gt "$((fds0 + 2))" ]; then
	bad "profd's fds grew from $fds0 to $fds1"
	cat "$T/fds.txt" "$T/socks.txt"
fi
# Under AddressSanitizer RSS says little (its quarantine grows); leaks
# are LeakSanitizer's job there: SOAK_RSS_SLACK_KB widens the bound.
[ "$rss1" -le "$((rss0 + ${SOAK_RSS_SLACK_KB:-1024}))" ] ||
	bad "profd's RSS grew from $rss0 to $rss1 KiB"
[ "$zombies_seen" = 0 ] || bad "zombies seen: up to $zombies_seen"
say "windows: $nwritten written of $last, $nolost lost with the uploader, $unwritten not written; uploaded (distinct) $uploaded, left in the spool $spooled"
say "windows that lost a worker's stacks: ${lost:-none}"
say "worker ends by cause: ${causes:-none}"
say "profd: RSS $rss0 -> $rss1 KiB, fds $fds0 -> $fds1, zombies seen $zombies_seen"
if [ "$fail" = 0 ]; then
	say "PASS"
else
	say "FAIL"
	say "profd's fds by kind at the last sample:"
	cat "$T/fds.txt"
	say "profd's Unix sockets by state and peer at the last sample:"
	cat "$T/socks.txt"
	say "the end of profd's log:"
	tail -n 60 "$T/profd.log"
fi
exit "$fail"
