/*
 * The worker state table: every (state, event) pair, driven through
 * fsm.c with fake effects (struct fsm_ops), checked for the state it
 * leads to, the effects it had, the deadline it set and the events it
 * queued. The states are reached through the table itself.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "profd.h"

static struct profd P;
static struct worker *W = &P.p_workers[0];
static int64_t clock_ms;
static char effects[256];
static int spawn_fails, send_fails, one_shot;

static void
did(const char *what)
{
	size_t n = strlen(effects);

	snprintf(effects + n, sizeof(effects) - n, "%s%s", n ? "," : "", what);
}

static int64_t
fake_now(void)
{
	return clock_ms;
}

static int
fake_spawn(struct profd *p, struct worker *w)
{
	(void)p;
	did("spawn");
	if (spawn_fails)
		return -1;
	w->w_pid = 4242;
	return 0;
}

static void
fake_kill(struct worker *w, int sig)
{
	(void)w;
	did(sig == SIGKILL ? "kill" : sig == SIGTERM ? "term" : "signal?");
}

/* A send that fails raises EV_BROKEN, as workers_send() does. */
static int
fake_send(struct profd *p, struct worker *w, const char *what)
{
	did(what);
	if (!send_fails)
		return 0;
	fsm_event(p, w, EV_BROKEN);
	return -1;
}

static int
fake_configure(struct profd *p, struct worker *w)
{
	return fake_send(p, w, "configure");
}

static int
fake_stop(struct profd *p, struct worker *w)
{
	return fake_send(p, w, "stop");
}

static void
fake_running(struct profd *p)
{
	(void)p;
	did("running");
}

static void
fake_lost(struct profd *p, struct worker *w)
{
	(void)p;
	(void)w;
	did("lost");
}

static const struct fsm_ops fake_ops = {
    .fo_now = fake_now,
    .fo_spawn = fake_spawn,
    .fo_kill = fake_kill,
    .fo_configure = fake_configure,
    .fo_stop = fake_stop,
    .fo_running = fake_running,
    .fo_lost = fake_lost,
};

/* profd.c's, which fsm.c calls. */
int
profd_one_shot(const struct profd *p)
{
	(void)p;
	return one_shot;
}

void
profd_shutdown(struct profd *p, int rv)
{
	did("shutdown");
	if (rv > p->p_exit)
		p->p_exit = rv;
	p->p_stopping = 1;
}

static void
reset(void)
{
	memset(&P, 0, sizeof(P));
	P.p_fsm_ops = &fake_ops;
	P.p_nworkers = 1;
	snprintf(W->w_spec.ws_name, sizeof(W->w_spec.ws_name), "perf");
	W->w_name = W->w_spec.ws_name;
	W->w_spec.ws_restart = RESTART_ALWAYS;
	W->w_spec.ws_profiler = W->w_profiler = 1;
	fsm_init(W);
	clock_ms = 1000000;
	effects[0] = '\0';
	spawn_fails = send_fails = one_shot = 0;
}

/* An exit of status code, then ev. */
static void
ev_exit(int code)
{
	W->w_exit = (struct wexit){WEXIT_CODE, code};
	fsm_event(&P, W, EV_EXIT);
}

/* Brings the worker to state s through the table. */
static void
drive(enum wstate s)
{
	reset();
	if (s == W_IDLE)
		return;
	fsm_event(&P, W, EV_START);
	if (s == W_BACKOFF) {
		ev_exit(1);
	} else if (s == W_FAILED) {
		for (int i = 0; i < PROFD_GIVE_UP_DEATHS; i++) {
			if (i > 0) {
				clock_ms += PROFD_BACKOFF_MAX_MS;
				fsm_event(&P, W, EV_DEADLINE);
			}
			ev_exit(1);
		}
	} else if (s != W_STARTING) {
		fsm_event(&P, W, EV_HELLO);
		if (s != W_CONFIG)
			fsm_event(&P, W, EV_STARTED);
		if (s == W_STOPPING)
			fsm_event(&P, W, EV_STOP);
		else if (s == W_RESTARTING)
			fsm_event(&P, W, EV_RESTART);
	}
	ck_assert_int_eq(W->w_state, s);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 0);
	effects[0] = '\0';
}

#define KEEP (-1) /* the deadline stays as it was */

