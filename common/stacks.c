/* Stack table: interned strings, processes, and stacks with counts. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stacks.h"

struct stack_ent {
	uint32_t se_off;  /* first frame in st_frames */
	uint32_t se_n;	  /* number of frames */
	uint32_t se_proc; /* process index */
	uint32_t se_next; /* next stack of the same process, or STACKS_NONE */
	uint32_t se_hash;
	uint64_t se_count;
};

struct stack_table {
	size_t st_budget;
	/* strings */
	char *st_chars;
	size_t st_chars_len, st_chars_cap;
	uint32_t *st_str_off; /* offset into st_chars, NUL terminated */
	uint32_t *st_str_len;
	size_t st_nstr, st_str_cap;
	uint32_t *st_str_slots; /* id + 1, 0 = empty */
	size_t st_str_nslots;
	/* processes */
	struct stack_proc *st_procs;
	size_t st_nproc, st_proc_cap;
	uint32_t *st_proc_slots; /* index + 1, 0 = empty */
	size_t st_proc_nslots;
	/* stacks */
	uint32_t *st_frames;
	size_t st_frames_len, st_frames_cap;
	struct stack_ent *st_ents;
	size_t st_nent, st_ent_cap;
	uint32_t *st_ent_slots; /* index + 1, 0 = empty */
	size_t st_ent_nslots;
	uint64_t st_total;
};

#define HASH_SEED 0x9e3779b97f4a7c15ull

static uint64_t
hash_load8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

static uint64_t
hash_load4(const unsigned char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

/* Mixes the word w into h (one round of a multiply-rotate hash). */
static uint64_t
hash_round(uint64_t h, uint64_t w)
{
	h ^= w * 0xc2b2ae3d27d4eb4full;
	h = (h << 31) | (h >> 33);
	return h * 0x9e3779b185ebca87ull;
}

/* Hashes s[0..len) eight bytes at a time (the last word overlaps the one
 * before it when len is not a multiple of 8); every bit of the result
 * depends on every byte, so that the low bits can pick the slot. */
static uint32_t
hash_bytes(const void *p, size_t len, uint64_t h)
{
	const unsigned char *s = p;

	h ^= len;
	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8)
			h = hash_round(h, hash_load8(s + i));
		h = hash_round(h, hash_load8(s + len - 8));
	} else if (len >= 4) {
		h = hash_round(h,
			       hash_load4(s) << 32 | hash_load4(s + len - 4));
	} else if (len > 0) {
		h = hash_round(h, (uint64_t)s[0] << 16 | s[len / 2] << 8 |
				      s[len - 1]);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static size_t
table_bytes(const struct stack_table *t)
{
	return t->st_chars_cap + t->st_str_cap * 2 * sizeof(uint32_t) +
	       t->st_str_nslots * sizeof(uint32_t) +
	       t->st_proc_cap * sizeof(struct stack_proc) +
	       t->st_proc_nslots * sizeof(uint32_t) +
	       t->st_frames_cap * sizeof(uint32_t) +
	       t->st_ent_cap * sizeof(struct stack_ent) +
	       t->st_ent_nslots * sizeof(uint32_t);
}

/* Grows *arr (cap elements of size sz) to hold need elements, within the
 * table's budget. */
static int
grow(struct stack_table *t, void **arr, size_t *cap, size_t need, size_t sz)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX ||
	    table_bytes(t) + (ncap - *cap) * sz > t->st_budget) {
		errno = ENOMEM;
		return -1;
	}
	if ((n = realloc(*arr, ncap * sz)) == NULL)
		return -1;
	*arr = n;
	*cap = ncap;
	return 0;
}

static int
rehash(struct stack_table *t, uint32_t **slots, size_t *nslots, size_t used,
       uint32_t (*hash_of)(const struct stack_table *, size_t))
{
	size_t n = *nslots ? *nslots * 2 : 256;
	uint32_t *ns;

	if (table_bytes(t) + (n - *nslots) * sizeof(uint32_t) > t->st_budget) {
		errno = ENOMEM;
		return -1;
	}
	if ((ns = calloc(n, sizeof(uint32_t))) == NULL)
		return -1;
	for (size_t i = 0; i < used; i++) {
		size_t j = hash_of(t, i) & (n - 1);

		while (ns[j] != 0)
			j = (j + 1) & (n - 1);
		ns[j] = (uint32_t)i + 1;
	}
	free(*slots);
	*slots = ns;
	*nslots = n;
	return 0;
}

