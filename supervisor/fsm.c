/*
 * The worker state machine: every transition of every worker is one entry
 * of fsm_table[state][event], and fsm_enter() is the only writer of a
 * worker's state. An entry names the next state (.next), or a function
 * that chooses it (.choose), and what happens on the way (.action). An
 * empty entry means the event does not apply in that state and is
 * ignored; an entry marked .bug is an event that cannot arrive there, and
 * stops profd. Events raised while an action runs (a send that fails, a
 * start that fails) are queued and fed after it, in order. The actions
 * reach the world only through p->p_fsm_ops.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "profd.h"

typedef void (*fsm_action)(struct profd *, struct worker *);
/* Returns the next state (W_NONE: stay), and in *wait_ms how long a
 * W_BACKOFF waits (else the state's own wait is kept). */
typedef enum wstate (*fsm_choice)(struct profd *, struct worker *,
				  int64_t *wait_ms);

struct fsm_entry {
	enum wstate next;  /* W_NONE: stay */
	fsm_choice choose; /* instead of next */
	fsm_action action; /* run before entering next */
	int keep_deadline; /* the same wait goes on in next */
	int bug;	   /* cannot happen */
};

#define NOW(p) ((p)->p_fsm_ops->fo_now())

/* Sets w's state and the deadline of its wait (ms, 0: none); the only
 * place that does. */
static void
fsm_enter(struct worker *w, enum wstate s, int64_t deadline)
{
	w->w_state = s;
	w->w_deadline = deadline;
}

void
fsm_init(struct worker *w)
{
	fsm_enter(w, W_IDLE, 0);
}

int
fsm_alive(const struct worker *w)
{
	return w->w_state == W_STARTING || w->w_state == W_CONFIG ||
	       w->w_state == W_RUNNING || fsm_stopping(w);
}

int
fsm_stopping(const struct worker *w)
{
	return w->w_state == W_STOPPING || w->w_state == W_RESTARTING;
}

/* How long a state waits for its next event; 0: for ever. */
static int64_t
fsm_wait_ms(enum wstate s)
{
	switch (s) {
	case W_STARTING:
		return PROFD_HELLO_MS;
	case W_CONFIG:
		return PROFD_START_MS;
	case W_STOPPING:
	case W_RESTARTING:
		return PROFD_STOP_MS;
	default:
		return 0;
	}
}

/* Starts the worker, at least PROFD_MIN_GAP_MS after its last start. */
static enum wstate
c_spawn(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	int64_t since = NOW(p) - w->w_started_ms;

	if (w->w_started_ms != 0 && since < PROFD_MIN_GAP_MS) {
		*wait_ms = PROFD_MIN_GAP_MS - since;
		return W_BACKOFF;
	}
	w->w_cause = WEXIT_NONE;
	w->w_killed = 0;
	w->w_termed = 0;
	w->w_soft = 0;
	w->w_hello_ms = 0;
	if (w->w_started_ms != 0)
		w->w_restarts++;
	w->w_started_ms = NOW(p);
	if (p->p_fsm_ops->fo_spawn(p, w) == -1) {
		/* Could not even start: a death like any other. */
		w->w_pid = 0;
		w->w_exit = (struct wexit){WEXIT_EXEC, 0};
		fsm_event(p, w, EV_EXIT);
	}
	return W_STARTING;
}

/* Started by hand after it was given up on: a fresh count. */
static enum wstate
c_reset_spawn(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	w->w_ndeaths = 0;
	w->w_backoff_ms = 0;
	return c_spawn(p, w, wait_ms);
}

/* It said hello: configure it. Every worker, the uploader too, says
 * "started" once it runs, and until then may say hello again. */
static enum wstate
c_configure(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	(void)wait_ms;
	w->w_hello_ms = NOW(p);
	if (p->p_fsm_ops->fo_configure(p, w) == -1)
		return W_NONE; /* EV_BROKEN is queued */
	return W_CONFIG;
}

static void
a_stop(struct profd *p, struct worker *w)
{
	/* If the send fails, the EV_BROKEN it raises kills it. */
	p->p_fsm_ops->fo_stop(p, w);
}

static void
a_soft(struct profd *p, struct worker *w)
{
	log_info("profd-%s is over its soft memory limit: restarting it "
		 "between windows",
		 w->w_name);
	a_stop(p, w);
}

/* Stop before its hello: it cannot read yet, so a signal it is. */
static void
a_term(struct profd *p, struct worker *w)
{
	p->p_fsm_ops->fo_kill(w, SIGTERM);
	w->w_termed = 1;
}

static void
a_kill(struct profd *p, struct worker *w)
{
	w->w_killed = 1;
	p->p_fsm_ops->fo_kill(w, SIGKILL);
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
					   : "did not report that it runs");
	a_kill(p, w);
}

