/* smart mode: per process, the deeper of fp's and dwarf's stacks. */
#ifndef PROFD_PERF_SMART_H
#define PROFD_PERF_SMART_H

#include "stacks.h"

/* Adds to out, for every PID of fp or dw, the stacks of the table whose
 * average stack is deeper for that PID; dwarf's counts are scaled to fp's
 * sample count for the PID (kept as they are when fp has none). 0, or -1
 * with errno ENOMEM when out is full. */
int perf_smart_merge(struct stack_table *out, const struct stack_table *fp,
		     const struct stack_table *dw);

#endif
