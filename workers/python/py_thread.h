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
#define PY_WALK_TRIES  3   /* walks of a thread that changed under us */

struct pyframe {
	uint64_t pf_code; /* code object */
	uint64_t pf_pos;  /* f_lasti (3.8-3.10) or instruction pointer */
};

struct pythread {
	uint64_t pt_addr;     /* PyThreadState */
	uint64_t pt_top;      /* its newest frame when walked */
	uint64_t pt_top_code; /* that frame's code field */
	pid_t pt_tid;	      /* host TID; -1 unknown */
	int pt_gil;	      /* holds the GIL */
	size_t pt_depth;
	int pt_truncated;			/* deeper than PY_MAX_DEPTH */
	struct pyframe pt_frames[PY_MAX_DEPTH]; /* leaf first */
};

/* Called for each thread; its frames are not walked yet. Return 1 to
 * walk them and be called again by the frames callback, 0 to skip. */
typedef int (*pythread_filter_fn)(void *arg, struct pyproc *p,
				  struct pythread *t);
/* Called with the walked frames of a thread. */
typedef void (*pythread_frames_fn)(void *arg, struct pyproc *p,
				   struct pythread *t);

/* Walks every thread of the main interpreter. Returns the number of
 * threads seen, or -1 when the runtime cannot be read (errno). */
int pythread_walk(struct pyproc *p, struct pythread *scratch,
		  pythread_filter_fn filter, pythread_frames_fn frames,
		  void *arg);
/* Walks the frame chain of the thread state ts (pl_ts_size bytes read
 * at t->pt_addr) into t. 0, or -1 on a cycle or an unreadable frame. */
int pythread_frames(struct pyproc *p, const uint8_t *ts, struct pythread *t);

#endif
