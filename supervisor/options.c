/* profd's options: the command line over the configuration file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "optdefs.h"
#include "profd.h"
#include "secret.h"
#include "worker.h"

#define CONF_MAX_LINE	1024 /* bytes in one line of profd.conf */
#define CONF_MAX_VALUES 64   /* string values kept from it */

/* How a row of profd's option table is applied. */
enum pkind {
	PK_CFG,	   /* a row of optdefs.h, kept in po_STEM */
	PK_FLAG,   /* sets the int at p_off */
	PK_STR,	   /* keeps the value at p_off (a const char *) */
	PK_FN,	   /* p_fn does it */
	PK_UPLOAD, /* passed on to profd-upload as "p_text [value]" */
	PK_QUIET,  /* gProfiler's: profd already does what it asks */
	PK_NOTICE, /* gProfiler's: does not apply here; one warning line */
	PK_REFUSE, /* gProfiler's: would change the output in a way profd
		    * cannot; refused with the reason */
};

struct popt;
typedef int (*popt_fn)(struct profd_opts *, const struct popt *, const char *);

/* One option of profd: its name is also its profd.conf key and, as
 * GPROFILER_NAME, its environment variable. */
struct popt {
	const char *p_name;
	int p_short;
	int p_arg; /* no_argument, required_argument, optional_argument */
	enum pkind p_kind;
	size_t p_off; /* in struct profd_opts */
	popt_fn p_fn;
	const char *p_text;
	const char *p_help; /* the value's name in --help; NULL: none */
};

/* The rows of optdefs.h, bound to each worker's part of Configure and
 * to profd's options (po_STEM). Java's are Python's names: one option of
 * profd for both. */
#define OD_HOLDER      struct profd_opts
#define OD_FIELD(stem) po_##stem
#define OD_MSG	       Profd__Configure
static const struct optdef rows_common[] = {PROFD_COMMON_OPTIONS(OPTDEF_ROW)
						OPTDEF_END};
#undef OD_MSG
#define OD_MSG Profd__PerfSettings
static const struct optdef rows_perf[] = {PROFD_PERF_OPTIONS(OPTDEF_ROW)
					      OPTDEF_END};
#undef OD_MSG
#define OD_MSG Profd__PythonSettings
static const struct optdef rows_python[] = {PROFD_PYTHON_OPTIONS(OPTDEF_ROW)
						OPTDEF_END};
#undef OD_MSG
#define OD_MSG Profd__JavaSettings
static const struct optdef rows_java[] = {PROFD_JAVA_OPTIONS(OPTDEF_ROW)
					      OPTDEF_END};

/* The row of optdefs.h named name, or NULL. */
static const struct optdef *
cfg_row(const char *name)
{
	const struct optdef *const lists[] = {rows_common, rows_perf,
					      rows_python};
	const struct optdef *d;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if ((d = optdef_find(lists[i], name)) != NULL)
			return d;
	return NULL;
}

