/*
 * DWARF unwinding for the native engine: a sample's user registers and the
 * copy of its user stack are unwound with libdwfl over the process's
 * executable mappings, at sample time (the copy is not kept). One Dwfl per
 * process holds the modules whose CFI was read; at most
 * PERF_UNWIND_MAX_PROCS are kept (the least recently used goes), and one is
 * dropped when its process exits or its mappings change.
 */
#ifndef PROFD_PERF_UNWIND_H
#define PROFD_PERF_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#define PERF_UNWIND_MAX_PROCS 32  /* per-process Dwfls kept */
#define PERF_UNWIND_MAX_DEPTH 127 /* frames, as the kernel's callchains */

struct perf_unwind;

/* One executable mapping of the process, as the engine follows it. */
struct perf_unwind_map {
	uint64_t um_start, um_end, um_pgoff, um_dev, um_ino;
	const char *um_path;
};

/* Fills m with mapping i of the process; 0, or -1 past the last one. */
typedef int (*perf_unwind_map_fn)(void *arg, size_t i,
				  struct perf_unwind_map *m);

/* What the kernel copied for one sample (PERF_SAMPLE_REGS_USER and
 * PERF_SAMPLE_STACK_USER). */
struct perf_unwind_sample {
	uint32_t us_pid, us_tid;
	const char *us_regs;  /* perf_unwind_nregs() words, maybe unaligned */
	const char *us_stack; /* bytes from the user stack pointer up */
	size_t us_len;
};

/* Counters, for the window's log line. */
struct perf_unwind_stats {
	uint64_t ust_samples; /* samples unwound */
	uint64_t ust_early;   /* ... that stopped before the stack's end */
	uint64_t ust_builds;  /* Dwfls (re)built */
	size_t ust_procs;     /* Dwfls kept */
};

/* Returns the PERF_SAMPLE_REGS_USER mask the unwinder needs, 0 when this
 * architecture is not supported. */
uint64_t perf_unwind_regs_mask(void);
/* Returns how many registers that mask puts in a sample. */
size_t perf_unwind_nregs(void);
/* Returns an unwinder without any process, or NULL with errno. */
struct perf_unwind *perf_unwind_new(void);
/* Frees every Dwfl; NULL is allowed. */
void perf_unwind_free(struct perf_unwind *u);
/* Unwinds s over the process's mappings (maps(arg, i, ...); gen changes
 * whenever they do) into ips, leaf first, at most max; returns how many
 * (0 when not even the sample's address is known). */
size_t perf_unwind_sample(struct perf_unwind *u,
			  const struct perf_unwind_sample *s, uint64_t gen,
			  perf_unwind_map_fn maps, void *arg, uint64_t *ips,
			  size_t max);
/* Drops the Dwfl of pid (it exited), if there is one. */
void perf_unwind_forget(struct perf_unwind *u, uint32_t pid);
/* Returns the counters since the last call and resets them. */
void perf_unwind_stats(struct perf_unwind *u, struct perf_unwind_stats *st);

#endif
