/*
 * Stack table: interned strings and per-process stack counts.
 *
 * One table holds one window. Memory grows with the number of distinct
 * strings and stacks, never with the number of samples, and never past the
 * byte budget given to stacks_new().
 */
#ifndef PROFD_STACKS_H
#define PROFD_STACKS_H

#include <stddef.h>
#include <stdint.h>

#define STACKS_NONE	      UINT32_MAX   /* "no id": interning failed */
#define STACKS_MAX_FRAMES     1024	   /* frames in one stack */
#define STACKS_MAX_STRING     4096	   /* bytes in one interned string */
#define STACKS_DEFAULT_BUDGET (256u << 20) /* bytes */

struct stack_table;

/* One process of the table. Strings are ids into the same table. */
struct stack_proc {
	uint32_t sp_pid;
	uint32_t sp_comm;
	uint32_t sp_container;
	uint32_t sp_app_id;
	uint32_t sp_error; /* runtime profiler error text, 0 when none */
	uint64_t sp_samples;
	uint32_t sp_first; /* internal: first stack of this process */
	uint32_t sp_last;  /* internal: last stack of this process */
};

/* Called per stack by stacks_foreach(); a non-zero return stops the walk. */
typedef int (*stacks_fn)(void *arg, const struct stack_proc *proc,
			 const uint32_t *frames, size_t nframes,
			 uint64_t count);

/* Returns an empty table that uses at most budget bytes (0: default). */
struct stack_table *stacks_new(size_t budget);
/* Frees the table; NULL is allowed. */
void stacks_free(struct stack_table *t);
/* Forgets every string, process and stack; keeps the budget. */
void stacks_clear(struct stack_table *t);

/* Returns the id of the string s[0..len), adding it; STACKS_NONE if full.
 * Strings longer than STACKS_MAX_STRING are cut. Id 0 is always "". */
uint32_t stacks_intern(struct stack_table *t, const char *s, size_t len);
/* Same for a NUL-terminated string. */
uint32_t stacks_intern_str(struct stack_table *t, const char *s);
/* Returns the hash the table gives s[0..len): every bit of it depends on
 * every byte, so that its low bits can index a table. */
uint32_t stacks_hash(const void *s, size_t len);
/* Returns the string with id, or NULL if id is out of range. */
const char *stacks_str(const struct stack_table *t, uint32_t id);
/* Returns the length of the string with id (0 if out of range). */
size_t stacks_strlen(const struct stack_table *t, uint32_t id);
/* Returns the number of interned strings. */
size_t stacks_nstr(const struct stack_table *t);

/* Returns the index of the process (pid, comm, container, app_id), adding
 * it; -1 with errno ENOMEM when the budget is spent, EINVAL on a bad id. */
int stacks_proc(struct stack_table *t, uint32_t pid, uint32_t comm,
		uint32_t container, uint32_t app_id);
/* Returns process idx, or NULL if idx is out of range. */
struct stack_proc *stacks_proc_at(struct stack_table *t, size_t idx);
/* Returns the number of processes. */
size_t stacks_nproc(const struct stack_table *t);
/* The process at idx, read-only, or NULL. */
const struct stack_proc *stacks_proc_get(const struct stack_table *t,
					 size_t idx);

/* Adds count samples of the stack frames[0..n) (root first) to process
 * proc. 0 on success; -1 with errno EINVAL (bad id, n == 0 or n too
 * large), ENOMEM (budget spent), or EOVERFLOW (count would wrap). */
int stacks_add(struct stack_table *t, int proc, const uint32_t *frames,
	       size_t n, uint64_t count);

/* Calls fn for every stack, grouped by process in insertion order. Returns
 * the first non-zero value fn returned, else 0. */
int stacks_foreach(const struct stack_table *t, stacks_fn fn, void *arg);
/* Same, for the stacks of one process only. */
int stacks_foreach_proc(const struct stack_table *t, size_t proc, stacks_fn fn,
			void *arg);

/* Copies process proc of src, with all its stacks, into dst, each count
 * multiplied by num/den (rounded so that the copied total is exactly
 * round(samples * num / den)); stacks scaled to 0 are left out. 0, or -1
 * with errno ENOMEM (dst full) or EINVAL (bad proc, den 0). */
int stacks_copy_proc(struct stack_table *dst, const struct stack_table *src,
		     size_t proc, uint64_t num, uint64_t den);
/* Same, with the process's container and application id replaced by
 * these strings when they are not NULL. */
int stacks_copy_proc_as(struct stack_table *dst, const struct stack_table *src,
			size_t proc, uint64_t num, uint64_t den,
			const char *container, const char *app_id);
/* Returns the sample-weighted average stack depth of process proc (0 when
 * it has no samples). */
double stacks_proc_depth(const struct stack_table *t, size_t proc);

/* Returns the number of distinct stacks. */
size_t stacks_count(const struct stack_table *t);
/* Returns the sum of all counts. */
uint64_t stacks_total(const struct stack_table *t);
/* Returns the bytes the table holds now. */
size_t stacks_memory(const struct stack_table *t);

/* Forgets every process's container name and/or application id
 * (gProfiler's --disable-container-names, --disable-application-
 * identifiers), once the table is complete. */
void stacks_strip(struct stack_table *t, int container, int app_id);

#endif
