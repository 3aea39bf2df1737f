/* Windows being assembled from the chunks of every profiler. */
#ifndef PROFD_WINDOWS_H
#define PROFD_WINDOWS_H

#include <stdint.h>

#include "output.h"
#include "profd.pb-c.h"
#include "stacks.h"

#define WINDOWS_MAX	   8	 /* windows open at once */
#define WINDOWS_MAX_EXPECT 8	 /* profilers in one window */
#define WINDOWS_GRACE_MS   30000 /* wait for late chunks after a snapshot, */
#define WINDOWS_GRACE_MIN_MS                                                   \
	5000 /* ... or twice the window and this much                          \
		when that is less: short windows must                          \
		not fill the WINDOWS_MAX slots */
#define WINDOWS_NAME_MAX 32

struct window {
	int w_used;
	int w_snapshot; /* profd's Snapshot for it has arrived */
	struct window_meta w_meta;
	struct stack_table *w_table;   /* perf and other native profilers */
	struct stack_table *w_runtime; /* runtime profilers, NULL if none */
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
	/* Where a window goes when a new one needs its slot (optional; see
	 * windows_set_store). */
	int (*ws_store)(void *, const struct stack_table *,
			const struct window_meta *);
	void *ws_sarg;
	void (*ws_done_fn)(void *, uint64_t, int);
	void *ws_done_arg;
};

/* Adds a validated chunk to its window. 0 stored (or a duplicate), -1 with
 * errno when it cannot be stored. */
int windows_add_chunk(struct windows *ws, const Profd__ProfileChunk *c);
/* Records profd's Snapshot: the window's times and expected chunks. */
int windows_snapshot(struct windows *ws, const Profd__Snapshot *s);
/* Stores one window; 0 or -1. */
typedef int (*windows_store_fn)(void *arg, const struct stack_table *t,
				const struct window_meta *m);
/* Stores (with store(sarg, ...)) every window that is complete, or past
 * its grace period when force is 0, or every open window when force is 1.
 * Calls done(arg, id, ok) for each. Returns the ms until the next deadline
 * (-1: none). */
/* With every slot taken, a new window makes the oldest one be stored at
 * once (in order, without its missing chunks) through store and done,
 * instead of being refused. */
void windows_set_store(struct windows *ws, windows_store_fn store, void *sarg,
		       void (*done)(void *arg, uint64_t id, int ok), void *arg);
int windows_flush(struct windows *ws, windows_store_fn store, void *sarg,
		  int force, void (*done)(void *arg, uint64_t id, int ok),
		  void *arg);
/* Frees every open window. */
void windows_free(struct windows *ws);

/* Makes every window forget its processes' container names and/or
 * application ids before it is stored. */
void windows_strip(int containers, int appids);

#endif
