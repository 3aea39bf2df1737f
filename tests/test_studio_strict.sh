# Uploads that Performance Studio accepts, against a test backend as
# strict as its route, models and indexer (tests/http_server.py): profd's
# windows pass, each with a complete AgentMetadata gathered from this host;
# a header missing one field (or of a wrong type) is refused as the real
# server refuses it (the positive control); a window refused with 400 is
# kept with its reason, bounded; gProfiler's collapsed files with and
# without application metadata upload with the same stacks.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
require_root

start_server
RUN="$T/run"
mkdir -p "$RUN"
chmod 0711 "$RUN"
UP_ARGS="-u --server-host $URL --service-name strict-svc --token-file $T/token"

# 1. profd's own windows, as its sandboxed uploader sends them.
# shellcheck disable=SC2086
"$PROFD" -c -d 1 --perf-mode disabled --runtime-dir "$RUN" \
	--worker-dir "$top_builddir" $UP_ARGS --spool-dir "$T/spool" \
	-o "$T/out" -v 2>"$T/p.err" &
PROFD_PID=$!
track "$PROFD_PID"
srv_wait /api/v2/profiles 3 30
up=$(pgrep -f "profd-upload --supervised $RUN" | head -1)
[ -n "$up" ] || fail "no profd-upload"
kill -TERM "$PROFD_PID"
wait "$PROFD_PID"
"$PY" - "$REQS" "$up" <<'PY' || fail "profd's windows are not as Studio wants them"
import json, os, platform, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
prof = [r for r in reqs if r["path"] == "/api/v2/profiles"]
bad = [(r["status"], r.get("answer"), r.get("why")) for r in prof
       if r["status"] != 200]
assert not bad, "refused: %s" % bad
md = json.loads(prof[-1]["body"]["profile"].splitlines()[0][2:])["metadata"]
want = {"system_name": platform.system(), "kernel_release": platform.release(),
        "kernel_version": platform.version(),
        "hardware_type": platform.machine(), "hostname": platform.node(),
        "processors": os.cpu_count(), "pid": int(sys.argv[2]),
        "libc_type": "glibc", "libc_version": platform.libc_ver()[1],
        "python_version": "none"}
osrel = dict(l.rstrip("\n").split("=", 1) for l in open("/etc/os-release")
             if "=" in l)
want["os_name"] = osrel.get("NAME", "").strip('"')
want["os_release"] = osrel.get("VERSION_ID", "").strip('"')
kb = [int(l.split()[1]) for l in open("/proc/meminfo")
      if l.startswith("MemTotal:")][0]
want["memory_capacity_mb"] = (kb + 512) // 1024
# The default route's interface gives the address and the MAC.
iface, best = None, None
for l in list(open("/proc/net/route"))[1:]:
    f = l.split()
    if f[1] == "00000000" and int(f[3], 16) & 1 and \
            (best is None or int(f[6]) < best):
        iface, best = f[0], int(f[6])
if iface is not None:
    want["mac_address"] = open("/sys/class/net/%s/address" % iface) \
        .read().strip().upper()
    ips = os.popen("ip -4 -o addr show dev %s 2>/dev/null" % iface).read()
    if ips:
        want["private_ip"] = ips.split()[3].split("/")[0]
for k, v in want.items():
    assert md.get(k) == v, "%s: %r, not %r" % (k, md.get(k), v)
assert md["cloud_provider"] in ("aws", "gcp", "azure", "unknown"), md
assert md["run_mode"] in ("standalone_executable", "container", "k8s")
assert md["run_arguments"]["duration"] == 1, md["run_arguments"]
print("%d windows accepted; private_ip %s mac %s on %s, %s %s, cloud %s"
      % (len(prof), md["private_ip"], md["mac_address"], iface,
         md["os_name"], md["os_release"], md["cloud_provider"]))
PY
pass "every window of profd passes the strict server, with this host's metadata"

# 2. The positive control: the same accepted body, changed in one place,
# is refused as Performance Studio refuses it.
"$PY" - "$REQS" "$URL" "$TOKEN" <<'PY' || fail "the strict server let a bad profile through"
import gzip, json, sys, urllib.error, urllib.request
reqs = [json.loads(l) for l in open(sys.argv[1])]
url, token = sys.argv[2], sys.argv[3]
good = [r for r in reqs if r["path"] == "/api/v2/profiles" and
        r["status"] == 200][-1]["body"]
def post(body):
    data = gzip.compress(json.dumps(body).encode())
    rq = urllib.request.Request(url + "/api/v2/profiles?service=x", data=data,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json",
                 "GPROFILER-API-KEY": token,
                 "GPROFILER-SERVICE-NAME": "strict-svc"})
    try:
        with urllib.request.urlopen(rq, timeout=10) as a:
            return a.status, json.load(a)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
def with_header(fn, lines=None):
    b = json.loads(json.dumps(good))
    first, _, rest = b["profile"].partition("\n")
    h = json.loads(first[2:])
    fn(h)
    b["profile"] = "# " + json.dumps(h) + "\n" + (rest if lines is None
                                                  else lines)
    return b
st, a = post(good)
assert st == 200, (st, a)
required = ["current_time", "spawn_time", "spawn_uptime_ms", "private_ip",
            "hostname", "cloud_provider", "processors", "memory_capacity_mb",
            "system_name", "os_name", "os_release", "kernel_release",
            "kernel_version", "hardware_type", "pid", "mac_address",
            "agent_version", "libc_type", "libc_version", "python_version",
            "run_mode", "deployment_type", "run_arguments"]
for f in required:
    st, a = post(with_header(lambda h: h["metadata"].pop(f)))
    assert (st, a) == (400, {"message": "Failed to parse v2 metadata"}), \
        (f, st, a)
