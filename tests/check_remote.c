/*
 * The heartbeat session (remote.c): commands parsed into settings, and
 * the session table (idle, pending, active, once) driven by START, STOP,
 * the old profilers' going, the one window's end and a START whose
 * profilers all failed. The workers are fakes: a profiler told to start
 * runs (or fails, if told to), one told to stop is gone at once.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "profd.h"

static struct profd P;
static char effects[512];
static int perf_fails;

/* Notes an effect: what[:a[:b]]. */
static void
did(const char *what, const char *a, const char *b)
{
	size_t n = strlen(effects);

	snprintf(effects + n, sizeof(effects) - n, "%s%s%s%s%s%s", n ? "," : "",
		 what, a ? ":" : "", a ? a : "", b ? ":" : "", b ? b : "");
}

/* The fakes of what remote.c calls. */
void
fsm_event(struct profd *p, struct worker *w, enum wevent ev)
{
	(void)p;
	did(ev == EV_START ? "start" : "stop", w->w_name, NULL);
	if (ev == EV_STOP)
		w->w_state = W_IDLE;
	else if (ev == EV_START)
		w->w_state = perf_fails && w->w_spec.ws_role == ROLE_PERF
				 ? W_FAILED
				 : W_RUNNING;
}

int
fsm_alive(const struct worker *w)
{
	return w->w_state == W_RUNNING;
}

int
workers_send(struct profd *p, struct worker *w, Profd__Control *c)
{
	(void)p;
	(void)w;
	if (c->body_case == PROFD__CONTROL__BODY_DONE)
		did("done", c->done->id, c->done->ok ? "ok" : "fail");
	return 0;
}

int
workers_configure(struct profd *p, struct worker *w)
{
	(void)p;
	(void)w;
	did("configure", NULL, NULL);
	return 0;
}

void
clock_stop(struct profd *p)
{
	(void)p;
	did("clock-stop", NULL, NULL);
}

void
clock_maybe_start(struct profd *p)
{
	(void)p;
}

static void
add(const char *name, enum wrole role, enum wstate s)
{
	struct worker *w = &P.p_workers[P.p_nworkers++];

	snprintf(w->w_spec.ws_name, sizeof(w->w_spec.ws_name), "%s", name);
	w->w_name = w->w_spec.ws_name;
	w->w_spec.ws_role = role;
	w->w_spec.ws_enabled = 1;
	w->w_profiler = w->w_spec.ws_profiler = role != ROLE_UPLOAD;
	w->w_state = s;
}

static void
setup(void)
{
	memset(&P, 0, sizeof(P));
	P.p_opts.po_heartbeat = 1;
	snprintf(P.p_opts.po_perf_mode, sizeof(P.p_opts.po_perf_mode), "fp");
	P.p_opts.po_skip_above = 7;
	add("upload", ROLE_UPLOAD, W_RUNNING);
	add("perf", ROLE_PERF, W_IDLE);
	add("python", ROLE_PYTHON, W_IDLE);
	remote_init(&P);
	effects[0] = '\0';
	perf_fails = 0;
}

/* A START (continuous or not) for perf and python. */
static void
start(const char *id, int continuous, const char *perf_mode)
{
	Profd__RemoteCommand c = PROFD__REMOTE_COMMAND__INIT;

	c.kind = PROFD__REMOTE_COMMAND__KIND__START;
	c.id = (char *)id;
	c.duration = 5;
	c.frequency = 11;
	c.continuous = continuous;
	c.perf = c.python = 1;
	c.perf_mode = (char *)perf_mode;
	remote_command(&P, &c);
}

static void
stop(const char *id)
{
	Profd__RemoteCommand c = PROFD__REMOTE_COMMAND__INIT;

	c.kind = PROFD__REMOTE_COMMAND__KIND__STOP;
	c.id = (char *)id;
	remote_command(&P, &c);
}

#define EXPECT(s)                                                              \
	do {                                                                   \
		ck_assert_str_eq(effects, s);                                  \
		effects[0] = '\0';                                             \
	} while (0)

START_TEST(test_start_stop)
{
	setup();
	ck_assert_int_eq(P.p_remote.r_state, RS_IDLE);
	start("s1", 1, "");
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
	EXPECT("clock-stop,stop:perf,stop:python");
	ck_assert(!remote_active(&P));
	remote_tick(&P); /* nothing runs: apply */
	ck_assert_int_eq(P.p_remote.r_state, RS_ACTIVE);
	EXPECT("configure,start:perf,start:python");
	ck_assert_str_eq(P.p_opts.po_perf_mode, "fp");
	ck_assert_uint_eq(P.p_opts.po_skip_above, 7); /* profd's own */
	ck_assert(remote_active(&P) && !remote_once(&P));
	ck_assert(!remote_answered(&P));
	remote_tick(&P); /* they run: answered */
	EXPECT("done:s1:ok");
	ck_assert(remote_answered(&P));
	stop("t1");
	ck_assert_int_eq(P.p_remote.r_state, RS_IDLE);
	EXPECT("clock-stop,stop:perf,stop:python");
	remote_tick(&P);
	EXPECT("done:t1:ok");
	stop("t1"); /* seen: ignored */
	EXPECT("");
}
END_TEST

