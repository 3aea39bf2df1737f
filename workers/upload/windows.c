/* Windows being assembled from the chunks of every profiler. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chunk.h"
#include "log.h"
#include "merge.h"
#include "util.h"
#include "windows.h"

#define WINDOW_BUDGET (32u << 20) /* bytes of one merged window */

/* How long a window waits for late chunks once profd ended it. */
static int64_t
window_grace_ms(uint64_t start, uint64_t end)
{
	int64_t g = end > start ? (int64_t)(end - start) * 2000 : 0;

	g += WINDOWS_GRACE_MIN_MS;
	return g < WINDOWS_GRACE_MS ? g : WINDOWS_GRACE_MS;
}

static int window_finish(struct windows *ws, struct window *w,
			 windows_store_fn store, void *sarg,
			 void (*done)(void *arg, uint64_t id, int ok),
			 void *arg);
static struct window *windows_oldest(struct windows *ws);

/* Stores the oldest window to free its slot (see windows_set_store). */
static struct window *
windows_evict(struct windows *ws, uint64_t id)
{
	struct window *w = windows_oldest(ws);

	/* Never for a window older than those open: order is kept. */
	if (w == NULL || ws->ws_store == NULL || w->w_meta.wm_window > id)
		return NULL;
	log_warn("window %llu stored early: %d windows are open",
		 (unsigned long long)w->w_meta.wm_window, WINDOWS_MAX);
	window_finish(ws, w, ws->ws_store, ws->ws_sarg, ws->ws_done_fn,
		      ws->ws_done_arg);
	return w;
}

void
windows_set_store(struct windows *ws, windows_store_fn store, void *sarg,
		  void (*done)(void *arg, uint64_t id, int ok), void *arg)
{
	ws->ws_store = store;
	ws->ws_sarg = sarg;
	ws->ws_done_fn = done;
	ws->ws_done_arg = arg;
}

static struct window *
windows_find(struct windows *ws, uint64_t id, int create)
{
	struct window *free_slot = NULL;

	for (size_t i = 0; i < WINDOWS_MAX; i++) {
		struct window *w = &ws->ws_win[i];

		if (w->w_used && w->w_meta.wm_window == id)
			return w;
		if (!w->w_used && free_slot == NULL)
			free_slot = w;
	}
	if (create && free_slot == NULL)
		free_slot = windows_evict(ws, id);
	if (!create || free_slot == NULL ||
	    (free_slot->w_table = stacks_new(WINDOW_BUDGET)) == NULL) {
		errno = ENOSPC;
		return NULL;
	}
	free_slot->w_used = 1;
	free_slot->w_meta = ws->ws_defaults;
	free_slot->w_meta.wm_window = id;
	free_slot->w_deadline = now_ms() + WINDOWS_GRACE_MS;
	return free_slot;
}

