# Attacks on profd-java's attach path, against the real binary:
# 1. the helper that holds a JVM's uid holds no capability: caught while it
#    waits for a stopped JVM, its Cap* lines are 0 and an injected
#    setresuid(0,0,0) fails; positive control: a process with the old
#    capability set that went from one non-zero uid to another keeps them,
#    and the same injection makes it root;
# 2. a fake JVM in a user's own user+mount namespace, or with a libjvm.so or
#    an executable not owned by root, is refused with its reason; positive
#    control: the same fake in the initial namespaces with root's files is
#    taken for a JVM and gets past every check;
# 3. files planted by another user under every name the agent's copy had,
#    and a symbolic link, block nothing and are left as they were.
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker
[ "$(uname -m)" = x86_64 ] || skip "tests/inject_syscall is x86_64 only"
INJECT="$top_builddir/tests/inject_syscall"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY (the fake JVMs and the control use it)"
for c in unshare setpriv; do
	command -v $c >/dev/null 2>&1 || skip "$c is not installed"
done
for home in "$JDK17" "$JDK25"; do [ -x "$home/bin/javac" ] && break; done
[ -x "$home/bin/javac" ] || skip "no JDK installed"
LIBJVM="$home/lib/server/libjvm.so"
compile_java_busy "$home" busy
NOBODY="--reuid=65534 --regid=65534 --clear-groups"
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")
OLD=libprofd-jvmti-$VERSION.so
ZERO="0000000000000000"

# Planted in the JVM's /tmp by user 4242 (not the JVM's user): every name
# the agent's copy had before, names of the new pattern, a symbolic link.
cat >"$T/classes-busy/plant.sh" <<EOF
for n in $OLD $OLD.65534 $OLD.0 libprofd-jvmti-$VERSION-$ZERO.so; do
	echo planted >/tmp/\$n
done
ln -s /etc/passwd /tmp/$OLD.4242
ln -s /etc/passwd /tmp/libprofd-jvmti-$VERSION-ffffffffffffffff.so
EOF
planted_ok() { # the JVM's /tmp, as seen from here
	for n in $OLD $OLD.65534 $OLD.0 "libprofd-jvmti-$VERSION-$ZERO.so"; do
		[ "$(cat "$1/$n")" = planted ] && [ "$(stat -c %u "$1/$n")" = 4242 ] ||
			fail "planted file $n was changed"
	done
	for n in $OLD.4242 "libprofd-jvmti-$VERSION-ffffffffffffffff.so"; do
		[ "$(readlink "$1/$n")" = /etc/passwd ] || fail "planted link $n was changed"
	done
}
passwd_sum=$(md5sum </etc/passwd)

# JavaBusy as user nobody in its own mount namespace with a private, sticky
# /tmp holding the planted files (a shared /tmp of a container, and no
# other profiler on this host sees it); sets JVM.
start_jvm() {
	unshare -m --propagation private sh -c "
		mount --bind '$T/classes-busy' /mnt &&
		mount -t tmpfs -o mode=1777 tmpfs /tmp &&
		setpriv --reuid=4242 --regid=4242 --clear-groups sh /mnt/plant.sh &&
		exec setpriv $NOBODY '$home/bin/java' -cp /mnt JavaBusy 60" \
		>"$T/$1.out" 2>&1 &
	JVM=$!
	track "$JVM"
	wait_ready "$T/$1.out"
}

# Status fields of process $1: "CapInh CapPrm CapEff CapBnd CapAmb Uid".
caps_of() {
	awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s ", $2 }
	     /^Uid:/ { u = $2 "/" $3 "/" $4 "/" $5 } END { print u }' "/proc/$1/status"
}
NOCAPS="0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000"

# --- 1. the helper holds the JVM's uid and no capability ----------------------
start_jvm caps
jvm=$JVM
kill -STOP "$jvm"
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$jvm" -d 3 -f 100 \
	--java-agent "$JAVA_AGENT" >"$T/caps.col" 2>"$T/caps.err" &
worker=$!
track "$worker"
# The helper waits for the socket once it holds the JVM's uid (it gives
# up its capabilities right after taking it, then sends SIGQUIT).
helper=""
for _ in $(seq $((200 * SLOW))); do
	helper=$(pgrep -P "$(pgrep -P "$worker")") && # timeout, profd-java, helper
		[ "$(caps_of "$helper" | awk '{ print $NF }')" = 65534/65534/65534/65534 ] && break
	helper=""
	sleep 0.02
