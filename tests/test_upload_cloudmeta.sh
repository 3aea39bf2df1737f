# --cloud-metadata-url: profd-upload asks gProfiler's instance metadata
# services (AWS, then GCP, then Azure) at that URL, here a loopback test
# server playing each cloud, and the strict Studio accepts the headers
# with cloud_provider and cloud_info. Without the flag nothing is asked;
# a URL that does not answer leaves the DMI guess and the window goes.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/upload_lib.sh"

start_server
UP_ARGS="-u --server-host $URL --service-name cloud-svc --token-file $T/token"

# meta_server CLOUD: a server answering as CLOUD's metadata service;
# sets MURL and MREQS.
meta_server() {
	d="$T/meta-$1"
	mkdir -p "$d"
	"$PY" "$SRV_PY" serve "$d" --cloud "$1" >"$d.log" 2>&1 &
	track $!
	for _ in $(seq 100); do
		[ -s "$d/control_port" ] && break
		sleep 0.1
	done
	[ -s "$d/port" ] || fail "no metadata server for $1"
	MURL="http://127.0.0.1:$(cat "$d/port")" MREQS="$d/requests.jsonl"
}

# header: the last accepted window's metadata, as JSON.
header() {
	"$PY" - "$REQS" <<'PY'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
p = [r for r in p if r["path"] == "/api/v2/profiles"]
assert p and p[-1]["status"] == 200, p[-1].get("answer") if p else "none"
print(json.dumps(json.loads(p[-1]["body"]["profile"].split("\n")[0][1:])
                 ["metadata"]))
PY
}

for cloud in aws gcp azure; do
	meta_server "$cloud"
	printf 'app;main;%s 1\n' "$cloud" >"$T/$cloud.txt"
	"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool-$cloud" -v \
		--cloud-metadata-url "$MURL" "$T/$cloud.txt" \
		>/dev/null 2>"$T/$cloud.err" ||
		{ cat "$T/$cloud.err"; fail "$cloud: exit $?"; }
	grep -q "cloud metadata: $cloud instance" "$T/$cloud.err" ||
		{ cat "$T/$cloud.err"; fail "$cloud: not found"; }
	header >"$T/$cloud.json" || fail "$cloud: window not accepted"
	"$PY" - "$T/$cloud.json" "$cloud" "$MREQS" <<'PY' || fail "$cloud: header"
import json, sys
md = json.load(open(sys.argv[1]))
cloud = sys.argv[2]
want = {
    "aws": {"instance_type": "m5.large", "region": "eu-west-1",
            "zone": "eu-west-1b", "life_cycle": "on-demand",
            "instance_id": "i-0123456789", "account_id": "123456789012"},
    "gcp": {"instance_type": "n2-standard-4", "region": "us-central1",
            "zone": "projects/1234/zones/us-central1-a",
            "instance_id": "4321987654321", "name": "vm-1"},
    "azure": {"instance_type": "Standard_D2s_v3", "region": "westeurope",
              "zone": "1", "instance_id": "vm-id-1",
              "resource_group_name": "rg-1"},
}[cloud]
assert md["cloud_provider"] == cloud, md["cloud_provider"]
info = md["cloud_info"]
for k, v in want.items():
    assert info.get(k) == v, (k, info.get(k), v)
reqs = [json.loads(l) for l in open(sys.argv[3])]
print(cloud, [(r["path"], r["status"]) for r in reqs])
assert reqs[-1]["status"] == 200
PY
done
pass "aws, gcp, azure: cloud_provider and cloud_info from the metadata service, accepted"

# Without the flag: the metadata server hears nothing.
n0=$(wc -l <"$MREQS")
"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool-none" "$T/aws.txt" \
	>/dev/null 2>"$T/none.err" || fail "no flag: exit $?"
[ "$(wc -l <"$MREQS")" = "$n0" ] || fail "asked without the flag"
header | grep -q '"cloud_info"' && fail "cloud_info without the flag"
# A URL where nothing answers: the DMI guess stays, the window goes.
"$UPLOAD_WORKER" $UP_ARGS --spool-dir "$T/spool-dead" \
	--cloud-metadata-url "http://127.0.0.1:9" "$T/aws.txt" \
	>/dev/null 2>"$T/dead.err" || { cat "$T/dead.err"; fail "dead: exit $?"; }
grep -q "no instance metadata service answered" "$T/dead.err" ||
	fail "no warning for a dead URL"
header >/dev/null || fail "dead URL: window not accepted"
# Only with an upload.
"$UPLOAD_WORKER" -o "$T" --cloud-metadata-url "$MURL" "$T/aws.txt" \
	2>"$T/noup.err" && fail "--cloud-metadata-url without an upload"
pass "no flag: nothing asked; a dead URL: warning, window uploaded"