/* It did not stop in time: killed, and its exit awaited without end. */
static void
a_kill_late(struct profd *p, struct worker *w)
{
	log_error("profd-%s (pid %d) did not stop in time; killed", w->w_name,
		  (int)w->w_pid);
	a_kill(p, w);
	w->w_deadline = 0;
}

/* Counts an unhealthy death; returns 1 when the worker is given up on.
 * Only the last PROFD_GIVE_UP_DEATHS deaths matter: an older one left
 * from before a stop by hand makes room. */
static int
fsm_count_death(struct profd *p, struct worker *w)
{
	int64_t now = NOW(p);
	unsigned kept = 0;

	for (unsigned i = 0; i < w->w_ndeaths; i++)
		if (now - w->w_deaths[i] < PROFD_GIVE_UP_MS)
			w->w_deaths[kept++] = w->w_deaths[i];
	if (kept == PROFD_GIVE_UP_DEATHS) {
		memmove(w->w_deaths, w->w_deaths + 1,
			(kept - 1) * sizeof(w->w_deaths[0]));
		kept--;
	}
	w->w_deaths[kept++] = now;
	w->w_ndeaths = kept;
	return kept >= PROFD_GIVE_UP_DEATHS;
}

static int
fsm_healthy(struct profd *p, const struct worker *w)
{
	return w->w_hello_ms != 0 && NOW(p) - w->w_hello_ms >= PROFD_HEALTHY_MS;
}

static int
fsm_exit_clean(const struct wexit *e)
{
	return e->wx_kind == WEXIT_CODE && e->wx_detail == 0;
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
		return !fsm_exit_clean(&w->w_exit);
	default:
		return 1;
	}
}

/* After a death: restart now (at once if asked: restart_now), back off,
 * give up, or rest. */
static enum wstate
fsm_after_death(struct profd *p, struct worker *w, int restart_now,
		int64_t *wait_ms)
{
	if (profd_one_shot(p) && !p->p_stopping) {
		/* One window only: a lost worker is a lost run. */
		profd_shutdown(p, 1);
	}
	if (!fsm_policy_restarts(p, w))
		return W_IDLE;
	if (fsm_healthy(p, w) || restart_now) {
		w->w_backoff_ms = 0;
		return c_spawn(p, w, wait_ms);
	}
	if (fsm_count_death(p, w)) {
		log_error("profd-%s died %d times within %d s; given up (start "
			  "it again with profctl start %s)",
			  w->w_name, PROFD_GIVE_UP_DEATHS,
			  PROFD_GIVE_UP_MS / 1000, w->w_name);
		return W_FAILED;
	}
	w->w_backoff_ms = w->w_backoff_ms ? w->w_backoff_ms * 2 : 1000;
	if (w->w_backoff_ms > PROFD_BACKOFF_MAX_MS)
		w->w_backoff_ms = PROFD_BACKOFF_MAX_MS;
	log_info("profd-%s restarts in %lld ms", w->w_name,
		 (long long)w->w_backoff_ms);
	*wait_ms = w->w_backoff_ms;
	return W_BACKOFF;
}

/* It died without being asked to. */
static enum wstate
c_died(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	char why[WEXIT_STR_MAX];

	log_error("profd-%s (pid %d) died: %s", w->w_name, (int)w->w_pid,
		  fsm_exit_str(&w->w_exit, why, sizeof(why)));
	p->p_fsm_ops->fo_lost(p, w);
	w->w_pid = 0;
	return fsm_after_death(p, w, 0, wait_ms);
}

/* It exited after a stop or a kill of ours; restart_now: it was told to
 * stop in order to start again. */
static enum wstate
fsm_ended(struct profd *p, struct worker *w, int restart_now, int64_t *wait_ms)
{
	char why[WEXIT_STR_MAX];
	int clean = !w->w_killed &&
		    (fsm_exit_clean(&w->w_exit) ||
		     (w->w_termed && w->w_exit.wx_kind == WEXIT_SIGNAL &&
		      w->w_exit.wx_detail == SIGTERM));

	p->p_fsm_ops->fo_lost(p, w);
	w->w_pid = 0;
	if (clean) {
		log_debug("profd-%s stopped", w->w_name);
		if (restart_now && w->w_want && !p->p_stopping)
			return c_spawn(p, w, wait_ms);
		return W_IDLE;
	}
	log_error("profd-%s ended: %s", w->w_name,
		  fsm_exit_str(&w->w_exit, why, sizeof(why)));
	if (p->p_stopping && w->w_cause == WEXIT_NONE)
		profd_shutdown(p, 1);
	return fsm_after_death(p, w, restart_now, wait_ms);
}

