/* Runtime profilers' stacks in place of perf's, as gProfiler merges them. */
#ifndef PROFD_MERGE_H
#define PROFD_MERGE_H

#include "stacks.h"

#define MERGE_MAX_PIDS (1u << 16) /* processes of one runtime table */

/* Adds to out every stack of perf, except for the PIDs that have stacks
 * in rt (runtime profilers: Python, Java): for those, rt's stacks, scaled
 * so that they add up to perf's sample count for the PID (unscaled when
 * perf has none). A PID whose runtime profiler reported only an error
 * keeps perf's stacks, plus the error stack. 0, or -1 with errno ENOMEM
 * when out is full. */
int merge_runtime(struct stack_table *out, const struct stack_table *perf,
		  const struct stack_table *rt);

#endif
