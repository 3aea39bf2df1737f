/* Per-window process identities for perf samples: comm, container, app. */
#ifndef PROFD_PERF_PROCS_H
#define PROFD_PERF_PROCS_H

#include <stddef.h>
#include <stdint.h>

#include "stacks.h"

#define PERF_PROCS_CACHE 4096 /* processes looked up per window */

struct perf_procs;

/* Returns an empty cache for one window's table; NULL without memory. */
struct perf_procs *perf_procs_new(void);
/* Frees the cache; NULL is allowed. */
void perf_procs_free(struct perf_procs *c);
/* The parser's resolve callback (perf_proc_fn), with a perf_procs as arg:
 * the process of pid with its container and application ids, each read
 * from /proc once per window. */
int perf_procs_resolve(void *arg, struct stack_table *t, uint32_t pid,
		       const char *comm, size_t len);

#endif