#define PO(f) offsetof(struct profd_opts, f)
#define P_CFG(kind, name, sh, stem, cfg, min, max, words)                      \
	{name,                                                                 \
	 sh,                                                                   \
	 kind == OD_FLAG ? no_argument : required_argument,                    \
	 PK_CFG,                                                               \
	 PO(po_##stem),                                                        \
	 NULL,                                                                 \
	 NULL,                                                                 \
	 kind == OD_FLAG ? NULL : "VALUE"},
#define P_FLAG(name, sh, f)                                                    \
	{                                                                      \
		name, sh, no_argument, PK_FLAG, PO(f), NULL, NULL, NULL        \
	}
#define P_STR(name, sh, f, help)                                               \
	{                                                                      \
		name, sh, required_argument, PK_STR, PO(f), NULL, NULL, help   \
	}
#define P_FN(name, sh, arg, fn, help)                                          \
	{                                                                      \
		name, sh, arg, PK_FN, 0, fn, NULL, help                        \
	}
#define P_UP(name, arg, help)                                                  \
	{                                                                      \
		name, 0, arg, PK_UPLOAD, 0, NULL, "--" name, help              \
	}
#define P_QUIET(name, arg, what)                                               \
	{                                                                      \
		name, 0, arg, PK_QUIET, 0, NULL, what, NULL                    \
	}
#define P_NOTE(name, arg, why)                                                 \
	{                                                                      \
		name, 0, arg, PK_NOTICE, 0, NULL, why, NULL                    \
	}
#define P_REFUSE(name, arg, why)                                               \
	{                                                                      \
		name, 0, arg, PK_REFUSE, 0, NULL, why, NULL                    \
	}
#define P_UPF(name, arg, help)                                                 \
	{                                                                      \
		name, 0, arg, PK_FN, 0, o_upload, "--" name, help              \
	}

static int o_outdir(struct profd_opts *, const struct popt *, const char *);
static int o_verbose(struct profd_opts *, const struct popt *, const char *);
static int o_pids(struct profd_opts *, const struct popt *, const char *);
static int o_flamegraph(struct profd_opts *, const struct popt *, const char *);
static int o_mode(struct profd_opts *, const struct popt *, const char *);
static int o_words(struct profd_opts *, const struct popt *, const char *);
static int o_number(struct profd_opts *, const struct popt *, const char *);
static int o_upload(struct profd_opts *, const struct popt *, const char *);
static int o_token(struct profd_opts *, const struct popt *, const char *);
static int o_perf_event(struct profd_opts *, const struct popt *, const char *);
static int o_disable(struct profd_opts *, const struct popt *, const char *);
static int o_other_mode(struct profd_opts *, const struct popt *, const char *);
static int o_config(struct profd_opts *, const struct popt *, const char *);
static int o_spawned(struct profd_opts *, const struct popt *, const char *);

static const struct popt popts[] = {
    /* What profd hands its profilers (common/optdefs.h). */
    PROFD_COMMON_OPTIONS(P_CFG) PROFD_PERF_OPTIONS(P_CFG)
	PROFD_PYTHON_OPTIONS(P_CFG)
    /* Output and what profd runs. */
    P_FN("output-dir", 'o', required_argument, o_outdir, "DIR"),
    P_FLAG("continuous", 'c', po_continuous),
    P_FN("pids", 0, required_argument, o_pids, "PID,..."),
    P_FN("flamegraph", 0, no_argument, o_flamegraph, NULL),
    P_FN("no-flamegraph", 0, no_argument, o_flamegraph, NULL),
    P_FLAG("rotating-output", 0, po_rotating),
    P_STR("worker-dir", 0, po_worker_dir, "DIR"),
    P_STR("runtime-dir", 0, po_rundir, "DIR"),
    P_STR("user", 0, po_user, "NAME"),
    P_FLAG("syslog", 0, po_syslog),
    P_FN("verbose", 'v', no_argument, o_verbose, NULL),
    P_FN("diagnostics", 0, no_argument, o_verbose, NULL),
    P_FN("config", 0, required_argument, o_config, "FILE"),
    P_FN("cgroup-mode", 0, required_argument, o_words, "auto|v2|v1|poll"),
    P_FLAG("cgroup-delegated", 0, po_cgroup_delegated),
    P_STR("pid-file", 0, po_pid_file, "FILE"),
    P_STR("file-path", 0, po_upload_file, "FILE"),
    P_STR("log-file", 0, po_log_file, "FILE"),
    P_FN("log-rotate-max-size", 0, required_argument, o_number, "BYTES"),
    P_FN("log-rotate-backup-count", 0, required_argument, o_number, "N"),
    P_STR("heartbeat-file", 0, po_heartbeat_file, "FILE"),
    P_FN("controller-pid", 0, required_argument, o_number, "PID"),
    P_FN("mode", 0, required_argument, o_mode, "cpu"),
    /* perf. */
    P_FN("no-perf", 0, no_argument, o_disable, NULL),
    P_FN("perf-event", 0, required_argument, o_perf_event, "EVENT"),
    P_FN("nodejs-mode", 0, required_argument, o_words,
	 "perf|attach-maps|disabled|none"),
    P_FN("no-nodejs", 0, no_argument, o_disable, NULL),
    /* Python. */
    P_FN("python-mode", 0, required_argument, o_words,
	 "auto|pyspy|py-spy|pyperf|disabled"),
    P_FN("no-python", 0, no_argument, o_disable, NULL),
    /* Java: profd-java's own arguments. */
    P_FN("java-mode", 0, required_argument, o_words, "ap|perfmap|disabled"),
    P_FN("no-java", 0, no_argument, o_disable, NULL),
    P_FN("java-async-profiler-mode", 0, required_argument, o_words,
	 "cpu|itimer|auto"),
    P_FN("java-safemode", 0, optional_argument, o_words, "[OPTIONS]"),
    P_FN("java-jattach-timeout", 0, required_argument, o_number, "SECONDS"),
    P_FN("java-line-numbers", 0, required_argument, o_words,
	 "none|line-of-function"),
    P_FLAG("java-collect-thread-names", 0, po_java_thread_names),
    /* Upload, heartbeat: profd-upload's options. */
    {"upload-results", 'u', no_argument, PK_FN, 0, o_upload, "-u", NULL},
    {"server-host", 0, required_argument, PK_FN, 0, o_upload, "--server-host",
     "URL"},
    {"api-server", 0, required_argument, PK_FN, 0, o_upload, "--api-server",
     "URL"},
    {"glogger-server", 0, required_argument, PK_FN, 0, o_upload, "--api-server",
     "URL"},
    {"cloud-metadata-url", 0, required_argument, PK_FN, 0, o_upload,
     "--cloud-metadata-url", "URL"},
    {"pyroscope-url", 0, required_argument, PK_FN, 0, o_upload,
     "--pyroscope-url", "URL"},
    P_FN("token", 0, required_argument, o_token, "TOKEN"),
    {"token-file", 0, required_argument, PK_FN, 0, o_upload, "--token-file",
     "FILE"},
    {"service-name", 0, required_argument, PK_FN, 0, o_upload, "--service-name",
     "NAME"},
    {"server-upload-timeout", 0, required_argument, PK_FN, 0, o_upload,
     "--server-upload-timeout", "SECONDS"},
    {"spool-max-files", 0, required_argument, PK_FN, 0, o_upload,
     "--spool-max-files", "N"},
    {"upload-retry-max", 0, required_argument, PK_FN, 0, o_upload,
     "--upload-retry-max", "SECONDS"},
    {"enable-heartbeat-server", 0, no_argument, PK_FN, 0, o_upload,
     "--enable-heartbeat-server", NULL},
    {"heartbeat-interval", 0, required_argument, PK_FN, 0, o_upload,
     "--heartbeat-interval", "SECONDS"},
    P_UP("no-verify", no_argument, NULL),
    P_UP("ca-bundle", required_argument, "FILE"),
    P_UP("client-cert", required_argument, "FILE"),
    P_UP("client-key", required_argument, "FILE"),
    P_UP("pyroscope-app", required_argument, "NAME"),
    P_UP("pyroscope-tenant", required_argument, "NAME"),
    P_UP("spool-dir", required_argument, "DIR"),
    P_UP("spool-max-size", required_argument, "BYTES"),
    P_UP("output-format", required_argument, "FORMAT"),
    P_UP("disable-container-names", no_argument, NULL),
    P_UP("disable-application-identifiers", no_argument, NULL),
    P_UP("disable-application-metadata", no_argument, NULL),
    P_UP("disable-metrics-collection", no_argument, NULL),
    P_UP("disable-metadata-collection", no_argument, NULL),
    P_UP("external-metadata", required_argument, "FILE"),
    /* gProfiler's options that ask for what profd does anyway. */
    P_QUIET("dont-send-logs", no_argument, "profd never sends its logs"),
    P_QUIET("disable-pidns-check", no_argument,
	    "profd does not check its PID namespace"),
    P_QUIET("java-no-version-check", no_argument,
	    "profd-java attaches to every HotSpot JVM it can read"),
    P_QUIET("python-pyspy-process", required_argument,
	    "profd-python reads every Python process from outside"),
    P_QUIET("dont-disable-core-files", no_argument,
	    "profd's workers never dump core"),
    /* gProfiler's options for what profd does not have. */
    P_REFUSE("rootless", no_argument,
	     "profd runs as root, and starts each profiler as its own user"),
    P_REFUSE("alloc-interval", required_argument,
	     "profd has no allocation profiling (--mode allocation)"),
    P_REFUSE("perf-event-period", required_argument,
	     "profd samples by frequency (-f) only"),
    P_REFUSE("profile-api-version", required_argument,
	     "profd uploads with the v2 profile API only"),
    P_NOTE("hw-events-file", required_argument,
	   "profd knows perf's own event names only"),
    P_NOTE("spark-sample-period", required_argument,
	   "removed from gProfiler in 1.42.0"),
    P_NOTE("collect-spark-metrics", no_argument,
	   "removed from gProfiler in 1.42.0"),
    P_NOTE("databricks-job-name-as-service-name", no_argument,
	   "removed from gProfiler in 1.49.0"),
    P_NOTE("log-usage", no_argument,
	   "profd's and its workers' usage is in `profctl status`"),
    P_NOTE("curlify-requests", no_argument,
	   "profd does not log requests (they carry the token)"),
    P_NOTE("app-id-args-filter", required_argument,
	   "profd's application identifiers take no argument filter"),
    P_FN("profile-spawned-processes", 0, no_argument, o_spawned, NULL),
    P_NOTE("enable-hw-metrics-collection", no_argument,
	   "profd does not run PerfSpect"),
    P_NOTE("perfspect-path", required_argument, "profd does not run PerfSpect"),
    P_NOTE("perfspect-duration", required_argument,
	   "profd does not run PerfSpect"),
    P_NOTE("python-skip-pyperf-profiler-above", required_argument,
	   "profd has no PyPerf (eBPF) profiler"),
    P_NOTE("pyperf-user-stacks-pages", required_argument,
	   "profd has no PyPerf (eBPF) profiler"),
    P_NOTE("python-pyperf-verbose", no_argument,
	   "profd has no PyPerf (eBPF) profiler"),
    P_NOTE("no-python-versions", no_argument,
	   "profd does not add Python package versions to frames"),
    P_NOTE("java-async-profiler-safemode", required_argument,
	   "profd-java's agent is not async-profiler"),
    P_NOTE("java-async-profiler-features", required_argument,
	   "profd-java's agent is not async-profiler"),
    P_NOTE("java-async-profiler-args", required_argument,
	   "profd-java's agent is not async-profiler"),
    P_NOTE("java-async-profiler-mcache", required_argument,
	   "profd-java's agent is not async-profiler"),
    P_NOTE("java-async-profiler-no-report-meminfo", no_argument,
	   "profd-java's agent is not async-profiler"),
    P_NOTE("java-collect-spark-app-name-as-appid", no_argument,
	   "profd has no Spark application ids"),
    P_NOTE("java-collect-jvm-flags", optional_argument,
	   "profd does not report JVM flags"),
    P_NOTE("java-full-hserr", no_argument,
	   "profd does not collect JVM crash logs"),
    P_NOTE("java-include-method-modifiers", no_argument,
	   "profd-java does not write method modifiers"),
    P_FN("php-mode", 0, required_argument, o_other_mode, "MODE"),
    P_FN("no-php", 0, no_argument, o_disable, NULL),
    P_NOTE("php-proc-filter", required_argument, "profd has no PHP profiler"),
    P_FN("ruby-mode", 0, required_argument, o_other_mode, "MODE"),
    P_FN("no-ruby", 0, no_argument, o_disable, NULL),
    P_FN("dotnet-mode", 0, required_argument, o_other_mode, "MODE"),
    P_FN("no-dotnet", 0, no_argument, o_disable, NULL),
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL},
};

