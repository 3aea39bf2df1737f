/*
 * Heartbeat mode: start and stop commands that profd-upload received from
 * the heartbeat server. profd trusts none of their fields: each is checked
 * against the ranges of profd's own flags, and nothing in a command names
 * a path or a program. Every command is answered with a CommandDone once
 * it has really finished (START: its profilers run; STOP: they are gone)
 * or failed. As in gProfiler's DynamicGProfilerManager, an ad-hoc START
 * (continuous false) that comes while a continuous one is in force
 * pauses it: its profilers stop, the ad-hoc window runs, and then the
 * continuous settings start again (without a new answer).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "profd.h"
#include "worker.h"

/* Parses a profiling mode: 1 for CPU ("cpu", or "" for the default),
 * the only one profd has. */
static int
remote_profiling_cpu(const char *s)
{
	return s[0] == '\0' || strcmp(s, "cpu") == 0;
}

void
remote_init(struct profd *p)
{
	struct remote *r = &p->p_remote;

	r->r_default_ok =
	    perf_mode_parse(p->p_opts.po_perf_mode, &r->r_default_mode) == 0;
	r->r_base_skip = p->p_opts.po_skip_above;
	r->r_base_docker = p->p_opts.po_max_docker;
	r->r_state = RS_IDLE;
}

static int
remote_id_ok(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= PROFD_CMD_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_-") == len;
}

/* Tells the uploader how command id ended. */
static void
remote_done(struct profd *p, const char *id, int ok, const char *error)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__CommandDone d = PROFD__COMMAND_DONE__INIT;
	struct worker *up = workers_of_role(p, ROLE_UPLOAD);

	if (ok)
		log_info("remote command %s done", id);
	else
		log_warn("remote command %s failed: %s", id, error);
	d.id = (char *)id;
	d.ok = ok;
	d.error = (char *)(error ? error : "");
	c.body_case = PROFD__CONTROL__BODY_DONE;
	c.done = &d;
	if (up != NULL && fsm_configured(up))
		workers_send(p, up, &c);
}

/* Remembers id; returns 1 if it was seen before. */
static int
remote_seen(struct remote *r, const char *id)
{
	unsigned n = r->r_nseen < PROFD_CMD_SEEN ? r->r_nseen : PROFD_CMD_SEEN;

	for (unsigned i = 0; i < n; i++)
		if (strcmp(r->r_seen[i], id) == 0)
			return 1;
	snprintf(r->r_seen[r->r_nseen++ % PROFD_CMD_SEEN], sizeof(r->r_seen[0]),
		 "%s", id);
	return 0;
}

/* Is w a profiler that settings rs want? A worker disabled in profd's
 * own configuration never starts remotely. */
static int
remote_wanted(const struct remote_settings *rs, const struct worker *w)
{
	if (!w->w_profiler || !w->w_spec.ws_enabled)
		return 0;
	switch (w->w_spec.ws_role) {
	case ROLE_PERF:
		return rs->rs_perf;
	case ROLE_PYTHON:
		return rs->rs_python;
	case ROLE_JAVA:
		return rs->rs_java;
	default:
		return 1;
	}
}

/* Would settings rs run any profiler here? */
static int
remote_any_profiler(const struct profd *p, const struct remote_settings *rs)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (remote_wanted(rs, &p->p_workers[i]))
			return 1;
	return 0;
}

/* Checks a START's limits and mode; NULL, or what is wrong. */
static const char *
remote_check_limits(const Profd__RemoteCommand *c)
{
	if (!remote_profiling_cpu(c->profiling_mode))
		return "profiling mode must be cpu (profd profiles no "
		       "allocations)";
	if (c->max_processes > WORKER_MAX_RUNTIME_PROCS)
		return "max_processes must be 0 to 4096";
	if (!c->perf_limits && (c->skip_system_profilers_above != 0 ||
				c->perf_max_docker_containers != 0))
		return "perf limits without perf_limits";
	if (c->skip_system_profilers_above > WORKER_MAX_SKIP_ABOVE ||
	    c->perf_max_docker_containers > WORKER_PERF_CGROUPS_LIMIT)
		return "perf limits out of range";
	return NULL;
}

/* Checks a START's PIDs; NULL, or what is wrong. */
static const char *
remote_check_pids(const struct profd *p, const Profd__RemoteCommand *c,
		  char *err, size_t len)
{
	if (c->n_pids > PROFD_MAX_PIDS)
		return "more than 1024 PIDs";
	if (c->n_pids > 0 && p->p_opts.po_use_cgroups)
		return "PIDs cannot go with --perf-use-cgroups";
	for (size_t i = 0; i < c->n_pids; i++) {
		if (c->pids[i] == 0 || c->pids[i] > PROFD_PID_MAX)
			return "a PID is out of range";
		if (kill((pid_t)c->pids[i], 0) == -1 && errno == ESRCH) {
			snprintf(err, len, "no process with PID %u",
				 c->pids[i]);
			return err;
		}
	}
	return NULL;
}

