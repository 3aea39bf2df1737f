# perf leaves /tmp/perf-vdso.so-XXXXXX behind when it is killed (its
# worker killed with it, a memory limit), one more on every such death.
# profd-perf removes, as it starts profiling, the files of its own uid
# that no running perf of that uid made; another user's files, a running
# perf's, and what a planted link points to stay. (A real perf killed
# here leaves such a file only now and then, so the leftovers are
# planted; other tests' perfs may run beside this one, and theirs stay.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
require_perf
PU=profd-perf
id -u "$PU" >/dev/null 2>&1 || skip "no user $PU (contrib/profd.sysusers)"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed"
P="/tmp/perf-vdso.so-t$$"
tmp_cleanup() {
	rm -f "$P"*
	profd_cleanup
}
trap tmp_cleanup EXIT

# plant NAME OWNER AGE_S: a file left (so it looks) AGE_S seconds ago.
plant() {
	: >"$P$1"
	chown "$2" "$P$1"
	touch -d "@$(($(date +%s) - $3))" "$P$1"
}
plant old "$PU" 7200
plant other root 7200
# A running "perf" of that uid, started now, with its file.
mkdir -p "$T/fake"
cp "$(command -v sleep)" "$T/fake/perf"
chmod 0755 "$T/fake" "$T/fake/perf"
setpriv --reuid "$PU" --regid "$PU" --clear-groups "$T/fake/perf" 300 &
FAKE=$!
track "$FAKE"
wait_comm "$FAKE" perf
plant live "$PU" 0
# A link of that uid to a file of root's.
echo keep >"$T/target"
ln -s "$T/target" "${P}link"
chown -h "$PU" "${P}link"

start_profd -v -d 2 --no-python --no-java
wait_field perf state running 30
[ "$(ps -o user= -p "$(field perf pid)")" = "$PU" ] ||
	skip "profd-perf does not run as $PU here"
# It sweeps before it profiles: once a window is written it has. (Another
# test's profd-perf beside this one may have swept first.)
wait_grep "$T/profd.err" "window [0-9]* written" 30 "no window was written"
grep "removed [0-9]* /tmp/perf-vdso.so" "$T/profd.err"
[ ! -e "${P}old" ] || fail "a leftover of $PU from 2 hours ago is still there"
[ -e "${P}other" ] || fail "root's file was removed"
[ -e "${P}live" ] || fail "the file of a running perf of $PU was removed"
[ -L "${P}link" ] && [ "$(cat "$T/target")" = keep ] ||
	fail "the planted link or what it points to was touched"
pass "leftover removed; root's file, a running perf's and a planted link stay"

stop_profd 0
pass "clean stop"
