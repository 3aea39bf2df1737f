# profd-java on its own: a Java program whose two leaves do 3:1 of the work,
# under OpenJDK 17 and Temurin 25 (each skipped when absent), as root, as
# another user, and in its own mount namespace with a private /tmp.
. "$top_srcdir/tests/lib.sh"
require_root
require_java_worker

# Profiles PID $1 for $2 seconds into $T/$3.col; checks nesting, proportion
# (75 % +- 25 % of it), and that nothing of ours is left in $4 (the JVM's
# /tmp): the agent's copy, at a random name, is removed once loaded.
check_java() {
	timeout -k 5 $((60 * SLOW)) "$JAVA_WORKER" --pid "$1" -d "$2" -f 100 \
		--java-agent "$JAVA_AGENT" >"$T/$3.col" 2>"$T/$3.err" ||
		{ cat "$T/$3.err"; fail "$3: profd-java exited with $?"; }
	java_shares "$T/$3.col"
	echo "$3: hotLeaf=$HOT coldLeaf=$COLD hot share=$SHARE %"
	# 75 per second at 100 Hz; a tenth of a CPU on a loaded host: 7.
	[ "$HOT" -ge $((3 * $2)) ] || { head -5 "$T/$3.col"; fail "$3: too few samples in hotLeaf"; }
	[ "$COLD" -ge $((1 * $2)) ] || fail "$3: too few samples in coldLeaf"
	[ "$SHARE" -ge 56 ] && [ "$SHARE" -le 94 ] || fail "$3: hot share $SHARE % is not 75 % +- 25 %"
	left=$(ls -A "$4" | grep -E "^\.profd-|^\.attach_pid$1$|^\.libprofd" || true)
	[ -z "$left" ] || fail "$3: left in the JVM's /tmp: $left"
	lib=$(awk '/libprofd-jvmti/ { print $6 }' "/proc/$1/maps" | sort -u)
	echo "$lib" | grep -Eqx "/tmp/libprofd-jvmti-$VERSION-[0-9a-f]{16}\.so" ||
		fail "$3: the agent is not loaded from a random name in /tmp: $lib"
	[ ! -e "$4/${lib#/tmp/}" ] || fail "$3: the agent's copy was left in the JVM's /tmp"
}
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")

ran=0
for jdk in "$JDK17:17" "$JDK25:25"; do
	home=${jdk%:*} v=${jdk##*:}
	[ -x "$home/bin/javac" ] || { echo "JDK $v is not installed: skipped"; continue; }
	compile_java_busy "$home" "$v"
	"$home/bin/java" -cp "$T/classes-$v" JavaBusy 60 >"$T/jvm$v.out" 2>&1 &
	jvm=$!
	track "$jvm"
	wait_ready "$T/jvm$v.out"
	check_java "$jvm" $((5 * SLOW)) "jdk$v" /tmp
	kill -0 "$jvm" || fail "JDK $v: the JVM died"
	pass "JDK $v: leaves nested under their callers through main, 3:1"
	kill "$jvm"
	wait "$jvm" 2>/dev/null
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "neither JDK 17 nor Temurin 25 is installed"

# The first JDK found, for the other cases.
for home in "$JDK17" "$JDK25"; do [ -x "$home/bin/java" ] && break; done
[ -d "$T/classes-17" ] && v=17 || v=25

# A JVM of another user: the helper takes its uid and gid.
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$home/bin/java" -cp "$T/classes-$v" JavaBusy 60 >"$T/nobody.out" 2>&1 &
jvm=$!
track "$jvm"
wait_ready "$T/nobody.out"
[ "$(stat -c %U /proc/$jvm)" = nobody ] || fail "the JVM does not run as nobody"
check_java "$jvm" $((3 * SLOW)) nobody /tmp
pass "a JVM of user nobody"
kill "$jvm"

# A JVM in its own mount namespace with a private /tmp (a container's): the
# helper enters it; the socket and the agent are only in that /tmp.
command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
unshare -m --propagation private sh -c \
	"mount --bind '$T/classes-$v' /mnt && mount -t tmpfs tmpfs /tmp &&
	 exec '$home/bin/java' -cp /mnt JavaBusy 60" >"$T/ns.out" 2>&1 &
jvm=$!
track "$jvm"
wait_ready "$T/ns.out"
# Another user's file under the agent's old name in that /tmp is neither
# loaded nor replaced (tests/test_attack_java.sh plants more).
agent_name=libprofd-jvmti-$VERSION.so
echo "not an agent" >"/proc/$jvm/root/tmp/$agent_name"
chown nobody "/proc/$jvm/root/tmp/$agent_name"
check_java "$jvm" $((3 * SLOW)) mntns "/proc/$jvm/root/tmp"
grep -q "/tmp/$agent_name$" "/proc/$jvm/maps" && fail "the planted $agent_name was loaded"
[ "$(cat "/proc/$jvm/root/tmp/$agent_name")" = "not an agent" ] || fail "another user's file was replaced"
[ -S "/proc/$jvm/root/tmp/.java_pid$jvm" ] || fail "no attach socket in the private /tmp"
[ ! -e "/tmp/.java_pid$jvm" ] || fail "the attach socket is in the host's /tmp"
pass "a JVM in its own mount namespace"