static enum wstate
c_stopped(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	return fsm_ended(p, w, 0, wait_ms);
}

static enum wstate
c_restarted(struct profd *p, struct worker *w, int64_t *wait_ms)
{
	return fsm_ended(p, w, 1, wait_ms);
}

/* clang-format off */
static const struct fsm_entry fsm_table[W_NSTATES][EV_NEVENTS] = {
    [W_IDLE][EV_START]		= {.choose = c_spawn},
    [W_IDLE][EV_RESTART]	= {.choose = c_spawn},
    [W_IDLE][EV_EXIT]		= {.bug = 1},
    [W_IDLE][EV_DEADLINE]	= {.bug = 1},

    [W_STARTING][EV_STOP]	= {.next = W_STOPPING, .action = a_term},
    [W_STARTING][EV_RESTART]	= {.next = W_RESTARTING, .action = a_term},
    [W_STARTING][EV_HELLO]	= {.choose = c_configure},
    [W_STARTING][EV_STARTED]	= {.next = W_STOPPING, .action = a_bad},
    [W_STARTING][EV_EXIT]	= {.choose = c_died},
    [W_STARTING][EV_DEADLINE]	= {.next = W_STOPPING, .action = a_timeout},
    [W_STARTING][EV_BROKEN]	= {.next = W_STOPPING, .action = a_kill},

    [W_CONFIG][EV_STOP]		= {.next = W_STOPPING, .action = a_stop},
    [W_CONFIG][EV_RESTART]	= {.next = W_RESTARTING, .action = a_stop},
    /* Said again after a second without an answer: it crossed Configure. */
    [W_CONFIG][EV_HELLO]	= {.next = W_NONE},
    [W_CONFIG][EV_STARTED]	= {.next = W_RUNNING},
    [W_CONFIG][EV_EXIT]		= {.choose = c_died},
    [W_CONFIG][EV_DEADLINE]	= {.next = W_STOPPING, .action = a_timeout},
    [W_CONFIG][EV_BROKEN]	= {.next = W_STOPPING, .action = a_kill},

    [W_RUNNING][EV_STOP]	= {.next = W_STOPPING, .action = a_stop},
    [W_RUNNING][EV_RESTART]	= {.next = W_RESTARTING, .action = a_stop},
    [W_RUNNING][EV_SOFT]	= {.next = W_RESTARTING, .action = a_soft},
    [W_RUNNING][EV_HELLO]	= {.next = W_STOPPING, .action = a_bad},
    [W_RUNNING][EV_STARTED]	= {.next = W_STOPPING, .action = a_bad},
    [W_RUNNING][EV_EXIT]	= {.choose = c_died},
    [W_RUNNING][EV_DEADLINE]	= {.bug = 1},
    [W_RUNNING][EV_BROKEN]	= {.next = W_STOPPING, .action = a_kill},

    [W_STOPPING][EV_START]	= {.next = W_RESTARTING, .keep_deadline = 1},
    [W_STOPPING][EV_RESTART]	= {.next = W_RESTARTING, .keep_deadline = 1},
    [W_STOPPING][EV_EXIT]	= {.choose = c_stopped},
    [W_STOPPING][EV_DEADLINE]	= {.action = a_kill_late},
    [W_STOPPING][EV_BROKEN]	= {.next = W_STOPPING, .action = a_kill},

    [W_RESTARTING][EV_STOP]	= {.next = W_STOPPING, .keep_deadline = 1},
    [W_RESTARTING][EV_EXIT]	= {.choose = c_restarted},
    [W_RESTARTING][EV_DEADLINE]	= {.action = a_kill_late},
    [W_RESTARTING][EV_BROKEN]	= {.next = W_RESTARTING, .action = a_kill},

    [W_BACKOFF][EV_START]	= {.choose = c_spawn},
    [W_BACKOFF][EV_STOP]	= {.next = W_IDLE},
    [W_BACKOFF][EV_RESTART]	= {.choose = c_spawn},
    [W_BACKOFF][EV_EXIT]	= {.bug = 1},
    [W_BACKOFF][EV_DEADLINE]	= {.choose = c_spawn},

    [W_FAILED][EV_START]	= {.choose = c_reset_spawn},
    [W_FAILED][EV_STOP]		= {.next = W_IDLE},
    [W_FAILED][EV_RESTART]	= {.choose = c_reset_spawn},
    [W_FAILED][EV_EXIT]		= {.bug = 1},
    [W_FAILED][EV_DEADLINE]	= {.bug = 1},
};
/* clang-format on */

