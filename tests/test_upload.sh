# profd-upload on its own against the test backend: Performance Studio's
# health check, headers, query and gzipped JSON fields; Pyroscope's
# /ingest; the 4 MB limit; the token kept out of logs and process titles.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"

start_server
HOST=$(uname -n)
UP_ARGS="-u --server-host $URL --service-name web-svc --token-file $T/token"

# An existing gProfiler collapsed file: its header gives the window's times.
cat >"$T/in.col" <<'COL'
# {"metadata": {"start_time": "2026-01-02T03:04:05Z", "end_time": "2026-01-02T03:05:05Z"}, "application_metadata_enabled": true}
0;;app;main;foo 5
0;;app;main;bar 3
0;cont1;app2;run;x 2
COL
"$UPLOAD_WORKER" $UP_ARGS --pyroscope-url "$URL" --pyroscope-app shop \
	--spool-dir "$T/spool" "$T/in.col" >"$T/1.out" 2>"$T/1.err"
rv=$?
cat "$T/1.err"
[ "$rv" = 0 ] || fail "profd-upload exited with $rv"
"$PY" - "$REQS" "$TOKEN" "$HOST" <<'PY' || fail "the requests are not as expected"
import calendar, json, sys, time
reqs = [json.loads(l) for l in open(sys.argv[1])]
token, host = sys.argv[2], sys.argv[3]
def ok(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
ok([r["path"] for r in reqs] ==
   ["/api/v1/health_check", "/api/v2/profiles", "/ingest"],
   "health check, one profile, one ingest: %s" % [r["path"] for r in reqs])
ok(all(r["status"] == 200 for r in reqs), "all answered 200")
for r in reqs[:2]:
    q, h = r["query"], r["headers"]
    ok("key" not in q and q.get("service") == "web-svc" and
       q.get("hostname") == host and q.get("timestamp"), "query %s" % q)
    ok(h.get("gprofiler-api-key") == token, "API key header")
    ok(h.get("gprofiler-service-name") == "web-svc", "service header")
p = reqs[1]
h = p["headers"]
ok(p["method"] == "POST" and p["gzip"], "gzipped POST")
ok(h.get("content-encoding") == "gzip", "Content-Encoding")
ok(h.get("content-type") == "application/json", "Content-Type")
ok(int(h.get("content-length", -1)) == p["body_len"], "Content-Length")
ok(p["query"].get("version"), "version in the query")
b = p["body"]
for f in ("start_time", "end_time", "hostname", "profile", "cpu_avg",
          "mem_avg", "spawn_time", "gpid"):
    ok(f in b, "field " + f)
ok(b["start_time"] == "2026-01-02T03:04:05Z", "start_time %s" % b["start_time"])
ok(b["end_time"] == "2026-01-02T03:05:05Z", "end_time %s" % b["end_time"])
ok(b["hostname"] == host and b["gpid"] == "", "hostname, first gpid")
time.strptime(b["spawn_time"], "%Y-%m-%dT%H:%M:%SZ")
lines = b["profile"].splitlines()
ok(lines[0].startswith("# {"), "the profile starts with its header")
json.loads(lines[0][2:])
ok(sorted(lines[1:]) == sorted(["0;;app;main;foo 5", "0;;app;main;bar 3",
                                "0;cont1;app2;run;x 2"]),
   "profile stacks %s" % lines[1:])
g = reqs[2]
q = g["query"]
ok(q.get("name") == "shop{hostname=%s,service=web-svc}" % host.replace(" ", "_"),
   "pyroscope name %s" % q.get("name"))
t0 = calendar.timegm((2026, 1, 2, 3, 4, 5))
ok(q.get("from") == str(t0) and q.get("until") == str(t0 + 60),
   "from/until %s" % q)
ok(q.get("format") == "folded" and q.get("units") == "samples" and
   q.get("aggregationType") == "sum" and q.get("spyName") == "profd",
   "pyroscope parameters %s" % q)
ok(sorted(g["body"].splitlines()) ==
   sorted(["app;main;foo 5", "app;main;bar 3", "cont1;app2;run;x 2"]),
   "folded body %s" % g["body"])
PY
[ "$(spooled "$T/spool" studio)" = 0 ] || fail "studio spool not empty"
[ "$(spooled "$T/spool" pyroscope)" = 0 ] || fail "pyroscope spool not empty"
grep -qF "$TOKEN" "$T/1.err" "$T/1.out" && fail "the token was logged"
pass "one window: health check, headers, fields, pyroscope, empty spool"

# The token on the command line is wiped (zeroed) in the process title
# (it lives in secret memory only); while the server hangs the process
# can be looked at.
srv hang
"$UPLOAD_WORKER" -v -u --server-host "$URL" --service-name web-svc \
	--token "$TOKEN" --server-upload-timeout 2 --spool-dir "$T/spool2" \
	"$T/in.col" >"$T/2.out" 2>"$T/2.err" &
UP=$!
track "$UP"
wiped() {
	tr '\0' ' ' <"/proc/$UP/cmdline" >"$T/cmdline"
	grep -qE -- "--token {$((${#TOKEN} + 1))} --server-upload-timeout" "$T/cmdline"
}
wait_for 5 wiped || fail "no wiped token: $(cat "$T/cmdline")"
grep -qF "$TOKEN" "$T/cmdline" && fail "the token is in the process title"
wait "$UP"
rv=$?
srv ok
[ "$rv" = 1 ] || fail "an undelivered window exits with $rv, not 1"
[ "$(spooled "$T/spool2" studio)" = 1 ] || fail "the window was not spooled"
grep -q "1 windows left in the spool" "$T/2.err" || fail "no message"
grep -qF "$TOKEN" "$T/2.err" && fail "the token was logged"
# The next run delivers what was left, first.
n0=$(grep -c '"/api/v2/profiles"' "$REQS")
"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool2" "$T/in.col" \
	>/dev/null 2>"$T/3.err" || { cat "$T/3.err"; fail "resume failed"; }
n1=$(grep -c '"/api/v2/profiles"' "$REQS")
[ $((n1 - n0)) = 2 ] || fail "$((n1 - n0)) profiles after the resume, not 2"
[ "$(spooled "$T/spool2" studio)" = 0 ] || fail "spool not emptied"
pass "token hidden from the process title and logs; a spooled window is sent by the next run"

# Over 4 MB compressed: only the most sampled stacks are sent, with a
# message, and the server never sees a body it must refuse.
"$PY" - "$T/big.txt" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(120000):
        frames = ";".join("%016x" % r.getrandbits(64) for _ in range(5))
        f.write("big;%s %d\n" % (frames, 120000 - i))
PY
"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool3" "$T/big.txt" \
	>/dev/null 2>"$T/4.err"
rv=$?
cat "$T/4.err"
[ "$rv" = 0 ] || fail "the big window was not delivered ($rv)"
grep -q "most sampled" "$T/4.err" || fail "no message about trimming"
"$PY" - "$REQS" <<'PY' || fail "the trimmed profile is wrong"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
big = [r for r in reqs if r["path"] == "/api/v2/profiles" and
       "big;" in r.get("body", {}).get("profile", "")]
assert len(big) == 1 and big[0]["status"] == 200, [r["status"] for r in big]
assert big[0]["body_len"] <= 4 * 1024 * 1024, big[0]["body_len"]
counts = [int(l.rsplit(" ", 1)[1])
          for l in big[0]["body"]["profile"].splitlines()[1:]]
assert 120000 in counts and 1 not in counts, "kept the rarest"
assert len(counts) > 10000, len(counts)
assert min(counts) == 120000 - len(counts) + 1, "not the most sampled"
print("trimmed to %d of 120000 stacks, %d bytes" % (len(counts), big[0]["body_len"]))
PY
pass "a window over 4 MB is trimmed to its most sampled stacks"

# profd upload-file: the same through profd's options, and nothing else.
n0=$(grep -c '"/api/v2/profiles"' "$REQS")
"$PROFD" --worker-dir "$top_builddir" $UP_ARGS --spool-dir "$T/spool4" \
	upload-file "$T/in.col" >/dev/null 2>"$T/5.err" ||
	{ cat "$T/5.err"; fail "profd upload-file failed"; }
n1=$(grep -c '"/api/v2/profiles"' "$REQS")
[ $((n1 - n0)) = 1 ] || fail "profd upload-file sent $((n1 - n0)) profiles"
tail -1 "$REQS" | grep -q '"start_time": "2026-01-02T03:04:05Z"' ||
	fail "profd upload-file did not send the file's window"
pass "profd upload-file uploads a saved collapsed file and exits"

# The same with the token in profd's environment: profd passes it on as
# an inherited memfd (PROFD_TOKEN_FD), and it reaches the server.
PROFD_TOKEN="$TOKEN" "$PROFD" --worker-dir "$top_builddir" -u \
	--server-host "$URL" --service-name web-svc --spool-dir "$T/spool5" \
	upload-file "$T/in.col" >/dev/null 2>"$T/6.err" ||
	{ cat "$T/6.err"; fail "profd upload-file with PROFD_TOKEN failed"; }
tail -1 "$REQS" | grep -qF "\"gprofiler-api-key\": \"$TOKEN\"" ||
	fail "the token from PROFD_TOKEN did not reach the server"
pass "PROFD_TOKEN reaches the server through profd's memfd"

# The spool's bounds: at most 2 windows; the oldest goes first, counted.
srv fail
for i in 1 2 3; do
	printf 'bound;w%s 1\n' "$i" >"$T/b$i.txt"
	"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool5" --spool-max-files 2 \
		--server-upload-timeout 2 "$T/b$i.txt" >/dev/null 2>"$T/b$i.err" &&
		fail "delivered while the server fails"
done
[ "$(spooled "$T/spool5" studio)" = 2 ] || fail "the spool holds more than 2"
grep -q "dropped the 1 oldest" "$T/b3.err" || fail "no message about the drop"
srv ok
"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool5" "$T/b1.txt" \
	>/dev/null 2>"$T/b4.err" || fail "not delivered"
got=$(grep -o 'bound;w[0-9]' "$REQS" | tr '\n' ' ')
[ "$got" = "bound;w2 bound;w3 bound;w1 " ] || fail "delivered: $got"
pass "the spool drops its oldest window beyond its bound, and says so"
