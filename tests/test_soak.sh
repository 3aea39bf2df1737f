# The chaos soak's short mode (contrib/soak.sh --short): one minute of
# killed workers, a failing and hanging backend, programs coming and going
# and tiny memory limits, with nothing lost and profd flat.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
# Sanitizer builds (SLOW > 1): RSS is ASan's, not profd's.
slack=1024
[ "$SLOW" -gt 1 ] && slack=65536
top_builddir="$top_builddir" top_srcdir="$top_srcdir" SOAK_RSS_SLACK_KB=$slack \
	bash "$top_srcdir/contrib/soak.sh" --short >"$T/soak.out" 2>&1
rv=$?
cat "$T/soak.out"
[ "$rv" = 0 ] || fail "the soak failed"
pass "soak: nothing lost, profd flat"
