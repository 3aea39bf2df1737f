/* profd: the root supervisor. One header for its files. */
#ifndef PROFD_PROFD_H
#define PROFD_PROFD_H

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "cgroup.h"
#include "ipc.h"
#include "procfs.h"
#include "profd.pb-c.h"
#include "util.h"
#include "worker.h"

#define PROFD_RUNDIR		"/run/profd"
#define PROFD_MAX_WORKERS	16
#define PROFD_HELLO_MS		10000  /* exec to hello */
#define PROFD_START_MS		60000  /* configure to started (event probes) */
#define PROFD_STOP_MS		15000  /* stop to exit, then SIGKILL */
#define PROFD_WINDOW_MS_MAX	120000 /* snapshot to window written */
#define PROFD_DEFAULT_DURATION	60
#define PROFD_DEFAULT_FREQUENCY 11
#define PROFD_OUTFD		3 /* the output directory, in profd-upload */

#define PROFD_HEALTHY_MS       2000 /* up this long after hello: healthy */
#define PROFD_MIN_GAP_MS       1000 /* between two starts of a worker */
#define PROFD_BACKOFF_MAX_MS   60000
#define PROFD_GIVE_UP_DEATHS   5      /* unhealthy deaths ... */
#define PROFD_GIVE_UP_MS       300000 /* ... within this time: given up */
#define PROFD_LIMIT_POLL_MS    250    /* usage checks */
#define PROFD_ARGS_MAX	       8      /* extra arguments of a worker */
#define PROFD_ARG_LEN	       256    /* bytes of one of them, with its NUL */
#define PROFD_UPLOAD_ARGS      40 /* upload options passed to profd-upload */
#define PROFD_TOKEN_ENV	       "PROFD_TOKEN" /* the token, to profd-upload */
#define PROFD_CMD_ID_MAX       64   /* characters of a remote command's id */
#define PROFD_CMD_SEEN	       32   /* remote command ids remembered */
#define PROFD_LOG_LINE	       1024 /* bytes of a worker's output line kept */
#define PROFD_LOG_RATE	       50 /* a worker's output lines logged a second */
#define PROFD_LOG_MAX_SIZE     (5u << 20) /* --log-rotate-max-size */
#define PROFD_LOG_BACKUPS      1	  /* --log-rotate-backup-count */
#define PROFD_GPROFILER_CONFIG "/etc/gprofiler/config.ini"

/* What a worker is to profd: whose settings it takes, which heartbeat
 * switch governs it, the uploader. Parsed from a name by table_role(). */
enum wrole {
	ROLE_OTHER, /* a worker of the table's own: no part, always wanted */
	ROLE_UPLOAD,
	ROLE_PERF,
	ROLE_PYTHON,
	ROLE_JAVA,
};

enum restart_policy {
	RESTART_ALWAYS,
	RESTART_ON_FAILURE,
	RESTART_NEVER,
};

/* One entry of the worker table: defaults, then profd.conf sections. */
struct wspec {
	char ws_name[PROFD_NAME_MAX + 1];
	char ws_exec[PATH_MAX]; /* "" : profd-NAME in the worker dir */
	char ws_args[PROFD_ARGS_MAX][PROFD_ARG_LEN];
	size_t ws_nargs;
	char ws_user[33];     /* "" : the global user */
	char ws_caps[256];    /* "" : the worker's own set; else a list */
	uint64_t ws_mem_max;  /* bytes, hard */
	uint64_t ws_mem_high; /* bytes, soft; 0: 3/4 of hard (table_mem_high) */
	uint64_t ws_pids_max; /* processes and threads */
	enum restart_policy ws_restart;
	int ws_enabled;
	int ws_profiler;    /* sends chunks (all but the uploader) */
	enum wrole ws_role; /* by its name: perf, python, java, upload */
	enum wrole ws_kind; /* by its program (profd-KIND), else ws_role: its
			       part of Configure */
};

