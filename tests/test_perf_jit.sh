# JIT frames named from /tmp/perf-PID.map: a Node program on the host, and
# the same program in its own PID and mount namespace, whose map exists only
# in its private /tmp.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
JS="$top_srcdir/tests/fixtures/jit.js"

# Waits until the map file $1 names hotLoop and coldLoop: node writes it
# through a buffer, so a fresh program's entries come a little later.
wait_map() {
	for _ in $(seq $((100 * SLOW))); do
		grep -q 'hotLoop' "$1" 2>/dev/null && grep -q 'coldLoop' "$1" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	fail "no hotLoop and coldLoop in $1"
}

# Profiles PID $1 into $T/$2.col and checks the JS frames and proportion.
check_jit() {
	timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --pid "$1" -d $((4 * SLOW)) -f 99 >"$T/$2.col" 2>"$T/$2.err" ||
		{ cat "$T/$2.err"; fail "$2: profd-perf exited with $?"; }
	hot=$(count_matching "$T/$2.col" ';JS:\*hotLoop [^;]*$')
	cold=$(count_matching "$T/$2.col" ';JS:\*coldLoop [^;]*$')
	share=$(awk -v h="$hot" -v c="$cold" 'BEGIN { printf "%d", (h + c) ? 100 * h / (h + c) : 0 }')
	echo "$2: hotLoop=$hot coldLoop=$cold hot share=$share %"
	# Few samples on a busy host; none named means the maps were not read.
	[ "$hot" -gt 10 ] || { head -5 "$T/$2.col"; fail "$2: JIT frames not named"; }
	[ "$share" -ge 60 ] && [ "$share" -le 90 ] || fail "$2: hot share $share % is not 75 % +- 20 %"
}

# On the host: the map is /tmp/perf-PID.map.
# node's V8 log (isolate-*-v8.log) goes to its working directory: $T.
(cd "$T" && JIT_SECONDS=$((40 * SLOW)) exec node --perf-basic-prof "$JS" >/dev/null) &
NODE=$!
track "$NODE"
trap 'rm -f /tmp/perf-$NODE.map; cleanup' EXIT
wait_map "/tmp/perf-$NODE.map"
check_jit "$NODE" host
pass "host: JIT frames named from /tmp/perf-$NODE.map"
kill "$NODE"
wait "$NODE" 2>/dev/null
rm -f "/tmp/perf-$NODE.map"

# In a PID and mount namespace with its own /tmp: the map is perf-1.map
# there, invisible on the host. --kill-child ends node with unshare.
(cd "$T" && JIT_SECONDS=$((40 * SLOW)) exec unshare --pid --fork --kill-child --mount --mount-proc \
	sh -c 'mount -t tmpfs profd-test /tmp && exec node --perf-basic-prof -e "$0"' \
	"$(cat "$JS")" >/dev/null) &
USH=$!
track "$USH"
for _ in $(seq 50); do
	NODE=$(pgrep -P "$USH" node) && break
	sleep 0.1
done
[ -n "$NODE" ] || fail "node did not start in its namespace"
track "$NODE"
grep -q "^NSpid:.*[[:space:]]1$" "/proc/$NODE/status" || fail "node is not PID 1 of its namespace"
[ -e "/tmp/perf-$NODE.map" ] && fail "the namespace's /tmp is not private"
wait_map "/proc/$NODE/root/tmp/perf-1.map"
check_jit "$NODE" namespace
pass "namespace: JIT frames named from the process's own /tmp/perf-1.map"

# A perf map that is a symbolic link is not followed (a process must not
# make profd-perf read a file of the host).
ln -s /etc/hostname "/proc/$NODE/root/tmp/perf-1.map.new"
mv -f "/proc/$NODE/root/tmp/perf-1.map.new" "/proc/$NODE/root/tmp/perf-1.map"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --pid "$NODE" -d 2 -f 99 >"$T/link.col" 2>"$T/link.err" ||
	{ cat "$T/link.err"; fail "symlink: profd-perf exited with $?"; }
grep -q 'JS:\*hotLoop' "$T/link.col" && fail "a symlinked perf map was followed"
grep -q "(/tmp/perf-$NODE.map)" "$T/link.col" || fail "JIT frames not left as (dso)"
pass "a symlinked perf map is not followed"