static const char *
fsm_event_name(enum wevent ev)
{
	static const char *const names[EV_NEVENTS] = {
	    [EV_START] = "start",     [EV_STOP] = "stop",
	    [EV_RESTART] = "restart", [EV_SOFT] = "soft-limit",
	    [EV_HELLO] = "hello",     [EV_STARTED] = "started",
	    [EV_EXIT] = "exit",	      [EV_DEADLINE] = "deadline",
	    [EV_BROKEN] = "broken",
	};

	return (unsigned)ev < EV_NEVENTS ? names[ev] : "?";
}

/* Runs entry e of w's state: its action, then the next state, with the
 * deadline of that state's wait. */
static void
fsm_run(struct profd *p, struct worker *w, const struct fsm_entry *e)
{
	enum wstate from = w->w_state, next;
	int64_t wait_ms = -1;

	if (e->action != NULL)
		e->action(p, w);
	next = e->choose != NULL ? e->choose(p, w, &wait_ms) : e->next;
	if (next == W_NONE)
		return;
	if (wait_ms < 0 && next == W_BACKOFF)
		fatalx("profd-%s: backoff without a wait", w->w_name);
	if (wait_ms < 0)
		wait_ms = fsm_wait_ms(next);
	fsm_enter(w, next,
		  e->keep_deadline ? w->w_deadline
		  : wait_ms > 0	   ? NOW(p) + wait_ms
				   : 0);
	if (next == W_RUNNING && from != W_RUNNING)
		p->p_fsm_ops->fo_running(p);
}

void
fsm_step(struct profd *p, struct worker *w, enum wevent ev)
{
	const struct fsm_entry *e;
	int busy = p->p_fsmq.fq_busy;

	if ((unsigned)w->w_state >= W_NSTATES || w->w_state == W_NONE ||
	    (unsigned)ev >= EV_NEVENTS)
		fatalx("profd-%s: event %d in state %d", w->w_name, (int)ev,
		       (int)w->w_state);
	e = &fsm_table[w->w_state][ev];
	if (e->bug)
		fatalx("profd-%s: event %s cannot happen in state %s",
		       w->w_name, fsm_event_name(ev),
		       fsm_state_name(w->w_state));
	if (ev == EV_START || ev == EV_RESTART)
		w->w_want = 1;
	else if (ev == EV_STOP)
		w->w_want = 0;
	p->p_fsmq.fq_busy = 1; /* what it raises waits */
	fsm_run(p, w, e);
	p->p_fsmq.fq_busy = busy;
}

static void
fsm_push(struct profd *p, struct worker *w, enum wevent ev)
{
	struct fsm_queue *q = &p->p_fsmq;

	if (q->fq_len == FSM_QUEUE_MAX)
		fatalx("profd-%s: event queue full", w->w_name);
	q->fq_ev[(q->fq_head + q->fq_len) % FSM_QUEUE_MAX].fq_w = w;
	q->fq_ev[(q->fq_head + q->fq_len) % FSM_QUEUE_MAX].fq_ev = ev;
	q->fq_len++;
}

void
fsm_event(struct profd *p, struct worker *w, enum wevent ev)
{
	struct fsm_queue *q = &p->p_fsmq;

	if (q->fq_busy) {
		fsm_push(p, w, ev);
		return;
	}
	fsm_step(p, w, ev);
	while (q->fq_len > 0) {
		struct worker *qw = q->fq_ev[q->fq_head].fq_w;
		enum wevent qev = q->fq_ev[q->fq_head].fq_ev;

		q->fq_head = (q->fq_head + 1) % FSM_QUEUE_MAX;
		q->fq_len--;
		fsm_step(p, qw, qev);
	}
}

void
fsm_kill(struct profd *p, struct worker *w, enum wexit_kind cause)
{
	char why[WEXIT_STR_MAX];
	struct wexit e = {cause, 0};

	if (!fsm_alive(w) || w->w_cause != WEXIT_NONE)
		return;
	log_error("profd-%s (pid %d): %s; killing it", w->w_name, (int)w->w_pid,
		  fsm_exit_str(&e, why, sizeof(why)));
	w->w_cause = cause;
	fsm_event(p, w, EV_BROKEN);
}

const char *
fsm_state_name(enum wstate s)
{
	static const char *const names[W_NSTATES] = {
	    [W_NONE] = "none",		 [W_IDLE] = "idle",
	    [W_STARTING] = "starting",	 [W_CONFIG] = "starting",
	    [W_RUNNING] = "running",	 [W_STOPPING] = "stopping",
	    [W_RESTARTING] = "stopping", [W_BACKOFF] = "backoff",
	    [W_FAILED] = "failed",
	};

	return (unsigned)s < W_NSTATES ? names[s] : "?";
}