struct profd_opts {
	uint32_t po_duration;
	uint32_t po_frequency;
	int po_continuous;
	const char *po_outdir;
	uint32_t po_pids[PROFD_MAX_PIDS];
	size_t po_npids;
	char po_perf_mode[16];
	char po_cgroup_mode[8];	      /* auto, v2, v1, poll */
	int po_cgroup_delegated;      /* groups inside profd's own */
	uint32_t po_skip_above;	      /* --skip-system-profilers-above */
	char po_perf_events[64];      /* --perf-events */
	char po_perf_engine[8];	      /* --perf-engine: auto, perf, native */
	uint32_t po_restart_rss_mb;   /* --perf-restart-rss */
	uint32_t po_restart_after_s;  /* --perf-restart-after */
	int po_no_memory_restart;     /* --perf-no-memory-restart */
	uint32_t po_dwarf_stack_size; /* --perf-dwarf-stack-size */
	char po_python_mode[16];      /* auto, disabled */
	int po_python_idle;	      /* --python-idle */
	int po_python_gil;	      /* --python-gil */
	int po_python_no_lines;	      /* --python-no-line-numbers */
	uint32_t po_max_procs;	      /* --max-processes-runtime-profiler */
	uint32_t po_min_duration;     /* --min-duration */
	int po_use_cgroups;	      /* --perf-use-cgroups */
	uint32_t po_max_cgroups;      /* --perf-max-cgroups */
	uint32_t po_max_docker;	      /* --perf-max-docker-containers */
	int po_insert_dso_name;
	int po_flamegraph;
	int po_rotating;
	const char *po_worker_dir;
	const char *po_rundir;
	const char *po_user;
	const char *po_config; /* the file read, for reload */
	int po_verbose;
	int po_syslog;
	char po_java_mode[16];	  /* --java-mode: ap, perfmap, disabled */
	char po_java_ap_mode[16]; /* --java-async-profiler-mode */
	char po_java_safemode[4]; /* --java-safemode: "on" or "" */
	uint32_t po_java_timeout; /* --java-jattach-timeout, s; 0: default */
	char po_java_lines[20];	  /* --java-line-numbers */
	int po_java_thread_names; /* --java-collect-thread-names */
	char po_nodejs_mode[16];  /* --nodejs-mode */
	int po_perf_event_only;	  /* --perf-event: perf alone */
	int po_spawned;		  /* --profile-spawned-processes */
	const char *po_pid_file;  /* --pid-file */
	const char *po_log_file;  /* --log-file */
	uint32_t po_log_max;	  /* --log-rotate-max-size, bytes */
	uint32_t po_log_backups;  /* --log-rotate-backup-count */
	const char *po_heartbeat_file; /* --heartbeat-file */
	uint32_t po_controller_pid;    /* --controller-pid */
	struct wspec po_table[PROFD_MAX_WORKERS];
	size_t po_ntable;
	/* Upload options, passed on to profd-upload as they were given. */
	const char *po_upload_args[PROFD_UPLOAD_ARGS];
	size_t po_nupload_args;
	int po_upload;	     /* -u */
	int po_pyroscope;    /* --pyroscope-url */
	int po_server_host;  /* --server-host */
	int po_service_name; /* --service-name */
	int po_token_file;   /* --token-file */
	char *po_token;	     /* --token or PROFD_TOKEN, in secret memory */
	int po_token_fd;     /* a memfd_secret holding it, for profd-upload */
	const char *po_upload_file; /* profd upload-file FILE */
	int po_heartbeat;	    /* --enable-heartbeat-server */
};

/* A checked START's settings: what its profilers run with. */
struct remote_settings {
	uint32_t rs_duration;  /* s */
	uint32_t rs_frequency; /* Hz */
	int rs_continuous;     /* else one window */
	uint32_t rs_pids[PROFD_MAX_PIDS];
	size_t rs_npids;
	enum perf_mode rs_perf_mode;
	int rs_perf, rs_python, rs_java; /* the profilers it wants */
	uint32_t rs_max_procs;		 /* per runtime profiler; 0: all */
	uint32_t rs_skip_above;		 /* perf's limits */
	uint32_t rs_max_docker;
};

/* The heartbeat session: which settings are in force. */
enum rstate {
	RS_NONE,    /* no state: an empty entry of the session table */
	RS_IDLE,    /* no profiler wanted */
	RS_PENDING, /* a START waits for the old profilers to go */
	RS_ACTIVE,  /* a continuous START's profilers run */
	RS_ONCE,    /* a one-window START's profilers run */
	RS_NSTATES,
};