struct pair {
	enum wstate from;
	enum wevent ev;
	enum wstate to;
	const char *effects;
	int64_t wait_ms; /* the deadline, from now; 0 none; KEEP */
};

/* Five seconds after the state was reached (a worker that said hello is
 * healthy, the gap between starts is over), every start and send
 * succeeding, every exit with status 0. */
static const struct pair pairs[] = {
    {W_IDLE, EV_START, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_IDLE, EV_STOP, W_IDLE, "", 0},
    {W_IDLE, EV_RESTART, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_IDLE, EV_SOFT, W_IDLE, "", 0},
    {W_IDLE, EV_HELLO, W_IDLE, "", 0},
    {W_IDLE, EV_STARTED, W_IDLE, "", 0},
    {W_IDLE, EV_BROKEN, W_IDLE, "", 0},

    {W_STARTING, EV_START, W_STARTING, "", KEEP},
    {W_STARTING, EV_STOP, W_STOPPING, "term", PROFD_STOP_MS},
    {W_STARTING, EV_RESTART, W_RESTARTING, "term", PROFD_STOP_MS},
    {W_STARTING, EV_SOFT, W_STARTING, "", KEEP},
    {W_STARTING, EV_HELLO, W_CONFIG, "configure", PROFD_START_MS},
    {W_STARTING, EV_STARTED, W_STOPPING, "kill", PROFD_STOP_MS},
    /* Died before its hello: unhealthy, so it backs off. */
    {W_STARTING, EV_EXIT, W_BACKOFF, "lost", 1000},
    {W_STARTING, EV_DEADLINE, W_STOPPING, "kill", PROFD_STOP_MS},
    {W_STARTING, EV_BROKEN, W_STOPPING, "kill", PROFD_STOP_MS},

    {W_CONFIG, EV_START, W_CONFIG, "", KEEP},
    {W_CONFIG, EV_STOP, W_STOPPING, "stop", PROFD_STOP_MS},
    {W_CONFIG, EV_RESTART, W_RESTARTING, "stop", PROFD_STOP_MS},
    {W_CONFIG, EV_SOFT, W_CONFIG, "", KEEP},
    /* Said again by a worker that heard nothing for a second. */
    {W_CONFIG, EV_HELLO, W_CONFIG, "", KEEP},
    {W_CONFIG, EV_STARTED, W_RUNNING, "running", 0},
    {W_CONFIG, EV_EXIT, W_STARTING, "lost,spawn", PROFD_HELLO_MS},
    {W_CONFIG, EV_DEADLINE, W_STOPPING, "kill", PROFD_STOP_MS},
    {W_CONFIG, EV_BROKEN, W_STOPPING, "kill", PROFD_STOP_MS},

    {W_RUNNING, EV_START, W_RUNNING, "", 0},
    {W_RUNNING, EV_STOP, W_STOPPING, "stop", PROFD_STOP_MS},
    {W_RUNNING, EV_RESTART, W_RESTARTING, "stop", PROFD_STOP_MS},
    {W_RUNNING, EV_SOFT, W_RESTARTING, "stop", PROFD_STOP_MS},
    {W_RUNNING, EV_HELLO, W_STOPPING, "kill", PROFD_STOP_MS},
    {W_RUNNING, EV_STARTED, W_STOPPING, "kill", PROFD_STOP_MS},
    {W_RUNNING, EV_EXIT, W_STARTING, "lost,spawn", PROFD_HELLO_MS},
    {W_RUNNING, EV_BROKEN, W_STOPPING, "kill", PROFD_STOP_MS},

    {W_STOPPING, EV_START, W_RESTARTING, "", KEEP},
    {W_STOPPING, EV_STOP, W_STOPPING, "", KEEP},
    {W_STOPPING, EV_RESTART, W_RESTARTING, "", KEEP},
    {W_STOPPING, EV_SOFT, W_STOPPING, "", KEEP},
    {W_STOPPING, EV_HELLO, W_STOPPING, "", KEEP},
    {W_STOPPING, EV_STARTED, W_STOPPING, "", KEEP},
    {W_STOPPING, EV_EXIT, W_IDLE, "lost", 0},
    {W_STOPPING, EV_DEADLINE, W_STOPPING, "kill", 0},
    {W_STOPPING, EV_BROKEN, W_STOPPING, "kill", PROFD_STOP_MS},

    {W_RESTARTING, EV_START, W_RESTARTING, "", KEEP},
    {W_RESTARTING, EV_STOP, W_STOPPING, "", KEEP},
    {W_RESTARTING, EV_RESTART, W_RESTARTING, "", KEEP},
    {W_RESTARTING, EV_SOFT, W_RESTARTING, "", KEEP},
    {W_RESTARTING, EV_HELLO, W_RESTARTING, "", KEEP},
    {W_RESTARTING, EV_STARTED, W_RESTARTING, "", KEEP},
    {W_RESTARTING, EV_EXIT, W_STARTING, "lost,spawn", PROFD_HELLO_MS},
    {W_RESTARTING, EV_DEADLINE, W_RESTARTING, "kill", 0},
    {W_RESTARTING, EV_BROKEN, W_RESTARTING, "kill", PROFD_STOP_MS},

    {W_BACKOFF, EV_START, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_BACKOFF, EV_STOP, W_IDLE, "", 0},
    {W_BACKOFF, EV_RESTART, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_BACKOFF, EV_SOFT, W_BACKOFF, "", KEEP},
    {W_BACKOFF, EV_HELLO, W_BACKOFF, "", KEEP},
    {W_BACKOFF, EV_STARTED, W_BACKOFF, "", KEEP},
    {W_BACKOFF, EV_DEADLINE, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_BACKOFF, EV_BROKEN, W_BACKOFF, "", KEEP},

    {W_FAILED, EV_START, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_FAILED, EV_STOP, W_IDLE, "", 0},
    {W_FAILED, EV_RESTART, W_STARTING, "spawn", PROFD_HELLO_MS},
    {W_FAILED, EV_SOFT, W_FAILED, "", 0},
    {W_FAILED, EV_HELLO, W_FAILED, "", 0},
    {W_FAILED, EV_STARTED, W_FAILED, "", 0},
    {W_FAILED, EV_BROKEN, W_FAILED, "", 0},
};

