# The chunk journal: a chunk is stored in the spool before profd-upload
# acknowledges it; chunks a crash left there are stored and delivered by
# the next run; after a normal window the journal is empty.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
require_root

start_server
RUN="$T/run"
mkdir -p "$RUN" "$T/spool/chunks"
chmod 0711 "$RUN"
common="--runtime-dir $RUN --worker-dir $top_builddir -u --server-host $URL
	--service-name journal-svc --token-file $T/token --spool-dir $T/spool"

# A chunk as profd-perf sends it (protobuf written by hand), left in the
# journal of window 7 as if profd-upload had died after acknowledging it.
"$PY" - "$T/spool/chunks/7.perf.chunk" <<'PY'
import sys
def varint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out
def field(n, wire, data):
    return varint(n << 3 | wire) + data
def ln(n, data):
    return field(n, 2, varint(len(data)) + data)
def packed(n, values):
    return ln(n, b"".join(varint(v) for v in values))
strings = ["", "crashed_app", "main", "journal_leaf"]
proc = (field(1, 0, varint(4242)) + field(2, 0, varint(1)) +
        packed(5, [2, 3]) + packed(6, [2]) + packed(7, [37]))
chunk = (ln(1, b"perf") + field(2, 0, varint(7)) +
         b"".join(ln(3, s.encode()) for s in strings) + ln(4, proc) +
         field(5, 0, varint(37)) + field(7, 0, varint(11)))
open(sys.argv[1], "wb").write(chunk)
PY
# shellcheck disable=SC2086
timeout -k 5 60 "$PROFD" -d 1 --perf-mode disabled $common -o "$T/out1" \
	2>"$T/p1.err" || { cat "$T/p1.err"; fail "profd failed"; }
grep -q "chunks of an earlier run recovered" "$T/p1.err" ||
	{ cat "$T/p1.err"; fail "no recovery message"; }
[ -z "$(ls -A "$T/spool/chunks")" ] || { ls -la "$T/spool/chunks"; cat "$T/p1.err"; fail "the journal was not emptied"; }
grep -rq "0;;crashed_app;main;journal_leaf 37" "$T/out1" ||
	fail "the recovered window was not written"
grep -q 'crashed_app;main;journal_leaf 37' "$REQS" ||
	fail "the recovered window was not delivered"
pass "a chunk left in the journal is stored and delivered by the next run"

# With perf: the journal holds chunks only until their window is stored.
if perf record -e cpu-clock -o "$T/probe" -- true >/dev/null 2>&1; then
	start_busy 30
	# shellcheck disable=SC2086
	timeout -k 5 60 "$PROFD" -d 2 -f 49 $common -o "$T/out2" \
		2>"$T/p2.err" || { cat "$T/p2.err"; fail "profd failed"; }
	grep -q "busy_c" "$T/out2/last_profile.col" || fail "no busy_c stacks"
	grep -q 'busy_c;' "$REQS" || fail "busy_c's window was not delivered"
	[ -z "$(ls -A "$T/spool/chunks")" ] || fail "journal not emptied"
	pass "chunks journaled, then removed once their window is stored"
fi
