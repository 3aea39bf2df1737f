# The chaos soak's short mode (contrib/soak.sh --short): one minute of
# killed workers, a failing and hanging backend, programs coming and going
# and tiny memory limits, with nothing lost and profd flat.
. "$top_srcdir/tests/lib.sh"
require_root
require_perf
command -v python3 >/dev/null 2>&1 || skip "python3 is needed"
# Sanitizer builds (SLOW > 1): RSS is ASan's, not profd's; and ASan's
# quarantine keeps the native engine's freed memory resident, so that it
# crosses its soft limit and restarts every window, which is not what
# this soak of profd measures: there it runs the perf engine.
slack=1024 engine=auto
[ "$SLOW" -gt 1 ] && slack=65536 engine=perf
top_builddir="$top_builddir" top_srcdir="$top_srcdir" SOAK_RSS_SLACK_KB=$slack \
	SOAK_PERF_ENGINE=$engine \
	bash "$top_srcdir/contrib/soak.sh" --short >"$T/soak.out" 2>&1
rv=$?
cat "$T/soak.out"
[ "$rv" = 0 ] || fail "the soak failed"
pass "soak: nothing lost, profd flat"