/* Events that cannot arrive in a state: profd stops (fatalx). The reaper
 * feeds EV_EXIT only to a live worker; a state without a wait has no
 * deadline to pass. */
static const struct pair bugs[] = {
    {W_IDLE, EV_EXIT, 0, NULL, 0},	  {W_IDLE, EV_DEADLINE, 0, NULL, 0},
    {W_RUNNING, EV_DEADLINE, 0, NULL, 0}, {W_BACKOFF, EV_EXIT, 0, NULL, 0},
    {W_FAILED, EV_EXIT, 0, NULL, 0},	  {W_FAILED, EV_DEADLINE, 0, NULL, 0},
};

#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))
#define NBUGS  (sizeof(bugs) / sizeof(bugs[0]))

START_TEST(test_every_pair_listed)
{
	int seen[W_NSTATES][EV_NEVENTS] = {{0}};

	for (size_t i = 0; i < NPAIRS; i++)
		seen[pairs[i].from][pairs[i].ev]++;
	for (size_t i = 0; i < NBUGS; i++)
		seen[bugs[i].from][bugs[i].ev]++;
	for (int s = W_IDLE; s < W_NSTATES; s++)
		for (int e = 0; e < EV_NEVENTS; e++)
			ck_assert_msg(seen[s][e] == 1,
				      "state %d event %d listed %d times", s, e,
				      seen[s][e]);
}
END_TEST

START_TEST(test_pair)
{
	const struct pair *t = &pairs[_i];
	int64_t before;

	drive(t->from);
	clock_ms += 5000;
	before = W->w_deadline;
	if (t->ev == EV_EXIT)
		W->w_exit = (struct wexit){WEXIT_CODE, 0};
	fsm_step(&P, W, t->ev);
	ck_assert_msg(W->w_state == t->to, "%s/%d: state %d, want %d",
		      fsm_state_name(t->from), t->ev, W->w_state, t->to);
	ck_assert_msg(strcmp(effects, t->effects) == 0,
		      "%s/%d: effects '%s', want '%s'", fsm_state_name(t->from),
		      t->ev, effects, t->effects);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 0);
	if (t->wait_ms == KEEP)
		ck_assert_int_eq(W->w_deadline, before);
	else
		ck_assert_int_eq(W->w_deadline,
				 t->wait_ms ? clock_ms + t->wait_ms : 0);
	ck_assert_int_eq(P.p_stopping, 0);
}
END_TEST

