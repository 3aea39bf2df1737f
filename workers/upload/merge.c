/* Runtime profilers' stacks in place of perf's, as gProfiler merges them. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

struct merge_pid {
	uint32_t mp_pid;
	uint64_t mp_perf; /* perf's samples of this PID */
	uint64_t mp_rt;	  /* runtime samples, error stacks left out */
	const char *mp_container; /* perf's, for runtime processes without */
	const char *mp_app_id;
};

struct merge_ctx {
	struct stack_table *mc_out;
	struct merge_pid *mc_pids; /* sorted by PID */
	size_t mc_npids;
};

static int
pid_cmp(const void *a, const void *b)
{
	const struct merge_pid *x = a, *y = b;

	return x->mp_pid < y->mp_pid ? -1 : x->mp_pid > y->mp_pid;
}

static struct merge_pid *
merge_find(const struct merge_ctx *m, uint32_t pid)
{
	struct merge_pid key = {.mp_pid = pid};

	if (m->mc_npids == 0)
		return NULL;
	return bsearch(&key, m->mc_pids, m->mc_npids, sizeof(key), pid_cmp);
}

/* One entry per PID of rt with its runtime sample count. */
static int
merge_index(struct merge_ctx *m, const struct stack_table *rt)
{
	size_t n = stacks_nproc(rt), k = 0;

	if (n > MERGE_MAX_PIDS) {
		errno = E2BIG;
		return -1;
	}
	if (n == 0)
		return 0;
	if ((m->mc_pids = calloc(n, sizeof(*m->mc_pids))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct stack_proc *sp =
		    stacks_proc_at((struct stack_table *)rt, i);

		m->mc_pids[i].mp_pid = sp->sp_pid;
		m->mc_pids[i].mp_rt = sp->sp_error == 0 ? sp->sp_samples : 0;
	}
	qsort(m->mc_pids, n, sizeof(*m->mc_pids), pid_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && m->mc_pids[k - 1].mp_pid == m->mc_pids[i].mp_pid)
			m->mc_pids[k - 1].mp_rt += m->mc_pids[i].mp_rt;
		else
			m->mc_pids[k++] = m->mc_pids[i];
	}
	m->mc_npids = k;
	return 0;
}

static void
merge_perf_totals(struct merge_ctx *m, const struct stack_table *perf)
{
	for (size_t i = 0; i < stacks_nproc(perf); i++) {
		const struct stack_proc *sp =
		    stacks_proc_at((struct stack_table *)perf, i);
		struct merge_pid *e = merge_find(m, sp->sp_pid);

		if (e == NULL)
			continue;
		e->mp_perf += sp->sp_samples;
		if (e->mp_container == NULL && sp->sp_container != 0)
			e->mp_container = stacks_str(perf, sp->sp_container);
		if (e->mp_app_id == NULL && sp->sp_app_id != 0)
			e->mp_app_id = stacks_str(perf, sp->sp_app_id);
	}
}

/* Copies perf's processes whose PID the runtime profiler did not sample,
 * then the runtime's processes scaled to perf's count for their PID. */
static int
merge_copy(struct merge_ctx *m, const struct stack_table *perf,
	   const struct stack_table *rt)
{
	for (size_t i = 0; i < stacks_nproc(perf); i++) {
		const struct stack_proc *sp =
		    stacks_proc_at((struct stack_table *)perf, i);
		const struct merge_pid *e = merge_find(m, sp->sp_pid);

		if ((e == NULL || e->mp_rt == 0) &&
		    stacks_copy_proc(m->mc_out, perf, i, 1, 1) == -1)
			return -1;
	}
	for (size_t i = 0; i < stacks_nproc(rt); i++) {
		const struct stack_proc *sp =
		    stacks_proc_at((struct stack_table *)rt, i);
		const struct merge_pid *e = merge_find(m, sp->sp_pid);
		int scale = sp->sp_error == 0 && e->mp_rt > 0 && e->mp_perf > 0;

		/* A runtime profiler that knows no container or application
		 * id for the process keeps perf's. */
		if (stacks_copy_proc_as(
			m->mc_out, rt, i, scale ? e->mp_perf : 1,
			scale ? e->mp_rt : 1,
			sp->sp_container ? NULL : e->mp_container,
			sp->sp_app_id ? NULL : e->mp_app_id) == -1)
			return -1;
	}
	return 0;
}

int
merge_runtime(struct stack_table *out, const struct stack_table *perf,
	      const struct stack_table *rt)
{
	struct merge_ctx m = {.mc_out = out};
	int rv;

	if (merge_index(&m, rt) == -1)
		return -1;
	merge_perf_totals(&m, perf);
	rv = merge_copy(&m, perf, rt);
	free(m.mc_pids);
	return rv;
}
