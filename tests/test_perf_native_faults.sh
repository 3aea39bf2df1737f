# profd-perf's native engine under the faults that
# test_perf_native.sh does not cover: a library deleted after it was mapped
# (and one replaced by another file at the same path), a process of 10,000
# threads, a process in its own mount namespace that runs its own copy of a
# binary at the host's path, and a Node program's JIT frames named from
# /tmp/perf-PID.map.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
FIX="$top_srcdir/tests/fixtures"
DLOPEN_SPIN="$top_builddir/tests/fixtures/dlopen_spin"
MANY_THREADS="$top_builddir/tests/fixtures/many_threads"
CC=${CC:-cc}
FP_CFLAGS="-O1 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-inline -fno-optimize-sibling-calls"
command -v "$CC" >/dev/null 2>&1 || skip "no C compiler to build the fixtures"

# Windows grow with the build's time factor, and checks are shares of the
# fixture's samples: tests beside this one (sanitizer builds) can leave a
# fixture a tenth of a CPU.
# Runs both engines on PID $1 for $2 s (times SLOW) at the same time (the
# same load for both) into $T/$3.native.col and $T/$3.perf.col.
both_engines() {
	timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine perf --pid "$1" -d $(($2 * SLOW)) -f 199 \
		>"$T/$3.perf.col" 2>"$T/$3.perf.err" &
	pr=$!
	track "$pr"
	timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --pid "$1" -d $(($2 * SLOW)) -f 199 -v \
		>"$T/$3.native.col" 2>"$T/$3.native.err" ||
		{ cat "$T/$3.native.err"; fail "$3: native engine exited with $?"; }
	wait "$pr" || { cat "$T/$3.perf.err"; fail "$3: perf engine exited with $?"; }
}

# Passes when $1 samples (at least 30) are 3/4 of $2 or more.
most_of() {
	[ "$1" -ge 30 ] && [ $((4 * $1)) -ge $((3 * $2)) ]
}

# --- (a) a library deleted after it was mapped -------------------------------
# The kernel names the mapping "PATH (deleted)"; profd-perf cannot open it
# (its sandbox has no CAP_CHECKPOINT_RESTORE for /proc/PID/map_files), so
# both engines keep the frames as (PATH (deleted)), the form perf script
# gives. Never another file's symbols, never [unknown] for the whole stack.
$CC $FP_CFLAGS -shared -fPIC -o "$T/libdel.so" "$FIX/deleted_lib.c" ||
	fail "cannot build the library"
"$DLOPEN_SPIN" "$T/libdel.so" $((40 * SLOW)) >"$T/del.out" &
DEL_PID=$!
track "$DEL_PID"
for _ in $(seq 50); do grep -q ready "$T/del.out" && break; sleep 0.1; done
grep -q ready "$T/del.out" || fail "dlopen_spin did not start"
rm "$T/libdel.so"
grep -q "$T/libdel.so (deleted)" "/proc/$DEL_PID/maps" || fail "the library is not mapped deleted"
both_engines "$DEL_PID" 3 del
DEL_RE="^dlopen_spin;.*;main;(\\($T/libdel\\.so \\(deleted\\)\\)|deleted_lib_caller);(\\($T/libdel\\.so \\(deleted\\)\\)|deleted_lib_leaf) "
nd=$(count_matching "$T/del.native.col" "$DEL_RE")
pd=$(count_matching "$T/del.perf.col" "$DEL_RE")
all=$(count_matching "$T/del.native.col" '^dlopen_spin;')
pall=$(count_matching "$T/del.perf.col" '^dlopen_spin;')
echo "deleted library: native $nd of $all samples in it, perf engine $pd of $pall"
most_of "$nd" "$all" || { head -3 "$T/del.native.col"; fail "native: the deleted library's frames are missing"; }
most_of "$pd" "$pall" || { head -3 "$T/del.perf.col"; fail "perf engine: the deleted library's frames are missing"; }
for f in native perf; do
	grep -E "$DEL_RE" "$T/del.$f.col" | sed 's/;[^;]*_\[k\].*//; s/ [0-9]*$//' | sort -u >"$T/del.$f.stacks"
done
head -1 "$T/del.native.stacks"
comm -12 "$T/del.native.stacks" "$T/del.perf.stacks" | grep -q . ||
	fail "the engines name the deleted library differently: $(head -1 "$T/del.native.stacks" "$T/del.perf.stacks")"
pass "a deleted library: its frames kept under main as the perf engine names them ($nd samples)"
kill "$DEL_PID"
wait "$DEL_PID" 2>/dev/null

