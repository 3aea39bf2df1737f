/* profd: the root supervisor. Start-up and shut-down. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"
#include "secret.h"
#include "sandbox.h"
#include "worker.h"

static int
check_opts(const struct profd_opts *o)
{
	enum perf_mode mode;

	if (o->po_outdir == NULL && !o->po_upload && !o->po_pyroscope) {
		fprintf(stderr, "profd: no output: give an output directory "
				"with -o DIR, an upload with -u, or "
				"--pyroscope-url URL\n");
		return -1;
	}
	if (o->po_upload && (!o->po_server_host || !o->po_service_name ||
			     (o->po_token == NULL && !o->po_token_file))) {
		fprintf(stderr, "profd: -u needs --server-host URL, "
				"--service-name NAME and a token "
				"(--token-file FILE or " PROFD_TOKEN_ENV ")\n");
		return -1;
	}
	if (o->po_heartbeat && !o->po_upload) {
		fprintf(stderr, "profd: --enable-heartbeat-server needs an "
				"upload (-u) to Performance Studio\n");
		return -1;
	}
	if (perf_mode_parse(o->po_perf_mode, &mode) == 0 &&
	    perf_mode_dwarf(mode) &&
	    o->po_frequency > WORKER_MAX_DWARF_FREQUENCY) {
		fprintf(stderr,
			"profd: --perf-mode %s allows at most %d Hz (-f)\n",
			o->po_perf_mode, WORKER_MAX_DWARF_FREQUENCY);
		return -1;
	}
	if (o->po_use_cgroups && o->po_npids > 0) {
		fprintf(stderr, "profd: --perf-use-cgroups profiles whole "
				"cgroups: it cannot go with --pids\n");
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

/* Makes the runtime worker of each table entry, with its user: each
 * worker its own (profd-NAME) unless the table or --user names one. */
static int
add_workers(struct profd *p)
{
	for (size_t i = 0; i < p->p_opts.po_ntable; i++) {
		struct worker *w = &p->p_workers[p->p_nworkers++];

		memset(w, 0, sizeof(*w));
		w->w_spec = p->p_opts.po_table[i];
		w->w_name = w->w_spec.ws_name;
		w->w_profiler = w->w_spec.ws_profiler;
		fsm_init(w);
		w->w_fd = -1;
		w->w_logfd = -1;
		if (spawn_user(p, w) == -1)
			return -1;
	}
	return 0;
}

/* Parses --cgroup-mode (auto|v2|v1|poll): 0 and the mode asked for, or
 * -1 for auto, the best this host offers. */
static int
profd_cgroup_mode(const char *name, enum cgroup_mode *out)
{
	static const struct {
		const char *name;
		enum cgroup_mode mode;
	} modes[] = {
	    {"v2", CGROUP_V2}, {"v1", CGROUP_V1}, {"poll", CGROUP_POLL}};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(name, modes[i].name) == 0) {
			*out = modes[i].mode;
			return 0;
		}
	return -1;
}

/* Worker cgroups go under "profd", or under a name of their own for a
 * profd with another runtime directory (tests), so two never meet. The
 * mode is the best this host offers, or the one asked for, if it can be
 * had: every better mode falls back to a lesser one, down to poll. */
static int
setup_cgroups(struct profd *p)
{
	static char parent[32];
	const char *dir = p->p_opts.po_rundir;
	uint32_t h = 2166136261u;
	enum cgroup_mode want;

	if (p->p_opts.po_cgroup_delegated && cgroup_delegate() == -1) {
		log_error("--cgroup-delegated: profd is in no cgroup of its "
			  "own (start it from a unit with Delegate=yes)");
		return -1;
	}
	if (strcmp(dir, PROFD_RUNDIR) != 0) {
		for (const char *c = dir; *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		snprintf(parent, sizeof(parent), "profd.%08x", h);
		cgroup_set_parent(parent);
	}
	p->p_cgmode = cgroup_detect();
	if (profd_cgroup_mode(p->p_opts.po_cgroup_mode, &want) == 0) {
		if (want < p->p_cgmode) {
			log_error("cgroup mode %s is not available here "
				  "(the best is %s)",
				  p->p_opts.po_cgroup_mode,
				  cgroup_mode_name(p->p_cgmode));
			return -1;
		}
		p->p_cgmode = want;
	}
	log_debug("cgroups: %s", cgroup_mode_name(p->p_cgmode));
	return 0;
}

int
profd_one_shot(const struct profd *p)
{
	return !p->p_opts.po_continuous && !p->p_opts.po_heartbeat;
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

static int
setup(struct profd *p)
{
	if (add_workers(p) == -1)
		return -1;
	if (rundir_setup(p) == -1) {
		rundir_cleanup(p);
		return -1;
	}
	if (outdir_open(p) == -1 || setup_signals(p) == -1 ||
	    setup_cgroups(p) == -1 || control_open(p) == -1) {
		control_close(p);
		rundir_cleanup(p);
		return -1;
	}
	remote_init(p);
	/* What a dead worker leaves behind (perf) becomes profd's to reap. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

/* Runs profd with parsed options; returns the exit status. */
static int
run(struct profd *p)
{
	int rv;

	if (check_opts(&p->p_opts) == -1)
		return 2;
	log_init("profd", p->p_opts.po_syslog,
		 p->p_opts.po_verbose ? LOGL_DEBUG : LOGL_INFO);
	if (runfiles_start(p) == -1) {
		runfiles_stop(p);
		return 1;
	}
	if (setup(p) == -1) {
		runfiles_stop(p);
		return 1;
	}
	rv = loop_run(p);
	rundir_cleanup(p);
	runfiles_stop(p);
	if (rv == 0 && p->p_written > 0 && p->p_opts.po_outdir != NULL)
		printf("%s: %s/%s\n",
		       p->p_opts.po_flamegraph ? "flame graph" : "profile",
		       p->p_opts.po_outdir,
		       p->p_opts.po_flamegraph ? "last_flamegraph.html"
					       : "last_profile.col");
	return rv;
}

int
main(int argc, char **argv)
{
	/* Static: about 480 KB, mostly never written, so never resident. */
	static struct profd p;
	int rv;

	umask(WORKER_UMASK); /* what profd makes is not world-readable */
	p.p_sigfd = p.p_outfd = p.p_lockfd = p.p_ctl_fd = -1;
	p.p_fsm_ops = &workers_fsm_ops;
	if ((rv = options_parse(&p.p_opts, argc, argv)) == -1 &&
	    p.p_opts.po_upload_file != NULL) {
		log_init("profd", p.p_opts.po_syslog, LOGL_INFO);
		rv = spawn_upload_file(&p, p.p_opts.po_upload_file);
	} else if (rv == -1) {
		rv = run(&p);
	}
	options_free();
	if (p.p_opts.po_token != NULL && p.p_opts.po_token_fd >= 0)
		close(p.p_opts.po_token_fd);
	secret_free(p.p_opts.po_token); /* wiped */
	return rv;
}
