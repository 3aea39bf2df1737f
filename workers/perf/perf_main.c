/* profd-perf: native and kernel stacks from perf record / perf script. */
#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "perf_input.h"
#include "perf_record.h"
#include "procfs.h"
#include "worker.h"

static const int perf_caps[] = {CAP_PERFMON, CAP_SYSLOG, CAP_SYS_PTRACE,
				CAP_DAC_READ_SEARCH, -1};

/* perf record and perf script run inside this filter too. */
static const char *const perf_syscalls[] = {
    "execve",
    "wait4",
    "kill",
    "perf_event_open",
    "bpf",
    "capget",
    "alarm",
    "getcpu",
    "get_mempolicy",
    "set_mempolicy",
    "sched_setaffinity",
    "statfs",
    "fstatfs",
    "unshare",
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
    "name_to_handle_at",
    "open_by_handle_at",
    "io_uring_setup",
    NULL,
};

static const struct sandbox_policy perf_policy = {
    .sp_name = "perf",
    .sp_caps = perf_caps,
    .sp_syscalls = perf_syscalls,
    .sp_unix_only = 1,
};

enum {
	OPT_PERF_MODE = 2000,
	OPT_INSERT_DSO_NAME,
	OPT_DWARF_STACK_SIZE,
	OPT_SKIP_ABOVE,
	OPT_EVENTS,
	OPT_RESTART_RSS,
	OPT_RESTART_AFTER,
	OPT_NO_MEMORY_RESTART,
	OPT_SCRIPT_INPUT,
};

static const struct option perf_longopts[] = {
    {"perf-mode", required_argument, NULL, OPT_PERF_MODE},
    {"insert-dso-name", no_argument, NULL, OPT_INSERT_DSO_NAME},
    {"perf-dwarf-stack-size", required_argument, NULL, OPT_DWARF_STACK_SIZE},
    {"skip-system-profilers-above", required_argument, NULL, OPT_SKIP_ABOVE},
    {"perf-events", required_argument, NULL, OPT_EVENTS},
    {"perf-restart-rss", required_argument, NULL, OPT_RESTART_RSS},
    {"perf-restart-after", required_argument, NULL, OPT_RESTART_AFTER},
    {"perf-no-memory-restart", no_argument, NULL, OPT_NO_MEMORY_RESTART},
    {"perf-script-input", required_argument, NULL, OPT_SCRIPT_INPUT},
    {NULL, 0, NULL, 0},
};

/* The options of perf's guard rails. */
static int
perf_guard_option(struct worker_opts *o, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case OPT_SKIP_ABOVE:
		if (parse_u64(arg, 0, 10000000, &v) == -1)
			return worker_badarg("--skip-system-profilers-above",
					     arg, "a number of processes");
		o->wo_skip_above = (uint32_t)v;
		return 0;
	case OPT_EVENTS:
		if (strlen(arg) == 0 || strlen(arg) >= sizeof(o->wo_events) ||
		    strspn(arg, WORKER_EVENT_CHARS) != strlen(arg))
			return worker_badarg("--perf-events", arg,
					     "a perf event name");
		snprintf(o->wo_events, sizeof(o->wo_events), "%s", arg);
		return 0;
	case OPT_RESTART_RSS:
		if (parse_u64(arg, 1, 1048576, &v) == -1)
			return worker_badarg("--perf-restart-rss", arg,
					     "1 to 1048576 MB");
		o->wo_restart_rss_mb = (uint32_t)v;
		return 0;
	case OPT_RESTART_AFTER:
		if (parse_u64(arg, 1, 86400 * 365, &v) == -1)
			return worker_badarg("--perf-restart-after", arg,
					     "a number of seconds");
		o->wo_restart_after_s = (uint32_t)v;
		return 0;
	case OPT_NO_MEMORY_RESTART:
		o->wo_no_memory_restart = 1;
		return 0;
	}
	return -1;
}