# A library mapped during the window, then deleted and replaced by another
# file at the same path (a package upgrade): its frames must not be named
# from the new file. replaced_lib is deleted_lib with its leaf renamed
# (replaced_libleaf, the same length: the same layout).
$CC $FP_CFLAGS -shared -fPIC -o "$T/libup.so" "$FIX/deleted_lib.c" &&
	sed 's/deleted_lib_leaf/replaced_libleaf/g' "$FIX/deleted_lib.c" >"$T/replaced_lib.c" &&
	$CC $FP_CFLAGS -shared -fPIC -o "$T/libnew.so" "$T/replaced_lib.c" ||
	fail "cannot build the libraries"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native -d $((5 * SLOW)) -f 199 -v \
	>"$T/up.col" 2>"$T/up.err" &
UPW=$!
track "$UPW"
wait_grep "$T/up.err" 'native engine: sampling' 10 "upgrade: the native engine did not start"
"$DLOPEN_SPIN" "$T/libup.so" $((10 * SLOW)) >"$T/up.out" &
UP_PID=$!
track "$UP_PID"
for _ in $(seq 50); do grep -q ready "$T/up.out" && break; sleep 0.1; done
sleep "$SLOW"
rm "$T/libup.so"
cp "$T/libnew.so" "$T/libup.so"
wait "$UPW" || { cat "$T/up.err"; fail "upgrade: native engine exited with $?"; }
kill "$UP_PID"
wait "$UP_PID" 2>/dev/null
wrong=$(count_matching "$T/up.col" '^dlopen_spin;.*replaced_libleaf')
right=$(count_matching "$T/up.col" "^dlopen_spin;.*;main;(deleted_lib_caller;deleted_lib_leaf|\\($T/libup\\.so\\);\\($T/libup\\.so\\)) ")
upall=$(count_matching "$T/up.col" '^dlopen_spin;')
echo "replaced library: $right of $upall samples kept as the mapped file, $wrong named from the new file"
most_of "$right" "$upall" || { grep '^dlopen_spin' "$T/up.col" | head -3; fail "replaced library: its frames are missing"; }
[ "$wrong" = 0 ] || fail "replaced library: $wrong samples named from the file that replaced it"
pass "a library replaced at its path: never named from the new file"

# --- (b) 10,000 threads -------------------------------------------------------
# The process starts while the engine samples system-wide, so that it
# follows 10,000 new threads (FORK and COMM records); 10 of them are busy.
timeout -k 5 60 "$PERF_WORKER" --perf-engine native -d 8 -f 99 -v \
	>"$T/mt.col" 2>"$T/mt.err" &
