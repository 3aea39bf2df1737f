/* Worker shell: arguments, sandbox, standalone and supervised modes. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunk.h"
#include "collapsed.h"
#include "ipc.h"
#include "log.h"
#include "optdefs.h"
#include "worker.h"
#include "worker_priv.h"

static volatile sig_atomic_t worker_stop_flag;

static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_stop_flag = 1;
}

int
worker_stopping(void)
{
	return worker_stop_flag != 0;
}

void
worker_stop(void)
{
	worker_stop_flag = 1;
}

void
worker_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void
worker_process_init(void)
{
	umask(WORKER_UMASK);
	worker_signals();
}

enum {
	OPT_USER = 1000,
	OPT_SYSLOG,
	OPT_SUPERVISED,
	OPT_WORKDIR,
	OPT_VERSION,
	OPT_NAME,
	OPT_CAPS,
	OPT_CHANNEL,
};

static const struct option common_longopts[] = {
    {"duration", required_argument, NULL, 'd'},
    {"frequency", required_argument, NULL, 'f'},
    {"pid", required_argument, NULL, 'p'},
    {"pids", required_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"user", required_argument, NULL, OPT_USER},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"supervised", required_argument, NULL, OPT_SUPERVISED},
    {"workdir", required_argument, NULL, OPT_WORKDIR},
    {"name", required_argument, NULL, OPT_NAME},
    {"caps", required_argument, NULL, OPT_CAPS},
    {"channel", required_argument, NULL, OPT_CHANNEL},
};

#define NCOMMON	    (sizeof(common_longopts) / sizeof(common_longopts[0]))
#define MAXOPTS	    96
#define OPT_OPTDEFS 4000 /* + the row of optdefs_common */
#define OPT_ROWS    5000 /* + the row of the worker's own part */

static void
worker_usage(const struct profiler_ops *ops, FILE *f)
{
	fprintf(f,
		"usage: profd-%s [--pid P[,P...]] [-d SECONDS] [-f HZ] [-v]\n"
		"       [--user NAME] [--workdir DIR]%s\n"
		"Profiles standalone and prints collapsed stacks to stdout.\n"
		"See profd-%s(8).\n",
		ops->po_name, ops->po_usage ? ops->po_usage : "", ops->po_name);
}

/* Adds getopt entries for rows (value base + row, or its letter). */
static size_t
worker_add_rows(struct option *all, size_t n, const struct optdef *rows,
		int base)
{
	for (size_t i = 0; rows[i].od_name != NULL && n < MAXOPTS - 1; i++) {
		all[n].name = rows[i].od_name;
		all[n].has_arg = rows[i].od_kind == OD_FLAG ? no_argument
							    : required_argument;
		all[n].flag = NULL;
		all[n++].val =
		    rows[i].od_short ? rows[i].od_short : base + (int)i;
	}
	return n;
}

static int
worker_merge_opts(const struct profiler_ops *ops, struct option *all)
{
	size_t n = 0;

	for (size_t i = 0; i < NCOMMON; i++)
		all[n++] = common_longopts[i];
	n = worker_add_rows(all, n, optdefs_common, OPT_OPTDEFS);
	if (ops->po_rows != NULL)
		n = worker_add_rows(all, n, ops->po_rows, OPT_ROWS);
	for (const struct option *o = ops->po_longopts; o && o->name; o++) {
		if (n >= MAXOPTS - 1)
			return -1;
		all[n++] = *o;
	}
	memset(&all[n], 0, sizeof(all[n]));
	return 0;
}

/* An option of optdefs.h, checked by its row, set in holder. */
static int
worker_optdef(void *holder, const struct optdef *d, const char *arg)
{
	char want[96], flag[64];

	if (optdef_check(d, arg, want, sizeof(want)) == -1) {
		if (d->od_short != 0)
			snprintf(flag, sizeof(flag), "-%c/--%s", d->od_short,
				 d->od_name);
		else
			snprintf(flag, sizeof(flag), "--%s", d->od_name);
		return worker_badarg(flag, arg, want);
	}
	optdef_set(d, holder, arg);
	return 0;
}

static int
worker_common_opt(struct worker_args *a, int c, const char *arg)
{
	struct worker_opts *o = &a->wa_ctx.wc_opts;

	if (c >= OPT_ROWS)
		return worker_optdef(a->wa_ctx.wc_ops->po_settings,
				     &a->wa_ctx.wc_ops->po_rows[c - OPT_ROWS],
				     arg);
	if (c >= OPT_OPTDEFS)
		return worker_optdef(o, &optdefs_common[c - OPT_OPTDEFS], arg);
	switch (c) {
	case 'd':
		return worker_optdef(
		    o, optdef_find(optdefs_common, "profiling-duration"), arg);
	case 'f':
		return worker_optdef(
		    o, optdef_find(optdefs_common, "profiling-frequency"), arg);
	case 'p':
		if (parse_pids(arg, o->wo_pids, PROFD_MAX_PIDS, &o->wo_npids))
			return worker_badarg("--pid", arg,
					     "a comma-separated list of PIDs, "
					     "each " PROFD_PID_RANGE);
		return 0;
	case 'v':
		a->wa_verbose++;
		return 0;
	case OPT_USER:
		a->wa_user = arg;
		return 0;
	case OPT_SYSLOG:
		a->wa_syslog = 1;
		return 0;
	case OPT_SUPERVISED:
		a->wa_rundir = arg;
		return 0;
	case OPT_WORKDIR:
		a->wa_ctx.wc_workdir = arg;
		return 0;
	case OPT_CHANNEL:
		return worker_opt_channel(arg, &a->wa_channel);
	case OPT_CAPS:
		return worker_opt_caps(arg);
	case OPT_NAME:
		if (!worker_name_ok(arg))
			return worker_badarg("--name", arg, PROFD_NAME_RULE);
		a->wa_ctx.wc_name = arg;
		return 0;
	}
	return 1;
}

