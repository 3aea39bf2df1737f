/* Worker messages, deaths and deadlines. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ipc.h"
#include "log.h"
#include "pbmsg.h"
#include "profd.h"
#include "worker.h"

struct worker *
workers_find(struct profd *p, const char *name)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (strcmp(p->p_workers[i].w_name, name) == 0)
			return &p->p_workers[i];
	return NULL;
}

/* Fail closed: a worker that breaks the protocol is killed. */
static void
workers_broken(struct profd *p, struct worker *w, const char *why)
{
	log_error("profd-%s (pid %d): %s; killing it", w->w_name, (int)w->w_pid,
		  why);
	w->w_failed = 1;
	spawn_kill(w, SIGKILL);
	w->w_state = W_STOPPING;
	w->w_deadline = now_ms() + PROFD_STOP_MS;
	profd_shutdown(p, 1);
}

int
workers_send(struct profd *p, struct worker *w, Profd__Control *c)
{
	int rv;

	if ((rv = ipc_send_pb(w->w_sock, &c->base)) == 0)
		return 0;
	workers_broken(p, w, nng_strerror(rv));
	return -1;
}

static void
workers_configure(struct profd *p, struct worker *w)
{
	const struct profd_opts *o = &p->p_opts;
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Configure m = PROFD__CONFIGURE__INIT;

	m.frequency = o->po_frequency;
	m.duration = o->po_duration;
	m.pids = (uint32_t *)o->po_pids;
	m.n_pids = o->po_npids;
	m.perf_mode = (char *)o->po_perf_mode;
	m.continuous = o->po_continuous;
	m.insert_dso_name = o->po_insert_dso_name;
	c.body_case = PROFD__CONTROL__BODY_CONFIGURE;
	c.configure = &m;
	if (workers_send(p, w, &c) == -1)
		return;
	/* The uploader has nothing to start; profilers say when they run. */
	w->w_state = w->w_profiler ? W_CONFIG : W_RUNNING;
	w->w_deadline = w->w_profiler ? now_ms() + PROFD_START_MS : 0;
	clock_maybe_start(p);
}

static void
workers_hello(struct profd *p, struct worker *w, const Profd__Hello *h)
{
	if (w->w_state == W_STOPPING)
		return; /* it said hello as profd told it to stop */
	if (w->w_state != W_STARTING || strcmp(h->worker, w->w_name) != 0 ||
	    h->pid != (uint32_t)w->w_pid) {
		workers_broken(p, w, "unexpected hello");
		return;
	}
	log_debug("profd-%s (pid %d) is up", w->w_name, (int)w->w_pid);
	workers_configure(p, w);
}

static void
workers_status(struct profd *p, struct worker *w, const Profd__Status *s)
{
	switch (s->kind) {
	case PROFD__STATUS__KIND__STARTED:
		if (w->w_state == W_STOPPING)
			return; /* told to stop while it was starting */
		if (w->w_state != W_CONFIG)
			break;
		w->w_state = W_RUNNING;
		w->w_deadline = 0;
		clock_maybe_start(p);
		return;
	case PROFD__STATUS__KIND__SNAPSHOT_SENT:
		log_debug("profd-%s delivered window %llu (%llu samples)",
			  w->w_name, (unsigned long long)s->window,
			  (unsigned long long)s->samples);
		return;
	case PROFD__STATUS__KIND__WINDOW_WRITTEN:
		if (w->w_profiler)
			break;
		clock_written(p, s->window, 1);
		return;
	case PROFD__STATUS__KIND__ERROR:
		log_warn("profd-%s: window %llu: %.200s", w->w_name,
			 (unsigned long long)s->window, s->message);
		if (!w->w_profiler)
			clock_written(p, s->window, 0);
		return;
	case PROFD__STATUS__KIND__STOPPED:
		return;
	default:
		break;
	}
	workers_broken(p, w, "unexpected status");
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
	default:
		workers_broken(p, w, "sent a message only profd may send");
	}
}

void
workers_recv(struct profd *p, struct worker *w)
{
	Profd__Control *c;
	int err;

	while (w->w_state != W_IDLE && w->w_state != W_EXITED) {
		c = (Profd__Control *)ipc_recv_pb(w->w_sock,
						  &profd__control__descriptor,
						  NNG_FLAG_NONBLOCK, &err);
		if (c == NULL) {
			if (err == -1)
				workers_broken(p, w,
					       "a message that does "
					       "not decode");
			return;
		}
		workers_dispatch(p, w, c);
		pbmsg_free(&c->base);
	}
}

static void
workers_log_exit(const struct worker *w, int status)
{
	if (WIFSIGNALED(status))
		log_error("profd-%s (pid %d) was killed by signal %d (%s)",
			  w->w_name, (int)w->w_pid, WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) == WORKER_EXIT_CONFIG)
		log_error("profd-%s (pid %d) cannot profile here (see its "
			  "message above)",
			  w->w_name, (int)w->w_pid);
	else
		log_error("profd-%s (pid %d) exited with status %d", w->w_name,
			  (int)w->w_pid, WEXITSTATUS(status));
}

int
workers_reaped(struct profd *p, pid_t pid, int status)
{
	struct worker *w = NULL;

	for (size_t i = 0; i < p->p_nworkers && w == NULL; i++)
		if (p->p_workers[i].w_pid == pid)
			w = &p->p_workers[i];
	if (w == NULL)
		return 0;
	if (w->w_state != W_STOPPING || w->w_failed || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		workers_log_exit(w, status);
		profd_shutdown(p, 1);
	} else {
		log_debug("profd-%s (pid %d) stopped", w->w_name, (int)pid);
	}
	w->w_state = W_EXITED;
	w->w_status = status;
	w->w_pid = 0;
	w->w_deadline = 0;
	return 1;
}

void
workers_stop(struct profd *p, struct worker *w)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Stop m = PROFD__STOP__INIT;

	if (w->w_state == W_IDLE || w->w_state == W_EXITED ||
	    w->w_state == W_STOPPING)
		return;
	m.deadline_ms = PROFD_STOP_MS;
	c.body_case = PROFD__CONTROL__BODY_STOP;
	c.stop = &m;
	if (w->w_state == W_STARTING) {
		/* It cannot read yet: a signal is the only way to stop it. */
		spawn_kill(w, SIGTERM);
		w->w_termed = 1;
	} else if (workers_send(p, w, &c) == -1) {
		return;
	}
	w->w_state = W_STOPPING;
	w->w_deadline = now_ms() + PROFD_STOP_MS;
}

static void
workers_expired(struct profd *p, struct worker *w)
{
	switch (w->w_state) {
	case W_STARTING:
		workers_broken(p, w, "no hello in time");
		break;
	case W_CONFIG:
		workers_broken(p, w, "did not start profiling in time");
		break;
	case W_STOPPING:
		log_error("profd-%s (pid %d) did not stop in time; killed",
			  w->w_name, (int)w->w_pid);
		w->w_failed = 1;
		spawn_kill(w, SIGKILL);
		w->w_deadline = 0;
		break;
	default:
		w->w_deadline = 0;
	}
}

int64_t
workers_timers(struct profd *p)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_deadline != 0 && w->w_deadline <= now)
			workers_expired(p, w);
		if (w->w_deadline != 0 &&
		    (next == -1 || w->w_deadline - now < next))
			next = w->w_deadline - now;
	}
	return next;
}
