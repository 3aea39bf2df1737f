/* smart mode: per process, the deeper of fp's and dwarf's stacks. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "perf_smart.h"

/* One PID's processes in one table: [first, end) of a sorted index. */
struct smart_side {
	const struct stack_table *ss_t;
	size_t *ss_idx; /* process indexes sorted by PID */
	size_t ss_n, ss_pos;
};

static int
smart_cmp(const void *a, const void *b, void *arg)
{
	const struct stack_table *t = arg;
	uint32_t pa =
	    stacks_proc_at((struct stack_table *)t, *(const size_t *)a)->sp_pid;
	uint32_t pb =
	    stacks_proc_at((struct stack_table *)t, *(const size_t *)b)->sp_pid;

	return pa < pb ? -1 : pa > pb;
}

static int
smart_side_init(struct smart_side *s, const struct stack_table *t)
{
	s->ss_t = t;
	s->ss_n = stacks_nproc(t);
	s->ss_pos = 0;
	if ((s->ss_idx = calloc(s->ss_n + 1, sizeof(size_t))) == NULL)
		return -1;
	for (size_t i = 0; i < s->ss_n; i++)
		s->ss_idx[i] = i;
	qsort_r(s->ss_idx, s->ss_n, sizeof(size_t), smart_cmp, (void *)t);
	return 0;
}

static uint32_t
smart_pid(const struct smart_side *s, size_t k)
{
	return stacks_proc_at((struct stack_table *)s->ss_t, s->ss_idx[k])
	    ->sp_pid;
}

/* Sums samples and depth of pid's processes from ss_pos; returns how many
 * processes the PID has there. */
static size_t
smart_span(const struct smart_side *s, uint32_t pid, uint64_t *samples,
	   double *depth)
{
	size_t k = s->ss_pos;
	double weighted = 0;

	*samples = 0;
	for (; k < s->ss_n && smart_pid(s, k) == pid; k++) {
		const struct stack_proc *p =
		    stacks_proc_at((struct stack_table *)s->ss_t, s->ss_idx[k]);

		*samples += p->sp_samples;
		weighted += stacks_proc_depth(s->ss_t, s->ss_idx[k]) *
			    (double)p->sp_samples;
	}
	*depth = *samples ? weighted / (double)*samples : 0;
	return k - s->ss_pos;
}

static int
smart_copy(struct stack_table *out, const struct smart_side *s, size_t n,
	   uint64_t num, uint64_t den)
{
	for (size_t k = s->ss_pos; k < s->ss_pos + n; k++)
		if (stacks_copy_proc(out, s->ss_t, s->ss_idx[k], num, den) ==
		    -1)
			return -1;
	return 0;
}

/* Merges the next PID of either side into out. */
static int
smart_step(struct stack_table *out, struct smart_side *f, struct smart_side *d)
{
	uint32_t pf =
	    f->ss_pos < f->ss_n ? smart_pid(f, f->ss_pos) : UINT32_MAX;
	uint32_t pd =
	    d->ss_pos < d->ss_n ? smart_pid(d, d->ss_pos) : UINT32_MAX;
	uint32_t pid = pf < pd ? pf : pd;
	uint64_t fs = 0, ds = 0;
	double fdepth = 0, ddepth = 0;
	size_t fn = 0, dn = 0;
	int rv;

	if (pf == pid)
		fn = smart_span(f, pid, &fs, &fdepth);
	if (pd == pid)
		dn = smart_span(d, pid, &ds, &ddepth);
	if (ds > 0 && ddepth > fdepth)
		rv = fs > 0 ? smart_copy(out, d, dn, fs, ds)
			    : smart_copy(out, d, dn, 1, 1);
	else
		rv = smart_copy(out, f, fn, 1, 1);
	f->ss_pos += fn;
	d->ss_pos += dn;
	return rv;
}

int
perf_smart_merge(struct stack_table *out, const struct stack_table *fp,
		 const struct stack_table *dw)
{
	struct smart_side f = {0}, d = {0};
	int rv = -1;

	if (smart_side_init(&f, fp) == -1 || smart_side_init(&d, dw) == -1) {
		errno = ENOMEM;
		goto out;
	}
	rv = 0;
	while (rv == 0 && (f.ss_pos < f.ss_n || d.ss_pos < d.ss_n))
		rv = smart_step(out, &f, &d);
out:
	free(f.ss_idx);
	free(d.ss_idx);
	return rv;
}
