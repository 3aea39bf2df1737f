/* profd-perf: native and kernel stacks from perf record / perf script. */
#include "config.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "log.h"
#include "optdefs.h"
#include "perf_input.h"
#include "perf_native.h"
#include "perf_cgroups.h"
#include "perf_record.h"
#include "perf_smart.h"
#include "perf_tmp.h"
#include "perf_unwind.h"
#include "procfs.h"
#include "worker.h"

/* CAP_PERFMON becomes CAP_SYS_ADMIN on kernels before 5.8, which lack it
 * (perf_caps_for_kernel). */
static int perf_caps[] = {CAP_PERFMON, CAP_SYSLOG, CAP_SYS_PTRACE,
			  CAP_DAC_READ_SEARCH, -1};

/* perf record and perf script run inside this filter too (they inherit
 * it through execve), with their children (addr2line, sleep). */
static const char *const perf_syscalls[] = {
    "execve",
    "wait4",
    "kill",
    "capget",
    "alarm",
    "getcpu",
    "get_mempolicy",
    "set_mempolicy",
    "sched_setaffinity",
    "statfs",
    "fstatfs",
    "arch_prctl",
    "setpgid",
    "getpgid",
    "setsid",
    "rmdir",
    "fallocate",
    "msync",
    "mlock",
    "munlock",
    "sendfile",
    "splice",
    "getrusage",
    "times",
    "memfd_create",
    "getcwd",
    "chdir",
    "fchdir",
    "symlink",
    "inotify_init1",
    "inotify_add_watch",
    "getresuid",
    "getresgid",
    "setitimer",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_sigsuspend",
    "pause",
    "waitid",
    "pidfd_open",
    "process_vm_readv",
    "sched_getparam",
    "sched_getscheduler",
    "sched_setscheduler",
    "getpriority",
    "setpriority",
    "mincore",
    "flock",
    "link",
    "linkat",
    "fstatat64",
    "lstat",
    "stat",
    "open",
    "pipe",
    "copy_file_range",
    NULL,
};

/* What perf calls and copes with failing: refused (EPERM, as without the
 * capability) and never run. Any other bpf command, unshare or setns
 * kills. */
static const struct sandbox_argrule perf_argrules[] = {
    /* perf_event_open with close-on-exec fds (the native engine and perf)
     * and cgroup targets (perf record -G) only: no FD_OUTPUT, no
     * FD_NO_GROUP. */
    {"perf_event_open", 4,
     ~(unsigned long)(PERF_FLAG_FD_CLOEXEC | PERF_FLAG_PID_CGROUP), 0, 0},
    /* perf record lists the loaded BPF programs for its side-band data */
    {"bpf", 0, SANDBOX_INT, BPF_PROG_GET_NEXT_ID, EPERM},
    /* perf's side-band thread, so that it may enter mount namespaces */
    {"unshare", 0, ~0UL, CLONE_FS, EPERM},
    /* perf enters a process's mount namespace to read its binaries and
     * falls back to /proc/PID/root when it cannot */
    {"setns", 1, SANDBOX_INT, CLONE_NEWNS, EPERM},
    {NULL, 0, 0, 0, 0},
};

/* perf's own event fds; TCGETS (isatty) is in the base set. */
static const unsigned long perf_ioctls[] = {
    PERF_EVENT_IOC_ENABLE,
    PERF_EVENT_IOC_DISABLE,
    PERF_EVENT_IOC_SET_OUTPUT,
    PERF_EVENT_IOC_ID,
    0,
};

/* The parent-death signal of perf's children; perf checks its
 * capabilities (PR_CAPBSET_READ). */
static const int perf_prctls[] = {PR_SET_PDEATHSIG, PR_CAPBSET_READ, -1};

static const struct sandbox_policy perf_policy = {
    .sp_name = "perf",
    .sp_caps = perf_caps,
    .sp_syscalls = perf_syscalls,
    .sp_argrules = perf_argrules,
    .sp_ioctls = perf_ioctls,
    .sp_prctls = perf_prctls,
    .sp_unix_only = 1,
};

enum {
	OPT_SCRIPT_INPUT = 2000,
};

/* Its own options beside those of optdefs.h. */
static const struct option perf_longopts[] = {
    {"perf-script-input", required_argument, NULL, OPT_SCRIPT_INPUT},
    {NULL, 0, NULL, 0},
};

static int
perf_option(struct worker_ctx *ctx, int opt, const char *arg)
{
	(void)ctx;
	if (opt == OPT_SCRIPT_INPUT)
		return perf_input_option(arg);
	return -1;
}