done
[ -n "$helper" ] || { cat "$T/caps.err"; fail "no helper waiting for the stopped JVM"; }
sleep 0.2
have=$(caps_of "$helper")
echo "helper $helper: $have"
[ "$have" = "$NOCAPS 65534/65534/65534/65534" ] ||
	fail "the helper holds capabilities or another uid: $have"
grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$helper/status" || fail "the helper may gain privileges"
out=$("$INJECT" "$helper" setresuid 0 0 0)
rc=$?
echo "inject into the helper: $out (exit $rc)"
case "$rc:$out" in
3:"setresuid returned -1") ;; # -EPERM
0:*"killed by SIGSYS") ;;
*) fail "setresuid(0,0,0) in the helper: $out (exit $rc)" ;;
esac
[ "$rc" = 0 ] || [ "$(caps_of "$helper")" = "$have" ] || fail "the helper changed after the injection"
kill -CONT "$jvm"
wait "$worker" || { cat "$T/caps.err"; fail "profd-java exited with $?"; }
if [ "$rc" = 3 ]; then
	java_shares "$T/caps.col"
	[ "$HOT" -gt 0 ] || { cat "$T/caps.col" "$T/caps.err"; fail "no Java stacks after SIGCONT"; }
	echo "after SIGCONT: hotLeaf=$HOT coldLeaf=$COLD"
fi
pass "the helper: uid 65534 and no capability in any set; setresuid(0,0,0) fails"

# --- 3. planted agent names (the same JVM: attached, files untouched) ---------
[ "$rc" = 3 ] || fail "(the helper was killed: the planted-names case needs the attach)"
planted_ok "/proc/$jvm/root/tmp"
[ "$(md5sum </etc/passwd)" = "$passwd_sum" ] || fail "/etc/passwd changed"
copies=$(awk '/libprofd-jvmti/ { print $6 }' "/proc/$jvm/maps" | sort -u)
echo "agent mapped from: $copies"
echo "$copies" | grep -Eqx "/tmp/libprofd-jvmti-$VERSION-[0-9a-f]{16}\.so" ||
	fail "the agent's copy is not at a new random name"
[ "$copies" != "/tmp/libprofd-jvmti-$VERSION-$ZERO.so" ] || fail "the planted name was used"
left=$(ls -A "/proc/$jvm/root/tmp" | grep -E "^libprofd-jvmti-$VERSION-[0-9a-f]{16}\.so$" |
	grep -v -e "-$ZERO\.so$" -e "-ffffffffffffffff\.so$" || true)
[ -z "$left" ] || fail "the agent's copy was left in /tmp: $left"
# A second attach finds the loaded copy by its name (no second copy).
timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$jvm" -d 1 -f 100 \
	--java-agent "$JAVA_AGENT" >"$T/again.col" 2>"$T/again.err" ||
	{ cat "$T/again.err"; fail "second profd-java exited with $?"; }
java_shares "$T/again.col"
[ "$HOT" -gt 0 ] || { cat "$T/again.col" "$T/again.err"; fail "no Java stacks the second time"; }
[ "$(awk '/libprofd-jvmti/ { print $6 }' "/proc/$jvm/maps" | sort -u)" = "$copies" ] ||
	fail "a second copy of the agent was loaded"
planted_ok "/proc/$jvm/root/tmp"
pass "files planted under the agent's names: attach works, files untouched, one copy"
kill "$jvm"

# Positive control: the old capability set, from uid 4243 to uid 65534 (the
# worker's and a JVM's), kept; the same injection then makes it root.
OLDCAPS=+setuid,+setgid,+sys_admin,+sys_chroot,+sys_ptrace,+dac_override,+dac_read_search,+kill
setpriv --reuid=4243 --regid=4243 --clear-groups --inh-caps=$OLDCAPS \
	--ambient-caps=$OLDCAPS "$PY" -c '
import ctypes, time
libc = ctypes.CDLL(None)
assert libc.setresgid(65534, 65534, 65534) == 0
assert libc.setresuid(65534, 65534, 65534) == 0
print("ready", flush=True)
time.sleep(60)' >"$T/control.out" 2>&1 &
control=$!
track "$control"
wait_ready "$T/control.out"
have=$(caps_of "$control")
echo "control $control: $have"
[ "${have% *}" != "$NOCAPS" ] || fail "control: the old set was not kept (the check proves nothing)"
out=$("$INJECT" "$control" setresuid 0 0 0)
echo "inject into the control: $out"
[ "$out" = "setresuid returned 0" ] || fail "control: setresuid(0,0,0) did not succeed: $out"
[ "$(caps_of "$control" | awk '{ print $NF }')" = 0/0/0/0 ] || fail "control: not root after the injection"
pass "control: the old set survives a non-zero uid change and setresuid(0,0,0) works"
kill "$control"

