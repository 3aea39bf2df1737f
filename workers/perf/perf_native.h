/*
 * The native engine of profd-perf: samples with perf_event_open on every
 * CPU, counts identical (pid, comm, address chain) stacks in a bounded
 * table during the window, and names each distinct address once per window
 * at snapshot time (perf_symbols.c), in the same form as the perf engine's
 * parser of perf script.
 */
#ifndef PROFD_PERF_NATIVE_H
#define PROFD_PERF_NATIVE_H

#include <stdint.h>

#include "stacks.h"
#include "perf_opts.h"
#include "worker.h"

#define PERF_NATIVE_MAX_STACKS	 65536	     /* distinct stacks per window */
#define PERF_NATIVE_MAX_BYTES	 (32u << 20) /* bytes of those stacks */
#define PERF_NATIVE_MAX_PROCS	 32768	     /* processes followed */
#define PERF_NATIVE_MAX_TASKS	 131072	     /* threads followed */
#define PERF_NATIVE_MAX_MAPS	 8192	/* executable mappings per process */
#define PERF_NATIVE_MAX_ALL_MAPS 262144 /* ... and of all processes */
#define PERF_NATIVE_ADDR_SLOTS                                                 \
	32768 /* addresses named per window,                                   \
		 cached */

struct perf_native;

/* Opens the events for o (every CPU; --pids are followed with their
 * children) and starts reading them in a thread of their own. NULL with
 * errno when the kernel refuses (EACCES, EPERM, ENOENT, ...), logged at
 * debug level only: the caller decides whether it is an error. */
struct perf_native *perf_native_start(const struct perf_opts *o);
/* Ends the window: adds its stacks, named, to t and starts the next one;
 * 0 or -1 (the window is lost). */
int perf_native_snapshot(struct perf_native *n, const struct perf_opts *o,
			 struct stack_table *t);
/* --perf-use-cgroups: chooses the cgroups again and opens or closes the
 * events of those that changed; 0 (also without cgroups), or -1. */
int perf_native_cgroups(struct perf_native *n, const struct perf_opts *o);
/* Returns when the last window ended (or sampling started), in ms. */
int64_t perf_native_last_ms(const struct perf_native *n);
/* The samples the kernel could not write in the last window named. */
uint64_t perf_native_lost(const struct perf_native *n);
/* Forgets the window's stacks unnamed (no window was asked for). */
void perf_native_drop(struct perf_native *n);
/* Stops the thread, closes the events and frees everything. */
void perf_native_stop(struct perf_native *n);
/* Returns the name of the event sampled. */
const char *perf_native_event(const struct perf_native *n);

#endif
