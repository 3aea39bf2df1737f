/* Runtime profilers' stacks replace perf's for the same PIDs, scaled to
 * perf's sample count for that PID (as gProfiler merges them). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "runtime_merge.h"

static int
has_pid(const struct stack_table *t, uint32_t pid)
{
	for (size_t i = 0; i < stacks_nproc(t); i++)
		if (stacks_proc_at((struct stack_table *)t, i)->sp_pid == pid)
			return 1;
	return 0;
}

/* perf's samples of pid; *first is its first process (for its ids). */
static uint64_t
pid_samples(struct stack_table *t, uint32_t pid, struct stack_proc **first)
{
	uint64_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < stacks_nproc(t); i++) {
		struct stack_proc *p = stacks_proc_at(t, i);

		if (p->sp_pid != pid)
			continue;
		if (*first == NULL)
			*first = p;
		n += p->sp_samples;
	}
	return n;
}

/* Gives rt's process perf's container and application id strings. */
static int
take_ids(struct stack_table *rt, struct stack_proc *rp,
	 const struct stack_table *perf, const struct stack_proc *pp)
{
	uint32_t c, a;

	if (pp == NULL || (rp->sp_container != 0 && rp->sp_app_id != 0))
		return 0;
	c = stacks_intern_str(rt, stacks_str(perf, pp->sp_container));
	a = stacks_intern_str(rt, stacks_str(perf, pp->sp_app_id));
	if (c == STACKS_NONE || a == STACKS_NONE)
		return -1;
	if (rp->sp_container == 0)
		rp->sp_container = c;
	if (rp->sp_app_id == 0)
		rp->sp_app_id = a;
	return 0;
}

int
runtime_merge(struct stack_table **perf, struct stack_table *rt, size_t budget)
{
	struct stack_table *p = *perf, *m;
	int rv = 0;

	if ((m = stacks_new(budget)) == NULL)
		return -1;
	for (size_t i = 0; rv == 0 && i < stacks_nproc(p); i++)
		if (!has_pid(rt, stacks_proc_at(p, i)->sp_pid))
			rv = stacks_copy_proc(m, p, i, 1, 1);
	for (size_t i = 0; rv == 0 && i < stacks_nproc(rt); i++) {
		struct stack_proc *rp = stacks_proc_at(rt, i), *pp;
		uint64_t ps = pid_samples(p, rp->sp_pid, &pp);
		uint64_t own = rp->sp_samples;

		if (take_ids(rt, rp, p, pp) == -1)
			rv = -1;
		else if (ps > 0 && own > 0)
			rv = stacks_copy_proc(m, rt, i, ps, own);
		else
			rv = stacks_copy_proc(m, rt, i, 1, 1);
	}
	if (rv == -1) {
		stacks_free(m);
		errno = ENOMEM;
		return -1;
	}
	stacks_free(p);
	*perf = m;
	return 0;
}