START_TEST(test_bug)
{
	drive(bugs[_i].from);
	fsm_event(&P, W, bugs[_i].ev);
}
END_TEST

/* A start that fails queues EV_EXIT; fed, it is a death like any other:
 * the worker backs off, then is given up on at the fifth. */
START_TEST(test_spawn_fails)
{
	reset();
	spawn_fails = 1;
	fsm_step(&P, W, EV_START);
	ck_assert_int_eq(W->w_state, W_STARTING);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 1);
	ck_assert_ptr_eq(P.p_fsmq.fq_ev[P.p_fsmq.fq_head].fq_w, W);
	ck_assert_int_eq(P.p_fsmq.fq_ev[P.p_fsmq.fq_head].fq_ev, EV_EXIT);
	ck_assert_int_eq(W->w_exit.wx_kind, WEXIT_EXEC);

	reset();
	spawn_fails = 1;
	fsm_event(&P, W, EV_START);
	ck_assert_int_eq(W->w_state, W_BACKOFF);
	ck_assert_str_eq(effects, "spawn,lost");
	ck_assert_int_eq(W->w_deadline, clock_ms + 1000);
	for (int i = 1; i < PROFD_GIVE_UP_DEATHS; i++) {
		clock_ms = W->w_deadline;
		fsm_event(&P, W, EV_DEADLINE);
	}
	ck_assert_int_eq(W->w_state, W_FAILED);
	ck_assert_uint_eq(W->w_restarts, PROFD_GIVE_UP_DEATHS - 1);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 0);
}
END_TEST

/* A Stop or Configure that cannot be sent queues EV_BROKEN: the worker
 * is killed after the transition, and a restart stays a restart. */
START_TEST(test_send_fails)
{
	drive(W_RUNNING);
	send_fails = 1;
	fsm_step(&P, W, EV_STOP);
	ck_assert_int_eq(W->w_state, W_STOPPING);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 1);
	ck_assert_int_eq(P.p_fsmq.fq_ev[P.p_fsmq.fq_head].fq_ev, EV_BROKEN);

	drive(W_RUNNING);
	send_fails = 1;
	fsm_event(&P, W, EV_RESTART);
	ck_assert_int_eq(W->w_state, W_RESTARTING);
	ck_assert_str_eq(effects, "stop,kill");
	ck_assert_int_eq(W->w_killed, 1);
	/* Killed, so not clean, and not healthy yet (1.5 s after its
	 * hello): but asked to restart, so at once, with no backoff. */
	clock_ms += 1500;
	W->w_exit = (struct wexit){WEXIT_SIGNAL, SIGKILL};
	fsm_event(&P, W, EV_EXIT);
	ck_assert_int_eq(W->w_state, W_STARTING);

	drive(W_STARTING);
	send_fails = 1;
	fsm_event(&P, W, EV_HELLO);
	ck_assert_int_eq(W->w_state, W_STOPPING);
	ck_assert_str_eq(effects, "configure,kill");
}
END_TEST

/* The uploader, which is no profiler, waits for "started" like one: a
 * hello said again before it is ignored, one after it is a violation. */
START_TEST(test_uploader_started)
{
	reset();
	W->w_spec.ws_profiler = W->w_profiler = 0;
	fsm_event(&P, W, EV_START);
	fsm_event(&P, W, EV_HELLO);
	ck_assert_int_eq(W->w_state, W_CONFIG);
	ck_assert_str_eq(effects, "spawn,configure");
	fsm_event(&P, W, EV_HELLO);
	ck_assert_int_eq(W->w_state, W_CONFIG);
	ck_assert_str_eq(effects, "spawn,configure");
	fsm_event(&P, W, EV_STARTED);
	ck_assert_int_eq(W->w_state, W_RUNNING);
	ck_assert_str_eq(effects, "spawn,configure,running");
	fsm_event(&P, W, EV_HELLO);
	ck_assert_int_eq(W->w_state, W_STOPPING);
	ck_assert_str_eq(effects, "spawn,configure,running,kill");
}
END_TEST

