/*
 * The sampler: which Python processes are profiled, and one sample of
 * each into a stack table. Not thread-safe: one caller at a time.
 */
#ifndef PROFD_PY_SAMPLE_H
#define PROFD_PY_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "py_code.h"
#include "py_proc.h"
#include "py_thread.h"
#include "stacks.h"

#define PYSAMPLE_MAX_PROCS 4096 /* processes profiled at once */
#define PYSAMPLE_FRAME_MAX 1536 /* bytes of one frame's text */

struct pyopts {
	int po_idle;		  /* --python-idle: threads off the CPU too */
	int po_gil;		  /* --python-gil: only the GIL holder */
	int po_no_lines;	  /* --python-no-line-numbers */
	uint32_t po_max_procs;	  /* --max-processes-runtime-profiler; 0 all */
	uint32_t po_min_duration; /* --min-duration, seconds */
};

/* Why a tick gave no sample of a process. */
enum pyns {
	PYNS_IDLE,	 /* no thread passed the filter: off CPU, or not
			    holding the GIL with --python-gil */
	PYNS_NO_THREAD,	 /* no thread state (none yet, or none left) */
	PYNS_NO_FRAMES,	 /* threads on the CPU, none in Python code */
	PYNS_READ_ERROR, /* the runtime or every newest frame unreadable */
	PYNS_GONE,	 /* the process exited */
	PYNS_FULL,	 /* the window's stack table is full */
	PYNS_LATE,	 /* the sampler missed the tick (it ran late) */
	PYNS_COUNT
};

/* One window's accounting: every tick of every target either gave a
 * sample or is counted under its reason. */
struct pystats {
	uint64_t st_ticks;	    /* timer ticks, late ones included */
	uint64_t st_target_ticks;   /* ticks x processes attached */
	uint64_t st_sampled;	    /* target ticks with >= 1 sample */
	uint64_t st_samples;	    /* stacks added (one per thread) */
	uint64_t st_torn;	    /* ... of them torn, kept */
	uint64_t st_unknown_frames; /* frames whose code was unreadable */
	uint64_t st_nosample[PYNS_COUNT];
};

struct pytarget {
	struct pyproc pt_proc;
	int pt_attached;
	int pt_given; /* named with --pids */
	char pt_err[PYPROC_ERR_MAX];
	uint64_t pt_samples; /* stacks added this window */
	uint64_t pt_failed;  /* walks that failed this window */
	uint64_t pt_ok;	     /* walks that succeeded this window */
	uint64_t pt_cpu;     /* CPU ticks at discovery */
};

struct pysampler {
	struct pyopts ps_opts;
	struct pytarget *ps_targets;
	size_t ps_ntargets;
	struct pycode_cache *ps_codes;
	struct pythread *ps_thread;   /* scratch for one thread */
	struct stack_table *ps_table; /* during a tick */
	int ps_proc;		      /* process index in ps_table */
	uint64_t ps_ticks, ps_stacks, ps_dropped;
	struct pystats ps_window; /* this window so far */
	struct pystats ps_last;	  /* the window pysampler_window_end ended */
	uint64_t ps_tick_added;	  /* stacks added for this target and tick */
	int ps_tick_full;	  /* ... and the table refused one */
};

/* Prepares a sampler with options o; 0 or -1 (ENOMEM). */
int pysampler_init(struct pysampler *s, const struct pyopts *o);
/* Releases every target and cache. */
void pysampler_free(struct pysampler *s);
/* Chooses the targets: the n PIDs given, or (n == 0) every Python
 * process of the host older than --min-duration, the busiest
 * --max-processes-runtime-profiler of them. Keeps what is already
 * attached. Returns the number of targets. */
size_t pysampler_discover(struct pysampler *s, const uint32_t *pids, size_t n);
/* Samples every target once into t. */
void pysampler_tick(struct pysampler *s, struct stack_table *t);
/* Counts n ticks the caller's timer missed (it ran late). */
void pysampler_late(struct pysampler *s, uint64_t n);
/* Ends a window in t: a "[Profiling error: reason]" stack for each target
 * that failed and produced nothing; moves the window's accounting to
 * ps_last and resets it. */
void pysampler_window_end(struct pysampler *s, struct stack_table *t);
/* The window's ticks that gave no sample, threads off the CPU aside. */
uint64_t pysampler_stats_lost(const struct pystats *st);
/* Formats the accounting st as one line of "key=value" words into buf
 * (see profd-python(8)); returns buf. */
const char *pysampler_stats_format(const struct pystats *st, char *buf,
				   size_t len);
/* Formats one frame as "name (file:line)_[p]" (or "(file)" without
 * lines) into buf; returns its length. */
size_t pysampler_frame(char *buf, size_t len, const char *name,
		       const char *file, int line);

#endif