int
worker_opt_channel(const char *arg, const char **out)
{
	size_t len = strlen(arg);

	if (len == 0 || len >= 64 || arg[0] == '.' ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789.-") != len)
		return worker_badarg("--channel", arg,
				     "a socket name of a-z, 0-9, '.' and '-'");
	*out = arg;
	return 0;
}

int
worker_env_channel(const char **out)
{
	static char name[64];
	const char *v = getenv(WORKER_CHANNEL_ENV);

	if (*out != NULL || v == NULL)
		return 0;
	snprintf(name, sizeof(name), "%s", v);
	unsetenv(WORKER_CHANNEL_ENV);
	return worker_opt_channel(name, out);
}

int
worker_opt_caps(const char *arg)
{
	if (sandbox_set_caps(arg) == -1)
		return worker_badarg("--caps", arg,
				     "capability names separated by commas, "
				     "or none");
	return 0;
}

static const char *const perf_modes[] = {
    [PERF_MODE_FP] = "fp",
    [PERF_MODE_DWARF] = "dwarf",
    [PERF_MODE_SMART] = "smart",
    [PERF_MODE_DISABLED] = "disabled",
};

static const char *const perf_engines[] = {
    [PERF_ENGINE_AUTO] = "auto",
    [PERF_ENGINE_PERF] = "perf",
    [PERF_ENGINE_NATIVE] = "native",
};

/* The index of s in words[n]; -1 if it is none. */
static int
word_index(const char *const *words, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return (int)i;
	return -1;
}

int
perf_mode_parse(const char *s, enum perf_mode *out)
{
	int i = word_index(perf_modes, sizeof(perf_modes) / sizeof(char *), s);

	if (i == -1)
		return -1;
	*out = (enum perf_mode)i;
	return 0;
}

const char *
perf_mode_name(enum perf_mode m)
{
	return (unsigned)m < sizeof(perf_modes) / sizeof(char *) ? perf_modes[m]
								 : "?";
}

int
perf_mode_dwarf(enum perf_mode m)
{
	return m == PERF_MODE_DWARF || m == PERF_MODE_SMART;
}

int
perf_engine_parse(const char *s, enum perf_engine *out)
{
	int i = s[0] == '\0'
		    ? PERF_ENGINE_AUTO
		    : word_index(perf_engines,
				 sizeof(perf_engines) / sizeof(char *), s);

	if (i == -1)
		return -1;
	*out = (enum perf_engine)i;
	return 0;
}

int
worker_badarg(const char *flag, const char *arg, const char *want)
{
	fprintf(stderr, "%s: invalid value '%s' for %s: expected %s\n",
		program_invocation_short_name, arg, flag, want);
	return -1;
}

static int
worker_parse(struct worker_args *a, int argc, char **argv)
{
	const struct profiler_ops *ops = a->wa_ctx.wc_ops;
	struct option all[MAXOPTS];
	int c, rv;

	if (worker_merge_opts(ops, all) == -1)
		return 2;
	while ((c = getopt_long(argc, argv, "d:f:p:vh", all, NULL)) != -1) {
		if (c == 'h') {
			worker_usage(ops, stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("profd-%s %s\n", ops->po_name, PACKAGE_VERSION);
			return 0;
		}
		if (c == '?') {
			worker_usage(ops, stderr);
			return 2;
		}
		rv = worker_common_opt(a, c, optarg);
		if (rv == 1 && ops->po_option != NULL)
			rv = ops->po_option(&a->wa_ctx, c, optarg);
		if (rv != 0)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n",
			program_invocation_short_name, argv[optind]);
		worker_usage(ops, stderr);
		return 2;
	}
	if (a->wa_rundir != NULL && worker_env_channel(&a->wa_channel) == -1)
		return 2;
	return -1;
}

int
worker_main(int argc, char **argv, const struct profiler_ops *ops)
{
	struct worker_args a;
	char prog[64];
	int rv;

	memset(&a, 0, sizeof(a));
	a.wa_ctx.wc_ops = ops;
	a.wa_ctx.wc_name = ops->po_name;
	a.wa_ctx.wc_opts.wo_frequency = WORKER_DEFAULT_FREQUENCY;
	a.wa_ctx.wc_opts.wo_duration = WORKER_DEFAULT_DURATION;
	if ((rv = worker_parse(&a, argc, argv)) != -1)
		return rv;
	snprintf(prog, sizeof(prog), "profd-%s", a.wa_ctx.wc_name);
	log_init(prog, a.wa_syslog,
		 a.wa_verbose >= 2 ? LOGL_DEBUG
		 : a.wa_verbose	   ? LOGL_INFO
				   : LOGL_WARN);
	worker_process_init();
	if (a.wa_rundir != NULL)
		return worker_supervised(&a);
	return worker_standalone(&a);
}
