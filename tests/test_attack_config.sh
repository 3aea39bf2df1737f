# profd.conf configures a root daemon: a file that another user owns or
# may write, a symbolic link or a FIFO is refused with a line naming the
# file and what is wrong. Positive control: the same content in a root-owned
# 0644 file is read (its bad value is reported), and a good one runs.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/supervisor_lib.sh"
require_root
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOBODY=$(id -u nobody)

# expect STATUS PATTERN CMD...: CMD exits with STATUS and stderr matches.
expect() {
	want=$1 pattern=$2
	shift 2
	timeout -k 5 20 "$@" >"$T/stdout" 2>"$T/err"
	rv=$?
	[ "$rv" = "$want" ] || { cat "$T/err"; fail "$* exited $rv, not $want"; }
	grep -qE -- "$pattern" "$T/err" ||
		{ cat "$T/err"; fail "$*: stderr lacks /$pattern/"; }
	pass "$(basename "$3") -> $rv: $(grep -E -- "$pattern" "$T/err" | head -1)"
}

# conf NAME OWNER MODE: a config whose first line has a bad value, so that
# reading it is seen in the error.
conf() {
	printf 'profiling-frequency = fast\n' >"$T/$1.conf"
	chown "$2" "$T/$1.conf"
	chmod "$3" "$T/$1.conf"
}

conf nobody nobody 0644
expect 2 "nobody\.conf:0: refused: owned by uid $NOBODY, not root" \
	"$PROFD" --config "$T/nobody.conf" -o "$T/o"
conf world root 0666
expect 2 "world\.conf:0: refused: mode 0666 is writable by its group or others" \
	"$PROFD" --config "$T/world.conf" -o "$T/o"
conf group root 0664
expect 2 "group\.conf:0: refused: mode 0664 is writable" \
	"$PROFD" --config "$T/group.conf" -o "$T/o"
conf good root 0644
ln -s "$T/good.conf" "$T/link.conf"
expect 2 "link\.conf:0: cannot read the file: it is a symbolic link" \
	"$PROFD" --config "$T/link.conf" -o "$T/o"
mkfifo -m 0644 "$T/fifo.conf"
expect 2 "fifo\.conf:0: refused: not a regular file" \
	"$PROFD" --config "$T/fifo.conf" -o "$T/o"

# Positive control: the same content, owned by root and 0644, is read.
expect 2 "good\.conf:1: invalid value 'fast'" \
	"$PROFD" --config "$T/good.conf" -o "$T/o"
[ ! -e "$T/o" ] || fail "a refused start made the output directory"

# A good root-owned 0644 config runs.
printf 'profiling-duration = 1\n' >"$T/run.conf"
chmod 0644 "$T/run.conf"
start_profd --perf-mode disabled --config "$T/run.conf"
wait_field upload state running 20
stop_profd 0
pass "a root-owned 0644 config is accepted and profd runs"
