# A window Pyroscope refuses for good (4xx) is kept in the spool's
# rejected/pyroscope with the server's reason, as the Studio's refused
# windows are, never silently dropped; one it accepts leaves nothing.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"

start_server
ARGS="--pyroscope-url $URL --pyroscope-app shop --spool-dir $T/spool"
REJ="$T/spool/rejected/pyroscope"

# Control: accepted, nothing kept.
printf 'accepted;w0 1\n' >"$T/r0.txt"
"$UPLOAD_WORKER" $ARGS "$T/r0.txt" >/dev/null 2>"$T/r0.err" ||
	{ cat "$T/r0.err"; fail "an accepted window exits with $?"; }
[ "$(find "$REJ" -name '*.win' 2>/dev/null | wc -l)" = 0 ] ||
	fail "an accepted window was kept"

srv reject
for i in 1 2; do
	printf 'refused;w%s 1\n' "$i" >"$T/r$i.txt"
	"$UPLOAD_WORKER" $ARGS "$T/r$i.txt" >/dev/null 2>"$T/r$i.err" &&
		fail "a refused window exits with 0"
	grep -q "pyroscope: the server refused window .* for good (HTTP 400 " \
		"$T/r$i.err" || { cat "$T/r$i.err"; fail "no message"; }
done
srv ok
[ "$(spooled "$T/spool" pyroscope)" = 0 ] || fail "refused windows stay queued"
[ "$(find "$REJ" -name '*.win' | wc -l)" = 2 ] || fail "kept: $(ls "$REJ")"
for w in "$REJ"/*.win; do
	grep -q '^0;;refused;w[12] 1$' "$w" || fail "kept: $(cat "$w")"
	reason=$(cat "${w%.win}.reason")
	case "$reason" in
	"HTTP 400: "*"told to reject"*) ;;
	*) fail "reason: $reason" ;;
	esac
done
n=$(grep -c '"/ingest"' "$REQS")
[ "$n" = 3 ] || fail "$n ingest requests, not 3 (a refused window was retried)"
pass "refused by Pyroscope: kept in rejected/pyroscope with '$reason'"
