# The Studio token against a compromised profiler: profd-perf, -python
# and -java hold CAP_SYS_PTRACE, so what they can do is what root can do
# here: read any process's memory through /proc/PID/mem. While a request
# is in flight, every readable mapping of profd, each worker, the request
# helper and the request's child is scanned for the token: it is in none
# (it lives in memfd_secret pages, which read as EIO), nor is the client
# key given with --client-key. Positive controls:
# the server received the token (it was used); the same scanner finds a
# marker in the heap of a throwaway process, and the token in the test
# server's own memory.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root

# A long random token (the default one of upload_lib.sh is short).
TOKEN=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')
[ "${#TOKEN}" -ge 48 ] || fail "no random token"

# Sanitizer builds reserve terabytes of shadow memory (addressability
# bytes, never program data): there, mappings over 1 GiB are left out and
# counted; elsewhere none may be.
SCAN_MAX=0
grep -q '^#define PROFD_SANITIZERS 1' "$top_builddir/config.h" &&
	SCAN_MAX=$((1 << 30))

# scan NEEDLE PID...: prints "found PID ADDRESS" for each hit, then one
# "pid PID read BYTES unreadable BYTES secret MAPPINGS skipped MAPPINGS"
# line per process.
cat >"$T/scan.py" <<'PY'
import os, re, sys
needle = sys.argv[1].encode()
limit = int(os.environ.get("SCAN_MAX", "0"))
for pid in sys.argv[2:]:
    got = bad = secret = skipped = 0
    try:
        maps = open("/proc/%s/maps" % pid).read().splitlines()
        mem = open("/proc/%s/mem" % pid, "rb", buffering=0)
    except OSError:
        continue
    for line in maps:
        f = line.split()
        if "secretmem" in line:
            secret += 1
        if not f[1].startswith("r") or line.endswith("[vsyscall]"):
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if limit and hi - lo > limit:
            skipped += 1
            continue
        tail = b""
        for a in range(lo, hi, 1 << 20):
            n = min(1 << 20, hi - a)
            try:
                mem.seek(a)
                b = mem.read(n)
            except OSError:
                bad += n
                tail = b""
                continue
            got += len(b)
            buf = tail + b
            for m in re.finditer(re.escape(needle), buf):
                print("found %s %x %s" % (pid, a - len(tail) + m.start(),
                                          line))
            tail = buf[-(len(needle) - 1):]
    print("pid %s read %d unreadable %d secret %d skipped %d" %
          (pid, got, bad, secret, skipped))
PY
scan() { SCAN_MAX=$SCAN_MAX "$PY" "$T/scan.py" "$@"; }

# tree PID: PID and all its descendants.
tree() {
	echo "$1"
	for c in $(pgrep -P "$1"); do tree "$c"; done
}

# A client key (for --client-key: a secret like the token, read by the
# uploader into the same memory; the plain-HTTP server never asks for it).
command -v openssl >/dev/null || skip "no openssl"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/client.key" \
	-out "$T/client.pem" -days 1 -subj /CN=tok >/dev/null 2>&1 ||
	fail "openssl cannot make a client key"
chown profd-upload "$T/client.key" 2>/dev/null || chmod 0644 "$T/client.key"
# One line of the key's body: 64 characters found nowhere else.
KEYLINE=$(sed -n 5p "$T/client.key")
[ "${#KEYLINE}" -eq 64 ] || fail "no key line"

start_server
PORT=$(cat "$SRV/port")
srv hang 600
start_profd --no-java -d 2 -u --server-host "$URL" --service-name tok-svc \
	--token "$TOKEN" --spool-dir "$T/spool" --server-upload-timeout 60 \
	--client-cert "$T/client.pem" --client-key "$T/client.key" -v

# The request in flight: the process connected to the server.
conn_pid() {
	ss -tnpH "( dport = :$PORT )" |
		sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -1
}
has_conn() { [ -n "$(conn_pid)" ]; }
wait_for 90 has_conn || {
	cat "$T/profd.err"
	ss -tnp
	fail "no request"
}
C=$(conn_pid)
H=$(awk '{ print $4 }' "/proc/$C/stat")
UP=$(awk '{ print $4 }' "/proc/$H/stat")
[ "$(cat "/proc/$UP/comm")" = profd-upload ] || fail "no uploader above $C"
has_perf() { pgrep -P "$PROFD_PID" -x profd-perf >/dev/null; }
wait_for 20 has_perf ||
	fail "profd-perf did not start"