#define NPOPTS	    (sizeof(popts) / sizeof(popts[0]) - 1)
#define OPT_BASE    1000 /* getopt's value of row i: OPT_BASE + i */
#define OPT_HELP    (OPT_BASE - 1)
#define OPT_VERSION (OPT_BASE - 2)

static struct option profd_longopts[NPOPTS + 3];

/* Builds getopt's table from popts once. */
static const struct option *
longopts(void)
{
	size_t i;

	if (profd_longopts[0].name != NULL)
		return profd_longopts;
	for (i = 0; i < NPOPTS; i++) {
		profd_longopts[i].name = popts[i].p_name;
		profd_longopts[i].has_arg = popts[i].p_arg;
		profd_longopts[i].val = popts[i].p_short != 0
					    ? popts[i].p_short
					    : OPT_BASE + (int)i;
	}
	profd_longopts[i++] = (struct option){"help", no_argument, NULL, 'h'};
	profd_longopts[i] =
	    (struct option){"version", no_argument, NULL, OPT_VERSION};
	return profd_longopts;
}

static const struct popt *
popt_find(const char *name)
{
	for (size_t i = 0; i < NPOPTS; i++)
		if (strcmp(popts[i].p_name, name) == 0)
			return &popts[i];
	return NULL;
}

static const struct popt *
popt_of(int c)
{
	if (c >= OPT_BASE && (size_t)(c - OPT_BASE) < NPOPTS)
		return &popts[c - OPT_BASE];
	for (size_t i = 0; i < NPOPTS; i++)
		if (popts[i].p_short == c)
			return &popts[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: profd [OPTION]... (-o DIR | -u ...)\n"
		   "       profd [OPTION]... upload-file FILE\n"
		   "Profiles this host and writes one flame graph per window "
		   "into DIR,\nuploads them, or both; or uploads a saved "
		   "collapsed FILE. See profd(8).\n");
}

/* --help: every option, from the table. */
static void
help(FILE *f)
{
	usage(f);
	fprintf(f, "Options:\n");
	for (size_t i = 0; i < NPOPTS; i++) {
		const struct popt *p = &popts[i];
		const struct optdef *d = cfg_row(p->p_name);
		char arg[96] = "";

		if (p->p_kind == PK_QUIET || p->p_kind == PK_NOTICE)
			continue;
		if (d != NULL && d->od_kind == OD_WORD)
			snprintf(arg, sizeof(arg), " %s",
				 d->od_words ? d->od_words : "NAME");
		else if (d != NULL && d->od_kind != OD_FLAG)
			snprintf(arg, sizeof(arg), " %u..%u", d->od_min,
				 d->od_max);
		else if (p->p_help != NULL)
			snprintf(arg, sizeof(arg), " %s", p->p_help);
		if (p->p_short)
			fprintf(f, "  -%c, --%s%s\n", p->p_short, p->p_name,
				arg);
		else
			fprintf(f, "      --%s%s\n", p->p_name, arg);
	}
	fprintf(f, "gProfiler's other options are accepted; see "
		   "\"Coming from gProfiler\" in profd(8).\n");
}

