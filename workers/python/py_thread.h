/*
 * Threads and frames of an attached Python process: the thread list of
 * the main interpreter, the GIL holder, and each thread's frame chain,
 * all read without stopping the process and bounded against cycles and
 * garbage.
 */
#ifndef PROFD_PY_THREAD_H
#define PROFD_PY_THREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "py_proc.h"

#define PY_MAX_DEPTH   512 /* frames walked per thread */
#define PY_MAX_THREADS 512 /* thread states walked per interpreter */
#define PY_PTHREAD_SCAN                                                        \
	2048		   /* bytes of struct pthread searched for the TID     \
			    */
#define PY_PTHREAD_TID 720 /* glibc x86-64: offsetof(struct pthread, tid) */
#define PY_BLOCK_PAGES 8   /* pages of frames read in one go (3.11+) */
#define PY_PAGE	       4096

/* Why a walk is torn: it is kept all the same, and counted. */
#define PYTORN_CHAIN 1 /* a caller was unreadable or a cycle: root missing */
#define PYTORN_MOVED 2 /* the newest frame changed during the walk */

struct pyframe {
	uint64_t pf_code; /* code object */
	uint64_t pf_pos;  /* f_lasti (3.8-3.10) or instruction pointer */
};

/* The last block of remote memory frames were read from. */
struct pyblock {
	uint64_t pb_base;      /* remote address of pb_buf[0] */
	uint64_t pb_lo, pb_hi; /* the part read: [lo, hi) */
	uint8_t pb_buf[PY_BLOCK_PAGES * PY_PAGE];
};

struct pythread {
	uint64_t pt_addr; /* PyThreadState */
	uint64_t pt_top;  /* its newest frame when walked */
	pid_t pt_tid;	  /* host TID; -1 unknown */
	int pt_gil;	  /* holds the GIL */
	size_t pt_depth;
	int pt_truncated;			/* deeper than PY_MAX_DEPTH */
	int pt_torn;				/* PYTORN_* bits */
	struct pyframe pt_frames[PY_MAX_DEPTH]; /* leaf first */
	struct pyblock pt_block;
};

/* What one walk of a process saw, for the window's accounting. */
struct pywalk_counts {
	size_t wc_threads;    /* thread states read */
	size_t wc_passed;     /* ... that the filter kept */
	size_t wc_unreadable; /* ... whose newest frame could not be read */
	size_t wc_empty;      /* ... that had no Python frame */
};

/* Called for each thread; its frames are not walked yet. Return 1 to
 * walk them and be called again by the frames callback, 0 to skip. */
typedef int (*pythread_filter_fn)(void *arg, struct pyproc *p,
				  struct pythread *t);
/* Called with the walked frames of a thread. */
typedef void (*pythread_frames_fn)(void *arg, struct pyproc *p,
				   struct pythread *t);

/* Walks every thread of the main interpreter once, never retrying: a
 * walk torn by the running program is passed on with t->pt_torn set.
 * Fills *wc. Returns the number of threads seen, or -1 when the runtime
 * cannot be read (errno). */
int pythread_walk(struct pyproc *p, struct pythread *scratch,
		  pythread_filter_fn filter, pythread_frames_fn frames,
		  void *arg, struct pywalk_counts *wc);
/* Walks the frame chain of the thread state ts (pl_ts_size bytes read
 * at t->pt_addr) into t, keeping the frames read before an unreadable
 * caller or a cycle (PYTORN_CHAIN). 0, or -1 when not even the newest
 * frame could be read. */
int pythread_frames(struct pyproc *p, const uint8_t *ts, struct pythread *t);

#endif