static uint32_t
str_hash_of(const struct stack_table *t, size_t id)
{
	return hash_bytes(t->st_chars + t->st_str_off[id], t->st_str_len[id],
			  HASH_SEED);
}

static uint32_t
ent_hash_of(const struct stack_table *t, size_t i)
{
	return t->st_ents[i].se_hash;
}

struct stack_table *
stacks_new(size_t budget)
{
	struct stack_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->st_budget = budget ? budget : STACKS_DEFAULT_BUDGET;
	if (stacks_intern(t, "", 0) != 0) {
		stacks_free(t);
		return NULL;
	}
	return t;
}

/* Frees every array of the table, not the table itself. */
static void
table_release(struct stack_table *t)
{
	free(t->st_chars);
	free(t->st_str_off);
	free(t->st_str_len);
	free(t->st_str_slots);
	free(t->st_procs);
	free(t->st_proc_slots);
	free(t->st_frames);
	free(t->st_ents);
	free(t->st_ent_slots);
}

void
stacks_free(struct stack_table *t)
{
	if (t == NULL)
		return;
	table_release(t);
	free(t);
}

void
stacks_clear(struct stack_table *t)
{
	size_t budget = t->st_budget;

	table_release(t);
	memset(t, 0, sizeof(*t));
	t->st_budget = budget;
	(void)stacks_intern(t, "", 0);
}

static int
str_add(struct stack_table *t, const char *s, size_t len)
{
	if (grow(t, (void **)&t->st_chars, &t->st_chars_cap,
		 t->st_chars_len + len + 1, 1) == -1)
		return -1;
	if (t->st_nstr + 1 > t->st_str_cap) {
		size_t cap = t->st_str_cap;

		if (grow(t, (void **)&t->st_str_off, &cap, t->st_nstr + 1,
			 sizeof(uint32_t)) == -1)
			return -1;
		cap = t->st_str_cap;
		if (grow(t, (void **)&t->st_str_len, &cap, t->st_nstr + 1,
			 sizeof(uint32_t)) == -1)
			return -1;
		t->st_str_cap = cap;
	}
	memcpy(t->st_chars + t->st_chars_len, s, len);
	t->st_chars[t->st_chars_len + len] = '\0';
	t->st_str_off[t->st_nstr] = (uint32_t)t->st_chars_len;
	t->st_str_len[t->st_nstr] = (uint32_t)len;
	t->st_chars_len += len + 1;
	return (int)t->st_nstr++;
}

/* Returns the slot of s in the string hash: its own, or the empty one
 * where it would go. */
static size_t
str_slot(const struct stack_table *t, const char *s, size_t len, uint32_t h)
{
	size_t j;

	for (j = h & (t->st_str_nslots - 1); t->st_str_slots[j] != 0;
	     j = (j + 1) & (t->st_str_nslots - 1)) {
		uint32_t cand = t->st_str_slots[j] - 1;

		if (t->st_str_len[cand] == len &&
		    memcmp(t->st_chars + t->st_str_off[cand], s, len) == 0)
			break;
	}
	return j;
}

uint32_t
stacks_intern(struct stack_table *t, const char *s, size_t len)
{
	uint32_t h;
	size_t j;
	int id;

	if (len > STACKS_MAX_STRING)
		len = STACKS_MAX_STRING;
	h = hash_bytes(s, len, HASH_SEED);
	if (t->st_str_nslots > 0) {
		j = str_slot(t, s, len, h);
		if (t->st_str_slots[j] != 0)
			return t->st_str_slots[j] - 1;
	}
	/* A new string: make room first, so a full table still finds the
	 * strings it has. */
	if ((t->st_nstr + 1) * 10 > t->st_str_nslots * 7 &&
	    rehash(t, &t->st_str_slots, &t->st_str_nslots, t->st_nstr,
		   str_hash_of) == -1)
		return STACKS_NONE;
	j = str_slot(t, s, len, h);
	if ((id = str_add(t, s, len)) == -1)
		return STACKS_NONE;
	t->st_str_slots[j] = (uint32_t)id + 1;
	return (uint32_t)id;
}

uint32_t
stacks_hash(const void *s, size_t len)
{
	return hash_bytes(s, len, HASH_SEED);
}