/* An uploader that has its Configure but has not said "started" yet
 * takes the new settings and the completion. One that has not said hello
 * takes neither: the Configure sent at its hello holds the settings, and
 * the completion, which only profd's log then shows, is not sent. */
START_TEST(test_uploader_configuring)
{
	setup();
	P.p_workers[0].w_state = W_CONFIG;
	start("c1", 1, "");
	effects[0] = '\0';
	remote_tick(&P);
	EXPECT("configure,start:perf,start:python");
	remote_tick(&P);
	EXPECT("done:c1:ok");

	setup();
	P.p_workers[0].w_state = W_STARTING;
	start("c2", 1, "");
	effects[0] = '\0';
	remote_tick(&P);
	EXPECT("start:perf,start:python");
	remote_tick(&P);
	EXPECT("");
}
END_TEST

/* An ad-hoc START pauses the continuous one, which resumes after. */
START_TEST(test_adhoc_resumes)
{
	setup();
	start("c1", 1, "smart");
	remote_tick(&P);
	remote_tick(&P);
	effects[0] = '\0';
	start("a1", 0, "");
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
	remote_tick(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_ONCE);
	ck_assert_str_eq(P.p_opts.po_perf_mode, "fp");
	ck_assert(remote_once(&P));
	remote_tick(&P);
	EXPECT("clock-stop,stop:perf,stop:python,configure,start:perf,"
	       "start:python,done:a1:ok");
	remote_session_end(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
	EXPECT("clock-stop,stop:perf,stop:python");
	remote_tick(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_ACTIVE);
	ck_assert_str_eq(P.p_opts.po_perf_mode, "smart");
	ck_assert_int_eq(P.p_opts.po_continuous, 1);
	EXPECT("configure,start:perf,start:python"); /* no new answer */
	remote_tick(&P);
	EXPECT("");
}
END_TEST

/* A START none of whose profilers runs is answered as failed, and the
 * session is idle again. */
START_TEST(test_start_fails)
{
	setup();
	perf_fails = 1;
	P.p_workers[2].w_spec.ws_enabled = 0; /* python: perf alone */
	start("f1", 1, "");
	remote_tick(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_ACTIVE);
	effects[0] = '\0';
	remote_tick(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_IDLE);
	EXPECT("done:f1:fail,clock-stop,stop:perf,stop:python");
	ck_assert(remote_answered(&P));
}
END_TEST

/* Events that do not apply in a state leave it as it is. */
START_TEST(test_ignored)
{
	setup();
	remote_event(&P, RE_END);
	remote_event(&P, RE_APPLY);
	remote_event(&P, RE_FAILED);
	ck_assert_int_eq(P.p_remote.r_state, RS_IDLE);
	start("p1", 0, "");
	effects[0] = '\0';
	remote_event(&P, RE_END);
	remote_event(&P, RE_FAILED);
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
	ck_assert_str_eq(effects, "");
	remote_session_end(&P);
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
}
END_TEST

/* Modes are parsed where the command comes in; a bad one is refused. */
START_TEST(test_refused)
{
	Profd__RemoteCommand c = PROFD__REMOTE_COMMAND__INIT;

	setup();
	start("m1", 1, "xyz");
	EXPECT("done:m1:fail");
	start("m2", 1, "dwarf");
	ck_assert_int_eq(P.p_remote.r_state, RS_PENDING);
	effects[0] = '\0';
	P.p_workers[2].w_spec.ws_enabled = 0;
	start("m3", 1, "disabled"); /* perf off, python off here */
	EXPECT("done:m3:fail");
	c.kind = PROFD__REMOTE_COMMAND__KIND__START;
	c.id = (char *)"m4";
	c.duration = c.frequency = 5;
	c.perf = 1;
	c.perf_mode = (char *)"";
	c.profiling_mode = (char *)"alloc";
	remote_command(&P, &c);
	EXPECT("done:m4:fail");
	c.id = (char *)"m5";
	c.profiling_mode = (char *)"cpu";
	remote_command(&P, &c);
	ck_assert_str_eq(P.p_remote.r_start, "m5");
	EXPECT("done:m2:fail,clock-stop,stop:perf,stop:python");
}
END_TEST

CHECK_MAIN(CHECK_SUITE("remote", test_start_stop, test_uploader_configuring,
		       test_adhoc_resumes, test_start_fails, test_ignored,
		       test_refused))