/* Fills rs from c once c is checked: with profd's own perf limits
 * where c has none. */
static void
remote_settings_of(const struct remote *r, const Profd__RemoteCommand *c,
		   struct remote_settings *rs)
{
	rs->rs_duration = c->duration;
	rs->rs_frequency = c->frequency;
	rs->rs_continuous = c->continuous;
	rs->rs_npids = c->n_pids;
	if (c->n_pids > 0)
		memcpy(rs->rs_pids, c->pids, c->n_pids * sizeof(c->pids[0]));
	rs->rs_max_procs = c->max_processes;
	rs->rs_skip_above =
	    c->perf_limits ? c->skip_system_profilers_above : r->r_base_skip;
	rs->rs_max_docker =
	    c->perf_limits ? c->perf_max_docker_containers : r->r_base_docker;
}

/* Checks a START and parses its settings into rs; NULL, or what is
 * wrong. */
static const char *
remote_parse_start(const struct profd *p, const Profd__RemoteCommand *c,
		   struct remote_settings *rs, char *err, size_t len)
{
	const struct remote *r = &p->p_remote;
	const char *why;
	int mode_ok = r->r_default_ok;

	rs->rs_perf_mode = r->r_default_mode;
	if (c->perf_mode[0] != '\0')
		mode_ok = perf_mode_parse(c->perf_mode, &rs->rs_perf_mode) == 0;
	if ((why = remote_check_limits(c)) != NULL)
		return why;
	if (c->duration < 1 || c->duration > WORKER_MAX_DURATION)
		return "duration must be 1 to 3600 seconds";
	if (c->frequency < 1 || c->frequency > WORKER_MAX_FREQUENCY)
		return "frequency must be 1 to 1000 Hz";
	if (!mode_ok)
		return "perf mode must be fp, dwarf, smart or disabled";
	if (c->perf &&
	    (rs->rs_perf_mode == PERF_MODE_DWARF ||
	     rs->rs_perf_mode == PERF_MODE_SMART) &&
	    c->frequency > WORKER_MAX_DWARF_FREQUENCY)
		return "perf modes dwarf and smart allow at most 100 Hz";
	rs->rs_perf = c->perf && rs->rs_perf_mode != PERF_MODE_DISABLED;
	rs->rs_python = c->python;
	rs->rs_java = c->java;
	if (!remote_any_profiler(p, rs))
		return "no profiler enabled (here)";
	if ((why = remote_check_pids(p, c, err, len)) != NULL)
		return why;
	remote_settings_of(r, c, rs);
	return NULL;
}

static int
remote_profilers_alive(const struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_profiler && fsm_alive(&p->p_workers[i]))
			return 1;
	return 0;
}

/* Stops every profiler and the clock. */
static void
remote_stop_all(struct profd *p)
{
	clock_stop(p);
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_profiler)
			fsm_event(p, &p->p_workers[i], EV_STOP);
}

static void
remote_stop(struct profd *p, const char *id)
{
	struct remote *r = &p->p_remote;
	char why[PROFD_CMD_ID_MAX + 32];

	snprintf(why, sizeof(why), "superseded by stop %s", id);
	if (r->r_start[0] != '\0')
		remote_done(p, r->r_start, 0, why);
	if (r->r_stop[0] != '\0')
		remote_done(p, r->r_stop, 0, why);
	r->r_start[0] = '\0';
	r->r_has_cont = r->r_resume = 0;
	snprintf(r->r_stop, sizeof(r->r_stop), "%s", id);
	log_info("remote stop %s", id);
	remote_event(p, RE_STOP);
}

/* After an ad-hoc START: the paused continuous one starts again. */
static enum rstate
remote_resume(struct profd *p)
{
	struct remote *r = &p->p_remote;

	if (!r->r_resume)
		return RS_IDLE;
	r->r_resume = 0;
	log_info("ad-hoc profiling over: continuous profiling resumes");
	r->r_next = r->r_cont;
	return RS_PENDING;
}

