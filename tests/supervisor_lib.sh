# shellcheck shell=bash
# Helpers for the supervisor tests: run profd in the background, ask
# profctl, wait for a worker's state. Sourced after lib.sh.

PROFCTL="$top_builddir/profctl/profctl"
FAULT="$top_builddir/tests/fault_worker"
RUN="$T/run"

# start_profd ARGS...: profd -c in the background with its own runtime dir.
start_profd() {
	mkdir -p "$RUN"
	chmod 0711 "$RUN"
	"$PROFD" -c --runtime-dir "$RUN" --worker-dir "$top_builddir" \
		-o "$T/out" "$@" 2>"$T/profd.err" &
	PROFD_PID=$!
	track "$PROFD_PID"
	for _ in $(seq 100); do
		[ -S "$RUN/control.sock" ] && return 0
		sleep 0.1
	done
	cat "$T/profd.err"
	fail "profd did not open its control socket"
}

# start_calm_profd: profd whose only profiler is the calm test worker
# (windows without perf), once calm and the uploader run.
start_calm_profd() {
	printf '[worker calm]\nexecutable = %s\narguments = --fault none\n' \
		"$FAULT" >"$T/profd.conf"
	start_profd -v -d 2 --perf-mode disabled --no-python --no-java \
		--config "$T/profd.conf"
	wait_field calm state running 20
	wait_field upload state running 20
}

ctl() { timeout -k 2 15 "$PROFCTL" --runtime-dir "$RUN" "$@"; }

# field WORKER KEY: prints one field of a worker from status --json.
field() {
	ctl status --json | python3 -c '
import json, sys
w = {x["name"]: x for x in json.load(sys.stdin)["workers"]}
v = w[sys.argv[1]][sys.argv[2]]
print("" if v is None else v)' "$1" "$2"
}

# wait_field WORKER KEY VALUE SECONDS: waits until the field has the value.
wait_field() {
	end=$(($(date +%s%N) / 1000000 + $4 * 1000 * SLOW))
	while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do
		[ "$(field "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	ctl status
	fail "$1: $2 is not $3 after $4 s (it is $(field "$1" "$2"))"
}

# stop_profd [STATUS]: SIGTERM, wait, check exit status and leftovers.
stop_profd() {
	kill -TERM "$PROFD_PID"
	for _ in $(seq 300); do
		kill -0 "$PROFD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PROFD_PID" 2>/dev/null && fail "profd did not stop in 30 s"
	wait "$PROFD_PID"
	rv=$?
	[ "$rv" = "${1:-0}" ] || { cat "$T/profd.err"; fail "profd exited $rv"; }
	assert_no_process "$RUN"
	[ -z "$(ls -A "$RUN")" ] || { ls -la "$RUN"; fail "$RUN not empty"; }
}

zombies_of() { ps -o stat= --ppid "$1" | grep -c '^Z'; }
fds_of() { ls "/proc/$1/fd" | wc -l; }

# On any exit, also a failure: a profd still running is asked to stop (it
# removes its sockets and cgroups), then lib.sh's cleanup kills what is
# left and removes the cgroups of a profd that could not stop.
profd_cleanup() {
	if [ -n "${PROFD_PID:-}" ] && kill -0 "$PROFD_PID" 2>/dev/null; then
		kill -TERM "$PROFD_PID"
		for _ in $(seq 150); do
			kill -0 "$PROFD_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	cleanup
}
trap profd_cleanup EXIT