enum revent {
	RE_START,  /* a checked START: stop what runs, then apply it */
	RE_STOP,   /* a STOP: stop what runs */
	RE_APPLY,  /* the old profilers are gone */
	RE_END,	   /* the one window was written or lost */
	RE_FAILED, /* no profiler of the START ran */
	RE_NEVENTS,
};

/* Heartbeat mode: the profilers run only while a remote START is in
 * force (remote.c). */
struct remote {
	enum rstate r_state;
	int64_t r_applied_ms; /* when its profilers were started */
	char r_start[PROFD_CMD_ID_MAX + 1]; /* START not yet answered */
	char r_stop[PROFD_CMD_ID_MAX + 1];  /* STOP not yet answered */
	struct remote_settings r_next;	    /* the pending START's */
	enum perf_mode r_default_mode;	    /* profd's own --perf-mode */
	int r_default_ok;		    /* ... if it is one */
	uint32_t r_base_skip;		    /* profd's own perf limits, when */
	uint32_t r_base_docker;		    /* a START has none */
	/* The continuous START in force, kept while an ad-hoc (one-window)
	 * START pauses it, and resumed when that ends (r_resume). */
	struct remote_settings r_cont;
	int r_has_cont;
	int r_resume;
	char r_seen[PROFD_CMD_SEEN][PROFD_CMD_ID_MAX + 1];
	unsigned r_nseen;
};

enum wstate {
	W_NONE,	      /* no state: a worker not set up, an empty table entry */
	W_IDLE,	      /* not running, not wanted */
	W_STARTING,   /* spawned, waiting for hello */
	W_CONFIG,     /* configured, waiting for "started" */
	W_RUNNING,    /* profiling / serving */
	W_STOPPING,   /* told to stop, waiting for exit */
	W_RESTARTING, /* told to stop, to start again once it exited */
	W_BACKOFF,    /* dead, waiting to be started again */
	W_FAILED,     /* died too often: given up until started by hand */
	W_NSTATES,
};

enum wevent {
	EV_START,    /* wanted: start it */
	EV_STOP,     /* not wanted: stop it */
	EV_RESTART,  /* profctl restart: stop it if it runs, then start it */
	EV_SOFT,     /* over its soft limit, window delivered: restart it */
	EV_HELLO,    /* it said hello */
	EV_STARTED,  /* it runs (a profiler: it is profiling) */
	EV_EXIT,     /* it was reaped */
	EV_DEADLINE, /* the state's deadline passed */
	EV_BROKEN,   /* protocol error or hard limit: kill it */
	EV_NEVENTS,
};

/* How a worker's last incarnation ended. Printed by fsm_exit_str(). */
enum wexit_kind {
	WEXIT_NONE,    /* it has not ended yet */
	WEXIT_CODE,    /* exited with status wx_detail */
	WEXIT_SIGNAL,  /* killed by signal wx_detail */
	WEXIT_SECCOMP, /* killed by its seccomp filter (SIGSYS) */
	WEXIT_EXEC,    /* could not be started */
	WEXIT_MEMORY,  /* killed for its memory limit */
	WEXIT_PIDS,    /* killed for its process-count limit */
};

struct wexit {
	enum wexit_kind wx_kind;
	int wx_detail; /* exit status or signal number */
};

/* Room for fsm_exit_str()'s text. */
#define WEXIT_STR_MAX 32

