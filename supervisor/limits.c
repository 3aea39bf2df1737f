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
					 ws->ws_mem_high, ws->ws_pids_max);
	if (cgroup_create(&w->w_cg, p->p_cgmode, w->w_name, ws->ws_mem_max,
			  ws->ws_mem_high, ws->ws_pids_max) == -1)
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
		fsm_kill(p, w, "memory-limit");
	} else if (u.cu_pids_denied > w->w_pids_seen) {
		w->w_pids_seen = u.cu_pids_denied;
		fsm_kill(p, w, "pids-limit");
	} else if (cgroup_over_hard(&w->w_cg, &u)) {
		fsm_kill(p, w,
			 w->w_cg.cg_pids_max && u.cu_pids > w->w_cg.cg_pids_max
			     ? "pids-limit"
			     : "memory-limit");
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
		    w->w_state != W_STOPPING)
			limits_check(p, w);
	}
	return PROFD_LIMIT_POLL_MS;
}

static void
limits_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
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
		if (w->w_cause == NULL)
			w->w_cause = "memory-limit";
	}
	if (w->w_cause != NULL)
		snprintf(w->w_last_exit, sizeof(w->w_last_exit), "%s",
			 w->w_cause);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(w->w_last_exit, sizeof(w->w_last_exit), "seccomp");
	else if (WIFSIGNALED(status))
		limits_signal_name(WTERMSIG(status), w->w_last_exit,
				   sizeof(w->w_last_exit));
	else
		snprintf(w->w_last_exit, sizeof(w->w_last_exit), "%d",
			 WEXITSTATUS(status));
}
