# --output-format pprof: `go tool pprof -raw` reads the gzipped profile
# back, with the same stacks and totals as the collapsed file.
. "$top_srcdir/tests/lib.sh"
command -v go >/dev/null 2>&1 || skip "go (golang-go) is not installed"
command -v python3 >/dev/null || skip "python3 is needed"

mkdir -p "$T/out"
chmod 0777 "$T/out"
# Known stacks, with names that need care: spaces, UTF-8, kernel frames,
# an empty name (pprof location ids start at 1: fuzz_upload found it).
python3 - "$T/in.txt" <<'PY'
import random, sys
r = random.Random(11)
names = ["main", "run", "hot_leaf", "sym (libc.so.6)", "caf\u00e9_\u5b9f",
         "do_syscall_64_[k]", "x" * 300, ""]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for comm in ("app", "db", "web server"):
        for _ in range(700):
            depth = r.randint(1, 12)
            frames = [r.choice(names) for _ in range(depth)]
            f.write("%s;%s %d\n" % (comm, ";".join(frames), r.randint(1, 500)))
PY
"$UPLOAD_WORKER" -o "$T/out" --output-format collapsed,pprof --no-flamegraph \
	"$T/in.txt" >/dev/null 2>"$T/err" || { cat "$T/err"; fail "profd-upload failed"; }
pb="$T/out/last_profile.pb.gz"
[ -f "$pb" ] || fail "no last_profile.pb.gz"
ls "$T"/out/profile_*.pb.gz >/dev/null || fail "no profile_<time>.pb.gz"
gzip -t "$pb" || fail "not gzipped"
HOME="$T" PPROF_TMPDIR="$T" go tool pprof -raw "$pb" >"$T/raw" 2>"$T/raw.err" ||
	{ cat "$T/raw.err"; fail "go tool pprof cannot read it"; }
python3 - "$T/raw" "$T/out/last_profile.col" <<'PY' || fail "pprof and the collapsed file differ"
import collections, re, sys
raw = open(sys.argv[1], encoding="utf-8").read().splitlines()
section, samples, locs = None, [], {}
for line in raw:
    if line in ("Samples:", "Locations", "Mappings"):
        section = line
        continue
    if section == "Samples:":
        m = re.match(r"^\s+(\d+): ([\d ]+)$", line)
        if m:
            samples.append((int(m.group(1)), [int(x) for x in m.group(2).split()]))
    elif section == "Locations":
        m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (.*) :\d+ s=\d+$", line)
        if m:
            locs[int(m.group(1))] = m.group(2)
pp = collections.Counter()
for count, ids in samples:
    pp[";".join(locs[i] for i in reversed(ids))] += count
col = collections.Counter()
for line in open(sys.argv[2], encoding="utf-8").read().splitlines()[1:]:
    stack, count = line.rsplit(" ", 1)
    col[stack.split(";", 2)[2]] += int(count)   # drop "0;<container>;"
print("pprof: %d samples in %d stacks; collapsed: %d in %d" %
      (sum(pp.values()), len(pp), sum(col.values()), len(col)))
assert sum(pp.values()) == sum(col.values()) > 0
assert pp == col, set(pp.items()) ^ set(col.items())
PY
grep -q "^PeriodType: cpu nanoseconds" "$T/raw" || fail "no period type"
grep -q "^samples/count" "$T/raw" || fail "no sample type"
pass "go tool pprof reads the same stacks and totals"