# --- 2. fake JVMs ---------------------------------------------------------------
# A process that maps a file named libjvm.so ($1) and runs $2 as nobody.
FAKE='import mmap, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
print("ready", flush=True)
time.sleep(60)'
attach_fake() { # name pid: runs profd-java against it
	timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$2" -d 1 \
		--java-agent "$JAVA_AGENT" >"$T/$1.col" 2>"$T/$1.err" ||
		{ cat "$T/$1.err"; fail "$1: profd-java exited with $?"; }
	cat "$T/$1.err"
	grep -q "is not a HotSpot JVM" "$T/$1.err" && fail "$1: not taken for a JVM"
	return 0
}

# Positive control: in the initial namespaces, with root's python3 and
# root's libjvm.so, the fake gets past every check (and is only skipped
# for not catching SIGQUIT, which python does not).
setpriv $NOBODY "$PY" -c "$FAKE" "$LIBJVM" >"$T/fake0.out" 2>&1 &
fake=$!
track "$fake"
wait_ready "$T/fake0.out"
attach_fake fake0 "$fake"
grep -q "JVM $fake (python3[^)]*) not profiled: the JVM does not handle SIGQUIT" "$T/fake0.err" ||
	fail "control: the fake was not taken through the checks"
kill "$fake"
pass "control: a fake JVM in the initial namespaces with root's files passes the checks"

# The same fake inside its own user and mount namespaces (any user can make
# them): refused before setns, nothing made in its /tmp (directories at the
# agent's old names keep out an older profd-java running on this host).
setpriv $NOBODY unshare -Urm sh -c "mount -t tmpfs tmpfs /tmp &&
	mkdir /tmp/$OLD /tmp/$OLD.65534 && exec '$PY' -c '$FAKE' '$LIBJVM'" \
	>"$T/fakens.out" 2>&1 &
fake=$!
track "$fake"
wait_ready "$T/fakens.out"
[ "$(readlink /proc/$fake/ns/user)" != "$(readlink /proc/self/ns/user)" ] || fail "the fake has no user namespace"
fake=$(pgrep -P "$fake" || echo "$fake") # unshare may have forked
attach_fake fakens "$fake"
grep -q "JVM $fake (python3[^)]*) not profiled: not attached to: its mnt namespace belongs to another user namespace" \
	"$T/fakens.err" || fail "the fake JVM in a user namespace was not refused for it"
grep -q "Profiling skipped: not attached to: its mnt namespace" "$T/fakens.col" || fail "no skipped frame"
made=$(ls -A "/proc/$fake/root/tmp" | grep -v -x -e "$OLD" -e "$OLD.65534" || true)
[ -z "$made" ] || fail "files made in the fake's /tmp: $made"
kill "$fake"
pass "a fake JVM in a user's own namespaces: refused, its /tmp untouched"

# A libjvm.so of user nobody, in the initial namespaces.
mkdir -p "$T/nobody/lib/server"
cp "$LIBJVM" "$T/nobody/lib/server/libjvm.so"
cp "$PY" "$T/nobody/python3"
chown -R nobody "$T/nobody"
chmod 0755 "$T/nobody" "$T/nobody/lib" "$T/nobody/lib/server"
setpriv $NOBODY "$PY" -c "$FAKE" "$T/nobody/lib/server/libjvm.so" >"$T/fakelib.out" 2>&1 &
fake=$!
track "$fake"
wait_ready "$T/fakelib.out"
attach_fake fakelib "$fake"
grep -q "not attached to: its $T/nobody/lib/server/libjvm.so is not root's" "$T/fakelib.err" ||
	fail "a libjvm.so of nobody was not refused"
kill "$fake"
# An executable of user nobody, with root's libjvm.so.
PYTHONHOME=/usr setpriv $NOBODY "$T/nobody/python3" -c "$FAKE" "$LIBJVM" >"$T/fakeexe.out" 2>&1 &
fake=$!
track "$fake"
wait_ready "$T/fakeexe.out"
attach_fake fakeexe "$fake"
grep -q "not attached to: its executable $T/nobody/python3 is not root's" "$T/fakeexe.err" ||
	fail "an executable of nobody was not refused"
kill "$fake"
pass "a libjvm.so or an executable not owned by root: refused"