MTW=$!
track "$MTW"
wait_grep "$T/mt.err" 'native engine: sampling' 10 "10,000 threads: the native engine did not start"
"$MANY_THREADS" 10000 10 30 >"$T/mt.out" 2>&1 &
MT_PID=$!
track "$MT_PID"
# The worker is timeout's child: its peak RSS (VmHWM) until it exits.
hwm=0
MTWP=$(pgrep -P "$MTW" profd-perf)
[ -n "$MTWP" ] || fail "no profd-perf under timeout"
while kill -0 "$MTWP" 2>/dev/null; do
	h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MTWP/status" 2>/dev/null)
	[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
	sleep 0.5
done
wait "$MTW" || { cat "$T/mt.err"; fail "10,000 threads: native engine exited with $?"; }
grep -q 'ready 10000' "$T/mt.out" || fail "many_threads did not start its threads: $(cat "$T/mt.out")"
kill "$MT_PID"
wait "$MT_PID" 2>/dev/null
grep 'native engine:' "$T/mt.err"
threads=$(sed -n 's/.*processes, \([0-9]*\) threads followed.*/\1/p' "$T/mt.err")
rss=$(sed -n 's/.*; RSS \([0-9]*\) kB.*/\1/p' "$T/mt.err")
busy=$(count_matching "$T/mt.col" '^many_threads;start_thread;busy_thread;busy_thread_leaf ')
echo "10,000 threads: $busy samples in busy_thread_leaf, $threads threads followed, RSS ${rss} kB at the end, peak ${hwm} kB"
[ "${threads:-0}" -ge 10000 ] || fail "the engine did not follow the 10,000 threads: ${threads:-none}"
[ "$busy" -gt 200 ] || fail "the busy threads' stacks are missing: $busy samples"
# Bounded: the tables are capped (131072 threads); 10,000 threads cost
# well under 2 kB each (a leak of a page per thread would be 40 MB).
[ "${rss:-0}" -gt "$hwm" ] && hwm=$rss
[ "$hwm" -gt 0 ] && [ "$hwm" -le 40960 ] || fail "peak RSS ${hwm} kB is not under 40 MB"
pass "10,000 threads followed, busy stacks named, peak RSS ${hwm} kB"

# --- (c) a process in its own mount namespace ---------------------------------
# The host has $T/ns_prog (functions host_side_*); in a private mount
# namespace another build of it (nspc_side_*, the same layout) is
# bind-mounted over that path and run. Named from the host's file, its
# frames would read host_side_*. The mount ends with the namespace.
$CC $FP_CFLAGS -DLEAF=host_side_leaf -DCALLER=host_side_caller -o "$T/ns_prog" "$FIX/ns_leaf.c" &&
	$CC $FP_CFLAGS -DLEAF=nspc_side_leaf -DCALLER=nspc_side_caller -o "$T/ns_inner" "$FIX/ns_leaf.c" ||
	fail "cannot build the namespace fixtures"
unshare --mount --propagation private \
	sh -c 'mount --bind "$1/ns_inner" "$1/ns_prog" && exec "$1/ns_prog" "$2"' sh "$T" $((30 * SLOW)) \
	>"$T/ns.out" &
NS_PID=$!
track "$NS_PID"
for _ in $(seq 50); do grep -q ready "$T/ns.out" && break; sleep 0.1; done
grep -q ready "$T/ns.out" || fail "the namespace's program did not start"
[ "$(readlink "/proc/$NS_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] ||
	fail "the program is not in its own mount namespace"
grep -q "$T/ns_prog" /proc/self/mountinfo && fail "the bind mount leaked to the host"
both_engines "$NS_PID" 3 ns
own=$(count_matching "$T/ns.native.col" '^ns_prog;.*;main;nspc_side_caller;nspc_side_leaf ')
nsall=$(count_matching "$T/ns.native.col" '^ns_prog;')
host=$(count_matching "$T/ns.native.col" 'host_side_')
perf_own=$(count_matching "$T/ns.perf.col" 'nspc_side_')
perf_host=$(count_matching "$T/ns.perf.col" 'host_side_')
echo "mount namespace: native $own of $nsall samples from its own file, $host from the host's;" \
	"perf engine $perf_own own, $perf_host host's"
most_of "$own" "$nsall" || { head -3 "$T/ns.native.col"; fail "native: the namespace's own symbols are missing"; }
[ "$host" = 0 ] || fail "native: $host samples named from the host's file"
pass "a process in its own mount namespace named from its own files ($own samples)"
kill "$NS_PID"
wait "$NS_PID" 2>/dev/null
grep -q "$T/ns_prog" /proc/self/mountinfo && fail "a mount is left"

# --- (d) Node's JIT frames from /tmp/perf-PID.map -----------------------------
if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed: the JIT part is not run"
	exit 0
fi
# node's V8 log (isolate-*-v8.log) goes to its working directory: $T.
(cd "$T" && JIT_SECONDS=$((30 * SLOW)) exec node --perf-basic-prof "$FIX/jit.js" >/dev/null) &
NODE=$!
track "$NODE"
trap 'rm -f "/tmp/perf-$NODE.map"; cleanup' EXIT
for _ in $(seq $((100 * SLOW))); do
	grep -q coldLoop "/tmp/perf-$NODE.map" 2>/dev/null && break
	sleep 0.1
done
grep -q hotLoop "/tmp/perf-$NODE.map" || fail "node wrote no perf map"
timeout -k 5 $((60 * SLOW)) "$PERF_WORKER" --perf-engine native --pid "$NODE" -d $((4 * SLOW)) -f 199 -v \
	>"$T/jit.col" 2>"$T/jit.err" || { cat "$T/jit.err"; fail "node: native engine exited with $?"; }
grep -q 'native engine: sampling' "$T/jit.err" || fail "the native engine did not sample"
hot=$(count_matching "$T/jit.col" ';JS:\*hotLoop [^;]*$')
cold=$(count_matching "$T/jit.col" ';JS:\*coldLoop [^;]*$')
echo "node: hotLoop $hot, coldLoop $cold samples"
[ "$hot" -gt 50 ] && [ "$cold" -gt 10 ] || { head -3 "$T/jit.col"; fail "node: JS functions not named"; }
[ "$hot" -gt "$cold" ] || fail "node: hotLoop ($hot) is not above coldLoop ($cold)"
pass "node --perf-basic-prof: JS functions named by the native engine"
kill "$NODE"
wait "$NODE" 2>/dev/null
rm -f "/tmp/perf-$NODE.map"