struct worker {
	struct wspec w_spec;
	const char *w_name; /* w_spec.ws_name */
	int w_profiler;
	enum wstate w_state;
	pid_t w_pid;
	uid_t w_uid;
	gid_t w_gid;
	char w_user[33]; /* the name of w_uid, passed to the worker */
	nng_socket w_sock;
	nng_listener w_listener; /* of the current incarnation */
	int w_listening;
	int w_open;
	int w_fd;
	int64_t w_deadline;	 /* of the current state, ms; 0 none */
	int w_status;		 /* last wait status */
	int w_termed;		 /* SIGTERM sent before its hello */
	int w_killed;		 /* SIGKILL sent by profd */
	int w_want;		 /* should run */
	enum wexit_kind w_cause; /* why profd killed it; WEXIT_NONE */
	struct wexit w_exit;	 /* how it last ended */
	unsigned w_restarts;
	int64_t w_started_ms; /* last spawn */
	int64_t w_hello_ms;   /* its hello, 0 before */
	int64_t w_deaths[PROFD_GIVE_UP_DEATHS];
	unsigned w_ndeaths;
	int64_t w_backoff_ms;
	int w_soft;	/* over its soft limit: restart after the window */
	uint64_t w_rss; /* last measured memory of its tree */
	uint64_t w_win_samples, w_win_lost; /* its last window's, as it said */
	uint64_t w_oom_seen;		    /* OOM kills already acted on */
	uint64_t w_pids_seen;		    /* refused forks already acted on */
	struct cgroup w_cg;
	int w_cg_ok;
	char w_path[PATH_MAX];
	char w_channel[PROFD_NAME_MAX + 40]; /* its socket in the runtime dir */
	int w_logfd; /* read end of its stdout/stderr pipe; -1 none */
	char w_logbuf[PROFD_LOG_LINE]; /* a partial line from it */
	size_t w_loglen;
	unsigned w_loglines;	/* lines logged in the current second */
	int64_t w_logsec;	/* that second */
	unsigned w_logdropped;	/* lines dropped over the rate limit */
	unsigned w_gen;		/* incarnations so far */
	char w_chanenv[80];	/* PROFD_CHANNEL=its socket */
	struct ipc_peer w_peer; /* who may use its socket */
};

struct profd;

/* What the state table's actions do to the world; tests replace it. */
struct fsm_ops {
	int64_t (*fo_now)(void); /* ms, monotonic */
	/* Starts w; 0, or -1 when it could not be started. */
	int (*fo_spawn)(struct profd *, struct worker *);
	void (*fo_kill)(struct worker *, int sig);
	/* Send Configure, Stop; 0, or -1 (EV_BROKEN raised). */
	int (*fo_configure)(struct profd *, struct worker *);
	int (*fo_stop)(struct profd *, struct worker *);
	void (*fo_running)(struct profd *); /* a worker entered W_RUNNING */
	void (*fo_lost)(struct profd *, struct worker *); /* w ended */
};

#define FSM_QUEUE_MAX (4 * PROFD_MAX_WORKERS)

/* Events raised while an action runs, run after it, in order. */
struct fsm_queue {
	struct {
		struct worker *fq_w;
		enum wevent fq_ev;
	} fq_ev[FSM_QUEUE_MAX];
	unsigned fq_head, fq_len;
	int fq_busy; /* an action runs */
};

struct profd {
	const struct fsm_ops *p_fsm_ops;
	struct fsm_queue p_fsmq;
	struct profd_opts p_opts;
	struct worker p_workers[PROFD_MAX_WORKERS];
	size_t p_nworkers;
	int p_sigfd;
	int p_outfd;
	int p_lockfd;
	int p_made_rundir;
	enum cgroup_mode p_cgmode;
	nng_socket p_ctl; /* profctl's socket */
	int p_ctl_fd;
	int64_t p_t0;	    /* clock start, ms; 0 until every worker started */
	uint64_t p_wbase;   /* windows before the clock last started */
	uint64_t p_window;  /* last window snapshotted */
	uint64_t p_written; /* last window the uploader wrote */
	int64_t p_wstart;   /* unix time the current window began */
	int64_t p_snap_ms;  /* when the last window was snapshotted */
	int64_t p_snap_start; /* unix time the last snapshotted window began */
	double p_cpu_avg, p_mem_avg;	 /* of the last window */
	int p_expect[PROFD_MAX_WORKERS]; /* chunks the open window awaits */
	int64_t p_next_poll;		 /* next usage check, ms */
	struct procfs_cpu p_cpu;
	struct remote p_remote;
	int p_stopping;
	int p_exit;
};

/* options.c */
/* Reads the configuration file (--config FILE, else PROFD_CONFIG if it
 * exists), then the command line over it. -1 to go on, else an exit
 * status (0 after --help or --version, 2 on a bad option or line). */