uint32_t
stacks_intern_str(struct stack_table *t, const char *s)
{
	return stacks_intern(t, s, strlen(s));
}

const char *
stacks_str(const struct stack_table *t, uint32_t id)
{
	if (id >= t->st_nstr)
		return NULL;
	return t->st_chars + t->st_str_off[id];
}

size_t
stacks_strlen(const struct stack_table *t, uint32_t id)
{
	return id < t->st_nstr ? t->st_str_len[id] : 0;
}

size_t
stacks_nstr(const struct stack_table *t)
{
	return t->st_nstr;
}

/* Hashes the key of a process. */
static uint32_t
proc_hash(uint32_t pid, uint32_t comm, uint32_t container, uint32_t app_id)
{
	uint32_t key[4] = {pid, comm, container, app_id};

	return hash_bytes(key, sizeof(key), HASH_SEED);
}

static uint32_t
proc_hash_of(const struct stack_table *t, size_t i)
{
	const struct stack_proc *p = &t->st_procs[i];

	return proc_hash(p->sp_pid, p->sp_comm, p->sp_container, p->sp_app_id);
}

/* Returns the slot of the process in the process hash, or the empty one. */
static size_t
proc_slot(const struct stack_table *t, uint32_t pid, uint32_t comm,
	  uint32_t container, uint32_t app_id)
{
	size_t mask = t->st_proc_nslots - 1, j;

	for (j = proc_hash(pid, comm, container, app_id) & mask;
	     t->st_proc_slots[j] != 0; j = (j + 1) & mask) {
		const struct stack_proc *p =
		    &t->st_procs[t->st_proc_slots[j] - 1];

		if (p->sp_pid == pid && p->sp_comm == comm &&
		    p->sp_container == container && p->sp_app_id == app_id)
			break;
	}
	return j;
}

int
stacks_proc(struct stack_table *t, uint32_t pid, uint32_t comm,
	    uint32_t container, uint32_t app_id)
{
	struct stack_proc *p;
	size_t j;

	if (comm >= t->st_nstr || container >= t->st_nstr ||
	    app_id >= t->st_nstr) {
		errno = EINVAL;
		return -1;
	}
	if (t->st_proc_nslots > 0) {
		j = proc_slot(t, pid, comm, container, app_id);
		if (t->st_proc_slots[j] != 0)
			return (int)t->st_proc_slots[j] - 1;
	}
	if (t->st_nproc >= INT32_MAX ||
	    grow(t, (void **)&t->st_procs, &t->st_proc_cap, t->st_nproc + 1,
		 sizeof(*p)) == -1)
		return -1;
	if ((t->st_nproc + 1) * 10 > t->st_proc_nslots * 7 &&
	    rehash(t, &t->st_proc_slots, &t->st_proc_nslots, t->st_nproc,
		   proc_hash_of) == -1)
		return -1;
	j = proc_slot(t, pid, comm, container, app_id);
	p = &t->st_procs[t->st_nproc];
	memset(p, 0, sizeof(*p));
	p->sp_pid = pid;
	p->sp_comm = comm;
	p->sp_container = container;
	p->sp_app_id = app_id;
	p->sp_first = p->sp_last = STACKS_NONE;
	t->st_proc_slots[j] = (uint32_t)t->st_nproc + 1;
	return (int)t->st_nproc++;
}

struct stack_proc *
stacks_proc_at(struct stack_table *t, size_t idx)
{
	return idx < t->st_nproc ? &t->st_procs[idx] : NULL;
}

const struct stack_proc *
stacks_proc_get(const struct stack_table *t, size_t idx)
{
	return idx < t->st_nproc ? &t->st_procs[idx] : NULL;
}

size_t
stacks_nproc(const struct stack_table *t)
{
	return t->st_nproc;
}

static int
stack_equal(const struct stack_table *t, const struct stack_ent *e, int proc,
	    const uint32_t *frames, size_t n)
{
	return e->se_proc == (uint32_t)proc && e->se_n == n &&
	       memcmp(t->st_frames + e->se_off, frames, n * 4) == 0;
}

