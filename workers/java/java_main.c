/* profd-java: Java stacks from libprofd-jvmti.so, attached to JVMs. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "java.h"
#include "optdefs.h"
#include "log.h"
#include "procfs.h"
#include "worker.h"

#ifndef PROFD_AGENT_DIR
#define PROFD_AGENT_DIR "/usr/local/lib/profd"
#endif

/* What attaching needs, and only in the forked helper, which gives all of
 * it up (bounding set included) before it touches a file of the JVM:
 *  CAP_SYS_PTRACE       /proc/PID/{maps,ns,exe,root,map_files} of JVMs of
 *                       other users (also read by the worker);
 *  CAP_SYS_ADMIN        setns into a JVM's namespaces, and opening
 *                       /proc/PID/map_files (libjvm.so's owner);
 *  CAP_SYS_CHROOT       setns into a mount namespace;
 *  CAP_SETGID, SETUID   taking the JVM's gid (no groups) and uid;
 *  CAP_DAC_READ_SEARCH  the JDK's release file and hs_err files in
 *                       directories of other users, and the agent.
 * No CAP_KILL (SIGQUIT is sent by the helper as the JVM's user), no
 * CAP_DAC_OVERRIDE (every file in the JVM's /tmp is made as its user),
 * no CAP_SETPCAP (the sandbox empties the bounding set already). */
static const int java_caps[] = {CAP_SYS_PTRACE,
				CAP_SYS_ADMIN,
				CAP_SYS_CHROOT,
				CAP_SETGID,
				CAP_SETUID,
				CAP_DAC_READ_SEARCH,
				-1};

/* setns is allowed by java_argrules only. capset and the capability
 * prctls: the attach helper drops every capability (libcap-ng). */
static const char *const java_syscalls[] = {
    "setresuid", "setresgid", "setgroups", "getgroups", "kill",
    "wait4",	 "chdir",     "fchdir",	   "lstat",	"stat",
    "getresuid", "getresgid", "capget",	   "capset",	"setitimer",
    "alarm",	 NULL,
};

/* The attach helper enters the JVM's mount, network and IPC namespaces,
 * each by its type: setns with any other type (a user or PID namespace,
 * or 0 for "any") kills. */
static const struct sandbox_argrule java_argrules[] = {
    {"setns", 1, SANDBOX_INT, CLONE_NEWNS, 0},
    {"setns", 1, SANDBOX_INT, CLONE_NEWNET, 0},
    {"setns", 1, SANDBOX_INT, CLONE_NEWIPC, 0},
    {NULL, 0, 0, 0, 0},
};

/* The helper's parent-death signal and its capability drop. */
static const int java_prctls[] = {PR_SET_PDEATHSIG, PR_CAPBSET_READ,
				  PR_CAPBSET_DROP, PR_CAP_AMBIENT, -1};

/* The helper asks which user namespace owns a JVM's namespace. */
static const unsigned long java_ioctls[] = {NS_GET_USERNS, 0};

static const struct sandbox_policy java_policy = {
    .sp_name = "java",
    .sp_caps = java_caps,
    .sp_syscalls = java_syscalls,
    .sp_argrules = java_argrules,
    .sp_prctls = java_prctls,
    .sp_ioctls = java_ioctls,
    .sp_unix_only = 1,
};

enum {
	OPT_JAVA_MODE = 3000,
	OPT_NO_JAVA,
	OPT_AP_MODE,
	OPT_SAFEMODE,
	OPT_TIMEOUT,
	OPT_AGENT,
	OPT_LINES,
	OPT_THREADS,
};

static const struct option java_longopts[] = {
    {"java-mode", required_argument, NULL, OPT_JAVA_MODE},
    {"no-java", no_argument, NULL, OPT_NO_JAVA},
    {"java-async-profiler-mode", required_argument, NULL, OPT_AP_MODE},
    {"java-safemode", no_argument, NULL, OPT_SAFEMODE},
    {"java-jattach-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"java-agent", required_argument, NULL, OPT_AGENT},
    {"java-line-numbers", no_argument, NULL, OPT_LINES},
    {"java-collect-thread-names", no_argument, NULL, OPT_THREADS},
    {NULL, 0, NULL, 0},
};

/* Its part of Configure (or of its command line). */
struct java_settings {
	uint32_t wo_max_procs;	  /* JVMs profiled; 0: all */
	uint32_t wo_min_duration; /* seconds a JVM must have run */
};

static struct java_settings java_s;

#define OD_MSG	       Profd__JavaSettings
#define OD_HOLDER      struct java_settings
#define OD_FIELD(stem) wo_##stem
static const struct optdef java_rows[] = {PROFD_JAVA_OPTIONS(OPTDEF_ROW)
					      OPTDEF_END};

/* Options live here until start hands them to the state. */
static struct java_opts java_o = {
    .jo_timeout_s = JAVA_DEFAULT_TIMEOUT,
};

/* The agent beside the executable (a build tree), else the installed one
 * in PROFD_AGENT_DIR. */
static const char *
java_default_agent(void)
{
	static char path[4096];
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", exe,
				 JAVA_AGENT_FILE);
			if (access(path, R_OK) == 0)
				return path;
		}
	}
	return PROFD_AGENT_DIR "/" JAVA_AGENT_FILE;
}

