/* The event loop: signals, worker messages, deadlines. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"
#include "util.h"

/* Reaps every child that has exited; a worker's group goes with it. */
static void
loop_reap(struct profd *p)
{
	siginfo_t si;
	int status;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == 0)
			return;
		/* Still unreaped: its pid cannot name another group yet. */
		kill(-si.si_pid, SIGKILL);
		if (waitpid(si.si_pid, &status, 0) == -1)
			return;
		/* Its last words come before the news of its death. */
		for (size_t i = 0; i < p->p_nworkers; i++)
			if (p->p_workers[i].w_pid == si.si_pid)
				wlog_read(&p->p_workers[i]);
		workers_reaped(p, si.si_pid, status);
	}
}

static void
loop_signal(struct profd *p)
{
	struct signalfd_siginfo si;

	while (read(p->p_sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		log_info("got signal %u (%s)", si.ssi_signo,
			 strsignal((int)si.ssi_signo));
		profd_shutdown(p, 0);
	}
	loop_reap(p);
}

/* Stops profilers first, the uploader once they are gone; returns 1 when
 * no worker process is left. */
static int
loop_stop(struct profd *p)
{
	int profilers = 0, any = 0;

	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_profiler && (fsm_alive(w) || w->w_want)) {
			fsm_event(p, w, EV_STOP);
			profilers |= fsm_alive(w);
		}
	}
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (!w->w_profiler && !profilers)
			fsm_event(p, w, EV_STOP);
		any |= fsm_alive(w);
	}
	return !any;
}

/* Starts every enabled worker, the uploader first. */
static void
loop_start(struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (!p->p_workers[i].w_profiler)
			fsm_event(p, &p->p_workers[i], EV_START);
	/* Heartbeat mode: profilers wait for a remote start. */
	for (size_t i = 0; i < p->p_nworkers && !p->p_opts.po_heartbeat; i++)
		if (p->p_workers[i].w_profiler &&
		    p->p_workers[i].w_spec.ws_enabled)
			fsm_event(p, &p->p_workers[i], EV_START);
	clock_maybe_start(p);
}

/* The soonest of a few delays (-1: none), at most a second. */
static int
loop_timeout(const int64_t *t, size_t n)
{
	int64_t best = 1000;

	for (size_t i = 0; i < n; i++)
		if (t[i] >= 0 && t[i] < best)
			best = t[i];
	return (int)best;
}

/* Adds the output pipe of every worker that has one; returns n. */
static nfds_t
loop_poll_logs(struct profd *p, struct pollfd *pfd, struct worker **ws,
	       nfds_t n)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		if (p->p_workers[i].w_logfd == -1)
			continue;
		pfd[n].fd = p->p_workers[i].w_logfd;
		pfd[n].events = POLLIN;
		ws[n++] = &p->p_workers[i];
	}
	return n;
}

static void
loop_poll(struct profd *p, int timeout)
{
	struct pollfd pfd[2 * PROFD_MAX_WORKERS + 2];
	struct worker *ws[2 * PROFD_MAX_WORKERS + 2];
	nfds_t n = 0, nmsg;

	pfd[n].fd = p->p_sigfd;
	pfd[n].events = POLLIN;
	ws[n++] = NULL;
	pfd[n].fd = p->p_ctl_fd;
	pfd[n].events = POLLIN;
	ws[n++] = NULL;
	for (size_t i = 0; i < p->p_nworkers; i++) {
		if (p->p_workers[i].w_fd == -1)
			continue;
		pfd[n].fd = p->p_workers[i].w_fd;
		pfd[n].events = POLLIN;
		ws[n++] = &p->p_workers[i];
	}
	nmsg = n;
	n = loop_poll_logs(p, pfd, ws, n);
	if (poll(pfd, n, timeout) == -1 && errno != EINTR)
		fatal("poll: %s", strerror(errno));
	for (nfds_t i = nmsg; i < n; i++)
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			wlog_read(ws[i]);
	for (nfds_t i = 2; i < nmsg; i++)
		if (pfd[i].revents & POLLIN)
			workers_recv(p, ws[i]);
	if (pfd[1].revents & POLLIN)
		control_recv(p);
	if (pfd[0].revents & POLLIN)
		loop_signal(p);
}

/* At exit the sockets are left to the exit itself: every worker is gone
 * by then, nothing is queued, and rundir_cleanup() removes the socket
 * files. nng 1.5's close could wait forever on a socket whose peer died
 * while connecting, after every worker had stopped; the kernel closes
 * the descriptors without asking it. */
static void
loop_close_sockets(struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		p->p_workers[i].w_open = 0;
		p->p_workers[i].w_fd = -1;
	}
	p->p_ctl_fd = -1;
}

static void
loop_close(struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_cg_ok)
			cgroup_destroy(&w->w_cg);
		w->w_cg_ok = 0;
		wlog_read(w);
		wlog_close(w);
	}
	cgroup_remove_parent();
	loop_close_sockets(p);
}

int
loop_run(struct profd *p)
{
	int64_t t[4];

	loop_start(p);
	for (;;) {
		remote_tick(p);
		clock_maybe_start(p);
		t[0] = clock_tick(p);
		t[1] = workers_timers(p);
		t[2] = limits_poll(p);
		t[3] = runfiles_tick(p);
		if (p->p_stopping && loop_stop(p))
			break;
		loop_poll(p, loop_timeout(t, 4));
	}
	loop_close(p);
	return p->p_exit;
}
