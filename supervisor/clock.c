/* The window clock: profd tells every worker when a window ends. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "log.h"
#include "profd.h"

void
clock_maybe_start(struct profd *p)
{
	if (p->p_t0 != 0 || p->p_stopping)
		return;
	/* Heartbeat mode: idle until a remote start has its profilers. */
	if (p->p_opts.po_heartbeat &&
	    (!remote_active(p) || !remote_answered(p)))
		return;
	/* Wait for the uploader, and for each profiler's first start to
	 * succeed or fail: one that keeps dying must not hold the rest. */
	for (size_t i = 0; i < p->p_nworkers; i++) {
		const struct worker *w = &p->p_workers[i];

		if (!w->w_profiler && w->w_state != W_RUNNING)
			return;
		if (w->w_state == W_STARTING || w->w_state == W_CONFIG)
			return;
	}
	p->p_t0 = now_ms();
	p->p_wbase = p->p_window;
	p->p_wstart = time(NULL);
	procfs_cpu(&p->p_cpu);
	log_info("profiling in windows of %u s at %u Hz%s",
		 p->p_opts.po_duration, p->p_opts.po_frequency,
		 p->p_opts.po_continuous ? "" : " (one window)");
}

/* Host CPU use since the window began, percent. */
static double
clock_cpu_avg(struct profd *p)
{
	struct procfs_cpu now;
	double busy, total;

	if (procfs_cpu(&now) == -1 || now.pc_total <= p->p_cpu.pc_total)
		return 0;
	busy = (double)(now.pc_busy - p->p_cpu.pc_busy);
	total = (double)(now.pc_total - p->p_cpu.pc_total);
	p->p_cpu = now;
	return 100.0 * busy / total;
}

/* Tells the uploader what window id holds and which chunks to await. */
static int
clock_tell_uploader(struct profd *p, uint64_t id, int64_t start, int64_t end)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Snapshot m = PROFD__SNAPSHOT__INIT;
	char *expect[PROFD_MAX_WORKERS];
	struct worker *up = workers_of_role(p, ROLE_UPLOAD);

	m.window = id;
	m.start_time = start;
	m.end_time = end;
	m.cpu_avg = p->p_cpu_avg;
	m.mem_avg = p->p_mem_avg;
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_expect[i])
			expect[m.n_expect++] = (char *)p->p_workers[i].w_name;
	m.expect = expect;
	c.body_case = PROFD__CONTROL__BODY_SNAPSHOT;
	c.snapshot = &m;
	if (up == NULL || !fsm_configured(up))
		return -1;
	return workers_send(p, up, &c);
}

static void
clock_snapshot(struct profd *p, uint64_t id)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Snapshot m = PROFD__SNAPSHOT__INIT;
	double mem = procfs_mem_used();
	int64_t start = p->p_wstart;

	p->p_snap_start = start;
	p->p_wstart = time(NULL);
	p->p_cpu_avg = clock_cpu_avg(p);
	p->p_mem_avg = mem < 0 ? 0 : mem;
	p->p_window = id;
	p->p_snap_ms = now_ms();
	for (size_t i = 0; i < p->p_nworkers; i++)
		p->p_expect[i] = p->p_workers[i].w_profiler &&
				 p->p_workers[i].w_state == W_RUNNING;
	log_debug("window %llu ends", (unsigned long long)id);
	if (clock_tell_uploader(p, id, start, p->p_wstart) == -1) {
		log_warn("window %llu lost: the uploader is not running",
			 (unsigned long long)id);
		return;
	}
	m.window = id;
	c.body_case = PROFD__CONTROL__BODY_SNAPSHOT;
	c.snapshot = &m;
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_expect[i])
			workers_send(p, &p->p_workers[i], &c);
}

void
clock_lost(struct profd *p, struct worker *w)
{
	size_t i = (size_t)(w - p->p_workers);

	if (p->p_window <= p->p_written || !p->p_expect[i])
		return;
	p->p_expect[i] = 0;
	log_warn("window %llu lost profd-%s's stacks (the worker ended)",
		 (unsigned long long)p->p_window, w->w_name);
	clock_tell_uploader(p, p->p_window, p->p_snap_start, p->p_wstart);
}

int64_t
clock_tick(struct profd *p)
{
	int64_t due, now = now_ms();
	uint64_t period = (uint64_t)p->p_opts.po_duration * 1000;

	if (p->p_t0 == 0 || p->p_stopping)
		return -1;
	if (!p->p_opts.po_continuous && p->p_window > p->p_wbase) {
		due = p->p_snap_ms + PROFD_WINDOW_MS_MAX;
		if (now < due)
			return due - now;
		log_error("the uploader did not write window %llu in time",
			  (unsigned long long)p->p_window);
		if (profd_one_shot(p))
			profd_shutdown(p, 1);
		else
			remote_session_end(p);
		return -1;
	}
	due = p->p_t0 + (int64_t)((p->p_window - p->p_wbase + 1) * period);
	if (now < due)
		return due - now;
	clock_snapshot(p, p->p_window + 1);
	return p->p_opts.po_continuous ? (int64_t)period : 0;
}

void
clock_written(struct profd *p, uint64_t id, int ok)
{
	if (id > p->p_written)
		p->p_written = id;
	if (ok) {
		log_info("window %llu stored", (unsigned long long)id);
		runfiles_window(p);
	} else
		log_error("window %llu could not be written",
			  (unsigned long long)id);
	if (profd_one_shot(p) && id >= 1)
		profd_shutdown(p, ok ? 0 : 1);
	else if (p->p_opts.po_heartbeat && remote_once(p) && p->p_t0 != 0 &&
		 id > p->p_wbase)
		remote_session_end(p);
}

void
clock_stop(struct profd *p)
{
	if (p->p_t0 == 0)
		return;
	log_info("profiling stopped after window %llu",
		 (unsigned long long)p->p_window);
	p->p_t0 = 0;
}