/* Restart policies and what counts as a clean stop. */
START_TEST(test_policies)
{
	char buf[WEXIT_STR_MAX];

	drive(W_RUNNING);
	W->w_spec.ws_restart = RESTART_ON_FAILURE;
	clock_ms += 5000;
	ev_exit(0);
	ck_assert_int_eq(W->w_state, W_IDLE);

	drive(W_RUNNING);
	W->w_spec.ws_restart = RESTART_ON_FAILURE;
	clock_ms += 5000;
	ev_exit(3);
	ck_assert_int_eq(W->w_state, W_STARTING);
	ck_assert_str_eq(fsm_exit_str(&W->w_exit, buf, sizeof(buf)), "3");

	drive(W_RUNNING);
	W->w_spec.ws_restart = RESTART_NEVER;
	ev_exit(3);
	ck_assert_int_eq(W->w_state, W_IDLE);

	/* SIGTERM before its hello is a clean stop. */
	drive(W_STARTING);
	fsm_event(&P, W, EV_STOP);
	W->w_exit = (struct wexit){WEXIT_SIGNAL, SIGTERM};
	fsm_event(&P, W, EV_EXIT);
	ck_assert_int_eq(W->w_state, W_IDLE);
	ck_assert_str_eq(effects, "term,lost");

	/* A stop that ends badly while profd stops ends profd with 1. */
	drive(W_RUNNING);
	fsm_event(&P, W, EV_STOP);
	P.p_stopping = 1;
	ev_exit(2);
	ck_assert_int_eq(W->w_state, W_IDLE);
	ck_assert_int_eq(P.p_exit, 1);
}
END_TEST

/* One window only: a lost worker ends the run. */
START_TEST(test_one_shot)
{
	drive(W_RUNNING);
	one_shot = 1;
	ev_exit(1);
	ck_assert_int_eq(P.p_stopping, 1);
	ck_assert_int_eq(W->w_state, W_IDLE);
	ck_assert_str_eq(effects, "lost,shutdown");
}
END_TEST

/* Two starts are PROFD_MIN_GAP_MS apart; an unhealthy worker backs off
 * doubling up to PROFD_BACKOFF_MAX_MS. */
START_TEST(test_gap_and_backoff)
{
	drive(W_RUNNING);
	fsm_event(&P, W, EV_RESTART);
	clock_ms += 100;
	ev_exit(0);
	ck_assert_int_eq(W->w_state, W_BACKOFF);
	ck_assert_int_eq(W->w_deadline, W->w_started_ms + PROFD_MIN_GAP_MS);
	clock_ms = W->w_deadline;
	fsm_event(&P, W, EV_DEADLINE);
	ck_assert_int_eq(W->w_state, W_STARTING);
	ck_assert_uint_eq(W->w_restarts, 1);

	reset();
	fsm_event(&P, W, EV_START);
	for (int64_t want = 1000; want <= 8000; want *= 2) {
		ev_exit(1);
		ck_assert_int_eq(W->w_state, W_BACKOFF);
		ck_assert_int_eq(W->w_deadline - clock_ms, want);
		clock_ms = W->w_deadline;
		W->w_ndeaths = 0; /* not given up: the doubling alone */
		fsm_event(&P, W, EV_DEADLINE);
	}
}
END_TEST

/* Given up, stopped and started by hand without a reset: the count of
 * deaths is a window, and a sixth death inside it gives up again. */
START_TEST(test_deaths_window)
{
	drive(W_FAILED);
	fsm_event(&P, W, EV_STOP);
	clock_ms += PROFD_MIN_GAP_MS;
	fsm_event(&P, W, EV_START);
	ck_assert_int_eq(W->w_state, W_STARTING);
	ev_exit(1);
	ck_assert_int_eq(W->w_state, W_FAILED);
	ck_assert_uint_eq(W->w_ndeaths, PROFD_GIVE_UP_DEATHS);
	/* Started again by hand: a fresh count. */
	clock_ms += PROFD_MIN_GAP_MS;
	fsm_event(&P, W, EV_START);
	ev_exit(1);
	ck_assert_int_eq(W->w_state, W_BACKOFF);
	ck_assert_uint_eq(W->w_ndeaths, 1);
}
END_TEST

