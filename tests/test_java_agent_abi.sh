# What profd-java(8) promises of the agent it loads into customers' JVMs
# (often in containers older than the host): it needs only the C library,
# and of it no symbol version newer than GLIBC_2.17. A positive control
# shows the check catches what a plain build of a newer call gives
# (dladdr1 is GLIBC_2.34 by default since glibc 2.34).
. "$top_srcdir/tests/lib.sh"
require_java_worker
command -v objdump >/dev/null || skip "objdump (binutils) is needed"

# The newest GLIBC version that shared object $1 needs.
newest_glibc() {
	objdump -T "$1" | sed -n 's/.*[( ]GLIBC_\([0-9.]*\)[) ].*/\1/p' | sort -uV | tail -1
}
# 0 when version $1 is at most $2.
at_most() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" = "$2" ]
}

v=$(newest_glibc "$JAVA_AGENT")
echo "the agent needs GLIBC_$v at most"
[ -n "$v" ] || fail "no GLIBC version read from $JAVA_AGENT"
at_most "$v" 2.17 || {
	objdump -T "$JAVA_AGENT" | grep GLIBC_ | sort -k5 -V | tail -5
	fail "the agent needs GLIBC_$v, newer than 2.17"
}
needed=$(objdump -p "$JAVA_AGENT" | awk '$1 == "NEEDED" { print $2 }' | sort -u | tr '\n' ' ')
echo "the agent's NEEDED: $needed"
[ "$needed" = "libc.so.6 " ] || fail "the agent needs more than libc.so.6: $needed"
pass "the agent needs only libc.so.6, GLIBC_2.17 at most"

# The control: the same check on a library that calls dladdr1 unpinned.
cat >"$T/ctl.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
int ctl(void *p)
{
	Dl_info di;
	struct link_map *lm;

	return dladdr1(p, &di, (void **)&lm, RTLD_DL_LINKMAP);
}
C
${CC:-cc} -shared -fPIC -o "$T/ctl.so" "$T/ctl.c" || fail "the control did not build"
c=$(newest_glibc "$T/ctl.so")
echo "control (dladdr1, unpinned): GLIBC_$c"
if at_most "$c" 2.17; then
	# An older host libc binds dladdr1 to 2.3.3: the control says nothing.
	echo "note: this libc's default dladdr1 is old; no control here"
else
	pass "control: the check sees GLIBC_$c in an unpinned build"
fi