/* Its settings: its part of Configure (or of its command line), with the
 * common ones copied in at start. */
static struct perf_opts perf_o = {
    .wo_perf_mode = "fp",
    .wo_restart_rss_mb = WORKER_PERF_RESTART_RSS_MB,
    .wo_restart_after_s = WORKER_PERF_RESTART_AFTER,
    .wo_max_cgroups = WORKER_PERF_MAX_CGROUPS,
};

#define OD_MSG	       Profd__PerfSettings
#define OD_HOLDER      struct perf_opts
#define OD_FIELD(stem) wo_##stem
static const struct optdef perf_rows[] = {PROFD_PERF_OPTIONS(OPTDEF_ROW)
					      OPTDEF_END};

struct perf_opts *
perf_opts_of(struct worker_ctx *ctx)
{
	const struct worker_opts *c = &ctx->wc_opts;

	perf_o.wo_frequency = c->wo_frequency;
	perf_o.wo_duration = c->wo_duration;
	memcpy(perf_o.wo_pids, c->wo_pids, c->wo_npids * sizeof(c->wo_pids[0]));
	perf_o.wo_npids = c->wo_npids;
	return &perf_o;
}

/* Drops PIDs that do not exist, naming them; returns how many remain. */
static size_t
perf_live_pids(struct perf_opts *o)
{
	size_t kept = 0;

	for (size_t i = 0; i < o->wo_npids; i++) {
		if (procfs_alive((pid_t)o->wo_pids[i]))
			o->wo_pids[kept++] = o->wo_pids[i];
		else
			log_error("no process with PID %u: not profiled",
				  o->wo_pids[i]);
	}
	o->wo_npids = kept;
	return kept;
}

/* --skip-system-profilers-above: decided before perf ever starts. */
static int
perf_too_many_processes(const struct perf_opts *o)
{
	int n;

	if (o->wo_skip_above == 0 || (n = procfs_count_processes()) == -1 ||
	    (uint32_t)n <= o->wo_skip_above)
		return 0;
	log_warn("%d processes run on this host, over "
		 "--skip-system-profilers-above %u: perf is not started",
		 n, o->wo_skip_above);
	return 1;
}

/* The perf records of one worker: fp or dwarf alone, or both (smart). */
struct perf_state {
	struct perf_record ps_rec[2];
	size_t ps_n;
	struct stack_table *ps_tmp[2]; /* smart: each record's window */
	struct perf_native *ps_native; /* the native engine, or NULL */
};

/* Uses --perf-events as given, or finds an event that yields samples. */
static int
perf_choose_event(struct perf_record *r, const struct perf_opts *o)
{
	if (o->wo_perf_events[0] == '\0')
		return perf_discover_event(r, o);
	snprintf(r->pr_event, sizeof(r->pr_event), "%s", o->wo_perf_events);
	return 0;
}

/* Sets up the records the mode asks for: fp, dwarf, or both. */
static void
perf_state_init(struct perf_state *s, const char *dir, enum perf_mode mode)
{
	int smart = mode == PERF_MODE_SMART;

	s->ps_n = smart ? 2 : 1;
	for (size_t i = 0; i < s->ps_n; i++) {
		struct perf_record *r = &s->ps_rec[i];

		r->pr_dwarf = smart ? i == 1 : mode == PERF_MODE_DWARF;
		snprintf(r->pr_dir, sizeof(r->pr_dir), "%s", dir);
		snprintf(r->pr_out, sizeof(r->pr_out), "%s",
			 r->pr_dwarf ? "perf.dwarf" : "perf.fp");
	}
}

static void
perf_state_free(struct perf_state *s)
{
	for (size_t i = 0; i < s->ps_n; i++) {
		perf_record_stop(&s->ps_rec[i]);
		stacks_free(s->ps_tmp[i]);
	}
	perf_native_stop(s->ps_native);
	free(s);
}

/* Finds perf, the cgroups and an event, then starts every record; 0, -1,
 * or PERF_RECORD_NO_CGROUP. */