static int
stack_insert(struct stack_table *t, int proc, const uint32_t *frames, size_t n,
	     uint32_t h, size_t slot)
{
	struct stack_proc *p = &t->st_procs[proc];
	struct stack_ent *e;

	if (grow(t, (void **)&t->st_frames, &t->st_frames_cap,
		 t->st_frames_len + n, sizeof(uint32_t)) == -1 ||
	    grow(t, (void **)&t->st_ents, &t->st_ent_cap, t->st_nent + 1,
		 sizeof(*e)) == -1)
		return -1;
	memcpy(t->st_frames + t->st_frames_len, frames, n * 4);
	e = &t->st_ents[t->st_nent];
	e->se_off = (uint32_t)t->st_frames_len;
	e->se_n = (uint32_t)n;
	e->se_proc = (uint32_t)proc;
	e->se_next = STACKS_NONE;
	e->se_hash = h;
	e->se_count = 0;
	t->st_frames_len += n;
	if (p->sp_last == STACKS_NONE)
		p->sp_first = (uint32_t)t->st_nent;
	else
		t->st_ents[p->sp_last].se_next = (uint32_t)t->st_nent;
	p->sp_last = (uint32_t)t->st_nent;
	t->st_ent_slots[slot] = (uint32_t)++t->st_nent;
	return 0;
}

