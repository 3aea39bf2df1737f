/* Runtime profilers' stacks (Java, Python) over perf's, per process. */
#ifndef PROFD_RUNTIME_MERGE_H
#define PROFD_RUNTIME_MERGE_H

#include <stddef.h>

#include "stacks.h"

/* Builds a new table in *perf: the processes of *perf that rt does not
 * have, unchanged, and every process of rt, its counts scaled so that the
 * process keeps perf's sample count (unscaled when perf has no samples of
 * it), with perf's container and application ids when rt has none. 0, or
 * -1 with errno (ENOMEM) leaving *perf as it was. */
int runtime_merge(struct stack_table **perf, struct stack_table *rt,
		  size_t budget);

#endif