static int
java_option(struct worker_ctx *ctx, int opt, const char *arg)
{
	struct java_opts *o = &java_o;
	uint64_t v;

	(void)ctx;
	switch (opt) {
	case OPT_JAVA_MODE:
		if (strcmp(arg, "ap") != 0 && strcmp(arg, "perfmap") != 0 &&
		    strcmp(arg, "disabled") != 0)
			return worker_badarg("--java-mode", arg,
					     "ap, perfmap or disabled");
		o->jo_mode_perfmap = strcmp(arg, "perfmap") == 0;
		o->jo_disabled = strcmp(arg, "disabled") == 0;
		return 0;
	case OPT_NO_JAVA:
		o->jo_disabled = 1;
		return 0;
	case OPT_AP_MODE:
		if (strcmp(arg, "cpu") != 0 && strcmp(arg, "itimer") != 0 &&
		    strcmp(arg, "auto") != 0)
			return worker_badarg("--java-async-profiler-mode", arg,
					     "cpu, itimer or auto");
		o->jo_cpu = strcmp(arg, "cpu") == 0;
		return 0;
	case OPT_SAFEMODE:
		o->jo_safemode = 1;
		return 0;
	case OPT_TIMEOUT:
		if (parse_u64(arg, 1, 3600, &v) == -1)
			return worker_badarg("--java-jattach-timeout", arg,
					     "1 to 3600 seconds");
		o->jo_timeout_s = (uint32_t)v;
		return 0;
	case OPT_AGENT:
		if (arg[0] != '/')
			return worker_badarg("--java-agent", arg,
					     "an absolute path");
		o->jo_agent = arg;
		return 0;
	case OPT_LINES:
		o->jo_lines = 1;
		return 0;
	case OPT_THREADS:
		o->jo_threads = 1;
		return 0;
	}
	return -1;
}

static int
java_start(struct worker_ctx *ctx)
{
	struct java_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->jc_o = java_o;
	/* More JVMs than it can hold at once is "all it can". */
	c->jc_o.jo_max_procs = java_s.wo_max_procs > JAVA_MAX_JVMS
				   ? JAVA_MAX_JVMS
				   : java_s.wo_max_procs;
	c->jc_o.jo_min_duration = java_s.wo_min_duration;
	if (c->jc_o.jo_agent == NULL)
		c->jc_o.jo_agent = java_default_agent();
	c->jc_frequency = ctx->wc_opts.wo_frequency;
	c->jc_duration = ctx->wc_opts.wo_duration;
	c->jc_pids = ctx->wc_opts.wo_pids;
	c->jc_npids = ctx->wc_opts.wo_npids;
	if (java_run_start(c) == -1) {
		free(c);
		return -1;
	}
	ctx->wc_priv = c;
	return 0;
}

static int
java_snapshot(struct worker_ctx *ctx, uint64_t window, struct stack_table *t)
{
	(void)window;
	return ctx->wc_priv ? java_run_window(ctx->wc_priv, t) : 0;
}

static void
java_stop(struct worker_ctx *ctx)
{
	if (ctx->wc_priv == NULL)
		return;
	java_run_stop(ctx->wc_priv);
	free(ctx->wc_priv);
	ctx->wc_priv = NULL;
}

static const struct profiler_ops java_ops = {
    .po_name = "java",
    .po_policy = &java_policy,
    .po_start = java_start,
    .po_snapshot = java_snapshot,
    .po_stop = java_stop,
    .po_longopts = java_longopts,
    .po_option = java_option,
    .po_runtime = 1,
    .po_rows = java_rows,
    .po_settings = &java_s,
    .po_settings_case = PROFD__CONFIGURE__SETTINGS_JAVA,
    .po_usage =
	"\n       [--java-mode ap|perfmap|disabled] [--no-java]"
	"\n       [--java-async-profiler-mode itimer|cpu|auto]"
	"\n       [--java-safemode] [--java-jattach-timeout SECONDS]"
	"\n       [--max-processes-runtime-profiler N] [--java-agent FILE]"
	"\n       [--java-line-numbers] [--java-collect-thread-names]",
};

int
main(int argc, char **argv)
{
	return worker_main(argc, argv, &java_ops);
}
