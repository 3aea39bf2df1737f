# The flame graph page in headless Chromium: frames drawn to scale, a
# click on a frame zooms to it, Reset zoom and the bottom frame zoom out.
. "$top_srcdir/tests/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	skip "chromium is not installed"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is needed"

mkdir -p "$T/out"
chmod 0777 "$T/out"
printf 'app;main;hot_leaf 90\napp;main;cold_leaf 10\n' |
	"$UPLOAD_WORKER" -o "$T/out" >/dev/null 2>"$T/err" ||
	{ cat "$T/err"; fail "profd-upload failed"; }
page="file://$T/out/last_flamegraph.html"

# Its own session, so that every Chromium process goes at the end.
args="--headless --disable-gpu --no-first-run --no-default-browser-check
	--user-data-dir=$T/chromium --remote-debugging-port=0
	--window-size=1200,800"
[ "$(id -u)" = 0 ] && args="$args --no-sandbox"
# shellcheck disable=SC2086
setsid "$CHROMIUM" $args "$page" >"$T/chromium.log" 2>&1 &
CHROME=$!
track "$CHROME"
trap 'kill -9 -- -$CHROME 2>/dev/null; cleanup' EXIT
for _ in $(seq 150); do
	[ -s "$T/chromium/DevToolsActivePort" ] && break
	sleep 0.1
done
port=$(head -1 "$T/chromium/DevToolsActivePort" 2>/dev/null)
[ -n "$port" ] || { cat "$T/chromium.log"; fail "Chromium did not start"; }
"$PY" "$top_srcdir/tests/cdp_click.py" "$port" "$page" ||
	fail "the flame graph does not zoom as it should"
pass "click zooms to a frame; Reset zoom and the root zoom out"
