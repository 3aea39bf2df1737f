/* ProfileChunk <-> stack table conversion, with validation. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"

struct build_ctx {
	struct chunk_buf *bc_buf;
	size_t bc_nstack;
	size_t bc_nframe;
};

static int
count_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	struct build_ctx *c = arg;

	(void)p, (void)frames, (void)count;
	c->bc_nframe += n;
	return 0;
}

static int
build_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	struct build_ctx *c = arg;
	struct chunk_buf *b = c->bc_buf;

	(void)p;
	memcpy(b->cb_frames + c->bc_nframe, frames, n * sizeof(*frames));
	b->cb_depths[c->bc_nstack] = (uint32_t)n;
	b->cb_counts[c->bc_nstack] = count;
	c->bc_nframe += n;
	c->bc_nstack++;
	return 0;
}

static int
build_alloc(struct chunk_buf *b, size_t nstr, size_t nproc, size_t nstack,
	    size_t nframe)
{
	b->cb_strings = calloc(nstr ? nstr : 1, sizeof(char *));
	b->cb_procs = calloc(nproc ? nproc : 1, sizeof(Profd__Process));
	b->cb_procp = calloc(nproc ? nproc : 1, sizeof(Profd__Process *));
	b->cb_frames = calloc(nframe ? nframe : 1, sizeof(uint32_t));
	b->cb_depths = calloc(nstack ? nstack : 1, sizeof(uint32_t));
	b->cb_counts = calloc(nstack ? nstack : 1, sizeof(uint64_t));
	if (!b->cb_strings || !b->cb_procs || !b->cb_procp || !b->cb_frames ||
	    !b->cb_depths || !b->cb_counts) {
		chunk_buf_free(b);
		return -1;
	}
	return 0;
}

/* Points process i of the chunk at its slices of the flat arrays. */
static void
build_proc(struct chunk_buf *b, const struct stack_table *t, size_t i,
	   struct build_ctx *c)
{
	const struct stack_proc *sp =
	    stacks_proc_at((struct stack_table *)t, i);
	Profd__Process *pr = &b->cb_procs[i];
	size_t first_stack = c->bc_nstack, first_frame = c->bc_nframe;

	profd__process__init(pr);
	pr->pid = sp->sp_pid;
	pr->comm = sp->sp_comm;
	pr->container = sp->sp_container;
	pr->app_id = sp->sp_app_id;
	if (sp->sp_error != 0)
		pr->error = (char *)stacks_str(t, sp->sp_error);
	stacks_foreach_proc(t, i, build_stack, c);
	pr->frames = b->cb_frames + first_frame;
	pr->n_frames = c->bc_nframe - first_frame;
	pr->depths = b->cb_depths + first_stack;
	pr->n_depths = c->bc_nstack - first_stack;
	pr->counts = b->cb_counts + first_stack;
	pr->n_counts = pr->n_depths;
	b->cb_procp[i] = pr;
}

int
chunk_build(struct chunk_buf *b, const struct stack_table *t,
	    const char *worker, uint64_t window)
{
	size_t nstr = stacks_nstr(t), nproc = stacks_nproc(t);
	struct build_ctx c = {b, 0, 0};

	memset(b, 0, sizeof(*b));
	stacks_foreach(t, count_stack, &c);
	if (build_alloc(b, nstr, nproc, stacks_count(t), c.bc_nframe) == -1)
		return -1;
	for (size_t i = 0; i < nstr; i++)
		b->cb_strings[i] = (char *)stacks_str(t, (uint32_t)i);
	c.bc_nframe = 0;
	for (size_t i = 0; i < nproc; i++)
		build_proc(b, t, i, &c);
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
	free(b->cb_frames);
	free(b->cb_depths);
	free(b->cb_counts);
	memset(b, 0, sizeof(*b));
}

static int
validate_proc(const Profd__ProfileChunk *c, const Profd__Process *p,
	      size_t *nstacks, size_t *nframes)
{
	size_t used = 0;

	if (p->comm >= c->n_strings || p->container >= c->n_strings ||
	    p->app_id >= c->n_strings || strlen(p->error) > STACKS_MAX_STRING ||
	    p->n_depths != p->n_counts)
		return -1;
	*nstacks += p->n_depths;
	*nframes += p->n_frames;
	if (*nstacks > CHUNK_MAX_STACKS || *nframes > CHUNK_MAX_FRAMES)
		return -1;
	for (size_t i = 0; i < p->n_depths; i++) {
		if (p->depths[i] == 0 || p->depths[i] > STACKS_MAX_FRAMES ||
		    p->counts[i] == 0 || p->counts[i] > CHUNK_MAX_COUNT)
			return -1;
		used += p->depths[i];
	}
	if (used != p->n_frames)
		return -1;
	for (size_t j = 0; j < p->n_frames; j++)
		if (p->frames[j] >= c->n_strings)
			return -1;
	return 0;
}

int
chunk_validate(const Profd__ProfileChunk *c)
{
	size_t nstacks = 0, nframes = 0;

	if (c->n_strings == 0 || c->n_strings > CHUNK_MAX_STRINGS ||
	    c->n_processes > CHUNK_MAX_PROCS || strlen(c->worker) > 32)
		goto bad;
	for (size_t i = 0; i < c->n_strings; i++)
		if (strlen(c->strings[i]) > STACKS_MAX_STRING)
			goto bad;
	for (size_t i = 0; i < c->n_processes; i++)
		if (validate_proc(c, c->processes[i], &nstacks, &nframes) == -1)
			goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

static int
merge_proc(struct stack_table *t, const Profd__Process *p, const uint32_t *map)
{
	uint32_t frames[STACKS_MAX_FRAMES];
	const uint32_t *f = p->frames;
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
	for (size_t i = 0; i < p->n_depths; i++) {
		for (size_t j = 0; j < p->depths[i]; j++)
			frames[j] = map[*f++];
		if (stacks_add(t, proc, frames, p->depths[i], p->counts[i]) ==
		    -1)
			return -1;
	}
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
		rv = merge_proc(t, c->processes[i], map);
	free(map);
	if (rv == -1)
		errno = ENOMEM;
	return rv;
}