/* Where a value came from, when it came from a file or the environment. */
static const char *conf_file;
static unsigned conf_line;
static const char *conf_env;

static int
badarg(const char *flag, const char *arg, const char *want)
{
	if (conf_file != NULL)
		fprintf(stderr, "profd: %s:%u: ", conf_file, conf_line);
	else if (conf_env != NULL)
		fprintf(stderr, "profd: %s: ", conf_env);
	else
		fprintf(stderr, "profd: ");
	fprintf(stderr, "invalid value '%s' for %s: expected %s\n", arg, flag,
		want);
	return -1;
}

static int
badopt(const struct popt *p, const char *arg, const char *want)
{
	char flag[80];

	if (p->p_short != 0)
		snprintf(flag, sizeof(flag), "-%c/--%s", p->p_short, p->p_name);
	else
		snprintf(flag, sizeof(flag), "--%s", p->p_name);
	return badarg(flag, arg ? arg : "", want);
}

/* A warning about an option that does not apply, once per option. */
static void
notice(const struct popt *p, const char *why)
{
	static unsigned char told[NPOPTS];
	size_t i = (size_t)(p - popts);

	if (told[i])
		return;
	told[i] = 1;
	fprintf(stderr, "profd: warning: --%s is ignored: %s\n", p->p_name,
		why);
}

static int
o_outdir(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)p;
	o->po_outdir = arg;
	return 0;
}

static int
o_verbose(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)p, (void)arg;
	o->po_verbose++;
	return 0;
}

static int
o_config(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)o, (void)p, (void)arg;
	return 0; /* read before everything else */
}

/* gProfiler profiles a process spawned during a window in that window;
 * profd's runtime profilers find it at the next. */
static int
o_spawned(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)arg;
	o->po_spawned = 1;
	notice(p, "profd's Python and Java profilers find new processes at "
		  "each window, not within one");
	return 0;
}

/* --pids adds up, as gProfiler's does. */
static int
o_pids(struct profd_opts *o, const struct popt *p, const char *arg)
{
	size_t n = 0;

	if (parse_pids(arg, o->po_pids + o->po_npids,
		       PROFD_MAX_PIDS - o->po_npids, &n) == -1)
		return badopt(p, arg,
			      "PIDs (" PROFD_PID_RANGE ") separated by commas");
	o->po_npids += n;
	return 0;
}

static int
o_flamegraph(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)arg;
	o->po_flamegraph = strcmp(p->p_name, "flamegraph") == 0;
	return 0;
}

/* gProfiler's --mode: profd profiles the CPU only. */
static int
o_mode(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)o;
	if (strcmp(arg, "cpu") == 0)
		return 0;
	return badopt(p, arg,
		      "cpu (profd has no allocation profiling, and "
		      "profiles always)");
}

/* The string field an option of words is kept in. */
static char *
words_field(struct profd_opts *o, const char *name, size_t *len)
{
	static const struct {
		const char *name;
		size_t off, len;
	} f[] = {
	    {"cgroup-mode", PO(po_cgroup_mode), sizeof(o->po_cgroup_mode)},
	    {"nodejs-mode", PO(po_nodejs_mode), sizeof(o->po_nodejs_mode)},
	    {"python-mode", PO(po_python_mode), sizeof(o->po_python_mode)},
	    {"java-mode", PO(po_java_mode), sizeof(o->po_java_mode)},
	    {"java-async-profiler-mode", PO(po_java_ap_mode),
	     sizeof(o->po_java_ap_mode)},
	    {"java-line-numbers", PO(po_java_lines), sizeof(o->po_java_lines)},
	    {"java-safemode", PO(po_java_safemode),
	     sizeof(o->po_java_safemode)},
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(f[i].name, name) == 0) {
			*len = f[i].len;
			return (char *)o + f[i].off;
		}
	return NULL;
}

/* An option taking one of the words of its help text. */
static int
o_words(struct profd_opts *o, const struct popt *p, const char *arg)
{
	size_t len = 0;
	char *dst = words_field(o, p->p_name, &len), want[96];

	if (strcmp(p->p_name, "java-safemode") == 0) {
		/* gProfiler's takes a list of its own, or nothing: either
		 * way it asks for a safe mode, which profd's is. */
		snprintf(dst, len, "%s", arg && *arg == '\0' ? "" : "on");
		return 0;
	}
	if (arg == NULL || !optdef_word_ok(p->p_help, arg)) {
		snprintf(want, sizeof(want), "one of %s", p->p_help);
		return badopt(p, arg, want);
	}
	snprintf(dst, len, "%s", arg);
	if (strcmp(arg, "pyperf") == 0)
		notice(p, "profd has no PyPerf (eBPF) profiler: its own Python "
			  "profiler runs");
	return 0;
}

/* A number option that is not handed to a profiler in Configure. */
static int
o_number(struct profd_opts *o, const struct popt *p, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
		uint64_t min, max;
	} f[] = {
	    {"log-rotate-max-size", PO(po_log_max), 0, UINT32_MAX},
	    {"log-rotate-backup-count", PO(po_log_backups), 0, 100},
	    {"controller-pid", PO(po_controller_pid), 1, PROFD_PID_MAX},
	    {"java-jattach-timeout", PO(po_java_timeout), 1, 3600},
	};
	char want[64];
	uint64_t v;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (strcmp(f[i].name, p->p_name) != 0)
			continue;
		if (parse_u64(arg, f[i].min, f[i].max, &v) == -1) {
			snprintf(want, sizeof(want),
				 "a number from %llu to %llu",
				 (unsigned long long)f[i].min,
				 (unsigned long long)f[i].max);
			return badopt(p, arg, want);
		}
		*(uint32_t *)(void *)((char *)o + f[i].off) = (uint32_t)v;
		return 0;
	}
	return -1;
}

/* --no-perf, --no-python, ...: that profiler's mode becomes disabled. */
static int
o_disable(struct profd_opts *o, const struct popt *p, const char *arg)
{
	const char *what = p->p_name + 3;
	size_t len = 0;
	char *dst;

	(void)arg;
	if (strcmp(what, "perf") == 0) {
		snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "disabled");
		return 0;
	}
	if (strcmp(what, "nodejs") == 0)
		what = "nodejs";
	else if (strcmp(what, "php") == 0 || strcmp(what, "ruby") == 0 ||
		 strcmp(what, "dotnet") == 0)
		return 0; /* profd has none: disabled it is */
	{
		char name[32];

		snprintf(name, sizeof(name), "%s-mode", what);
		if ((dst = words_field(o, name, &len)) != NULL)
			snprintf(dst, len, "disabled");
	}
	return 0;
}

