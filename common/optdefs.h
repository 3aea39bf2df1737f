/* The options profd hands its profilers in Configure, defined once.
 *
 * Each row gives the option's long name (also its profd.conf key and,
 * upper-cased with '_' for '-' after GPROFILER_, its environment
 * variable), its short letter, its kind, the stem of its field (po_STEM in
 * profd's options, wo_STEM in a worker's), its Configure field, its range
 * or its words, and the workers that take it on their own command line.
 * profd's parser, profd.conf, the Configure message a worker checks and
 * the workers' standalone options all come from this table. */
#ifndef PROFD_OPTDEFS_H
#define PROFD_OPTDEFS_H

#include <stddef.h>
#include <stdint.h>

#include "profd.pb-c.h"
#include "worker.h"

enum optdef_kind {
	OD_FLAG, /* no value: sets 1 */
	OD_NUM,	 /* a number from od_min to od_max */
	OD_NUM0, /* the same; 0 in Configure means the worker's default */
	OD_WORD, /* one of od_words ('|'-separated), or of od_chars */
};

/* Which workers take an option on their own command line. */
#define OD_PERF	  0x1u
#define OD_PYTHON 0x2u
#define OD_JAVA	  0x4u
#define OD_ANY	  (OD_PERF | OD_PYTHON | OD_JAVA)

#define OD_PERF_MODES "fp|dwarf|smart|disabled"

/* X(kind, name, short, stem, configure field, min, max, words, workers) */
#define PROFD_CONFIGURE_OPTIONS(X)                                             \
	X(OD_NUM, "profiling-frequency", 'f', frequency, frequency, 1,         \
	  WORKER_MAX_FREQUENCY, NULL, OD_ANY)                                  \
	X(OD_NUM, "profiling-duration", 'd', duration, duration, 1,            \
	  WORKER_MAX_DURATION, NULL, OD_ANY)                                   \
	X(OD_WORD, "perf-mode", 0, perf_mode, perf_mode, 0, 0, OD_PERF_MODES,  \
	  OD_PERF)                                                             \
	X(OD_FLAG, "insert-dso-name", 0, insert_dso_name, insert_dso_name, 0,  \
	  0, NULL, OD_PERF)                                                    \
	X(OD_NUM0, "perf-dwarf-stack-size", 0, dwarf_stack_size,               \
	  perf_dwarf_stack_size, 1, WORKER_MAX_DWARF_STACK, NULL, OD_PERF)     \
	X(OD_NUM, "skip-system-profilers-above", 0, skip_above,                \
	  skip_system_profilers_above, 0, WORKER_MAX_SKIP_ABOVE, NULL,         \
	  OD_PERF)                                                             \
	X(OD_WORD, "perf-events", 0, perf_events, perf_events, 0, 0, NULL,     \
	  OD_PERF)                                                             \
	X(OD_WORD, "perf-engine", 0, perf_engine, perf_engine, 0, 0,           \
	  "auto|perf|native", OD_PERF)                                         \
	X(OD_NUM0, "perf-restart-rss", 0, restart_rss_mb, perf_restart_rss_mb, \
	  1, WORKER_MAX_RESTART_RSS_MB, NULL, OD_PERF)                         \
	X(OD_NUM0, "perf-restart-after", 0, restart_after_s,                   \
	  perf_restart_after, 1, WORKER_MAX_RESTART_AFTER_S, NULL, OD_PERF)    \
	X(OD_FLAG, "perf-no-memory-restart", 0, no_memory_restart,             \
	  perf_no_memory_restart, 0, 0, NULL, OD_PERF)                         \
	X(OD_FLAG, "perf-use-cgroups", 0, use_cgroups, perf_use_cgroups, 0, 0, \
	  NULL, OD_PERF)                                                       \
	X(OD_NUM, "perf-max-cgroups", 0, max_cgroups, perf_max_cgroups, 0,     \
	  WORKER_PERF_CGROUPS_LIMIT, NULL, OD_PERF)                            \
	X(OD_NUM, "perf-max-docker-containers", 0, max_docker,                 \
	  perf_max_docker_containers, 0, WORKER_PERF_CGROUPS_LIMIT, NULL,      \
	  OD_PERF)                                                             \
	X(OD_FLAG, "python-idle", 0, python_idle, python_idle, 0, 0, NULL,     \
	  OD_PYTHON)                                                           \
	X(OD_FLAG, "python-gil", 0, python_gil, python_gil, 0, 0, NULL,        \
	  OD_PYTHON)                                                           \
	X(OD_FLAG, "python-no-line-numbers", 0, python_no_lines,               \
	  python_no_line_numbers, 0, 0, NULL, OD_PYTHON)                       \
	X(OD_NUM, "max-processes-runtime-profiler", 0, max_procs,              \
	  max_processes_runtime_profiler, 0, WORKER_MAX_RUNTIME_PROCS, NULL,   \
	  OD_PYTHON | OD_JAVA)                                                 \
	X(OD_NUM, "min-duration", 0, min_duration, min_duration, 0,            \
	  WORKER_MAX_MIN_DURATION, NULL, OD_PYTHON | OD_JAVA)

/* One row of the table, as every user of it sees it. */
struct optdef {
	enum optdef_kind od_kind;
	const char *od_name;
	int od_short;
	size_t od_cfg;	  /* offset in Profd__Configure */
	size_t od_wo;	  /* offset in struct worker_opts */
	size_t od_wo_len; /* its size (words: the buffer's) */
	uint32_t od_min, od_max;
	const char *od_words; /* "a|b|c"; NULL: od_chars */
	unsigned od_workers;
};

/* The table, ended by a row without a name. */
extern const struct optdef optdefs[];

/* The row named name, or NULL. */
const struct optdef *optdef_find(const char *name);

/* Checks a value given for row d; 0, or -1 with what it wants in want. */
int optdef_check(const struct optdef *d, const char *arg, char *want,
		 size_t wantlen);

/* Checks every field of m against the table; 0, or -1 naming the field
 * in bad. */
int optdef_check_configure(const Profd__Configure *m, const char **bad);

/* Copies the table's fields from m into o (m checked before). */
void optdef_apply(const Profd__Configure *m, struct worker_opts *o);

/* Sets row d of o from a checked value given on a command line. */
void optdef_set(const struct optdef *d, struct worker_opts *o, const char *arg);

#endif
