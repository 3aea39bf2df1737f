/*
 * Flame graph writer: one self-contained HTML page (inline CSS and JS, no
 * network) drawn from a stack table.
 *
 * Each stack becomes the path "all" -> [container] -> comm -> frames[0]
 * (root) ... frames[n-1] (leaf), weighted by its count. Common prefixes are
 * merged into a tree in C; the page gets a string table plus the tree as
 * flat arrays, embedded as escaped JSON that no frame name can break out of.
 */
#ifndef PROFD_FLAMEGRAPH_H
#define PROFD_FLAMEGRAPH_H

#include <stdio.h>

#include "stacks.h"

#define FLAMEGRAPH_DEFAULT_TITLE "profd flame graph"

/* Writes a self-contained HTML flame graph of every stack in t to f, titled
 * title (NULL: FLAMEGRAPH_DEFAULT_TITLE). 0, or -1 on a write error (or
 * with errno ENOMEM when the tree cannot be built). */
int flamegraph_write(FILE *f, const struct stack_table *t, const char *title);

#endif
