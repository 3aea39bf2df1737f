/*
 * The worker state machine: every transition of every worker is one entry
 * of fsm_table[state][event]. A missing entry means the event does not
 * apply in that state and is ignored.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "profd.h"

typedef void (*fsm_action)(struct profd *, struct worker *);

static void
fsm_enter(struct worker *w, enum wstate s, int64_t deadline_in_ms)
{
	w->w_state = s;
	w->w_deadline = deadline_in_ms > 0 ? now_ms() + deadline_in_ms : 0;
}

int
fsm_alive(const struct worker *w)
{
	return w->w_state == W_STARTING || w->w_state == W_CONFIG ||
	       w->w_state == W_RUNNING || w->w_state == W_STOPPING;
}

/* Starts the worker, at least PROFD_MIN_GAP_MS after its last start. */
static void
a_spawn(struct profd *p, struct worker *w)
{
	int64_t since = now_ms() - w->w_started_ms;

	if (w->w_started_ms != 0 && since < PROFD_MIN_GAP_MS) {
		fsm_enter(w, W_BACKOFF, PROFD_MIN_GAP_MS - since);
		return;
	}
	w->w_cause = NULL;
	w->w_killed = 0;
	w->w_termed = 0;
	w->w_restart_now = 0;
	w->w_soft = 0;
	w->w_hello_ms = 0;
	if (w->w_started_ms != 0)
		w->w_restarts++;
	w->w_started_ms = now_ms();
	if (spawn_worker(p, w) == 0) {
		fsm_enter(w, W_STARTING, PROFD_HELLO_MS);
		return;
	}
	/* Could not even start: a death like any other. */
	w->w_pid = 0;
	w->w_state = W_STARTING;
	fsm_event(p, w, EV_EXIT);
}

static void
a_reset_spawn(struct profd *p, struct worker *w)
{
	w->w_ndeaths = 0;
	w->w_backoff_ms = 0;
	a_spawn(p, w);
}

static void
a_configure(struct profd *p, struct worker *w)
{
	w->w_hello_ms = now_ms();
	if (workers_configure(p, w) == -1)
		return;
	/* The uploader has nothing to start; profilers say when they run. */
	if (w->w_profiler) {
		fsm_enter(w, W_CONFIG, PROFD_START_MS);
	} else {
		fsm_enter(w, W_RUNNING, 0);
		clock_maybe_start(p);
	}
}

static void
a_running(struct profd *p, struct worker *w)
{
	fsm_enter(w, W_RUNNING, 0);
	clock_maybe_start(p);
}

static void
a_stop(struct profd *p, struct worker *w)
{
	if (workers_send_stop(p, w) == 0)
		fsm_enter(w, W_STOPPING, PROFD_STOP_MS);
}

/* Stop before its hello: it cannot read yet, so a signal it is. */
static void
a_term(struct profd *p, struct worker *w)
{
	(void)p;
	spawn_kill(w, SIGTERM);
	w->w_termed = 1;
	fsm_enter(w, W_STOPPING, PROFD_STOP_MS);
}

static void
a_kill(struct profd *p, struct worker *w)
{
	(void)p;
	w->w_killed = 1;
	spawn_kill(w, SIGKILL);
	fsm_enter(w, W_STOPPING, PROFD_STOP_MS);
}

static void
a_bad(struct profd *p, struct worker *w)
{
	log_error("profd-%s (pid %d) broke the protocol; killing it", w->w_name,
		  (int)w->w_pid);
	a_kill(p, w);
}

static void
a_timeout(struct profd *p, struct worker *w)
{
	log_error("profd-%s (pid %d) %s in time; killing it", w->w_name,
		  (int)w->w_pid,
		  w->w_state == W_STARTING ? "did not say hello"
					   : "did not start profiling");
	a_kill(p, w);
}

static void
a_kill_late(struct profd *p, struct worker *w)
{
	log_error("profd-%s (pid %d) did not stop in time; killed", w->w_name,
		  (int)w->w_pid);
	w->w_killed = 1;
	spawn_kill(w, SIGKILL);
	w->w_deadline = 0;
	(void)p;
}

static void
a_want(struct profd *p, struct worker *w)
{
	(void)p;
	w->w_restart_now = 1;
}

static void
a_idle(struct profd *p, struct worker *w)
{
	(void)p;
	fsm_enter(w, W_IDLE, 0);
}

/* Counts an unhealthy death; returns 1 when the worker is given up on. */
static int
fsm_count_death(struct worker *w)
{
	int64_t now = now_ms();
	unsigned kept = 0;

	for (unsigned i = 0; i < w->w_ndeaths; i++)
		if (now - w->w_deaths[i] < PROFD_GIVE_UP_MS)
			w->w_deaths[kept++] = w->w_deaths[i];
	if (kept == PROFD_GIVE_UP_DEATHS)
		kept--; /* cannot happen: we give up at the fifth */
	w->w_deaths[kept++] = now;
	w->w_ndeaths = kept;
	return kept >= PROFD_GIVE_UP_DEATHS;
}

