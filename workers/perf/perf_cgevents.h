/*
 * --perf-use-cgroups for the native engine: one sampling event per (chosen
 * cgroup, CPU), opened with PERF_FLAG_PID_CGROUP and redirected with
 * PERF_EVENT_IOC_SET_OUTPUT into that CPU's one ring, so that the rings'
 * memory does not grow with the cgroups. The cgroups are chosen as the
 * perf engine chooses them (perf_cgroups.c) and chosen again at each
 * window; only the events of cgroups that changed are closed or opened.
 */
#ifndef PROFD_PERF_CGEVENTS_H
#define PROFD_PERF_CGEVENTS_H

#include <linux/perf_event.h>
#include <stddef.h>

#include "perf_opts.h"
#include "perf_ring.h"

/* Events (cgroups x CPUs) held at most; never over half the soft limit of
 * open files either. Past it, fewer cgroups are profiled (logged). */
#define PERF_CGEV_MAX_EVENTS 2048

struct perf_cgevents;

/* Prepares the events for attr a (copied; opened enabled), one per ring of
 * rings[0..nrings) and its CPU; NULL with errno. Nothing is opened yet. */
struct perf_cgevents *perf_cgevents_new(const struct perf_event_attr *a,
					const struct perf_ring *rings,
					size_t nrings);
/* Chooses the cgroups for o again and opens or closes the events of those
 * that changed (a cgroup removed and made again under the same name is a
 * new one); returns how many cgroups are profiled, or -1 (no hierarchy for
 * perf, or out of memory: the events held are kept). */
int perf_cgevents_update(struct perf_cgevents *e, const struct perf_opts *o);
/* Returns the number of events held. */
size_t perf_cgevents_count(const struct perf_cgevents *e);
/* Closes every event and frees e; NULL is allowed. */
void perf_cgevents_free(struct perf_cgevents *e);

#endif
