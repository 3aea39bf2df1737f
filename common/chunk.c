/* ProfileChunk <-> stack table conversion, with validation. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"

struct build_ctx {
	struct chunk_buf *bc_buf;
	size_t bc_nstack;
	size_t bc_proc; /* index of the process being filled */
};

static int
build_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	struct build_ctx *c = arg;
	Profd__Stack *s = &c->bc_buf->cb_stacks[c->bc_nstack];
	Profd__Process *pr = &c->bc_buf->cb_procs[c->bc_proc];

	(void)p;
	profd__stack__init(s);
	s->frames = (uint32_t *)frames;
	s->n_frames = n;
	s->count = count;
	c->bc_buf->cb_stackp[c->bc_nstack] = s;
	if (pr->stacks == NULL)
		pr->stacks = &c->bc_buf->cb_stackp[c->bc_nstack];
	pr->n_stacks++;
	c->bc_nstack++;
	return 0;
}

static int
build_alloc(struct chunk_buf *b, size_t nstr, size_t nproc, size_t nstack)
{
	b->cb_strings = calloc(nstr ? nstr : 1, sizeof(char *));
	b->cb_procs = calloc(nproc ? nproc : 1, sizeof(Profd__Process));
	b->cb_procp = calloc(nproc ? nproc : 1, sizeof(Profd__Process *));
	b->cb_stacks = calloc(nstack ? nstack : 1, sizeof(Profd__Stack));
	b->cb_stackp = calloc(nstack ? nstack : 1, sizeof(Profd__Stack *));
	if (!b->cb_strings || !b->cb_procs || !b->cb_procp || !b->cb_stacks ||
	    !b->cb_stackp) {
		chunk_buf_free(b);
		return -1;
	}
	return 0;
}

int
chunk_build(struct chunk_buf *b, const struct stack_table *t,
	    const char *worker, uint64_t window)
{
	size_t nstr = stacks_nstr(t), nproc = stacks_nproc(t);
	struct build_ctx c = {b, 0, 0};

	memset(b, 0, sizeof(*b));
	if (build_alloc(b, nstr, nproc, stacks_count(t)) == -1)
		return -1;
	for (size_t i = 0; i < nstr; i++)
		b->cb_strings[i] = (char *)stacks_str(t, (uint32_t)i);
	for (size_t i = 0; i < nproc; i++) {
		const struct stack_proc *sp =
		    stacks_proc_at((struct stack_table *)t, i);
		Profd__Process *pr = &b->cb_procs[i];

		profd__process__init(pr);
		pr->pid = sp->sp_pid;
		pr->comm = sp->sp_comm;
		pr->container = sp->sp_container;
		pr->app_id = sp->sp_app_id;
		if (sp->sp_error != 0)
			pr->error = (char *)stacks_str(t, sp->sp_error);
		b->cb_procp[i] = pr;
		c.bc_proc = i;
		stacks_foreach_proc(t, i, build_stack, &c);
	}
	profd__profile_chunk__init(&b->cb_chunk);
	b->cb_chunk.worker = (char *)worker;
	b->cb_chunk.window = window;
	b->cb_chunk.strings = b->cb_strings;
	b->cb_chunk.n_strings = nstr;
	b->cb_chunk.processes = b->cb_procp;
	b->cb_chunk.n_processes = nproc;
	b->cb_chunk.samples = stacks_total(t);
	return 0;
}

void
chunk_buf_free(struct chunk_buf *b)
{
	free(b->cb_strings);
	free(b->cb_procs);
	free(b->cb_procp);
	free(b->cb_stacks);
	free(b->cb_stackp);
	memset(b, 0, sizeof(*b));
}

static int
validate_proc(const Profd__ProfileChunk *c, const Profd__Process *p,
	      size_t *nstacks)
{
	if (p->comm >= c->n_strings || p->container >= c->n_strings ||
	    p->app_id >= c->n_strings || strlen(p->error) > STACKS_MAX_STRING)
		return -1;
	*nstacks += p->n_stacks;
	if (*nstacks > CHUNK_MAX_STACKS)
		return -1;
	for (size_t i = 0; i < p->n_stacks; i++) {
		const Profd__Stack *s = p->stacks[i];

		if (s->n_frames == 0 || s->n_frames > STACKS_MAX_FRAMES ||
		    s->count == 0 || s->count > (1ULL << 48))
			return -1;
		for (size_t j = 0; j < s->n_frames; j++)
			if (s->frames[j] >= c->n_strings)
				return -1;
	}
	return 0;
}

int
chunk_validate(const Profd__ProfileChunk *c)
{
	size_t nstacks = 0;

	if (c->n_strings == 0 || c->n_strings > CHUNK_MAX_STRINGS ||
	    c->n_processes > CHUNK_MAX_PROCS || strlen(c->worker) > 32)
		goto bad;
	for (size_t i = 0; i < c->n_strings; i++)
		if (strlen(c->strings[i]) > STACKS_MAX_STRING)
			goto bad;
	for (size_t i = 0; i < c->n_processes; i++)
		if (validate_proc(c, c->processes[i], &nstacks) == -1)
			goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

static int
merge_proc(struct stack_table *t, const Profd__ProfileChunk *c,
	   const Profd__Process *p, const uint32_t *map)
{
	uint32_t frames[STACKS_MAX_FRAMES];
	int proc;

	proc = stacks_proc(t, p->pid, map[p->comm], map[p->container],
			   map[p->app_id]);
	if (proc == -1)
		return -1;
	if (p->error[0] != '\0') {
		uint32_t e = stacks_intern_str(t, p->error);

		if (e == STACKS_NONE)
			return -1;
		stacks_proc_at(t, (size_t)proc)->sp_error = e;
	}
	for (size_t i = 0; i < p->n_stacks; i++) {
		const Profd__Stack *s = p->stacks[i];

		for (size_t j = 0; j < s->n_frames; j++)
			frames[j] = map[s->frames[j]];
		if (stacks_add(t, proc, frames, s->n_frames, s->count) == -1)
			return -1;
	}
	(void)c;
	return 0;
}

int
chunk_merge(struct stack_table *t, const Profd__ProfileChunk *c)
{
	uint32_t *map;
	int rv = 0;

	if ((map = calloc(c->n_strings, sizeof(*map))) == NULL)
		return -1;
	for (size_t i = 0; i < c->n_strings && rv == 0; i++)
		if ((map[i] = stacks_intern_str(t, c->strings[i])) ==
		    STACKS_NONE)
			rv = -1;
	for (size_t i = 0; i < c->n_processes && rv == 0; i++)
		rv = merge_proc(t, c, c->processes[i], map);
	free(map);
	if (rv == -1)
		errno = ENOMEM;
	return rv;
}