static int
perf_option(struct worker_ctx *ctx, int opt, const char *arg)
{
	struct worker_opts *o = &ctx->wc_opts;
	uint64_t v;

	switch (opt) {
	case OPT_PERF_MODE:
		if (strcmp(arg, "fp") != 0 && strcmp(arg, "dwarf") != 0 &&
		    strcmp(arg, "disabled") != 0)
			return worker_badarg("--perf-mode", arg,
					     "fp, dwarf or disabled");
		snprintf(o->wo_perf_mode, sizeof(o->wo_perf_mode), "%s", arg);
		return 0;
	case OPT_INSERT_DSO_NAME:
		o->wo_insert_dso_name = 1;
		return 0;
	case OPT_DWARF_STACK_SIZE:
		if (parse_u64(arg, 1, 65528, &v) == -1)
			return worker_badarg("--perf-dwarf-stack-size", arg,
					     "1 to 65528 bytes");
		o->wo_dwarf_stack_size = (uint32_t)v;
		return 0;
	case OPT_SCRIPT_INPUT:
		return perf_input_option(arg);
	}
	return perf_guard_option(o, opt, arg);
}

/* Drops PIDs that do not exist, naming them; returns how many remain. */
static size_t
perf_live_pids(struct worker_opts *o)
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
perf_too_many_processes(const struct worker_opts *o)
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

/* Uses --perf-events as given, or finds an event that yields samples. */
static int
perf_choose_event(struct perf_record *r, const struct worker_opts *o)
{
	if (o->wo_events[0] == '\0')
		return perf_discover_event(r, o);
	snprintf(r->pr_event, sizeof(r->pr_event), "%s", o->wo_events);
	return 0;
}

static int
perf_start(struct worker_ctx *ctx)
{
	struct worker_opts *o = &ctx->wc_opts;
	struct perf_record *r;

	if (perf_input_active())
		return perf_input_start(ctx);
	if (strcmp(o->wo_perf_mode, "disabled") == 0 ||
	    perf_too_many_processes(o))
		return 0;
	if (strcmp(o->wo_perf_mode, "dwarf") == 0 && o->wo_frequency > 100) {
		log_error("--perf-mode dwarf allows at most 100 Hz");
		return -1;
	}
	if (o->wo_npids > 0 && perf_live_pids(o) == 0) {
		log_error("none of the given PIDs exists: perf not started");
		return -1;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	snprintf(r->pr_dir, sizeof(r->pr_dir), "%s", ctx->wc_workdir);
	if (perf_find(r) == -1 || perf_choose_event(r, o) == -1 ||
	    perf_record_start(r, o) == -1) {
		perf_record_stop(r);
		free(r);
		return -1;
	}
	ctx->wc_priv = r;
	return 0;
}

static int
perf_snapshot(struct worker_ctx *ctx, uint64_t window, struct stack_table *t)
{
	struct perf_record *r = ctx->wc_priv;

	(void)window;
	if (perf_input_active())
		return perf_input_parse(ctx, t);
	if (r == NULL)
		return 0; /* disabled: an empty window */
	return perf_record_rotate(r, &ctx->wc_opts, t);
}

static void
perf_stop(struct worker_ctx *ctx)
{
	struct perf_record *r = ctx->wc_priv;

	perf_input_stop();
	if (r == NULL)
		return;
	perf_record_stop(r);
	free(r);
	ctx->wc_priv = NULL;
}

static const struct profiler_ops perf_ops = {
    .po_name = "perf",
    .po_policy = &perf_policy,
    .po_start = perf_start,
    .po_snapshot = perf_snapshot,
    .po_stop = perf_stop,
    .po_longopts = perf_longopts,
    .po_option = perf_option,
    .po_usage =
	"\n       [--perf-mode fp|dwarf|disabled] [--insert-dso-name]"
	"\n       [--perf-dwarf-stack-size BYTES] [--perf-events EVENT]"
	"\n       [--skip-system-profilers-above N]"
	"\n       [--perf-restart-rss MB] [--perf-restart-after SECONDS]"
	"\n       [--perf-no-memory-restart]"
	"\n       [--perf-script-input FILE]",
};

int
main(int argc, char **argv)
{
	return worker_main(argc, argv, &perf_ops);
}