int options_parse(struct profd_opts *o, int argc, char **argv);
/* Reads the worker sections of the configuration file again into a copy
 * of cur; 0, or -1 with the first error in err (cur stays as it was). */
int options_reload(const struct profd_opts *cur, struct profd_opts *fresh,
		   char *err, size_t errlen);
/* Storage for a worker's part of Configure. */
struct options_parts {
	Profd__PerfSettings op_perf;
	Profd__PythonSettings op_python;
	Profd__JavaSettings op_java;
	Profd__UploadSettings op_upload;
};
/* Fills m from optdefs.h's tables: the common fields, and the part of
 * the worker of that role (none for ROLE_OTHER), kept in parts. */
void options_configure(const struct profd_opts *o, enum wrole role,
		       Profd__Configure *m, struct options_parts *parts);
/* Frees what options_parse kept from the configuration file. */
void options_free(void);

/* profd.c */
/* Marks profd as shutting down with exit status rv (keeps the worst). */
void profd_shutdown(struct profd *p, int rv);
/* Returns 1 when profd profiles one window and exits (no -c, no
 * heartbeat). */
int profd_one_shot(const struct profd *p);

/* table.c */
/* Fills o's worker table with the built-in workers. */
void table_defaults(struct profd_opts *o);
/* Finds (creating if create) the entry name; NULL if invalid or full. */
struct wspec *table_entry(struct profd_opts *o, const char *name, int create);
/* The soft memory limit in force: the one set, or 3/4 of the hard one. */
uint64_t table_mem_high(const struct wspec *ws);
/* Applies "key = value" to an entry; -1 with a message in err. */
int table_set(struct wspec *ws, const char *key, const char *value, char *err,
	      size_t errlen);
/* The role a worker name or program kind stands for (ROLE_OTHER). */
enum wrole table_role(const char *name);
/* Checks the finished table; -1 with a message in err. */
int table_check(struct profd_opts *o, char *err, size_t errlen);

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
/* Replaces profd by profd-upload uploading file with profd's upload
 * settings; returns only on failure (exit status). */
int spawn_upload_file(struct profd *p, const char *file);
/* Sends sig to w's whole tree (its cgroup, or its process group). */
void spawn_kill(struct worker *w, int sig);
/* Resolves w's user (table, --user, else profd-NAME) into w_uid/w_gid. */
int spawn_user(struct profd *p, struct worker *w);

/* fsm.c */
/* Puts a new worker in W_IDLE. */
void fsm_init(struct worker *w);
/* Feeds event ev to w's state machine; an event raised while an action
 * runs is queued and fed after it. */
void fsm_event(struct profd *p, struct worker *w, enum wevent ev);
/* Feeds one event and leaves what its action raised queued (tests). */
void fsm_step(struct profd *p, struct worker *w, enum wevent ev);
/* Kills w for a reason (WEXIT_MEMORY, WEXIT_PIDS) and restarts it per
 * policy. */
void fsm_kill(struct profd *p, struct worker *w, enum wexit_kind cause);
/* Returns the name of a state, as profctl shows it. */
const char *fsm_state_name(enum wstate s);
/* Returns 1 if w has a live process. */
int fsm_alive(const struct worker *w);
/* Returns 1 if w has its Configure and takes more messages: it waits to
 * say "started", or runs. */
static inline int
fsm_configured(const struct worker *w)
{
	return w->w_state == W_CONFIG || w->w_state == W_RUNNING;
}
/* Returns 1 if w was told to stop and has not exited yet. */
int fsm_stopping(const struct worker *w);
/* Writes how w ended, as profctl and the log show it ("0", "SIGKILL",
 * "memory-limit", ...; "" before its first end) into buf; returns buf. */
const char *fsm_exit_str(const struct wexit *e, char *buf, size_t len);

/* workers.c */
/* Handles every message waiting from w. */
void workers_recv(struct profd *p, struct worker *w);
/* Handles the death of pid; returns 1 if it was a worker. */
int workers_reaped(struct profd *p, pid_t pid, int status);
/* Sends Stop to w. 0 or -1. */
int workers_send_stop(struct profd *p, struct worker *w);
/* Sends Configure to w. 0 or -1. */
int workers_configure(struct profd *p, struct worker *w);
/* Acts on expired deadlines; returns ms until the next one (-1: none). */
int64_t workers_timers(struct profd *p);
/* Finds a worker by name (inline, like workers_of_role: the fuzz target
 * of remote.c uses them without the rest of workers.c). */