/* --php-mode, --ruby-mode, --dotnet-mode: profd has none of these
 * profilers; "disabled" is what it does, anything else is told. */
static int
o_other_mode(struct profd_opts *o, const struct popt *p, const char *arg)
{
	char why[96];

	(void)o;
	if (strcmp(arg, "disabled") == 0 || strcmp(arg, "none") == 0)
		return 0;
	snprintf(why, sizeof(why), "profd has no %.*s profiler",
		 (int)(strlen(p->p_name) - 5), p->p_name);
	notice(p, why);
	return 0;
}

/* gProfiler's --perf-event: perf samples that event, and the runtime
 * profilers are off (their stacks would mix two kinds of samples). */
static int
o_perf_event(struct profd_opts *o, const struct popt *p, const char *arg)
{
	const struct optdef *d = cfg_row("perf-events");
	char want[96];

	if (optdef_check(d, arg, want, sizeof(want)) == -1)
		return badopt(p, arg, want);
	snprintf(o->po_perf_events, sizeof(o->po_perf_events), "%s", arg);
	o->po_perf_event_only = 1;
	return 0;
}

/* Keeps "--flag [value]" for profd-upload's command line. */
static int
upload_arg(struct profd_opts *o, const char *flag, const char *arg)
{
	if (o->po_nupload_args + 2 > PROFD_UPLOAD_ARGS) {
		fprintf(stderr, "profd: too many upload options\n");
		return -1;
	}
	o->po_upload_args[o->po_nupload_args++] = flag;
	if (arg != NULL)
		o->po_upload_args[o->po_nupload_args++] = arg;
	return 0;
}

/* Moves a token into secret memory and wipes it where it was given (the
 * command line, or profd's copy of a file's or the environment's value:
 * their originals are wiped by the readers). */
static int
o_token(struct profd_opts *o, const struct popt *p, const char *arg)
{
	(void)p;
	secret_free(o->po_token);
	if ((o->po_token = secret_take((char *)arg)) == NULL) {
		fprintf(stderr, "profd: no secret memory for the token\n");
		return -1;
	}
	return 0;
}

/* Upload options profd checks before passing them on: URLs, numbers,
 * and what check_opts needs to know. */
static int
o_upload(struct profd_opts *o, const struct popt *p, const char *arg)
{
	static const struct {
		const char *name;
		uint64_t min, max;
	} nums[] = {
	    {"server-upload-timeout", 1, 3600},
	    {"spool-max-files", 1, 1000000},
	    {"upload-retry-max", 1, 86400},
	    {"heartbeat-interval", 1, 3600},
	};
	const char *n = p->p_name;
	char want[64];
	uint64_t v;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strcmp(n, nums[i].name) == 0 &&
		    parse_u64(arg, nums[i].min, nums[i].max, &v) == -1) {
			snprintf(want, sizeof(want),
				 "a number from %llu to %llu",
				 (unsigned long long)nums[i].min,
				 (unsigned long long)nums[i].max);
			return badopt(p, arg, want);
		}
	if (p->p_help != NULL && strcmp(p->p_help, "URL") == 0 &&
	    strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
		return badopt(p, arg, "an http:// or https:// URL");
	if ((strcmp(n, "upload-results") == 0 && o->po_upload) ||
	    (strcmp(n, "enable-heartbeat-server") == 0 && o->po_heartbeat))
		return 0; /* given twice */
	o->po_upload |= strcmp(n, "upload-results") == 0;
	o->po_heartbeat |= strcmp(n, "enable-heartbeat-server") == 0;
	o->po_server_host |= strcmp(n, "server-host") == 0;
	o->po_pyroscope |= strcmp(n, "pyroscope-url") == 0;
	o->po_token_file |= strcmp(n, "token-file") == 0;
	o->po_service_name |= strcmp(n, "service-name") == 0;
	return upload_arg(o, p->p_text, p->p_arg == no_argument ? NULL : arg);
}

/* gProfiler's options profd cannot honour: a warning, or a refusal for
 * those that would change what is profiled. */
static int
popt_notice(const struct popt *p)
{
	if (p->p_kind == PK_NOTICE) {
		notice(p, p->p_text);
		return 0;
	}
	if (conf_file != NULL)
		fprintf(stderr, "profd: %s:%u: ", conf_file, conf_line);
	else
		fprintf(stderr, "profd: ");
	fprintf(stderr, "--%s is not supported: %s\n", p->p_name, p->p_text);
	return -1;
}

/* Applies one option of the table with its value (NULL: none). */
static int
popt_apply(struct profd_opts *o, const struct popt *p, const char *arg)
{
	const struct optdef *d;
	char want[96];

	switch (p->p_kind) {
	case PK_CFG:
		d = cfg_row(p->p_name);
		if (optdef_check(d, arg, want, sizeof(want)) == -1)
			return badopt(p, arg, want);
		optdef_set(d, o, arg);
		return 0;
	case PK_FLAG:
		*(int *)(void *)((char *)o + p->p_off) = 1;
		return 0;
	case PK_STR:
		*(const char **)(void *)((char *)o + p->p_off) = arg;
		return 0;
	case PK_FN:
		return p->p_fn(o, p, arg);
	case PK_UPLOAD:
		return upload_arg(o, p->p_text,
				  p->p_arg == no_argument ? NULL : arg);
	case PK_QUIET:
		if (o->po_verbose)
			fprintf(stderr, "profd: --%s: %s\n", p->p_name,
				p->p_text);
		return 0;
	case PK_NOTICE:
	case PK_REFUSE:
		return popt_notice(p);
	}
	return -1;
}

/* Values read from the file live until options_free(). */
static char *conf_values[CONF_MAX_VALUES];
static size_t conf_nvalues;

static char *
conf_keep(const char *v)
{
	char *s;

	if (conf_nvalues >= CONF_MAX_VALUES || (s = strdup(v)) == NULL)
		return NULL;
	return conf_values[conf_nvalues++] = s;
}

void
options_free(void)
{
	while (conf_nvalues > 0)
		free(conf_values[--conf_nvalues]);
}