/* Killed for a limit: the cause is its last exit, and it is restarted. */
START_TEST(test_kill_cause)
{
	char buf[WEXIT_STR_MAX];

	drive(W_RUNNING);
	fsm_kill(&P, W, WEXIT_MEMORY);
	ck_assert_int_eq(W->w_state, W_STOPPING);
	ck_assert_str_eq(effects, "kill");
	fsm_kill(&P, W, WEXIT_PIDS); /* once */
	ck_assert_str_eq(effects, "kill");
	W->w_exit = (struct wexit){W->w_cause, 0};
	ck_assert_str_eq(fsm_exit_str(&W->w_exit, buf, sizeof(buf)),
			 "memory-limit");
	clock_ms += 5000;
	fsm_event(&P, W, EV_EXIT);
	ck_assert_int_eq(W->w_state, W_STARTING);
	ck_assert_int_eq(W->w_cause, WEXIT_NONE);
}
END_TEST

START_TEST(test_exit_str)
{
	char buf[WEXIT_STR_MAX];
	static const struct {
		struct wexit e;
		const char *s;
	} t[] = {
	    {{WEXIT_NONE, 0}, ""},
	    {{WEXIT_CODE, 0}, "0"},
	    {{WEXIT_CODE, 127}, "127"},
	    {{WEXIT_SIGNAL, SIGKILL}, "SIGKILL"},
	    {{WEXIT_SIGNAL, SIGTERM}, "SIGTERM"},
	    {{WEXIT_SECCOMP, SIGSYS}, "seccomp"},
	    {{WEXIT_EXEC, 0}, "exec-failed"},
	    {{WEXIT_MEMORY, 0}, "memory-limit"},
	    {{WEXIT_PIDS, 0}, "pids-limit"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(fsm_exit_str(&t[i].e, buf, sizeof(buf)),
				 t[i].s);
	ck_assert_str_eq(fsm_state_name(W_CONFIG), "starting");
	ck_assert_str_eq(fsm_state_name(W_RESTARTING), "stopping");
}
END_TEST

/* Events raised by an action for another worker wait their turn. */
START_TEST(test_queue_order)
{
	struct worker *up = &P.p_workers[1];

	drive(W_RUNNING);
	P.p_nworkers = 2;
	snprintf(up->w_spec.ws_name, sizeof(up->w_spec.ws_name), "upload");
	up->w_name = up->w_spec.ws_name;
	fsm_init(up);
	P.p_fsmq.fq_busy = 1; /* as inside an action */
	fsm_event(&P, up, EV_START);
	fsm_event(&P, W, EV_STOP);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 2);
	ck_assert_int_eq(up->w_state, W_IDLE);
	P.p_fsmq.fq_busy = 0;
	fsm_event(&P, W, EV_BROKEN);
	ck_assert_str_eq(effects, "kill,spawn"); /* then STOP: stopping */
	ck_assert_int_eq(up->w_state, W_STARTING);
	ck_assert_int_eq(W->w_state, W_STOPPING);
	ck_assert_uint_eq(P.p_fsmq.fq_len, 0);
}
END_TEST

START_TEST(test_queue_full)
{
	drive(W_RUNNING);
	P.p_fsmq.fq_busy = 1;
	for (int i = 0; i <= FSM_QUEUE_MAX; i++)
		fsm_event(&P, W, EV_BROKEN);
}
END_TEST

/* The table's suite: loop tests over its pairs, aborts for its bugs. */
static Suite *
fsm_suite(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("fsm");

	tcase_add_test(tc, test_every_pair_listed);
	tcase_add_loop_test(tc, test_pair, 0, (int)NPAIRS);
	tcase_add_loop_test_raise_signal(tc, test_bug, SIGABRT, 0, (int)NBUGS);
	tcase_add_test(tc, test_spawn_fails);
	tcase_add_test(tc, test_send_fails);
	tcase_add_test(tc, test_uploader_started);
	tcase_add_test(tc, test_policies);
	tcase_add_test(tc, test_one_shot);
	tcase_add_test(tc, test_gap_and_backoff);
	tcase_add_test(tc, test_deaths_window);
	tcase_add_test(tc, test_kill_cause);
	tcase_add_test(tc, test_exit_str);
	tcase_add_test(tc, test_queue_order);
	tcase_add_test_raise_signal(tc, test_queue_full, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fsm_suite())