static inline struct worker *
workers_find(struct profd *p, const char *name)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (strcmp(p->p_workers[i].w_name, name) == 0)
			return &p->p_workers[i];
	return NULL;
}
/* Finds the (first) worker of a role. */
static inline struct worker *
workers_of_role(struct profd *p, enum wrole role)
{
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_spec.ws_role == role)
			return &p->p_workers[i];
	return NULL;
}
/* The state table's effects on real workers. */
extern const struct fsm_ops workers_fsm_ops;
/* Sends a control message to w; 0 or -1 (w is then killed). */
int workers_send(struct profd *p, struct worker *w, Profd__Control *c);

/* limits.c */
/* Creates w's cgroup with its limits. 0 or -1. */
int limits_setup(struct profd *p, struct worker *w);
/* Checks every worker's usage against its limits; returns ms until the
 * next check. */
int64_t limits_poll(struct profd *p);
/* Names what killed w from its wait status and its cgroup's counters. */
void limits_classify(struct worker *w, int status);

/* control.c */
/* Listens on the control socket for profctl. 0 or -1. */
int control_open(struct profd *p);
/* Answers every waiting profctl request. */
void control_recv(struct profd *p);
/* Closes the control socket. */
void control_close(struct profd *p);

/* clock.c */
/* Starts the window clock once every wanted worker runs. */
void clock_maybe_start(struct profd *p);
/* Snapshots the windows that are due; returns ms until the next one. */
int64_t clock_tick(struct profd *p);
/* Notes that the uploader wrote (or failed) window id. */
void clock_written(struct profd *p, uint64_t id, int ok);
/* Stops the window clock (heartbeat STOP); the open window is lost. */
void clock_stop(struct profd *p);
/* Tells the uploader not to wait for w's chunk of the open window. */
void clock_lost(struct profd *p, struct worker *w);

/* remote.c */
/* Checks a RemoteCommand from the uploader and acts on it, or refuses it
 * with a CommandDone. */
void remote_command(struct profd *p, const Profd__RemoteCommand *c);
/* Answers the commands that have finished and starts a START's
 * profilers once the old ones are gone; called every loop turn. */
void remote_tick(struct profd *p);
/* A one-window session ended (its window written or lost): stop. */
void remote_session_end(struct profd *p);
/* Keeps profd's own perf mode before any command changes it. */
void remote_init(struct profd *p);
/* Feeds an event to the session table (tests). */
void remote_event(struct profd *p, enum revent ev);
/* Returns 1 while a START's profilers are wanted. */
int remote_active(const struct profd *p);
/* Returns 1 while the START in force is for one window. */
int remote_once(const struct profd *p);
/* Returns 1 once the START in force was answered: its clock may run. */
int remote_answered(const struct profd *p);

/* wlog.c */
/* Makes the pipe w's next incarnation writes its stdout and stderr to:
 * keeps the read end, stores the write end in *wfd. 0 or -1. */
int wlog_open(struct worker *w, int *wfd);
/* Logs what w wrote, line by line, until its pipe is empty. */
void wlog_read(struct worker *w);
/* Logs what is left of a partial line and closes w's pipe. */
void wlog_close(struct worker *w);

/* loop.c */
/* Runs the event loop until every worker is gone; returns exit status. */
int loop_run(struct profd *p);

/* runfiles.c: --log-file, --pid-file, --heartbeat-file, --controller-pid.
 * Opens the log file and writes the PID file; 0, or -1 told. */
int runfiles_start(struct profd *p);
/* Removes the PID file if it still names profd; closes the log file. */
void runfiles_stop(struct profd *p);
/* Marks a stored window in the heartbeat file. */
void runfiles_window(struct profd *p);
/* Ends profd when its controller exited; ms to the next look, or -1. */
int64_t runfiles_tick(struct profd *p);

#endif