static int parse_command(struct profd_opts *o, int argc, char **argv);

void
options_configure(const struct profd_opts *o, enum wrole role,
		  Profd__Configure *m, struct options_parts *parts)
{
	optdef_fill(rows_common, o, m);
	switch (role) {
	case ROLE_PERF:
		profd__perf_settings__init(&parts->op_perf);
		optdef_fill(rows_perf, o, &parts->op_perf);
		m->settings_case = PROFD__CONFIGURE__SETTINGS_PERF;
		m->perf = &parts->op_perf;
		break;
	case ROLE_PYTHON:
		profd__python_settings__init(&parts->op_python);
		optdef_fill(rows_python, o, &parts->op_python);
		m->settings_case = PROFD__CONFIGURE__SETTINGS_PYTHON;
		m->python = &parts->op_python;
		break;
	case ROLE_JAVA:
		profd__java_settings__init(&parts->op_java);
		optdef_fill(rows_java, o, &parts->op_java);
		m->settings_case = PROFD__CONFIGURE__SETTINGS_JAVA;
		m->java = &parts->op_java;
		break;
	case ROLE_UPLOAD:
		profd__upload_settings__init(&parts->op_upload);
		parts->op_upload.perf_mode = (char *)o->po_perf_mode;
		m->settings_case = PROFD__CONFIGURE__SETTINGS_UPLOAD;
		m->upload = &parts->op_upload;
		break;
	case ROLE_OTHER:
		break;
	}
}

