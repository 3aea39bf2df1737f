/*
 * Worker shell: arguments, sandbox, and the standalone and supervised
 * modes around a profiler's start, snapshot and stop.
 */
#ifndef PROFD_WORKER_H
#define PROFD_WORKER_H

#include <getopt.h>
#include <stdint.h>

#include <nng/nng.h>

#include "sandbox.h"
#include "stacks.h"
#include "util.h"

#define WORKER_DEFAULT_FREQUENCY   11 /* Hz */
#define WORKER_DEFAULT_DURATION	   5  /* seconds, standalone */
#define WORKER_MAX_FREQUENCY	   1000
#define WORKER_MAX_DWARF_FREQUENCY 100 /* Hz, dwarf and smart modes */
#define WORKER_MAX_DURATION	   3600
#define WORKER_CHUNK_BUDGET	   (24u << 20) /* bytes of one window's table */
#define WORKER_ACK_TIMEOUT_MS	   30000
#define WORKER_EXIT_CONFIG	   78	    /* cannot work here: exit status */
#define WORKER_UMASK		   027	    /* of every worker and profd */
#define WORKER_CTL_SOCKET	   "%s.ctl" /* in the runtime dir */
#define WORKER_UPLOAD_SOCKET	   "upload/chunks.sock"
#define WORKER_CHANNEL_ENV	   "PROFD_CHANNEL" /* profd's socket name */

struct optdef;

/* What every profiler takes; each keeps its own part (optdefs.h). */
struct worker_opts {
	uint32_t wo_frequency;
	uint32_t wo_duration;
	uint32_t wo_pids[PROFD_MAX_PIDS];
	size_t wo_npids;
};

#define WORKER_MAX_RUNTIME_PROCS 4096
#define WORKER_MAX_MIN_DURATION	 86400

/* Ranges of perf's options, checked by profd, profd-perf and the
 * Configure message alike. */
#define WORKER_MAX_DWARF_STACK	   65528    /* bytes, perf's own limit */
#define WORKER_MAX_SKIP_ABOVE	   10000000 /* processes */
#define WORKER_MAX_RESTART_RSS_MB  1048576
#define WORKER_MAX_RESTART_AFTER_S (86400 * 365)

#define WORKER_PERF_RESTART_RSS_MB 200
#define WORKER_PERF_RESTART_AFTER  600 /* seconds */
#define WORKER_PERF_MAX_CGROUPS	   50  /* --perf-max-cgroups default */
#define WORKER_PERF_CGROUPS_LIMIT  128 /* the most either cgroup flag takes */
#define WORKER_EVENT_CHARS                                                     \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:./"

struct worker_ctx {
	const struct profiler_ops *wc_ops;
	const char *wc_name; /* table name: socket and chunk names */
	struct worker_opts wc_opts;
	/* Set by po_snapshot: the window's ticks or records that gave no
	 * sample (threads off the CPU aside), reported to profd. */
	uint64_t wc_lost;
	const char *wc_workdir; /* private directory for scratch files */
	int wc_supervised;
	nng_socket wc_ctl; /* to profd, when supervised */
	void *wc_priv;	   /* the profiler's own state */
};

struct profiler_ops {
	const char *po_name; /* "perf": worker name and socket name */
	const struct sandbox_policy *po_policy;
	/* Checks options and starts profiling; 0 or -1. */
	int (*po_start)(struct worker_ctx *);
	/* Ends window `window`, adding its stacks to t, and starts the next;
	 * 0, or -1 when the window is lost (the worker goes on). */
	int (*po_snapshot)(struct worker_ctx *, uint64_t window,
			   struct stack_table *t);
	/* Stops profiling and releases everything start acquired. */
	void (*po_stop)(struct worker_ctx *);
	/* Extra long options, and their handler (0 ok, -1 bad value). */
	const struct option *po_longopts;
	int (*po_option)(struct worker_ctx *, int opt, const char *arg);
	const char *po_usage; /* extra usage lines */
	/* Its part of Configure: the rows of optdefs.h (bound to its part's
	 * message and to po_settings, which holds their values), and which
	 * part of the message's oneof it is (0: none). */
	const struct optdef *po_rows;
	void *po_settings;
	int po_settings_case;
	/* 1 for a runtime profiler (Python, Java): its stacks replace perf's
	 * for the same PIDs when profd-upload merges a window. */
	int po_runtime;
	/* Optional: called about once a second between profd's messages
	 * once started (supervised only), for housekeeping. */
	void (*po_idle)(struct worker_ctx *);
};

/* Runs a profiler worker: parses argv, enters the sandbox, and profiles
 * standalone (collapsed stacks to stdout) or under profd. Returns the
 * process exit status. */
int worker_main(int argc, char **argv, const struct profiler_ops *ops);
/* Catches SIGINT and SIGTERM (see worker_stopping) and ignores SIGPIPE. */
void worker_signals(void);
/* Sets umask WORKER_UMASK (no file a worker makes is world-readable, none
 * group-writable) and the signals of worker_signals. First in main(). */
void worker_process_init(void);
/* Returns 1 once SIGINT or SIGTERM (or worker_stop) asked the worker to
 * stop. */
int worker_stopping(void);
/* Asks the worker to stop, as SIGTERM does. */
void worker_stop(void);
/* perf's modes, in the order of optdefs.h's OD_PERF_MODES. */
enum perf_mode {
	PERF_MODE_FP,
	PERF_MODE_DWARF,
	PERF_MODE_SMART,
	PERF_MODE_DISABLED,
};
/* --perf-engine: auto (native where it can, else perf), perf, native. */
enum perf_engine {
	PERF_ENGINE_AUTO,
	PERF_ENGINE_PERF,
	PERF_ENGINE_NATIVE,
};
/* Parses a --perf-mode word into *out; 0, or -1 if s names none. */
int perf_mode_parse(const char *s, enum perf_mode *out);
/* The --perf-mode word of m. */
const char *perf_mode_name(enum perf_mode m);
/* Returns 1 if m unwinds with DWARF (dwarf or smart), which limits the
 * frequency to WORKER_MAX_DWARF_FREQUENCY. */
int perf_mode_dwarf(enum perf_mode m);
/* Parses a --perf-engine word ("" is auto) into *out; 0, or -1. */
int perf_engine_parse(const char *s, enum perf_engine *out);
/* Prints "invalid value VALUE for FLAG: expected WANT"; returns -1. */
int worker_badarg(const char *flag, const char *arg, const char *want);
/* Checks --channel's socket name and stores it in *out; 0 or -1. */
int worker_opt_channel(const char *arg, const char **out);
/* Without --channel, takes the name profd put in PROFD_CHANNEL (and
 * removes it from the environment); 0 or -1 on a bad name. */
int worker_env_channel(const char **out);
/* Applies --caps (see sandbox_set_caps); 0 or -1 with a message. */
int worker_opt_caps(const char *arg);

#endif