static void
remote_start(struct profd *p, const Profd__RemoteCommand *c,
	     const struct remote_settings *rs)
{
	struct remote *r = &p->p_remote;
	char why[PROFD_CMD_ID_MAX + 32];

	snprintf(why, sizeof(why), "superseded by start %s", c->id);
	if (r->r_start[0] != '\0')
		remote_done(p, r->r_start, 0, why);
	snprintf(r->r_start, sizeof(r->r_start), "%s", c->id);
	r->r_resume = !rs->rs_continuous && r->r_has_cont;
	if (rs->rs_continuous)
		r->r_has_cont = 0;
	else if (r->r_resume)
		log_info("remote start %s is ad-hoc: continuous profiling "
			 "pauses until its window is written",
			 c->id);
	r->r_next = *rs;
	log_info(
	    "remote start %s: %u s windows at %u Hz%s, perf %s, python %s, "
	    "java %s, top %u processes per runtime profiler (0: all)",
	    c->id, rs->rs_duration, rs->rs_frequency,
	    rs->rs_continuous ? " (continuous)" : " (one window)",
	    rs->rs_perf ? perf_mode_name(rs->rs_perf_mode) : "off",
	    rs->rs_python ? "on" : "off", rs->rs_java ? "on" : "off",
	    rs->rs_max_procs);
	if (c->perf_limits)
		log_info("remote start %s: perf only below %u host processes, "
			 "at most %u containers",
			 c->id, c->skip_system_profilers_above,
			 c->perf_max_docker_containers);
	/* Whatever runs now goes first; the new settings start after. */
	remote_event(p, RE_START);
}

void
remote_command(struct profd *p, const Profd__RemoteCommand *c)
{
	static struct remote_settings rs; /* 4 KB of PIDs: not on the stack */
	char err[64];
	const char *why;

	if (!p->p_opts.po_heartbeat || p->p_stopping) {
		log_warn("remote command ignored: %s",
			 p->p_stopping ? "profd is stopping"
				       : "heartbeat mode is off");
		return;
	}
	if (!remote_id_ok(c->id)) {
		log_error("remote command refused: bad id");
		remote_done(p, "", 0, "bad command id");
		return;
	}
	if (remote_seen(&p->p_remote, c->id)) {
		log_info("remote command %s already seen; ignored", c->id);
		return;
	}
	if (c->kind == PROFD__REMOTE_COMMAND__KIND__STOP) {
		remote_stop(p, c->id);
	} else if (c->kind != PROFD__REMOTE_COMMAND__KIND__START) {
		remote_done(p, c->id, 0, "unknown command kind");
	} else if ((why = remote_parse_start(p, c, &rs, err, sizeof(err))) !=
		   NULL) {
		remote_done(p, c->id, 0, why);
	} else {
		remote_start(p, c, &rs);
	}
}

/* The old profilers are gone: starts the new ones with the settings. */
static enum rstate
remote_apply(struct profd *p)
{
	struct remote *r = &p->p_remote;
	const struct remote_settings *rs = &r->r_next;
	struct profd_opts *o = &p->p_opts;
	struct worker *up = workers_of_role(p, ROLE_UPLOAD);

	o->po_duration = rs->rs_duration;
	o->po_frequency = rs->rs_frequency;
	o->po_continuous = rs->rs_continuous;
	o->po_npids = rs->rs_npids;
	memcpy(o->po_pids, rs->rs_pids, o->po_npids * sizeof(o->po_pids[0]));
	snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "%s",
		 perf_mode_name(rs->rs_perf_mode));
	o->po_max_procs = rs->rs_max_procs;
	o->po_skip_above = rs->rs_skip_above;
	o->po_max_docker = rs->rs_max_docker;
	if (rs->rs_continuous) {
		r->r_cont = *rs;
		r->r_has_cont = 1;
	}
	r->r_applied_ms = now_ms();
	if (up != NULL && fsm_configured(up))
		workers_configure(p, up);
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (remote_wanted(rs, &p->p_workers[i]))
			fsm_event(p, &p->p_workers[i], EV_START);
	return rs->rs_continuous ? RS_ACTIVE : RS_ONCE;
}

/* The one window is over: its profilers stop. */
static enum rstate
remote_end(struct profd *p)
{
	log_info("one-window session over: stopping the profilers");
	remote_stop_all(p);
	return remote_resume(p);
}

/* No profiler of the START ran: it is over, and a continuous one is not
 * resumed later. */
static enum rstate
remote_failed(struct profd *p)
{
	remote_stop_all(p);
	if (p->p_remote.r_next.rs_continuous)
		p->p_remote.r_has_cont = 0;
	return remote_resume(p);
}

struct remote_entry {
	enum rstate next;		       /* RS_NONE: stay */
	enum rstate (*choose)(struct profd *); /* instead of next */
	void (*action)(struct profd *);	       /* before next */
};