static int
stack_valid(const struct stack_table *t, int proc, const uint32_t *frames,
	    size_t n)
{
	if (proc < 0 || (size_t)proc >= t->st_nproc || n == 0 ||
	    n > STACKS_MAX_FRAMES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (frames[i] >= t->st_nstr)
			return 0;
	return 1;
}

/* Returns the slot of the stack in the stack hash, or the empty one. */
static size_t
ent_slot(const struct stack_table *t, int proc, const uint32_t *frames,
	 size_t n, uint32_t h)
{
	size_t j;

	for (j = h & (t->st_ent_nslots - 1); t->st_ent_slots[j] != 0;
	     j = (j + 1) & (t->st_ent_nslots - 1)) {
		const struct stack_ent *e = &t->st_ents[t->st_ent_slots[j] - 1];

		if (e->se_hash == h && stack_equal(t, e, proc, frames, n))
			break;
	}
	return j;
}

int
stacks_add(struct stack_table *t, int proc, const uint32_t *frames, size_t n,
	   uint64_t count)
{
	struct stack_ent *e;
	uint32_t h;
	size_t j = 0;

	if (!stack_valid(t, proc, frames, n)) {
		errno = EINVAL;
		return -1;
	}
	if (count > UINT64_MAX - t->st_total) {
		errno = EOVERFLOW;
		return -1;
	}
	h = hash_bytes(frames, n * 4, HASH_SEED ^ (uint32_t)proc);
	if (t->st_ent_nslots > 0)
		j = ent_slot(t, proc, frames, n, h);
	if (t->st_ent_nslots == 0 || t->st_ent_slots[j] == 0) {
		if ((t->st_nent + 1) * 10 > t->st_ent_nslots * 7 &&
		    rehash(t, &t->st_ent_slots, &t->st_ent_nslots, t->st_nent,
			   ent_hash_of) == -1)
			return -1;
		j = ent_slot(t, proc, frames, n, h);
		if (stack_insert(t, proc, frames, n, h, j) == -1)
			return -1;
	}
	e = &t->st_ents[t->st_ent_slots[j] - 1];
	e->se_count += count;
	t->st_procs[proc].sp_samples += count;
	t->st_total += count;
	return 0;
}

int
stacks_foreach_proc(const struct stack_table *t, size_t proc, stacks_fn fn,
		    void *arg)
{
	const struct stack_proc *p;
	int rv;

	if (proc >= t->st_nproc)
		return 0;
	p = &t->st_procs[proc];
	for (uint32_t i = p->sp_first; i != STACKS_NONE;
	     i = t->st_ents[i].se_next) {
		const struct stack_ent *e = &t->st_ents[i];

		rv = fn(arg, p, t->st_frames + e->se_off, e->se_n, e->se_count);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int
stacks_foreach(const struct stack_table *t, stacks_fn fn, void *arg)
{
	int rv;

	for (size_t i = 0; i < t->st_nproc; i++)
		if ((rv = stacks_foreach_proc(t, i, fn, arg)) != 0)
			return rv;
	return 0;
}

struct copy_ctx {
	struct stack_table *cc_dst;
	const struct stack_table *cc_src;
	int cc_proc; /* in dst */
	unsigned __int128 cc_num, cc_den, cc_seen;
	uint64_t cc_done; /* scaled samples copied so far */
	uint32_t cc_frames[STACKS_MAX_FRAMES];
};

/* Interns src's string id in dst. */
static uint32_t
copy_str(struct copy_ctx *c, uint32_t id)
{
	return stacks_intern(c->cc_dst, stacks_str(c->cc_src, id),
			     stacks_strlen(c->cc_src, id));
}

/* Copies one stack, scaled by the running total so rounding never drifts. */
static int
copy_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	   size_t n, uint64_t count)
{
	struct copy_ctx *c = arg;
	uint64_t upto;

	(void)p;
	c->cc_seen += count;
	upto = (uint64_t)((c->cc_seen * c->cc_num + c->cc_den / 2) / c->cc_den);
	count = upto - c->cc_done;
	c->cc_done = upto;
	if (count == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((c->cc_frames[i] = copy_str(c, frames[i])) == STACKS_NONE)
			return -1;
	return stacks_add(c->cc_dst, c->cc_proc, c->cc_frames, n, count);
}

int
stacks_copy_proc(struct stack_table *dst, const struct stack_table *src,
		 size_t proc, uint64_t num, uint64_t den)
{
	return stacks_copy_proc_as(dst, src, proc, num, den, NULL, NULL);
}

/* Interns the override s, or else src's string id. */
static uint32_t
copy_or(struct copy_ctx *c, const char *s, uint32_t id)
{
	return s != NULL ? stacks_intern_str(c->cc_dst, s) : copy_str(c, id);
}

int
stacks_copy_proc_as(struct stack_table *dst, const struct stack_table *src,
		    size_t proc, uint64_t num, uint64_t den,
		    const char *container, const char *app_id)
{
	const struct stack_proc *p;
	struct copy_ctx *c;
	int rv = -1;

	if (proc >= src->st_nproc || den == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	p = &src->st_procs[proc];
	*c = (struct copy_ctx){
	    .cc_dst = dst, .cc_src = src, .cc_num = num, .cc_den = den};
	c->cc_proc = stacks_proc(dst, p->sp_pid, copy_str(c, p->sp_comm),
				 copy_or(c, container, p->sp_container),
				 copy_or(c, app_id, p->sp_app_id));
	if (c->cc_proc != -1 &&
	    stacks_foreach_proc(src, proc, copy_stack, c) == 0)
		rv = 0;
	if (rv == 0 && p->sp_error != 0) {
		uint32_t e = copy_str(c, p->sp_error);

		if (e == STACKS_NONE)
			rv = -1;
		else
			dst->st_procs[c->cc_proc].sp_error = e;
	}
	if (rv == -1 && errno != EINVAL)
		errno = ENOMEM;
	free(c);
	return rv;
}

/* Adds one stack's depth times its count. */
static int
depth_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	(void)p;
	(void)frames;
	*(double *)arg += (double)n * (double)count;
	return 0;
}

double
stacks_proc_depth(const struct stack_table *t, size_t proc)
{
	double sum = 0;

	if (proc >= t->st_nproc || t->st_procs[proc].sp_samples == 0)
		return 0;
	stacks_foreach_proc(t, proc, depth_stack, &sum);
	return sum / (double)t->st_procs[proc].sp_samples;
}

size_t
stacks_count(const struct stack_table *t)
{
	return t->st_nent;
}

uint64_t
stacks_total(const struct stack_table *t)
{
	return t->st_total;
}

size_t
stacks_memory(const struct stack_table *t)
{
	return sizeof(*t) + table_bytes(t);
}

void
stacks_strip(struct stack_table *t, int container, int app_id)
{
	if (!container && !app_id)
		return;
	for (size_t i = 0; i < t->st_nproc; i++) {
		if (container)
			t->st_procs[i].sp_container = 0;
		if (app_id)
			t->st_procs[i].sp_app_id = 0;
	}
	/* Re-file every process under its new key (two may now share one:
	 * the first is found, which only the writers look at). */
	memset(t->st_proc_slots, 0, t->st_proc_nslots * sizeof(uint32_t));
	for (size_t i = 0; i < t->st_nproc; i++) {
		size_t mask = t->st_proc_nslots - 1;
		size_t j = proc_hash_of(t, i) & mask;

		while (t->st_proc_slots[j] != 0)
			j = (j + 1) & mask;
		t->st_proc_slots[j] = (uint32_t)i + 1;
	}
}
