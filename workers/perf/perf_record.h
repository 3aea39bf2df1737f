/* Running `perf record` with rotation, and `perf script` into the parser. */
#ifndef PROFD_PERF_RECORD_H
#define PROFD_PERF_RECORD_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacks.h"
#include "perf_opts.h"
#include "worker.h"

struct perf_parser;

#define PERF_ROTATE_WAIT_MS    5000 /* for the rotated file after SIGUSR2 */
#define PERF_SCRIPT_TIMEOUT_MS 120000
#define PERF_STOP_WAIT_MS      5000
#define PERF_EVENT_CACHE_S                                                     \
	3600 /* a discovered event is reused this                              \
		long by the next start */
#define PERF_ROTATE_SLACK_S                                                    \
	2			   /* the rotation timeout is at least this    \
				      longer than a window */
#define PERF_RECORD_NO_CGROUP (-2) /* perf_record_start: none to profile */

struct perf_cg_choice;

struct perf_record {
	pid_t pr_pid; /* perf record, or 0 */
	char pr_perf[PATH_MAX];
	char pr_dir[PATH_MAX]; /* scratch directory */
	char pr_event[64];     /* "" for perf's default event */
	char pr_out[16];       /* output name in pr_dir: "perf.fp", ... */
	int pr_dwarf;	       /* --call-graph dwarf instead of -g */
	int pr_gone;	       /* every given PID exited: not restarted */
	size_t pr_npids;       /* PIDs given (0: the whole host) */
	int pr_cache;	       /* keep the discovered event in pr_dir */
	int64_t pr_started_ms;
	int64_t pr_rotated_ms;		   /* last rotation (or start) */
	struct perf_cg_choice *pr_cgroups; /* --perf-use-cgroups, or NULL */
	int pr_cgroups_fresh; /* just ranked: the next start takes them */
};

/* Finds the perf executable; -1 with a logged hint when there is none. */
int perf_find(struct perf_record *r);
/* --perf-use-cgroups: ranks the cgroups for the next perf_record_start;
 * returns how many were chosen, 0 (logged) or -1. */
int perf_record_cgroups(struct perf_record *r, const struct perf_opts *o);
/* Starts perf record for o into r->pr_dir; 0 or -1. With
 * --perf-use-cgroups it ranks the cgroups again unless perf_record_cgroups
 * just did: PERF_RECORD_NO_CGROUP when there is none (perf not started). */
int perf_record_start(struct perf_record *r, const struct perf_opts *o);
/* Rotates perf's output and parses the finished part into t; 0 or -1
 * (the window is lost, perf goes on). */
int perf_record_rotate(struct perf_record *r, const struct perf_opts *o,
		       struct stack_table *t);
/* The rotation timeout as gProfiler computes it: 3 windows, or 1.5 at 11 Hz
 * and below; at least a window plus PERF_ROTATE_SLACK_S. In ms. */
int64_t perf_rotate_timeout_ms(const struct perf_opts *o);
/* Rotates perf's output and deletes it unparsed: no window asked for it
 * within the rotation timeout, and perf's file must not grow unbounded. */
void perf_record_drop(struct perf_record *r);
/* Stops perf record, reaps it, removes its files, frees its cgroups. */
void perf_record_stop(struct perf_record *r);
/* Reads perf script's output from fd into p up to its end, within
 * PERF_SCRIPT_TIMEOUT_MS; 0 or -1. */
int perf_pump(int fd, struct perf_parser *p);
/* Tries perf's default event, then cpu-clock, then task-clock, keeping in
 * r->pr_event the first that yields samples; -1 if none does. With
 * pr_cache, an event found within PERF_EVENT_CACHE_S by an earlier start
 * in the same directory is used without probing (a restarted worker is
 * back in a moment); it is forgotten when perf record fails to start. */
int perf_discover_event(struct perf_record *r, const struct perf_opts *o);

#endif
