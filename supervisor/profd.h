/* profd: the root supervisor. One header for its files. */
#ifndef PROFD_PROFD_H
#define PROFD_PROFD_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "procfs.h"
#include "profd.pb-c.h"
#include "util.h"

#define PROFD_RUNDIR		"/run/profd"
#define PROFD_MAX_WORKERS	8
#define PROFD_HELLO_MS		10000  /* exec to hello */
#define PROFD_START_MS		60000  /* configure to started (event probes) */
#define PROFD_STOP_MS		15000  /* stop to exit, then SIGKILL */
#define PROFD_WINDOW_MS_MAX	120000 /* snapshot to window written */
#define PROFD_DEFAULT_DURATION	60
#define PROFD_DEFAULT_FREQUENCY 11
#define PROFD_OUTFD		3 /* the output directory, in profd-upload */

struct profd_opts {
	uint32_t po_duration;
	uint32_t po_frequency;
	int po_continuous;
	const char *po_outdir;
	uint32_t po_pids[PROFD_MAX_PIDS];
	size_t po_npids;
	char po_perf_mode[16];
	int po_insert_dso_name;
	int po_flamegraph;
	int po_rotating;
	const char *po_worker_dir;
	const char *po_rundir;
	const char *po_user;
	int po_verbose;
	int po_syslog;
};

enum wstate {
	W_IDLE,	    /* not running */
	W_STARTING, /* spawned, waiting for hello */
	W_CONFIG,   /* configured, waiting for "started" */
	W_RUNNING,  /* profiling / serving */
	W_STOPPING, /* told to stop, waiting for exit */
	W_EXITED,   /* reaped */
};

struct worker {
	const char *w_name;
	int w_profiler; /* sends chunks; 0 for the uploader */
	enum wstate w_state;
	pid_t w_pid;
	nng_socket w_sock;
	int w_open;
	int w_fd;
	int64_t w_deadline; /* of the current state, ms; 0 none */
	int w_status;	    /* wait status once exited */
	int w_failed;	    /* ended other than asked */
	int w_termed;	    /* stopped by SIGTERM before its hello */
	char w_path[PATH_MAX];
};

struct profd {
	struct profd_opts p_opts;
	struct worker p_workers[PROFD_MAX_WORKERS];
	size_t p_nworkers;
	int p_sigfd;
	int p_outfd;
	int p_lockfd;
	int p_made_rundir;
	uid_t p_uid;
	gid_t p_gid;
	int64_t p_t0;	    /* clock start, ms; 0 until every worker started */
	uint64_t p_window;  /* last window snapshotted */
	uint64_t p_written; /* last window the uploader wrote */
	int64_t p_wstart;   /* unix time the current window began */
	struct procfs_cpu p_cpu;
	int p_stopping;
	int p_exit;
};

/* options.c */
/* Reads the configuration file (--config FILE, else PROFD_CONFIG if it
 * exists), then the command line over it. -1 to go on, else an exit
 * status (0 after --help or --version, 2 on a bad option or line). */
int options_parse(struct profd_opts *o, int argc, char **argv);
/* Frees what options_parse kept from the configuration file. */
void options_free(void);

/* profd.c */
/* Marks profd as shutting down with exit status rv (keeps the worst). */
void profd_shutdown(struct profd *p, int rv);

/* rundir.c */
/* Creates the runtime directory and takes the one-per-host lock. */
int rundir_setup(struct profd *p);
/* Creates a worker's private directory in the runtime directory. */
int rundir_worker(struct profd *p, const struct worker *w);
/* Removes everything profd created in the runtime directory. */
void rundir_cleanup(struct profd *p);
/* Opens (creating if needed) the output directory for the uploader. */
int outdir_open(struct profd *p);

/* spawn.c */
/* Starts worker w: listens on its socket, forks and execs it. 0 or -1. */
int spawn_worker(struct profd *p, struct worker *w);
/* Sends sig to w's process group (the worker and what it forked). */
void spawn_kill(struct worker *w, int sig);

/* workers.c */
/* Handles every message waiting from w. */
void workers_recv(struct profd *p, struct worker *w);
/* Handles the death of pid; returns 1 if it was a worker. */
int workers_reaped(struct profd *p, pid_t pid, int status);
/* Sends Stop to w and gives it PROFD_STOP_MS. */
void workers_stop(struct profd *p, struct worker *w);
/* Acts on expired deadlines; returns ms until the next one (-1: none). */
int64_t workers_timers(struct profd *p);
/* Finds a worker by name. */
struct worker *workers_find(struct profd *p, const char *name);
/* Sends a control message to w; 0 or -1 (w is then treated as failed). */
int workers_send(struct profd *p, struct worker *w, Profd__Control *c);

/* clock.c */
/* Starts the window clock once every worker runs. */
void clock_maybe_start(struct profd *p);
/* Snapshots the windows that are due; returns ms until the next one. */
int64_t clock_tick(struct profd *p);
/* Notes that the uploader wrote (or failed) window id. */
void clock_written(struct profd *p, uint64_t id, int ok);

/* loop.c */
/* Runs the event loop until every worker is gone; returns exit status. */
int loop_run(struct profd *p);

#endif
