/* The output directory: collapsed files with gProfiler's header, HTML. */
#ifndef PROFD_OUTPUT_H
#define PROFD_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "stacks.h"

/* What a window's header says besides its stacks. */
struct window_meta {
	uint64_t wm_window;
	int64_t wm_start; /* unix seconds */
	int64_t wm_end;
	double wm_cpu_avg;
	double wm_mem_avg;
	uint32_t wm_frequency;
	uint32_t wm_duration;
	int wm_continuous;
	const char *wm_perf_mode;
};

struct output {
	int ou_dirfd;	    /* the output directory, opened by profd */
	const char *ou_dir; /* its name, for messages */
	int ou_collapsed;   /* write gProfiler's .col files */
	int ou_pprof;	    /* write gzipped pprof .pb.gz files */
	int ou_flamegraph;  /* also write HTML */
	int ou_rotating;    /* keep only the last window's files */
	char ou_prev[64];   /* base name of the previous window's files */
};

/* Writes profile_<UTC end time>.col (and .pb.gz, .html) for one window
 * and replaces last_profile.col (last_profile.pb.gz,
 * last_flamegraph.html) atomically.
 * 0, or -1 with a logged reason. */
int output_write(struct output *o, const struct stack_table *t,
		 const struct window_meta *m);

#define OUTPUT_MODE 0640 /* outputs: not world-readable */

#define OUTPUT_NO_APPMD	      0x1u	 /* --disable-application-metadata */
#define OUTPUT_NO_METRICS     0x2u	 /* --disable-metrics-collection */
#define OUTPUT_NO_CONTAINERS  0x4u	 /* --disable-container-names */
#define OUTPUT_MAX_CONTAINERS 256	 /* names listed in a header */
#define OUTPUT_HTML	      0x8u	 /* the flame graph in the header too */
#define OUTPUT_HTML_MAX	      (2u << 20) /* bytes of that HTML, at most */

/* Sets what gProfiler's switches leave out of every collapsed file. */
void output_gprofiler(unsigned flags);
/* The flags output_gprofiler set. */
unsigned output_gprofiler_flags(void);

/* Creates name under dirfd for writing as a new file of mode: a file or
 * symbolic link left there is removed first, never followed or truncated
 * (O_CREAT | O_EXCL | O_NOFOLLOW). fd (close-on-exec) or -1 with errno. */
int output_create(int dirfd, const char *name, mode_t mode);

/* Writes one window as gProfiler's collapsed file (header and stacks) to
 * f; -1 on a write error. */
int output_write_col(FILE *f, const struct stack_table *t,
		     const struct window_meta *m);

#endif
