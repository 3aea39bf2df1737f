/* Running `perf record` with rotation, and `perf script` into the parser. */
#ifndef PROFD_PERF_RECORD_H
#define PROFD_PERF_RECORD_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacks.h"
#include "worker.h"

struct perf_parser;

#define PERF_ROTATE_WAIT_MS    5000 /* for the rotated file after SIGUSR2 */
#define PERF_SCRIPT_TIMEOUT_MS 120000
#define PERF_STOP_WAIT_MS      5000

struct perf_record {
	pid_t pr_pid; /* perf record, or 0 */
	char pr_perf[PATH_MAX];
	char pr_dir[PATH_MAX]; /* scratch directory */
	char pr_event[64];     /* "" for perf's default event */
	int64_t pr_started_ms;
};

/* Finds the perf executable; -1 with a logged hint when there is none. */
int perf_find(struct perf_record *r);
/* Starts perf record for o into r->pr_dir; 0 or -1. */
int perf_record_start(struct perf_record *r, const struct worker_opts *o);
/* Rotates perf's output and parses the finished part into t; 0 or -1
 * (the window is lost, perf goes on). */
int perf_record_rotate(struct perf_record *r, const struct worker_opts *o,
		       struct stack_table *t);
/* Stops perf record, reaps it, and removes its files. */
void perf_record_stop(struct perf_record *r);
/* Reads perf script's output from fd into p up to its end, within
 * PERF_SCRIPT_TIMEOUT_MS; 0 or -1. */
int perf_pump(int fd, struct perf_parser *p);
/* Tries perf's default event, then cpu-clock, then task-clock, keeping in
 * r->pr_event the first that yields samples; -1 if none does. */
int perf_discover_event(struct perf_record *r, const struct worker_opts *o);

#endif