PIDS=$(tree "$PROFD_PID" | sort -un | tr '\n' ' ')
for p in "$UP" "$H" "$C"; do
	case " $PIDS " in *" $p "*) ;; *) fail "$p is not under profd" ;; esac
done
grep -q secretmem "/proc/$C/maps" || fail "the request child has no secretmem"
grep -q secretmem "/proc/$UP/maps" || fail "profd-upload has no secretmem"

# shellcheck disable=SC2086
scan "$TOKEN" $PIDS >"$T/scan.out" || fail "the scanner failed"
if grep -q '^found' "$T/scan.out"; then
	grep '^found' "$T/scan.out" | sed "s/$TOKEN/TOKEN/g"
	fail "the token is readable in process memory"
fi
# shellcheck disable=SC2086
scan "$KEYLINE" $PIDS >"$T/scankey.out" || fail "the scanner failed"
grep -q '^found' "$T/scankey.out" &&
	fail "the client key is readable in process memory: $(grep '^found' "$T/scankey.out" | cut -d' ' -f1-3,9-)"
n=$(grep -c '^pid ' "$T/scan.out")
[ "$n" -ge 5 ] || fail "only $n processes scanned: $(cat "$T/scan.out")"
grep -q "^pid $C read [1-9][0-9]* unreadable [1-9]" "$T/scan.out" ||
	fail "the request child was not scanned: $(grep "^pid $C " "$T/scan.out")"
[ "$SCAN_MAX" != 0 ] || ! grep -q 'skipped [1-9]' "$T/scan.out" ||
	fail "mappings were left out"
pass "token and client key in none of $n processes (profd, workers, helper $H, request child $C): $(awk '/^pid/ { r += $4; u += $6; k += $10 } END { printf "%d MB read, %d kB unreadable, %d huge mappings left out", r / 1048576, u / 1024, k }' "$T/scan.out")"

# Control 1: the token was really used (the server got it).
srv ok
srv_wait /api/v2/profiles 1 60
"$PY" - "$REQS" "$TOKEN" <<'PY' || fail "the server did not get the token"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["headers"].get("gprofiler-api-key") == sys.argv[2]
           for r in reqs if r["path"] == "/api/v2/profiles"), "no API key"
PY
pass "control: the server received the token in its header"

# Control 2: the scanner finds a marker in ordinary heap memory.
MARK="marker-$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')"
mkfifo "$T/fifo"
"$PY" -c 'import sys, time
b = bytearray(sys.stdin.buffer.read().strip())
print("read", flush=True)
time.sleep(120)' <"$T/fifo" >"$T/tp.out" &
TP=$!
track "$TP"
printf '%s\n' "$MARK" >"$T/fifo"
tp_ready() { grep -q read "$T/tp.out"; }
wait_for 10 tp_ready || fail "the marker reader did not start"
scan "$MARK" "$TP" >"$T/scan2.out" && grep -q '^found' "$T/scan2.out" ||
	fail "control: the scanner misses a marker in a heap"
pass "control: the scanner finds a marker in a throwaway process's heap"

# Control 2b: the key line, read into an ordinary heap, is found.
"$PY" -c 'import sys, time
b = bytearray(open(sys.argv[1], "rb").read())
print("read", flush=True)
time.sleep(120)' "$T/client.key" >"$T/kp.out" &
KP=$!
track "$KP"
kp_ready() { grep -q read "$T/kp.out"; }
wait_for 10 kp_ready || fail "the key reader did not start"
scan "$KEYLINE" "$KP" >"$T/scan2b.out" && grep -q '^found' "$T/scan2b.out" ||
	fail "control: the scanner misses the key line in a heap"
pass "control: the scanner finds the client key's line in a process that read it"

# Control 3: the scanner finds the token in the test server's memory.
SP=$(pgrep -f "$SRV_PY serve $SRV" | head -1)
[ -n "$SP" ] || fail "no server process"
scan "$TOKEN" "$SP" >"$T/scan3.out" && grep -q '^found' "$T/scan3.out" ||
	fail "control: the scanner misses the token in the server"
pass "control: the scanner finds the token in the test server"

kill -TERM "$PROFD_PID"
wait "$PROFD_PID"
grep -qF "$TOKEN" "$T/profd.err" && fail "the token was logged"
pass "profd stopped; the token was never logged"
