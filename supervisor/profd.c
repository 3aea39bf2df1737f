/* profd: the root supervisor. Arguments and start-up. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"
#include "sandbox.h"

enum {
	OPT_PIDS = 1000,
	OPT_PERF_MODE,
	OPT_VERSION,
	OPT_WORKER_DIR,
	OPT_RUNTIME_DIR,
	OPT_USER,
	OPT_INSERT_DSO_NAME,
	OPT_NO_FLAMEGRAPH,
	OPT_FLAMEGRAPH,
	OPT_ROTATING,
	OPT_SYSLOG,
};

static const struct option profd_longopts[] = {
    {"profiling-duration", required_argument, NULL, 'd'},
    {"profiling-frequency", required_argument, NULL, 'f'},
    {"output-dir", required_argument, NULL, 'o'},
    {"continuous", no_argument, NULL, 'c'},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"perf-mode", required_argument, NULL, OPT_PERF_MODE},
    {"insert-dso-name", no_argument, NULL, OPT_INSERT_DSO_NAME},
    {"flamegraph", no_argument, NULL, OPT_FLAMEGRAPH},
    {"no-flamegraph", no_argument, NULL, OPT_NO_FLAMEGRAPH},
    {"rotating-output", no_argument, NULL, OPT_ROTATING},
    {"worker-dir", required_argument, NULL, OPT_WORKER_DIR},
    {"runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR},
    {"user", required_argument, NULL, OPT_USER},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: profd -o DIR [-d SECONDS] [-f HZ] [-c] [--pids P,...]\n"
		"             [--perf-mode fp|dwarf|disabled] "
		"[--insert-dso-name]\n"
		"             [--no-flamegraph] [--rotating-output] "
		"[--worker-dir DIR]\n"
		"             [--runtime-dir DIR] [--user NAME] [--syslog] "
		"[-v] [--version]\n"
		"Profiles this host and writes one flame graph per window "
		"into DIR.\nSee profd(8).\n");
}

static int
badarg(const char *flag, const char *arg, const char *want)
{
	fprintf(stderr, "profd: invalid value '%s' for %s: expected %s\n", arg,
		flag, want);
	return -1;
}

static int
opt_number(const char *flag, const char *arg, uint64_t min, uint64_t max,
	   uint32_t *out)
{
	uint64_t v;
	char want[64];

	if (parse_u64(arg, min, max, &v) == -1) {
		snprintf(want, sizeof(want), "a number from %llu to %llu",
			 (unsigned long long)min, (unsigned long long)max);
		return badarg(flag, arg, want);
	}
	*out = (uint32_t)v;
	return 0;
}

static int
opt_perf_mode(struct profd_opts *o, const char *arg)
{
	if (strcmp(arg, "fp") != 0 && strcmp(arg, "dwarf") != 0 &&
	    strcmp(arg, "disabled") != 0)
		return badarg("--perf-mode", arg, "fp, dwarf or disabled");
	snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "%s", arg);
	return 0;
}

static int
parse_opt(struct profd_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'd':
		return opt_number("-d", arg, 1, 3600, &o->po_duration);
	case 'f':
		return opt_number("-f", arg, 1, 1000, &o->po_frequency);
	case 'o':
		o->po_outdir = arg;
		return 0;
	case 'c':
		o->po_continuous = 1;
		return 0;
	case 'v':
		o->po_verbose++;
		return 0;
	case OPT_PIDS:
		if (parse_pids(arg, o->po_pids, PROFD_MAX_PIDS, &o->po_npids))
			return badarg("--pids", arg,
				      "PIDs separated by commas");
		return 0;
	case OPT_PERF_MODE:
		return opt_perf_mode(o, arg);
	case OPT_INSERT_DSO_NAME:
		o->po_insert_dso_name = 1;
		return 0;
	case OPT_FLAMEGRAPH:
	case OPT_NO_FLAMEGRAPH:
		o->po_flamegraph = c == OPT_FLAMEGRAPH;
		return 0;
	case OPT_ROTATING:
		o->po_rotating = 1;
		return 0;
	case OPT_WORKER_DIR:
		o->po_worker_dir = arg;
		return 0;
	case OPT_RUNTIME_DIR:
		o->po_rundir = arg;
		return 0;
	case OPT_USER:
		o->po_user = arg;
		return 0;
	case OPT_SYSLOG:
		o->po_syslog = 1;
		return 0;
	}
	return -1;
}

/* Returns -1 to go on, else an exit status. */
static int
parse_args(struct profd_opts *o, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "d:f:o:cvh", profd_longopts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("profd %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (c == '?') {
			usage(stderr);
			return 2;
		}
		if (parse_opt(o, c, optarg) == -1)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "profd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static int
check_opts(const struct profd_opts *o)
{
	if (o->po_outdir == NULL) {
		fprintf(stderr, "profd: no output: give an output directory "
				"with -o DIR\n");
		return -1;
	}
	if (strcmp(o->po_perf_mode, "dwarf") == 0 && o->po_frequency > 100) {
		fprintf(stderr, "profd: --perf-mode dwarf allows at most 100 "
				"Hz (-f)\n");
		return -1;
	}
	for (size_t i = 0; i < o->po_npids; i++) {
		if (kill((pid_t)o->po_pids[i], 0) == -1 && errno == ESRCH) {
			fprintf(stderr,
				"profd: no process with PID %u (--pids): "
				"check the PID list\n",
				o->po_pids[i]);
			return -1;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "profd: must run as root: it starts each "
				"profiler as its own sandboxed user\n");
		return -1;
	}
	return 0;
}

static int
setup_signals(struct profd *p)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	p->p_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return p->p_sigfd == -1 ? -1 : 0;
}