static int
window_has(char names[][WINDOWS_NAME_MAX], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

int
windows_add_chunk(struct windows *ws, const Profd__ProfileChunk *c)
{
	struct window *w;

	if (c->window <= ws->ws_done) {
		log_warn("chunk for window %llu from %s arrived after the "
			 "window was written; dropped",
			 (unsigned long long)c->window, c->worker);
		return 0;
	}
	if ((w = windows_find(ws, c->window, 1)) == NULL)
		return -1;
	if (window_has(w->w_got, w->w_ngot, c->worker))
		return 0; /* a resend: already stored */
	if (w->w_ngot >= WINDOWS_MAX_EXPECT) {
		errno = E2BIG;
		return -1;
	}
	if (c->runtime) {
		if (w->w_runtime == NULL &&
		    (w->w_runtime = stacks_new(WINDOW_BUDGET)) == NULL)
			return -1;
		if (chunk_merge(w->w_runtime, c) == -1)
			return -1;
	} else if (chunk_merge(w->w_table, c) == -1) {
		return -1;
	}
	snprintf(w->w_got[w->w_ngot++], WINDOWS_NAME_MAX, "%s", c->worker);
	if (c->frequency != 0)
		w->w_meta.wm_frequency = c->frequency;
	return 0;
}

int
windows_snapshot(struct windows *ws, const Profd__Snapshot *s)
{
	struct window *w;

	if (s->window <= ws->ws_done || s->n_expect > WINDOWS_MAX_EXPECT) {
		errno = EINVAL;
		return -1;
	}
	if ((w = windows_find(ws, s->window, 1)) == NULL)
		return -1;
	w->w_snapshot = 1;
	w->w_meta.wm_start = s->start_time;
	w->w_meta.wm_end = s->end_time;
	w->w_meta.wm_cpu_avg = s->cpu_avg;
	w->w_meta.wm_mem_avg = s->mem_avg;
	w->w_nexpect = 0;
	for (size_t i = 0; i < s->n_expect; i++)
		snprintf(w->w_expect[w->w_nexpect++], WINDOWS_NAME_MAX, "%s",
			 s->expect[i]);
	w->w_deadline = now_ms() + window_grace_ms(s->start_time, s->end_time);
	return 0;
}

static int
window_complete(const struct window *w)
{
	if (!w->w_snapshot)
		return 0;
	for (size_t i = 0; i < w->w_nexpect; i++)
		if (!window_has((char(*)[WINDOWS_NAME_MAX])w->w_got, w->w_ngot,
				w->w_expect[i]))
			return 0;
	return 1;
}

static void
window_release(struct window *w)
{
	stacks_free(w->w_table);
	stacks_free(w->w_runtime);
	memset(w, 0, sizeof(*w));
}

/* Returns the open window with the lowest id, or NULL. */
static struct window *
windows_oldest(struct windows *ws)
{
	struct window *best = NULL;

	for (size_t i = 0; i < WINDOWS_MAX; i++) {
		struct window *w = &ws->ws_win[i];

		if (w->w_used && (best == NULL ||
				  w->w_meta.wm_window < best->w_meta.wm_window))
			best = w;
	}
	return best;
}

/* gProfiler's --disable-container-names, --disable-application-
 * identifiers: forgotten in every window before it is stored. */
static int strip_containers, strip_appids;

void
windows_strip(int containers, int appids)
{
	strip_containers = containers;
	strip_appids = appids;
}

/* Writes window w: runtime stacks in place of perf's where there are. */
static int
window_write(windows_store_fn store, void *sarg, struct window *w)
{
	struct stack_table *merged;
	int rv;

	if (w->w_runtime == NULL) {
		stacks_strip(w->w_table, strip_containers, strip_appids);
		return store(sarg, w->w_table, &w->w_meta);
	}
	if ((merged = stacks_new(WINDOW_BUDGET)) == NULL)
		return -1;
	if (merge_runtime(merged, w->w_table, w->w_runtime) == -1)
		log_warn("window %llu: merged profile is incomplete: %s",
			 (unsigned long long)w->w_meta.wm_window,
			 strerror(errno));
	stacks_strip(merged, strip_containers, strip_appids);
	rv = store(sarg, merged, &w->w_meta);
	stacks_free(merged);
	return rv;
}

/* Stores w (as it is), tells done, and frees its slot. */
static int
window_finish(struct windows *ws, struct window *w, windows_store_fn store,
	      void *sarg, void (*done)(void *arg, uint64_t id, int ok),
	      void *arg)
{
	int ok;

	if (!window_complete(w))
		log_warn("window %llu written without every profiler "
			 "(%zu of %zu chunks)",
			 (unsigned long long)w->w_meta.wm_window, w->w_ngot,
			 w->w_nexpect);
	if (w->w_meta.wm_end == 0)
		w->w_meta.wm_start = w->w_meta.wm_end = time(NULL);
	ok = window_write(store, sarg, w) == 0;
	ws->ws_done = w->w_meta.wm_window;
	if (done != NULL)
		done(arg, w->w_meta.wm_window, ok);
	window_release(w);
	return ok ? 0 : -1;
}

int
windows_flush(struct windows *ws, windows_store_fn store, void *sarg, int force,
	      void (*done)(void *arg, uint64_t id, int ok), void *arg)
{
	struct window *w;

	/* In order: a later window never overtakes an earlier one. */
	while ((w = windows_oldest(ws)) != NULL) {
		int64_t left = w->w_deadline - now_ms();

		if (!force && !window_complete(w) && left > 0)
			return (int)left;
		window_finish(ws, w, store, sarg, done, arg);
	}
	return -1;
}

void
windows_free(struct windows *ws)
{
	for (size_t i = 0; i < WINDOWS_MAX; i++)
		if (ws->ws_win[i].w_used)
			window_release(&ws->ws_win[i]);
}