for f, v in (("processors", "many"), ("current_time", "yesterday"),
             ("cloud_provider", "mars"), ("run_arguments", "-f 11"),
             ("python_version", None), ("hostname", 7)):
    st, a = post(with_header(lambda h: h["metadata"].__setitem__(f, v)))
    assert (st, a) == (400, {"message": "Failed to parse v2 metadata"}), \
        (f, v, st, a)
st, a = post(with_header(lambda h: h.pop("metadata")))
assert st == 400 and a["message"] == "Failed to parse v2 metadata", (st, a)
b = dict(good); b["profile"] = "no header\n0;;a;b 1\n"
assert post(b) == (400, {"message": "Failed to parse v2 metadata"})
# gpid, start_time and profile are the body's model: FastAPI's 422.
for f in ("gpid", "start_time", "profile"):
    b = dict(good); b.pop(f)
    st, a = post(b)
    assert st == 422 and a["detail"][0]["loc"] == ["body", f], (f, st, a)
# agent_version >= 1.2.3: the gpid must be "" or a number.
b = with_header(lambda h: h["metadata"].__setitem__("agent_version", "1.2.3"))
b["gpid"] = "not-a-number"
assert post(b) == (400, {"message": "Failed to parse v2 metadata"})
b["gpid"] = "17"
assert post(b)[0] == 200
# Header and lines must agree on the index the indexer skips.
st, a = post(with_header(
    lambda h: h.__setitem__("application_metadata_enabled", False),
    "0;;comm;main;f 3\n"))
assert st == 400 and a["message"].startswith("indexer:"), (st, a)
st, a = post(with_header(lambda h: None, ";comm;main;f 3\n"))
assert st == 400 and a["message"].startswith("indexer:"), (st, a)
st, a = post(with_header(lambda h: None, "5;;comm;main;f 3\n"))
assert st == 400 and a["message"].startswith("indexer:"), (st, a)
st, a = post(with_header(
    lambda h: h.__setitem__("application_metadata_enabled", False),
    ";comm;main;f 3\n"))
assert st == 200, (st, a)
print("refused: %d missing fields, 6 wrong types, gpid, 3 disagreements"
      % len(required))
PY
pass "the strict server refuses a header missing any one field, as Studio does"

# 3. gProfiler's collapsed files, without and with application metadata:
# the same stacks arrive (re-indexed by profd) and pass.
for f in noappmd appmd; do
	n0=$(grep -c '"/api/v2/profiles"' "$REQS")
	# shellcheck disable=SC2086
	"$PROFD" --worker-dir "$top_builddir" $UP_ARGS \
		--spool-dir "$T/spool-$f" upload-file \
		"$top_srcdir/tests/fixtures/gprofiler_$f.col" \
		>/dev/null 2>"$T/$f.err" || { cat "$T/$f.err"; fail "upload-file $f"; }
	n1=$(grep -c '"/api/v2/profiles"' "$REQS")
	[ $((n1 - n0)) = 1 ] || fail "$f: $((n1 - n0)) profiles sent"
	tail -1 "$REQS" >"$T/$f.req"
done
"$PY" - "$T/noappmd.req" "$T/appmd.req" <<'PY' || fail "the two files did not upload the same stacks"
import json, sys
want = sorted([
    "0;;python3;<module> (/app/run.py);main (/app/run.py);work (/app/run.py) 7",
    "0;;python3;appid: python: run.py;main (/app/run.py);idle (/app/run.py) 2",
    "0;web;java;java.lang.Thread.run;com.shop.Cart.add 5",
    "0;web;nginx;main;ngx_process_events_and_timers;epoll_wait_[k] 3"])
for p in sys.argv[1:]:
    r = json.loads(open(p).read())
    assert r["status"] == 200, (p, r["status"], r.get("answer"))
    lines = r["body"]["profile"].splitlines()
    assert json.loads(lines[0][2:])["application_metadata_enabled"] is True
    assert sorted(lines[1:]) == want, (p, lines[1:])
    assert r["body"]["start_time"] == "2026-01-02T03:04:05Z", r["body"]
print("both files: %d stacks, accepted" % len(want))
PY
pass "gProfiler files with and without application metadata upload the same stacks"

# 4. A window the server refuses with 400 is kept with its reason, and the
# kept windows are bounded like the spool.
srv reject
for i in 1 2 3; do
	printf 'refused;w%s 1\n' "$i" >"$T/r$i.txt"
	"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool-r" --spool-max-files 2 \
		"$T/r$i.txt" >/dev/null 2>"$T/r$i.err" &&
		fail "a refused window exits with 0"
	grep -q "for good (HTTP 400 told to reject)" "$T/r$i.err" ||
		{ cat "$T/r$i.err"; fail "no message with the server's reason"; }
done
srv ok
REJ="$T/spool-r/rejected/studio"
[ "$(spooled "$T/spool-r" studio)" = 0 ] || fail "the refused windows stay in the queue"
[ "$(find "$REJ" -name '*.win' | wc -l)" = 2 ] || fail "not 2 kept: $(ls "$REJ")"
[ "$(find "$REJ" -name '*.reason' | wc -l)" = 2 ] || fail "not 2 reasons: $(ls "$REJ")"
for w in "$REJ"/*.win; do
	grep -q '^0;;refused;w[23] 1$' "$w" || fail "kept: $(cat "$w")"
	[ "$(cat "${w%.win}.reason")" = "HTTP 400: told to reject" ] ||
		fail "reason: $(cat "${w%.win}.reason")"
done
grep -q "dropped the 1 oldest refused" "$T/r3.err" || fail "no message about the bound"
pass "a refused window is kept in rejected/ with the server's reason, bounded"
