/* Worker messages, deaths and deadlines, fed to the state machine. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ipc.h"
#include "log.h"
#include "pbmsg.h"
#include "procfs.h"
#include "profd.h"
#include "worker.h"

#define WORKERS_DROP_GRACE_MS 1000 /* a dropped channel before the exit */

int
workers_send(struct profd *p, struct worker *w, Profd__Control *c)
{
	int rv;

	if ((rv = ipc_send_pb(w->w_sock, &c->base)) == 0)
		return 0;
	log_error("cannot reach profd-%s: %s", w->w_name, nng_strerror(rv));
	fsm_event(p, w, EV_BROKEN);
	return -1;
}

int
workers_configure(struct profd *p, struct worker *w)
{
	const struct profd_opts *o = &p->p_opts;
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Configure m = PROFD__CONFIGURE__INIT;
	struct options_parts parts;

	/* Its part: what its program is (profd-KIND), whatever its name. */
	options_configure(o, w->w_spec.ws_kind, &m, &parts);
	m.pids = (uint32_t *)o->po_pids;
	m.n_pids = o->po_npids;
	m.continuous = o->po_continuous;
	c.body_case = PROFD__CONTROL__BODY_CONFIGURE;
	c.configure = &m;
	return workers_send(p, w, &c);
}

int
workers_send_stop(struct profd *p, struct worker *w)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Stop m = PROFD__STOP__INIT;

	m.deadline_ms = PROFD_STOP_MS;
	c.body_case = PROFD__CONTROL__BODY_STOP;
	c.stop = &m;
	return workers_send(p, w, &c);
}

static void
workers_hello(struct profd *p, struct worker *w, const Profd__Hello *h)
{
	if (strcmp(h->worker, w->w_name) != 0 || h->pid != (uint32_t)w->w_pid) {
		log_error("profd-%s: hello names %.16s, pid %u", w->w_name,
			  h->worker, h->pid);
		fsm_event(p, w, EV_BROKEN);
		return;
	}
	fsm_event(p, w, EV_HELLO);
}

/* A worker over its soft limit restarts once its window is delivered. */
static void
workers_window_done(struct profd *p, struct worker *w)
{
	if (w->w_soft)
		fsm_event(p, w, EV_SOFT);
}

static void
workers_status(struct profd *p, struct worker *w, const Profd__Status *s)
{
	switch (s->kind) {
	case PROFD__STATUS__KIND__STARTED:
		fsm_event(p, w, EV_STARTED);
		return;
	case PROFD__STATUS__KIND__SNAPSHOT_SENT:
		w->w_win_samples = s->samples;
		w->w_win_lost = s->errors;
		/* fall through */
	case PROFD__STATUS__KIND__WINDOW_WRITTEN:
	case PROFD__STATUS__KIND__ERROR:
		if (s->kind == PROFD__STATUS__KIND__ERROR)
			log_warn("profd-%s: window %llu: %.200s", w->w_name,
				 (unsigned long long)s->window, s->message);
		if (!w->w_profiler && s->window != 0)
			clock_written(p, s->window,
				      s->kind ==
					  PROFD__STATUS__KIND__WINDOW_WRITTEN);
		workers_window_done(p, w);
		return;
	case PROFD__STATUS__KIND__STOPPED:
		return;
	default:
		log_error("profd-%s: unknown status %d", w->w_name,
			  (int)s->kind);
		fsm_event(p, w, EV_BROKEN);
	}
}

static void
workers_dispatch(struct profd *p, struct worker *w, const Profd__Control *c)
{
	switch (c->body_case) {
	case PROFD__CONTROL__BODY_HELLO:
		workers_hello(p, w, c->hello);
		break;
	case PROFD__CONTROL__BODY_STATUS:
		workers_status(p, w, c->status);
		break;
	case PROFD__CONTROL__BODY_COMMAND:
		/* Only the uploader talks to the heartbeat server. */
		if (w->w_profiler || w->w_spec.ws_role != ROLE_UPLOAD) {
			log_error("profd-%s sent a remote command", w->w_name);
			fsm_event(p, w, EV_BROKEN);
			break;
		}
		remote_command(p, c->command);
		break;
	default:
		log_error("profd-%s sent a message only profd may send",
			  w->w_name);
		fsm_event(p, w, EV_BROKEN);
	}
}

void
workers_recv(struct profd *p, struct worker *w)
{
	Profd__Control *c;
	int err;

	for (;;) {
		c = (Profd__Control *)ipc_recv_pb(w->w_sock,
						  &profd__control__descriptor,
						  NNG_FLAG_NONBLOCK, &err);
		if (c == NULL)
			break;
		/* A late message from a worker being stopped changes nothing.
		 */
		if (fsm_alive(w) && !fsm_stopping(w))
			workers_dispatch(p, w, c);
		pbmsg_free(&c->base);
	}
	if (err == -1 && fsm_alive(w) && !fsm_stopping(w)) {
		log_error("profd-%s (pid %d) sent a message that does not "
			  "decode",
			  w->w_name, (int)w->w_pid);
		fsm_event(p, w, EV_BROKEN);
	}
}

int
workers_reaped(struct profd *p, pid_t pid, int status)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_pid != pid || !fsm_alive(w))
			continue;
		w->w_status = status;
		limits_classify(w, status);
		fsm_event(p, w, EV_EXIT);
		return 1;
	}
	return 0;
}

/* A running worker whose channel nng closed sent a message over its
 * limit (or broke the connection): fail closed. A worker that is exiting
 * closes it too, so the reaper has WORKERS_DROP_GRACE_MS to tell first. */
static void
workers_check_drop(struct profd *p, struct worker *w, int64_t now)
{
	int64_t at;

	if (!w->w_listening ||
	    (at = ipc_dropped(w->w_sock, w->w_listener)) == 0)
		return;
	if (fsm_alive(w) && !fsm_stopping(w) &&
	    now - at < WORKERS_DROP_GRACE_MS)
		return;
	ipc_dropped_clear(w->w_sock);
	if (!fsm_alive(w) || fsm_stopping(w) || !procfs_alive(w->w_pid))
		return;
	log_error("profd-%s (pid %d) lost its channel while running: a "
		  "message over the %u-byte limit, or a broken connection",
		  w->w_name, (int)w->w_pid, IPC_CTL_MAX);
	fsm_event(p, w, EV_BROKEN);
}

int64_t
workers_timers(struct profd *p)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		workers_check_drop(p, w, now);

		if (w->w_deadline != 0 && w->w_deadline <= now) {
			w->w_deadline = 0;
			fsm_event(p, w, EV_DEADLINE);
		}
		if (w->w_deadline != 0 &&
		    (next == -1 || w->w_deadline - now < next))
			next = w->w_deadline - now;
	}
	return next;
}

const struct fsm_ops workers_fsm_ops = {
    .fo_now = now_ms,
    .fo_spawn = spawn_worker,
    .fo_kill = spawn_kill,
    .fo_configure = workers_configure,
    .fo_stop = workers_send_stop,
    .fo_running = clock_maybe_start,
    .fo_lost = clock_lost,
};
