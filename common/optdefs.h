/* The settings profd hands its profilers, defined once.
 *
 * Each row gives the setting's long name (also its profd.conf key and,
 * upper-cased with '_' for '-' after GPROFILER_, its environment
 * variable), its short letter, its kind, the stem of the field that holds
 * it (po_STEM in profd's options, wo_STEM in the worker's), its field in
 * the Configure message or the worker's part of it, and its range or
 * words. profd's parser, profd.conf, the Configure message a worker
 * checks and each worker's own command line all come from these lists:
 * the common one, and one per worker (a worker's part of Configure).
 * A name in two workers' lists (Python's and Java's) is one option of
 * profd, handed to both. */
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

#define OD_PERF_MODES "fp|dwarf|smart|disabled"

/* X(kind, name, short, stem, Configure field, min, max, words) */
#define PROFD_COMMON_OPTIONS(X)                                                \
	X(OD_NUM, "profiling-frequency", 'f', frequency, frequency, 1,         \
	  WORKER_MAX_FREQUENCY, NULL)                                          \
	X(OD_NUM, "profiling-duration", 'd', duration, duration, 1,            \
	  WORKER_MAX_DURATION, NULL)

/* profd-perf's part (PerfSettings). */
#define PROFD_PERF_OPTIONS(X)                                                  \
	X(OD_WORD, "perf-mode", 0, perf_mode, perf_mode, 0, 0, OD_PERF_MODES)  \
	X(OD_FLAG, "insert-dso-name", 0, insert_dso_name, insert_dso_name, 0,  \
	  0, NULL)                                                             \
	X(OD_NUM0, "perf-dwarf-stack-size", 0, dwarf_stack_size,               \
	  perf_dwarf_stack_size, 1, WORKER_MAX_DWARF_STACK, NULL)              \
	X(OD_NUM, "skip-system-profilers-above", 0, skip_above,                \
	  skip_system_profilers_above, 0, WORKER_MAX_SKIP_ABOVE, NULL)         \
	X(OD_WORD, "perf-events", 0, perf_events, perf_events, 0, 0, NULL)     \
	X(OD_WORD, "perf-engine", 0, perf_engine, perf_engine, 0, 0,           \
	  "auto|perf|native")                                                  \
	X(OD_NUM0, "perf-restart-rss", 0, restart_rss_mb, perf_restart_rss_mb, \
	  1, WORKER_MAX_RESTART_RSS_MB, NULL)                                  \
	X(OD_NUM0, "perf-restart-after", 0, restart_after_s,                   \
	  perf_restart_after, 1, WORKER_MAX_RESTART_AFTER_S, NULL)             \
	X(OD_FLAG, "perf-no-memory-restart", 0, no_memory_restart,             \
	  perf_no_memory_restart, 0, 0, NULL)                                  \
	X(OD_FLAG, "perf-use-cgroups", 0, use_cgroups, perf_use_cgroups, 0, 0, \
	  NULL)                                                                \
	X(OD_NUM, "perf-max-cgroups", 0, max_cgroups, perf_max_cgroups, 0,     \
	  WORKER_PERF_CGROUPS_LIMIT, NULL)                                     \
	X(OD_NUM, "perf-max-docker-containers", 0, max_docker,                 \
	  perf_max_docker_containers, 0, WORKER_PERF_CGROUPS_LIMIT, NULL)

/* profd-python's part (PythonSettings). */
#define PROFD_PYTHON_OPTIONS(X)                                                \
	X(OD_FLAG, "python-idle", 0, python_idle, python_idle, 0, 0, NULL)     \
	X(OD_FLAG, "python-gil", 0, python_gil, python_gil, 0, 0, NULL)        \
	X(OD_FLAG, "python-no-line-numbers", 0, python_no_lines,               \
	  python_no_line_numbers, 0, 0, NULL)                                  \
	PROFD_RUNTIME_OPTIONS(X)

/* profd-java's part (JavaSettings). */
#define PROFD_JAVA_OPTIONS(X) PROFD_RUNTIME_OPTIONS(X)

/* What every runtime profiler takes (in Python's and Java's parts). */
#define PROFD_RUNTIME_OPTIONS(X)                                               \
	X(OD_NUM, "max-processes-runtime-profiler", 0, max_procs,              \
	  max_processes_runtime_profiler, 0, WORKER_MAX_RUNTIME_PROCS, NULL)   \
	X(OD_NUM, "min-duration", 0, min_duration, min_duration, 0,            \
	  WORKER_MAX_MIN_DURATION, NULL)

/* One row, bound to a message (Configure or a worker's part) and to the
 * struct that holds its value. */
struct optdef {
	enum optdef_kind od_kind;
	const char *od_name;
	int od_short;
	size_t od_msg; /* offset in the message */
	size_t od_dst; /* offset in the holder */
	size_t od_len; /* the holder's field's size (words: the buffer) */
	uint32_t od_min, od_max;
	const char *od_words; /* "a|b|c"; NULL: od_chars */
};

/* Builds rows from a list: define OD_MSG (the message type), OD_HOLDER
 * (the holder's type) and OD_FIELD(stem) (the holder's field) first:
 *   static const struct optdef rows[] = {
 *       PROFD_PERF_OPTIONS(OPTDEF_ROW) OPTDEF_END};                     */
#define OPTDEF_ROW(kind, name, sh, stem, cfg, min, max, words)                 \
	{kind,                                                                 \
	 name,                                                                 \
	 sh,                                                                   \
	 offsetof(OD_MSG, cfg),                                                \
	 offsetof(OD_HOLDER, OD_FIELD(stem)),                                  \
	 sizeof(((OD_HOLDER *)0)->OD_FIELD(stem)),                             \
	 min,                                                                  \
	 max,                                                                  \
	 words},
#define OPTDEF_END                                                             \
	{                                                                      \
		0, NULL, 0, 0, 0, 0, 0, 0, NULL                                \
	}

/* The common rows, bound to Configure and struct worker_opts. */
extern const struct optdef optdefs_common[];

/* The row named name in rows (ended by OPTDEF_END), or NULL. */
const struct optdef *optdef_find(const struct optdef *rows, const char *name);

/* Whether word is one of words ("a|b|c"). */
int optdef_word_ok(const char *words, const char *word);

/* Checks a value given for row d; 0, or -1 with what it wants in want. */
int optdef_check(const struct optdef *d, const char *arg, char *want,
		 size_t wantlen);

/* Checks every field of msg against rows; 0, or -1 naming the field in
 * bad. */
int optdef_check_msg(const struct optdef *rows, const void *msg,
		     const char **bad);

/* Copies the rows' fields from msg (checked) into holder. */
void optdef_apply(const struct optdef *rows, const void *msg, void *holder);

/* Copies the rows' fields from holder into msg (strings by pointer: msg
 * lives no longer than holder). */
void optdef_fill(const struct optdef *rows, const void *holder, void *msg);

/* Sets row d of holder from a checked value given on a command line. */
void optdef_set(const struct optdef *d, void *holder, const char *arg);

#endif