static void
add_worker(struct profd *p, const char *name, int profiler)
{
	struct worker *w = &p->p_workers[p->p_nworkers++];

	memset(w, 0, sizeof(*w));
	w->w_name = name;
	w->w_profiler = profiler;
	w->w_state = W_IDLE;
	w->w_fd = -1;
}

void
profd_shutdown(struct profd *p, int rv)
{
	if (rv > p->p_exit)
		p->p_exit = rv;
	if (p->p_stopping)
		return;
	p->p_stopping = 1;
	log_info("stopping");
}

static void
defaults(struct profd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->po_duration = PROFD_DEFAULT_DURATION;
	o->po_frequency = PROFD_DEFAULT_FREQUENCY;
	o->po_flamegraph = 1;
	o->po_rundir = PROFD_RUNDIR;
	o->po_worker_dir = PROFD_WORKER_DIR;
	snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "fp");
}

static int
setup(struct profd *p)
{
	if (sandbox_lookup_user(p->p_opts.po_user, &p->p_uid, &p->p_gid) == -1)
		return -1;
	if (rundir_setup(p) == -1) {
		rundir_cleanup(p);
		return -1;
	}
	if (outdir_open(p) == -1 || setup_signals(p) == -1) {
		rundir_cleanup(p);
		return -1;
	}
	add_worker(p, "upload", 0);
	if (strcmp(p->p_opts.po_perf_mode, "disabled") != 0)
		add_worker(p, "perf", 1);
	return 0;
}

int
main(int argc, char **argv)
{
	struct profd p;
	int rv;

	memset(&p, 0, sizeof(p));
	p.p_sigfd = p.p_outfd = p.p_lockfd = -1;
	defaults(&p.p_opts);
	if ((rv = parse_args(&p.p_opts, argc, argv)) != -1)
		return rv;
	if (check_opts(&p.p_opts) == -1)
		return 2;
	log_init("profd", p.p_opts.po_syslog,
		 p.p_opts.po_verbose ? LOGL_DEBUG : LOGL_INFO);
	if (setup(&p) == -1)
		return 1;
	rv = loop_run(&p);
	rundir_cleanup(&p);
	if (rv == 0 && p.p_written > 0)
		printf("%s: %s/%s\n",
		       p.p_opts.po_flamegraph ? "flame graph" : "profile",
		       p.p_opts.po_outdir,
		       p.p_opts.po_flamegraph ? "last_flamegraph.html"
					      : "last_profile.col");
	return rv;
}