/* clang-format off */
static const struct remote_entry remote_table[RS_NSTATES][RE_NEVENTS] = {
    [RS_IDLE][RE_START]		= {.next = RS_PENDING, .action = remote_stop_all},
    [RS_IDLE][RE_STOP]		= {.next = RS_IDLE, .action = remote_stop_all},

    [RS_PENDING][RE_START]	= {.next = RS_PENDING, .action = remote_stop_all},
    [RS_PENDING][RE_STOP]	= {.next = RS_IDLE, .action = remote_stop_all},
    [RS_PENDING][RE_APPLY]	= {.choose = remote_apply},

    [RS_ACTIVE][RE_START]	= {.next = RS_PENDING, .action = remote_stop_all},
    [RS_ACTIVE][RE_STOP]	= {.next = RS_IDLE, .action = remote_stop_all},
    [RS_ACTIVE][RE_END]		= {.choose = remote_end},
    [RS_ACTIVE][RE_FAILED]	= {.choose = remote_failed},

    [RS_ONCE][RE_START]		= {.next = RS_PENDING, .action = remote_stop_all},
    [RS_ONCE][RE_STOP]		= {.next = RS_IDLE, .action = remote_stop_all},
    [RS_ONCE][RE_END]		= {.choose = remote_end},
    [RS_ONCE][RE_FAILED]	= {.choose = remote_failed},
};
/* clang-format on */

void
remote_event(struct profd *p, enum revent ev)
{
	struct remote *r = &p->p_remote;
	const struct remote_entry *e;
	enum rstate next;

	if (r->r_state == RS_NONE || (unsigned)r->r_state >= RS_NSTATES ||
	    (unsigned)ev >= RE_NEVENTS)
		fatalx("remote: event %d in state %d", (int)ev,
		       (int)r->r_state);
	e = &remote_table[r->r_state][ev];
	if (e->action != NULL)
		e->action(p);
	next = e->choose != NULL ? e->choose(p) : e->next;
	if (next != RS_NONE)
		r->r_state = next;
}

int
remote_active(const struct profd *p)
{
	return p->p_remote.r_state == RS_ACTIVE ||
	       p->p_remote.r_state == RS_ONCE;
}

int
remote_once(const struct profd *p)
{
	return p->p_remote.r_state == RS_ONCE;
}

int
remote_answered(const struct profd *p)
{
	return p->p_remote.r_start[0] == '\0';
}

/* Answers the START once each wanted profiler runs or has failed. */
static void
remote_check_started(struct profd *p)
{
	struct remote *r = &p->p_remote;
	char err[160] = "", why[WEXIT_STR_MAX];
	size_t n = 0;
	int running = 0;

	for (size_t i = 0; i < p->p_nworkers; i++) {
		const struct worker *w = &p->p_workers[i];

		if (!remote_wanted(&r->r_next, w))
			continue;
		/* Backoff before its first start: the gap between starts. */
		if (w->w_state == W_STARTING || w->w_state == W_CONFIG ||
		    (w->w_state == W_BACKOFF &&
		     w->w_started_ms < r->r_applied_ms))
			return; /* not decided yet */
		if (w->w_state == W_RUNNING) {
			running++;
			continue;
		}
		fsm_exit_str(&w->w_exit, why, sizeof(why));
		n += (size_t)snprintf(
		    err + n, n < sizeof(err) ? sizeof(err) - n : 0,
		    "%sprofd-%s did not start (%s)", n ? "; " : "", w->w_name,
		    why[0] ? why : "?");
		if (n >= sizeof(err))
			n = sizeof(err) - 1;
	}
	if (running == 0) {
		remote_done(p, r->r_start, 0, err[0] ? err : "no profiler ran");
		remote_event(p, RE_FAILED);
	} else {
		remote_done(p, r->r_start, 1, err);
	}
	r->r_start[0] = '\0';
}

void
remote_tick(struct profd *p)
{
	struct remote *r = &p->p_remote;

	if (!p->p_opts.po_heartbeat || p->p_stopping)
		return;
	if (remote_profilers_alive(p)) {
		if (!remote_answered(p) && r->r_state != RS_PENDING)
			remote_check_started(p);
		return;
	}
	if (r->r_stop[0] != '\0') {
		remote_done(p, r->r_stop, 1, NULL);
		r->r_stop[0] = '\0';
	}
	if (r->r_state == RS_PENDING) {
		remote_event(p, RE_APPLY);
		clock_maybe_start(p);
	} else if (!remote_answered(p)) {
		remote_check_started(p);
	}
}

void
remote_session_end(struct profd *p)
{
	remote_event(p, RE_END);
}