/* Returns -1 to go on, else an exit status. */
static int
parse_args(struct profd_opts *o, int argc, char **argv)
{
	const struct popt *p;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:o:cuvh", longopts(), NULL)) !=
	       -1) {
		if (c == 'h') {
			help(stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("profd %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (c == '?' || (p = popt_of(c)) == NULL) {
			usage(stderr);
			return 2;
		}
		if (popt_apply(o, p, optarg) == -1)
			return 2;
	}
	return parse_command(o, argc - optind, argv + optind);
}

/* What follows the options: nothing, or upload-file FILE (gProfiler
 * writes it upload-file --file-path FILE). */
static int
parse_command(struct profd_opts *o, int argc, char **argv)
{
	if (argc == 0 && o->po_upload_file != NULL) {
		fprintf(stderr, "profd: --file-path goes with upload-file\n");
		return 2;
	}
	if (argc == 0)
		return -1;
	if (strcmp(argv[0], "upload-file") == 0) {
		if (argc == 2 && o->po_upload_file == NULL) {
			o->po_upload_file = argv[1];
			return -1;
		}
		if (argc == 1 && o->po_upload_file != NULL)
			return -1;
		fprintf(stderr, "profd: upload-file takes one FILE "
				"(or --file-path FILE)\n");
		return 2;
	}
	fprintf(stderr, "profd: unexpected argument '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}

/* A flag's value in a file or the environment, as gProfiler's
 * configargparse reads it: 1 set, 0 not set, -1 neither. */
static int
flag_value(const char *v)
{
	static const char *const yes[] = {"true", "yes", "1"};
	static const char *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Strips gProfiler's list brackets: "[1, 2]" is "1, 2". */
static char *
list_value(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
		v[n - 1] = '\0';
		v++;
	}
	return v;
}

/* Applies name = value from a file or the environment (value NULL: the
 * name alone, a flag). */
static int
popt_apply_named(struct profd_opts *o, const struct popt *p, char *value)
{
	int set;

	if (p->p_arg == no_argument && value != NULL) {
		if ((set = flag_value(value)) == -1)
			return badopt(p, value, "true or false");
		return set ? popt_apply(o, p, NULL) : 0;
	}
	if (value != NULL && strcmp(p->p_name, "pids") == 0)
		value = list_value(value);
	return popt_apply(o, p, value);
}

/* The GPROFILER_* variables, as gProfiler reads them: each option's
 * long name upper-cased, '-' as '_'. */
static int
env_load(struct profd_opts *o)
{
	char name[96], *v, *env;
	int rv = 0;

	for (size_t i = 0; i < NPOPTS && rv == 0; i++) {
		const struct popt *p = &popts[i];
		size_t n =
		    snprintf(name, sizeof(name), "GPROFILER_%s", p->p_name);

		for (size_t j = 10; j < n; j++)
			name[j] = name[j] == '-' ? '_' : (char)toupper(name[j]);
		if ((env = getenv(name)) == NULL ||
		    strcmp(p->p_name, "config") == 0)
			continue;
		if ((v = conf_keep(env)) == NULL)
			return -1;
		conf_env = name;
		rv = popt_apply_named(o, p, v);
		conf_env = NULL;
		if (strcmp(p->p_name, "token") == 0) {
			explicit_bzero(env, strlen(env));
			unsetenv(name); /* no child inherits it */
		}
	}
	return rv;
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
	snprintf(o->po_perf_engine, sizeof(o->po_perf_engine), "auto");
	snprintf(o->po_python_mode, sizeof(o->po_python_mode), "auto");
	snprintf(o->po_cgroup_mode, sizeof(o->po_cgroup_mode), "auto");
	snprintf(o->po_nodejs_mode, sizeof(o->po_nodejs_mode), "disabled");
	o->po_max_cgroups = WORKER_PERF_MAX_CGROUPS;
	snprintf(o->po_java_mode, sizeof(o->po_java_mode), "ap");
	o->po_log_max = PROFD_LOG_MAX_SIZE;
	o->po_log_backups = PROFD_LOG_BACKUPS;
}

/* Adds a word to the java worker's arguments, after those of profd.conf. */
static int
java_arg(struct wspec *ws, const char *word)
{
	if (ws->ws_nargs >= PROFD_ARGS_MAX || strlen(word) >= PROFD_ARG_LEN)
		return -1;
	snprintf(ws->ws_args[ws->ws_nargs++], PROFD_ARG_LEN, "%s", word);
	return 0;
}

/* The Java options become profd-java's arguments (the Configure message
 * carries only what every profiler shares); disabled, no java worker. */
static int
options_java(struct profd_opts *o, char *err, size_t errlen)
{
	struct wspec *ws = table_entry(o, "java", 0);
	char w[64];
	int rv = 0;

	if (ws == NULL)
		return 0; /* built without profd-java */
	if (strcmp(o->po_java_mode, "disabled") == 0) {
		ws->ws_enabled = 0;
		return 0;
	}
	snprintf(w, sizeof(w), "--java-mode=%s", o->po_java_mode);
	rv |= java_arg(ws, w);
	if (o->po_java_ap_mode[0] != '\0') {
		snprintf(w, sizeof(w), "--java-async-profiler-mode=%s",
			 o->po_java_ap_mode);
		rv |= java_arg(ws, w);
	}
	if (o->po_java_safemode[0] != '\0')
		rv |= java_arg(ws, "--java-safemode");
	if (o->po_java_timeout != 0) {
		snprintf(w, sizeof(w), "--java-jattach-timeout=%u",
			 o->po_java_timeout);
		rv |= java_arg(ws, w);
	}
	if (strcmp(o->po_java_lines, "line-of-function") == 0)
		rv |= java_arg(ws, "--java-line-numbers");
	if (o->po_java_thread_names)
		rv |= java_arg(ws, "--java-collect-thread-names");
	if (rv != 0)
		snprintf(err, errlen,
			 "worker java: more than %d arguments with the Java "
			 "options",
			 PROFD_ARGS_MAX);
	return rv != 0 ? -1 : 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reading gProfiler's own file (its sections mean nothing). */
static int conf_gprofiler;

/* While reloading, global settings are skipped (they need a restart)
 * and errors go to profctl instead of stderr. */
static int conf_reload;
static char conf_lasterr[256];

static int
conf_error(const char *what, const char *name)
{
	snprintf(conf_lasterr, sizeof(conf_lasterr), "%s:%u: %s%s%s", conf_file,
		 conf_line, what, name ? ": " : "", name ? name : "");
	if (!conf_reload)
		fprintf(stderr, "profd: %s\n", conf_lasterr);
	return -1;
}

static const struct popt *
conf_option(const char *name)
{
	if (strcmp(name, "config") == 0)
		return NULL; /* one file does not name another */
	return popt_find(name);
}

/* Applies one "name = value" or "name" line ("name: value" and a flag's
 * "name = true", as in gProfiler's file, too). */
static int
conf_apply(struct profd_opts *o, char *line)
{
	char *eq = line + strcspn(line, "=:"), *name = line, *value = NULL;
	const struct popt *opt;

	if (*eq != '\0') {
		*eq = '\0';
		value = trim(eq + 1);
	}
	name = trim(name);
	if ((opt = conf_option(name)) == NULL)
		return conf_error("unknown setting", name);
	if (opt->p_arg == required_argument &&
	    (value == NULL || *value == '\0'))
		return conf_error("a value is required (name = value)", name);
	if (value != NULL && (value = conf_keep(value)) == NULL)
		return conf_error("too many settings", name);
	return popt_apply_named(o, opt, value) == -1 ? -1 : 0;
}

/* Starts a "[worker NAME]" section; returns its table entry. */
static struct wspec *
conf_section(struct profd_opts *o, char *line)
{
	char *end = strchr(line, ']'), *name;
	struct wspec *ws;

	if (end == NULL || trim(end + 1)[0] != '\0') {
		conf_error("a section is written [worker NAME]", NULL);
		return NULL;
	}
	*end = '\0';
	name = trim(line + 1);
	if (strncmp(name, "worker", 6) != 0 ||
	    (name[6] != ' ' && name[6] != '\t')) {
		conf_error("unknown section", name);
		return NULL;
	}
	name = trim(name + 6);
	if ((ws = table_entry(o, name, 1)) == NULL)
		conf_error(
		    "bad worker name (" PROFD_NAME_RULE
		    ") or more than " PROFD_STR(PROFD_MAX_WORKERS) " workers",
		    name);
	return ws;
}

/* Applies "key = value" inside a worker section. */
static int
conf_worker(struct wspec *ws, char *line)
{
	char *eq = strchr(line, '='), err[160];

	if (eq == NULL)
		return conf_error("a worker setting is written name = value",
				  trim(line));
	*eq = '\0';
	if (table_set(ws, trim(line), trim(eq + 1), err, sizeof(err)) == -1)
		return conf_error(err, NULL);
	return 0;
}

static int
conf_read(struct profd_opts *o, FILE *f)
{
	char buf[CONF_MAX_LINE + 2], *line;
	struct wspec *sect = NULL;
	size_t n;

	while (fgets(buf, sizeof(buf), f) != NULL) {
		conf_line++;
		n = strlen(buf);
		if (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		else if (!feof(f))
			return conf_error("line too long", NULL);
		line = trim(buf);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[' && conf_gprofiler)
			continue; /* configargparse ignores sections */
		if (*line == '[') {
			if ((sect = conf_section(o, line)) == NULL)
				return -1;
		} else if (sect != NULL) {
			if (conf_worker(sect, line) == -1)
				return -1;
		} else if (!conf_reload && conf_apply(o, line) == -1) {
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		explicit_bzero(buf, sizeof(buf)); /* it may hold the token */
	}
	return ferror(f) ? conf_error("read error", NULL) : 0;
}

/* Checks that the open file may configure a root daemon: a regular file
 * owned by root (or by profd's own user) that no group or other may
 * write. 0, or -1 with the reason told. */
static int
conf_check(int fd)
{
	char why[96];
	struct stat st;

	if (fstat(fd, &st) == -1)
		return conf_error("cannot read the file", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return conf_error("refused", "not a regular file");
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, sizeof(why),
			 "owned by uid %u, not root (chown root it)",
			 (unsigned)st.st_uid);
		return conf_error("refused", why);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, sizeof(why),
			 "mode %04o is writable by its group or others "
			 "(chmod go-w it)",
			 (unsigned)(st.st_mode & 07777));
		return conf_error("refused", why);
	}
	return 0;
}

/* Opens path for reading as a configuration file: no symbolic link, no
 * FIFO to block on; NULL with the reason told, or with errno ENOENT and
 * nothing told when it is missing and may be. */
static FILE *
conf_open(const char *path, int must_exist)
{
	FILE *f;
	int fd;

	fd = open(path,
		  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT && !must_exist)
			return NULL;
		conf_error("cannot read the file", errno == ELOOP
						       ? "it is a symbolic link"
						       : strerror(errno));
		errno = EINVAL;
		return NULL;
	}
	if (conf_check(fd) == -1 || (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return f;
}

static int conf_load_file(struct profd_opts *o, const char *path,
			  int must_exist);

/* Reads path; a missing file is an error only when must_exist. */
static int
conf_load(struct profd_opts *o, const char *path, int must_exist)
{
	size_t len = strlen(path);
	int gp = conf_gprofiler, rv2;

	/* gProfiler's files (config.ini): its sections mean nothing. */
	conf_gprofiler |= len > 4 && strcmp(path + len - 4, ".ini") == 0;
	rv2 = conf_load_file(o, path, must_exist);
	conf_gprofiler = gp;
	return rv2;
}

static char conf_iobuf[BUFSIZ];

static int
conf_load_file(struct profd_opts *o, const char *path, int must_exist)
{
	FILE *f;
	int rv;

	conf_file = path;
	conf_line = 0;
	if ((f = conf_open(path, must_exist)) == NULL) {
		conf_file = NULL;
		return errno == ENOENT ? 0 : -1;
	}
	/* A buffer of its own, wiped after: the file may hold the token. */
	setvbuf(f, conf_iobuf, _IOFBF, sizeof(conf_iobuf));
	rv = conf_read(o, f);
	fclose(f);
	explicit_bzero(conf_iobuf, sizeof(conf_iobuf));
	conf_file = NULL;
	return rv;
}

/* Returns the value if arg is --config, or an abbreviation getopt would
 * take for it (--conf at least), with "=FILE" or FILE in next. */
static const char *
config_arg(const char *arg, const char *next, int *used_next)
{
	size_t len = strcspn(arg, "=");

	*used_next = 0;
	if (len < 6 || len > 8 || strncmp(arg, "--config", len) != 0)
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	*used_next = next != NULL;
	return next;
}

/* Finds --config FILE or --config=FILE before getopt runs. */
static const char *
find_config(int argc, char **argv)
{
	const char *path = NULL, *v;
	int used;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		v = config_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL,
			       &used);
		if (v != NULL)
			path = v;
		i += used;
	}
	return path;
}

/* Takes the token from the environment when none was given (wiped
 * there, so that no worker inherits it), and prepares profd-upload's
 * copy: a memfd_secret it inherits. */
static int
upload_token(struct profd_opts *o)
{
	char *env = getenv(PROFD_TOKEN_ENV);

	o->po_token_fd = -1;
	if (o->po_token == NULL && env != NULL && *env != '\0' &&
	    (o->po_token = secret_strdup(env)) == NULL)
		return -1;
	if (env != NULL)
		explicit_bzero(env, strlen(env));
	unsetenv(PROFD_TOKEN_ENV);
	if (o->po_token == NULL)
		return 0;
	if ((o->po_token_fd = secret_fd_make(o->po_token)) == -1) {
		fprintf(stderr,
			"profd: cannot keep the token for "
			"profd-upload: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* gProfiler's own configuration file, read where it exists (and no
 * --config names profd's), after profd.conf. */
static int
conf_load_gprofiler(struct profd_opts *o)
{
	int rv;

	conf_gprofiler = 1;
	rv = conf_load(o, PROFD_GPROFILER_CONFIG, 0);
	conf_gprofiler = 0;
	return rv;
}

/* The rules between options, once all are read. */
static int
options_finish(struct profd_opts *o)
{
	if (o->po_perf_event_only) {
		snprintf(o->po_python_mode, sizeof(o->po_python_mode),
			 "disabled");
		snprintf(o->po_java_mode, sizeof(o->po_java_mode), "disabled");
	}
	if (strcmp(o->po_nodejs_mode, "perf") == 0 ||
	    strcmp(o->po_nodejs_mode, "attach-maps") == 0) {
		if (strcmp(o->po_perf_mode, "fp") != 0 &&
		    strcmp(o->po_perf_mode, "smart") != 0) {
			fprintf(stderr,
				"profd: --nodejs-mode %s needs "
				"--perf-mode fp or smart\n",
				o->po_nodejs_mode);
			return -1;
		}
		if (strcmp(o->po_nodejs_mode, "attach-maps") == 0)
			notice(popt_find("nodejs-mode"),
			       "profd does not attach to Node.js; it reads the "
			       "perf maps of those started with "
			       "--perf-basic-prof");
	}
	if (o->po_npids > 0 && o->po_spawned) {
		fprintf(stderr, "profd: --pids cannot go with "
				"--profile-spawned-processes\n");
		return -1;
	}
	return 0;
}

/* The workers a disabled mode leaves out, and Java's arguments. */
static int
options_workers(struct profd_opts *o, char *err, size_t errlen)
{
	if (strcmp(o->po_perf_mode, "disabled") == 0)
		table_entry(o, "perf", 1)->ws_enabled = 0;
	if (strcmp(o->po_python_mode, "disabled") == 0)
		table_entry(o, "python", 1)->ws_enabled = 0;
	if (options_java(o, err, errlen) == -1 ||
	    table_check(o, err, errlen) == -1)
		return -1;
	return 0;
}

int
options_parse(struct profd_opts *o, int argc, char **argv)
{
	const char *path = find_config(argc, argv);
	char err[160];
	int rv;

	defaults(o);
	table_defaults(o);
	o->po_config = path ? path : PROFD_CONFIG;
	if (conf_load(o, o->po_config, path != NULL) == -1 ||
	    (path == NULL && conf_load_gprofiler(o) == -1) || env_load(o) == -1)
		return 2;
	if ((rv = parse_args(o, argc, argv)) != -1)
		return rv;
	if (upload_token(o) == -1)
		return 1;
	if (options_finish(o) == -1)
		return 2;
	if (options_workers(o, err, sizeof(err)) == -1) {
		fprintf(stderr, "profd: %s: %s\n", o->po_config, err);
		return 2;
	}
	return -1;
}

int
options_reload(const struct profd_opts *cur, struct profd_opts *fresh,
	       char *err, size_t errlen)
{
	int rv;

	*fresh = *cur;
	table_defaults(fresh);
	conf_reload = 1;
	conf_lasterr[0] = '\0';
	rv = conf_load(fresh, cur->po_config, 0);
	conf_reload = 0;
	if (rv == 0 &&
	    options_workers(fresh, conf_lasterr, sizeof(conf_lasterr)) == -1)
		rv = -1;
	snprintf(err, errlen, "%s", conf_lasterr);
	return rv;
}
