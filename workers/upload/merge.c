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
};

struct merge_ctx {
	struct stack_table *mc_out;
	const struct stack_table *mc_src;
	struct merge_pid *mc_pids; /* sorted by PID */
	size_t mc_npids;
	int mc_runtime; /* copying rt (else perf) */
	int mc_err;
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
	if (n > 0 && (m->mc_pids = calloc(n, sizeof(*m->mc_pids))) == NULL)
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

		if (e != NULL)
			e->mp_perf += sp->sp_samples;
	}
}

/* Copies one stack of mc_src into mc_out with count. */
static int
merge_copy(struct merge_ctx *m, const struct stack_proc *sp,
	   const uint32_t *frames, size_t n, uint64_t count)
{
	const struct stack_table *s = m->mc_src;
	struct stack_table *o = m->mc_out;
	uint32_t ids[STACKS_MAX_FRAMES];
	int proc;

	if (n > STACKS_MAX_FRAMES)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((ids[i] = stacks_intern(o, stacks_str(s, frames[i]),
					    stacks_strlen(s, frames[i]))) ==
		    STACKS_NONE)
			return -1;
	proc = stacks_proc(
	    o, sp->sp_pid, stacks_intern_str(o, stacks_str(s, sp->sp_comm)),
	    stacks_intern_str(o, stacks_str(s, sp->sp_container)),
	    stacks_intern_str(o, stacks_str(s, sp->sp_app_id)));
	if (proc < 0)
		return -1;
	if (sp->sp_error != 0)
		stacks_proc_at(o, (size_t)proc)->sp_error =
		    stacks_intern_str(o, stacks_str(s, sp->sp_error));
	return stacks_add(o, proc, ids, n, count);
}

static int
merge_one(void *arg, const struct stack_proc *sp, const uint32_t *frames,
	  size_t n, uint64_t count)
{
	struct merge_ctx *m = arg;
	struct merge_pid *e = merge_find(m, sp->sp_pid);

	if (!m->mc_runtime) {
		if (e != NULL && e->mp_rt > 0)
			return 0; /* replaced by the runtime's stacks */
	} else if (sp->sp_error == 0 && e != NULL && e->mp_rt > 0 &&
		   e->mp_perf > 0) {
		unsigned __int128 c =
		    (unsigned __int128)count * e->mp_perf + e->mp_rt / 2;

		count = (uint64_t)(c / e->mp_rt);
		if (count == 0)
			return 0;
	}
	if (merge_copy(m, sp, frames, n, count) == -1) {
		m->mc_err = errno ? errno : ENOMEM;
		return 1;
	}
	return 0;
}

int
merge_runtime(struct stack_table *out, const struct stack_table *perf,
	      const struct stack_table *rt)
{
	struct merge_ctx m = {.mc_out = out};

	if (merge_index(&m, rt) == -1)
		return -1;
	merge_perf_totals(&m, perf);
	m.mc_src = perf;
	stacks_foreach(perf, merge_one, &m);
	m.mc_src = rt;
	m.mc_runtime = 1;
	if (m.mc_err == 0)
		stacks_foreach(rt, merge_one, &m);
	free(m.mc_pids);
	if (m.mc_err != 0) {
		errno = m.mc_err;
		return -1;
	}
	return 0;
}
