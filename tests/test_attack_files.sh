# Symbolic links planted in profd-upload's output and spool directories
# under the names its next files will take (last_profile.col, the temporary
# names) point at victim files: none is followed, every victim is left as it
# was, and the outputs are not world-readable. Positive control: a plain
# O_CREAT|O_TRUNC writer (the shell's >) through the same kind of link
# clobbers a throwaway victim. Then the same under profd (its umask 027).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root

# The window of this input ends at 03:05:05: its file names are known.
cat >"$T/in.col" <<'COL'
# {"metadata": {"start_time": "2026-01-02T03:04:05Z", "end_time": "2026-01-02T03:05:05Z"}}
0;;app;main;foo 5
COL
BASE=profile_2026-01-02T03:05:05Z
VICTIM_TEXT="victim: must stay as it is"

# plant DIR NAME: a symlink DIR/NAME to a new victim file $T/victim.NAME.
plant() {
	printf '%s\n' "$VICTIM_TEXT" >"$T/victim.$2"
	chmod 0666 "$T/victim.$2"
	ln -s "$T/victim.$2" "$1/$2"
}

# victims_intact: every victim still holds its text and mode.
victims_intact() {
	for v in "$T"/victim.*; do
		[ "$(cat "$v")" = "$VICTIM_TEXT" ] || fail "$v was written: $(head -c 200 "$v")"
		[ "$(stat -c %a "$v")" = 666 ] || fail "$v changed mode"
	done
}

# not_world_readable FILE...: no permission bit for others.
not_world_readable() {
	for f in "$@"; do
		m=$(stat -c %a "$f")
		[ $((0$m & 07)) = 0 ] || fail "$f is mode $m: world-readable"
	done
}

# Positive control: the shell's > follows such a link.
mkdir -p "$T/control"
printf 'throwaway\n' >"$T/throwaway"
ln -s "$T/throwaway" "$T/control/last_profile.col"
echo clobbered >"$T/control/last_profile.col"
[ "$(cat "$T/throwaway")" = clobbered ] || fail "control: > did not follow the link"
pass "control: a plain O_CREAT|O_TRUNC writer clobbers the link's target"

# Standalone profd-upload (it drops to its user). The directories are
# writable by anyone, the attacker too; the victims by anyone, the uploader
# too: only not following the links protects them.
SA="$T/sa"
mkdir -p "$SA" "$T/spool" "$T/sa2"
chmod 0777 "$SA" "$T/sa2"
for n in last_profile.col last_flamegraph.html .last_profile.col.tmp \
	.last_flamegraph.html.tmp ".$BASE.col.tmp" ".$BASE.html.tmp"; do
	plant "$SA" "$n"
done
"$UPLOAD_WORKER" -o "$SA" "$T/in.col" >/dev/null 2>"$T/err" ||
	{ cat "$T/err"; fail "profd-upload failed"; }
victims_intact
for n in "$BASE.col" "$BASE.html" last_profile.col last_flamegraph.html; do
	[ -f "$SA/$n" ] && [ ! -L "$SA/$n" ] || fail "$n is not a new regular file"
done
grep -q ';app;main;foo 5$' "$SA/last_profile.col" || fail "last_profile.col has not the window"
ls -A "$SA" | grep -q '\.tmp$' && fail "a temporary file was left: $(ls -A "$SA")"
not_world_readable "$SA/$BASE.col" "$SA/$BASE.html"
pass "outputs: 6 planted links not followed, victims intact, files $(stat -c %a "$SA/$BASE.col")"

# The spool: its first window's temporary name is .w1.tmp.
plant "$T/spool" .w1.tmp
"$UPLOAD_WORKER" -o "$T/sa2" --pyroscope-url http://127.0.0.1:9 \
	--pyroscope-app a --spool-dir "$T/spool" "$T/in.col" >/dev/null 2>"$T/err2"
victims_intact
n=$(find "$T/spool" -name '*.win' | wc -l)
[ "$n" = 1 ] || { cat "$T/err2"; fail "$n windows spooled, not 1"; }
not_world_readable $(find "$T/spool" -name '*.win')
pass "spool: the planted .w1.tmp link was not followed, the window spooled"

# Under profd: the uploader runs as its own user with umask 027.
mkdir -p "$T/pout"
chmod 0777 "$T/pout"
for n in last_profile.col .last_profile.col.tmp; do plant "$T/pout" "$n"; done
start_profd -d 1 --perf-mode disabled
for _ in $(seq $((100 * SLOW))); do
	[ -f "$T/out/last_profile.col" ] && break
	sleep 0.1
done
stop_profd 0
victims_intact
col=$(ls "$T"/out/profile_*.col | tail -1)
[ -n "$col" ] || fail "profd wrote no window"
not_world_readable "$col" "$T/out/last_profile.col" "$T/out"/profile_*.html
pass "under profd: outputs $(stat -c %a "$col"), owner $(stat -c %U "$col")"
