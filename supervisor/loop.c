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

static int
loop_alive(const struct worker *w)
{
	return w->w_state != W_IDLE && w->w_state != W_EXITED;
}

/* Stops profilers first, the uploader once they are gone; returns 1 when
 * every worker has exited. */
static int
loop_stop(struct profd *p)
{
	int profilers = 0, any = 0;

	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_profiler && loop_alive(w)) {
			workers_stop(p, w);
			profilers = 1;
		}
		any |= loop_alive(w);
	}
	if (!profilers)
		for (size_t i = 0; i < p->p_nworkers; i++)
			if (!p->p_workers[i].w_profiler)
				workers_stop(p, &p->p_workers[i]);
	return !any;
}

static int
loop_start(struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		if (spawn_worker(p, &p->p_workers[i]) == -1) {
			profd_shutdown(p, 1);
			return -1;
		}
	}
	return 0;
}

static int
loop_timeout(int64_t a, int64_t b)
{
	int64_t t = a < 0 ? b : b < 0 ? a : a < b ? a : b;

	return t < 0 || t > 1000 ? 1000 : (int)t;
}

static void
loop_poll(struct profd *p, int timeout)
{
	struct pollfd pfd[PROFD_MAX_WORKERS + 1];
	struct worker *ws[PROFD_MAX_WORKERS + 1];
	nfds_t n = 0;

	pfd[n].fd = p->p_sigfd;
	pfd[n].events = POLLIN;
	ws[n++] = NULL;
	for (size_t i = 0; i < p->p_nworkers; i++) {
		if (p->p_workers[i].w_fd == -1)
			continue;
		pfd[n].fd = p->p_workers[i].w_fd;
		pfd[n].events = POLLIN;
		ws[n++] = &p->p_workers[i];
	}
	if (poll(pfd, n, timeout) == -1 && errno != EINTR)
		fatal("poll: %s", strerror(errno));
	for (nfds_t i = 1; i < n; i++)
		if (pfd[i].revents & POLLIN)
			workers_recv(p, ws[i]);
	if (pfd[0].revents & POLLIN)
		loop_signal(p);
}

static void
loop_close(struct profd *p)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_open)
			nng_close(w->w_sock);
		w->w_open = 0;
		w->w_fd = -1;
	}
}

int
loop_run(struct profd *p)
{
	int64_t t_clock, t_workers;

	loop_start(p);
	for (;;) {
		t_clock = clock_tick(p);
		t_workers = workers_timers(p);
		if (p->p_stopping && loop_stop(p))
			break;
		loop_poll(p, loop_timeout(t_clock, t_workers));
	}
	loop_close(p);
	return p->p_exit;
}
