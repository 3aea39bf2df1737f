/* pprof output: a gzipped perftools.profiles.Profile of one window. */
#ifndef PROFD_PPROF_H
#define PROFD_PPROF_H

#include <stdio.h>

#include "output.h"
#include "stacks.h"

/* Writes the stacks of t as a gzipped pprof profile to f, streaming: its
 * memory does not grow with the table. Each stack becomes one sample
 * (leaf first, then up to the process name and container), with its
 * count as "samples/count" and the process's "pid" as a label. 0, or -1
 * on a write error. */
int pprof_write(FILE *f, const struct stack_table *t,
		const struct window_meta *m);

#endif