static int
perf_state_start(struct perf_state *s, const struct perf_opts *o)
{
	struct perf_record *r = &s->ps_rec[0];
	int rv;

	if (perf_find(r) == -1)
		return -1;
	/* Ranked before the event probes: no cgroup means no perf at all. */
	if (o->wo_use_cgroups && (rv = perf_record_cgroups(r, o)) <= 0)
		return rv == 0 ? PERF_RECORD_NO_CGROUP : -1;
	if (perf_choose_event(r, o) == -1)
		return -1;
	for (size_t i = 1; i < s->ps_n; i++) {
		struct perf_record *q = &s->ps_rec[i];

		memcpy(q->pr_perf, r->pr_perf, sizeof(r->pr_perf));
		memcpy(q->pr_event, r->pr_event, sizeof(r->pr_event));
		/* smart: both recordings profile the same cgroups */
		if (r->pr_cgroups != NULL) {
			if ((q->pr_cgroups = malloc(sizeof(*q->pr_cgroups))) ==
			    NULL)
				return -1;
			*q->pr_cgroups = *r->pr_cgroups;
			q->pr_cgroups_fresh = r->pr_cgroups_fresh;
		}
	}
	for (size_t i = 0; i < s->ps_n; i++) {
		if (s->ps_n > 1 &&
		    (s->ps_tmp[i] = stacks_new(WORKER_CHUNK_BUDGET)) == NULL)
			return -1;
		if ((rv = perf_record_start(&s->ps_rec[i], o)) != 0)
			return rv;
	}
	return 0;
}

/* Why the native engine cannot do what o asks, or NULL when it can. */
static const char *
perf_native_unfit(const struct perf_opts *o)
{
	if (perf_mode_dwarf(o->wo_mode) && perf_unwind_regs_mask() == 0)
		return "--perf-mode dwarf and smart on this architecture";
	return NULL;
}

/* Starts the native engine when --perf-engine asks for it or auto allows
 * it: 0 (started), -1 (native asked for and refused), or 1 (the perf
 * engine is to run). */
static int
perf_engine_native(struct perf_state *s, const struct perf_opts *o)
{
	const char *unfit = perf_native_unfit(o);
	int native = o->wo_engine == PERF_ENGINE_NATIVE;

	if (o->wo_engine == PERF_ENGINE_PERF)
		return 1;
	if (unfit != NULL) {
		if (native) {
			log_error("--perf-engine native: %s need the perf "
				  "engine",
				  unfit);
			return -1;
		}
		log_info("%s: the perf engine is used", unfit);
		return 1;
	}
	if ((s->ps_native = perf_native_start(o)) != NULL) {
		log_info("native engine: sampling %s at %u Hz",
			 perf_native_event(s->ps_native), o->wo_frequency);
		return 0;
	}
	if (native) {
		log_error("native engine: perf_event_open refused: %s",
			  strerror(errno));
		return -1;
	}
	log_warn("native engine unavailable (perf_event_open: %s): falling "
		 "back to the perf engine",
		 strerror(errno));
	return 1;
}

