/* Windows being assembled from the chunks of every profiler. */
#ifndef PROFD_WINDOWS_H
#define PROFD_WINDOWS_H

#include <stdint.h>

#include "output.h"
#include "profd.pb-c.h"
#include "stacks.h"

#define WINDOWS_MAX	   8	 /* windows open at once */
#define WINDOWS_MAX_EXPECT 8	 /* profilers in one window */
#define WINDOWS_GRACE_MS   30000 /* wait for late chunks after a snapshot */
#define WINDOWS_NAME_MAX   32

struct window {
	int w_used;
	int w_snapshot; /* profd's Snapshot for it has arrived */
	struct window_meta w_meta;
	struct stack_table *w_table;
	struct stack_table *w_runtime; /* runtime profilers' chunks */
	char w_expect[WINDOWS_MAX_EXPECT][WINDOWS_NAME_MAX];
	size_t w_nexpect;
	char w_got[WINDOWS_MAX_EXPECT][WINDOWS_NAME_MAX];
	size_t w_ngot;
	int64_t w_deadline;
};

struct windows {
	struct window ws_win[WINDOWS_MAX];
	uint64_t ws_done; /* highest window written */
	struct window_meta ws_defaults;
};

/* Adds a validated chunk to its window. 0 stored (or a duplicate), -1 with
 * errno when it cannot be stored. */
int windows_add_chunk(struct windows *ws, const Profd__ProfileChunk *c);
/* Records profd's Snapshot: the window's times and expected chunks. */
int windows_snapshot(struct windows *ws, const Profd__Snapshot *s);
/* Writes every window that is complete, or past its grace period when
 * force is 0, or every open window when force is 1. Calls done(arg, id,
 * ok) for each. Returns the ms until the next deadline (-1: none). */
int windows_flush(struct windows *ws, struct output *o, int force,
		  void (*done)(void *arg, uint64_t id, int ok), void *arg);
/* Frees every open window. */
void windows_free(struct windows *ws);

#endif
