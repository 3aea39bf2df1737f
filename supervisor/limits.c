/* Memory and process-count limits: cgroups where possible, else /proc. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "log.h"
#include "profd.h"

int
limits_setup(struct profd *p, struct worker *w)
{
	const struct wspec *ws = &w->w_spec;

	if (w->w_cg_ok)
		return cgroup_set_limits(&w->w_cg, ws->ws_mem_max,
					 table_mem_high(ws), ws->ws_pids_max);
	if (cgroup_create(&w->w_cg, p->p_cgmode, w->w_name, ws->ws_mem_max,
			  table_mem_high(ws), ws->ws_pids_max) == -1)
		return -1;
	w->w_cg_ok = 1;
	return 0;
}

/* Reads w's usage and acts on crossed limits. */
static void
limits_check(struct profd *p, struct worker *w)
{
	struct cgroup_usage u;

	if (cgroup_usage(&w->w_cg, w->w_pid, &u) == -1)
		return;
	w->w_rss = u.cu_memory;
	if (u.cu_oom_kills > w->w_oom_seen) {
		w->w_oom_seen = u.cu_oom_kills;
		fsm_kill(p, w, WEXIT_MEMORY);
	} else if (u.cu_pids_denied > w->w_pids_seen) {
		w->w_pids_seen = u.cu_pids_denied;
		fsm_kill(p, w, WEXIT_PIDS);
	} else if (cgroup_over_hard(&w->w_cg, &u)) {
		fsm_kill(p, w,
			 w->w_cg.cg_pids_max && u.cu_pids > w->w_cg.cg_pids_max
			     ? WEXIT_PIDS
			     : WEXIT_MEMORY);
	} else if (w->w_cg.cg_mem_high != 0 &&
		   u.cu_memory > w->w_cg.cg_mem_high && !w->w_soft) {
		log_warn("profd-%s uses %llu bytes, over its soft limit of "
			 "%llu",
			 w->w_name, (unsigned long long)u.cu_memory,
			 (unsigned long long)w->w_cg.cg_mem_high);
		w->w_soft = 1;
	}
}

int64_t
limits_poll(struct profd *p)
{
	int64_t now = now_ms();

	if (now < p->p_next_poll)
		return p->p_next_poll - now;
	p->p_next_poll = now + PROFD_LIMIT_POLL_MS;
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];

		if (w->w_cg_ok && w->w_pid > 0 && fsm_alive(w) &&
		    !fsm_stopping(w))
			limits_check(p, w);
	}
	return PROFD_LIMIT_POLL_MS;
}

void
limits_classify(struct worker *w, int status)
{
	struct cgroup_usage u;

	if (w->w_cg_ok && w->w_cg.cg_mode != CGROUP_POLL &&
	    cgroup_usage(&w->w_cg, 0, &u) == 0 &&
	    u.cu_oom_kills > w->w_oom_seen) {
		/* The kernel's OOM killer acted before our poll saw it. */
		w->w_oom_seen = u.cu_oom_kills;
		if (w->w_cause == WEXIT_NONE)
			w->w_cause = WEXIT_MEMORY;
	}
	if (w->w_cause != WEXIT_NONE)
		w->w_exit = (struct wexit){w->w_cause, 0};
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		w->w_exit = (struct wexit){WEXIT_SECCOMP, SIGSYS};
	else if (WIFSIGNALED(status))
		w->w_exit = (struct wexit){WEXIT_SIGNAL, WTERMSIG(status)};
	else
		w->w_exit = (struct wexit){WEXIT_CODE, WEXITSTATUS(status)};
}