static int
perf_start(struct worker_ctx *ctx)
{
	struct perf_opts *o = perf_opts_of(ctx);
	struct perf_state *s;
	int rv;

	if (perf_input_active())
		return perf_input_start(ctx);
	perf_tmp_sweep(); /* what killed perfs of this uid left in /tmp */
	if (perf_mode_parse(o->wo_perf_mode, &o->wo_mode) == -1 ||
	    perf_engine_parse(o->wo_perf_engine, &o->wo_engine) == -1) {
		log_error("--perf-mode %s or --perf-engine %s is none of ours",
			  o->wo_perf_mode, o->wo_perf_engine);
		return -1;
	}
	if (o->wo_use_cgroups && o->wo_npids > 0) {
		log_error("--perf-use-cgroups and --pids exclude each other");
		return -1;
	}
	if (o->wo_mode == PERF_MODE_DISABLED || perf_too_many_processes(o))
		return 0;
	if (perf_mode_dwarf(o->wo_mode) &&
	    o->wo_frequency > WORKER_MAX_DWARF_FREQUENCY) {
		log_error("--perf-mode %s allows at most %d Hz",
			  perf_mode_name(o->wo_mode),
			  WORKER_MAX_DWARF_FREQUENCY);
		return -1;
	}
	if (o->wo_npids > 0 && perf_live_pids(o) == 0) {
		log_error("none of the given PIDs exists: perf not started");
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if ((rv = perf_engine_native(s, o)) != 1) {
		if (rv == 0)
			ctx->wc_priv = s;
		else
			free(s);
		return rv;
	}
	perf_state_init(s, ctx->wc_workdir, o->wo_mode);
	s->ps_rec[0].pr_cache = ctx->wc_supervised;
	if ((rv = perf_state_start(s, o)) != 0) {
		perf_state_free(s);
		/* No cgroup to profile: no perf at all, the windows go on. */
		return rv == PERF_RECORD_NO_CGROUP ? 0 : -1;
	}
	ctx->wc_priv = s;
	return 0;
}

/* smart: both records' windows, merged per process into t. */
static int
perf_snapshot_smart(struct perf_state *s, const struct perf_opts *o,
		    struct stack_table *t)
{
	int rv = 0;

	for (size_t i = 0; i < 2; i++) {
		stacks_clear(s->ps_tmp[i]);
		if (perf_record_rotate(&s->ps_rec[i], o, s->ps_tmp[i]) == -1)
			rv = -1;
	}
	if (rv == 0 && perf_smart_merge(t, s->ps_tmp[0], s->ps_tmp[1]) == -1)
		rv = -1;
	stacks_clear(s->ps_tmp[0]);
	stacks_clear(s->ps_tmp[1]);
	return rv;
}

static int
perf_snapshot(struct worker_ctx *ctx, uint64_t window, struct stack_table *t)
{
	struct perf_state *s = ctx->wc_priv;
	int rv;

	(void)window;
	if (perf_input_active())
		return perf_input_parse(ctx, t);
	if (s == NULL)
		return 0; /* disabled: an empty window */
	if (s->ps_native != NULL) {
		rv = perf_native_snapshot(s->ps_native, perf_opts_of(ctx), t);
		ctx->wc_lost = perf_native_lost(s->ps_native);
		/* --perf-use-cgroups: chosen again for the next window, as
		 * the perf engine does when perf record starts again */
		if (perf_native_cgroups(s->ps_native, perf_opts_of(ctx)) == -1)
			log_warn("native engine: the cgroups could not be "
				 "chosen again: the last ones are kept");
		return rv;
	}
	if (s->ps_n == 2)
		return perf_snapshot_smart(s, perf_opts_of(ctx), t);
	return perf_record_rotate(&s->ps_rec[0], perf_opts_of(ctx), t);
}

static void
perf_stop(struct worker_ctx *ctx)
{
	struct perf_state *s = ctx->wc_priv;

	perf_input_stop();
	if (s == NULL)
		return;
	perf_state_free(s);
	ctx->wc_priv = NULL;
}

/* No window was asked for within the rotation timeout (profd is late or
 * stuck): perf's output is rotated and dropped so it cannot grow. */
static void
perf_idle(struct worker_ctx *ctx)
{
	struct perf_state *s = ctx->wc_priv;
	int64_t timeout = perf_rotate_timeout_ms(perf_opts_of(ctx));

	if (s != NULL && s->ps_native != NULL) {
		if (now_ms() - perf_native_last_ms(s->ps_native) < timeout)
			return;
		log_warn("no window asked for in %lld s: perf's output is "
			 "dropped (the native engine's stacks)",
			 (long long)(timeout / 1000));
		perf_native_drop(s->ps_native);
		return;
	}
	if (s == NULL || s->ps_rec[0].pr_pid == 0 ||
	    now_ms() - s->ps_rec[0].pr_rotated_ms < timeout)
		return;
	log_warn("no window asked for in %lld s: perf's output is dropped",
		 (long long)(timeout / 1000));
	for (size_t i = 0; i < s->ps_n; i++)
		perf_record_drop(&s->ps_rec[i]);
}

static const struct profiler_ops perf_ops = {
    .po_name = "perf",
    .po_policy = &perf_policy,
    .po_start = perf_start,
    .po_snapshot = perf_snapshot,
    .po_stop = perf_stop,
    .po_longopts = perf_longopts,
    .po_option = perf_option,
    .po_rows = perf_rows,
    .po_settings = &perf_o,
    .po_settings_case = PROFD__CONFIGURE__SETTINGS_PERF,
    .po_idle = perf_idle,
    .po_usage =
	"\n       [--perf-mode fp|dwarf|smart|disabled] [--insert-dso-name]"
	"\n       [--perf-dwarf-stack-size BYTES] [--perf-events EVENT]"
	"\n       [--skip-system-profilers-above N]"
	"\n       [--perf-restart-rss MB] [--perf-restart-after SECONDS]"
	"\n       [--perf-no-memory-restart] [--perf-use-cgroups]"
	"\n       [--perf-max-cgroups N] [--perf-max-docker-containers N]"
	"\n       [--perf-script-input FILE] [--perf-engine perf|native|auto]",
};

/* Kernels without CAP_PERFMON (before 5.8) allow perf_event_open on the
 * whole host with CAP_SYS_ADMIN only: that one is kept instead. */
static void
perf_caps_for_kernel(void)
{
	char buf[16];
	uint64_t last;

	if (procfs_read("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) <= 0)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_u64(buf, 0, 63, &last) == 0 && last < CAP_PERFMON)
		perf_caps[0] = CAP_SYS_ADMIN;
}

int
main(int argc, char **argv)
{
	perf_caps_for_kernel();
	return worker_main(argc, argv, &perf_ops);
}
