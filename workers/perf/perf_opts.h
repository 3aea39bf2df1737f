/* profd-perf's settings: what every profiler takes, and its own part of
 * Configure (PROFD_PERF_OPTIONS in optdefs.h). */
#ifndef PROFD_PERF_OPTS_H
#define PROFD_PERF_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "worker.h"

struct perf_opts {
	/* Copied from the worker's common options at start. */
	uint32_t wo_frequency;
	uint32_t wo_duration;
	uint32_t wo_pids[PROFD_MAX_PIDS];
	size_t wo_npids;
	/* Its own part. */
	char wo_perf_mode[16];
	int wo_insert_dso_name;
	uint32_t wo_dwarf_stack_size;
	uint32_t wo_skip_above;	 /* processes; 0: never skip perf */
	char wo_perf_events[64]; /* perf event; "": discover one */
	char wo_perf_engine[8];	 /* auto, perf, native ("": auto) */
	/* The two words above, parsed once at start. */
	enum perf_mode wo_mode;
	enum perf_engine wo_engine;
	uint32_t wo_restart_rss_mb;  /* restart perf over this RSS ... */
	uint32_t wo_restart_after_s; /* ... once it ran this long */
	int wo_no_memory_restart;
	int wo_use_cgroups;	 /* perf -G on the busiest cgroups ... */
	uint32_t wo_max_cgroups; /* ... this many in all ... */
	uint32_t wo_max_docker;	 /* ... docker containers first */
};

struct worker_ctx;

/* Its settings, with the common ones of ctx copied in. */
struct perf_opts *perf_opts_of(struct worker_ctx *ctx);

#endif