static int
fsm_healthy(const struct worker *w)
{
	return w->w_hello_ms != 0 &&
	       now_ms() - w->w_hello_ms >= PROFD_HEALTHY_MS;
}

/* Whether the restart policy wants it back after this exit. */
static int
fsm_policy_restarts(const struct profd *p, const struct worker *w)
{
	if (!w->w_want || p->p_stopping)
		return 0;
	switch (w->w_spec.ws_restart) {
	case RESTART_NEVER:
		return 0;
	case RESTART_ON_FAILURE:
		return strcmp(w->w_last_exit, "0") != 0;
	default:
		return 1;
	}
}

/* After a death: restart now, back off, give up, or rest. */
static void
fsm_after_death(struct profd *p, struct worker *w)
{
	if (profd_one_shot(p) && !p->p_stopping) {
		/* One window only: a lost worker is a lost run. */
		profd_shutdown(p, 1);
	}
	if (!fsm_policy_restarts(p, w)) {
		fsm_enter(w, W_IDLE, 0);
		return;
	}
	if (fsm_healthy(w) || w->w_restart_now) {
		w->w_backoff_ms = 0;
		a_spawn(p, w);
		return;
	}
	if (fsm_count_death(w)) {
		log_error("profd-%s died %d times within %d s; given up (start "
			  "it again with profctl start %s)",
			  w->w_name, PROFD_GIVE_UP_DEATHS,
			  PROFD_GIVE_UP_MS / 1000, w->w_name);
		fsm_enter(w, W_FAILED, 0);
		return;
	}
	w->w_backoff_ms = w->w_backoff_ms ? w->w_backoff_ms * 2 : 1000;
	if (w->w_backoff_ms > PROFD_BACKOFF_MAX_MS)
		w->w_backoff_ms = PROFD_BACKOFF_MAX_MS;
	log_info("profd-%s restarts in %lld ms", w->w_name,
		 (long long)w->w_backoff_ms);
	fsm_enter(w, W_BACKOFF, w->w_backoff_ms);
}

/* It died without being asked to. */
static void
a_died(struct profd *p, struct worker *w)
{
	log_error("profd-%s (pid %d) died: %s", w->w_name, (int)w->w_pid,
		  w->w_last_exit);
	clock_lost(p, w);
	w->w_pid = 0;
	fsm_after_death(p, w);
}

/* It exited after a stop or a kill of ours. */
static void
a_stopped(struct profd *p, struct worker *w)
{
	int clean = !w->w_killed &&
		    (strcmp(w->w_last_exit, "0") == 0 ||
		     (w->w_termed && strcmp(w->w_last_exit, "SIGTERM") == 0));

	clock_lost(p, w);
	w->w_pid = 0;
	if (clean) {
		log_debug("profd-%s stopped", w->w_name);
		if (w->w_restart_now && w->w_want && !p->p_stopping)
			a_spawn(p, w);
		else
			fsm_enter(w, W_IDLE, 0);
		return;
	}
	log_error("profd-%s ended: %s", w->w_name, w->w_last_exit);
	if (p->p_stopping && w->w_cause == NULL)
		profd_shutdown(p, 1);
	fsm_after_death(p, w);
}

static const fsm_action fsm_table[W_NSTATES][EV_NEVENTS] = {
    /*             START          STOP     HELLO        STARTED    EXIT
       DEADLINE     BROKEN */
    [W_IDLE] = {a_spawn, NULL, NULL, NULL, NULL, NULL, NULL},
    [W_STARTING] = {NULL, a_term, a_configure, a_bad, a_died, a_timeout,
		    a_kill},
    [W_CONFIG] = {NULL, a_stop, a_bad, a_running, a_died, a_timeout, a_kill},
    [W_RUNNING] = {NULL, a_stop, a_bad, a_bad, a_died, NULL, a_kill},
    [W_STOPPING] = {a_want, NULL, NULL, NULL, a_stopped, a_kill_late, a_kill},
    [W_BACKOFF] = {a_spawn, a_idle, NULL, NULL, NULL, a_spawn, NULL},
    [W_FAILED] = {a_reset_spawn, a_idle, NULL, NULL, NULL, NULL, NULL},
};

void
fsm_event(struct profd *p, struct worker *w, enum wevent ev)
{
	fsm_action a = fsm_table[w->w_state][ev];

	if (ev == EV_START)
		w->w_want = 1;
	else if (ev == EV_STOP)
		w->w_want = 0;
	if (a != NULL)
		a(p, w);
}

void
fsm_kill(struct profd *p, struct worker *w, const char *cause)
{
	if (!fsm_alive(w) || w->w_cause != NULL)
		return;
	log_error("profd-%s (pid %d): %s; killing it", w->w_name, (int)w->w_pid,
		  cause);
	w->w_cause = cause;
	fsm_event(p, w, EV_BROKEN);
}

const char *
fsm_state_name(enum wstate s)
{
	static const char *const names[W_NSTATES] = {
	    "idle",	"starting", "starting", "running",
	    "stopping", "backoff",  "failed",
	};

	return s < W_NSTATES ? names[s] : "?";
}
