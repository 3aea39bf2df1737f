/* profd's options: the command line over the configuration file. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profd.h"
#include "worker.h"

#define CONF_MAX_LINE	1024 /* bytes in one line of profd.conf */
#define CONF_MAX_VALUES 64   /* string values kept from it */

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
	OPT_CONFIG,
	OPT_CGROUP_MODE,
	OPT_SKIP_ABOVE,
	OPT_PERF_EVENTS,
	OPT_RESTART_RSS,
	OPT_RESTART_AFTER,
	OPT_NO_MEMORY_RESTART,
	OPT_DWARF_STACK_SIZE,
	OPT_JAVA_MODE,
	OPT_NO_JAVA,
	OPT_JAVA_AP_MODE,
	OPT_JAVA_SAFEMODE,
	OPT_JAVA_TIMEOUT,
	OPT_MAX_RUNTIME,
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
    {"config", required_argument, NULL, OPT_CONFIG},
    {"cgroup-mode", required_argument, NULL, OPT_CGROUP_MODE},
    {"skip-system-profilers-above", required_argument, NULL, OPT_SKIP_ABOVE},
    {"perf-events", required_argument, NULL, OPT_PERF_EVENTS},
    {"perf-restart-rss", required_argument, NULL, OPT_RESTART_RSS},
    {"perf-restart-after", required_argument, NULL, OPT_RESTART_AFTER},
    {"perf-no-memory-restart", no_argument, NULL, OPT_NO_MEMORY_RESTART},
    {"perf-dwarf-stack-size", required_argument, NULL, OPT_DWARF_STACK_SIZE},
    {"java-mode", required_argument, NULL, OPT_JAVA_MODE},
    {"no-java", no_argument, NULL, OPT_NO_JAVA},
    {"java-async-profiler-mode", required_argument, NULL, OPT_JAVA_AP_MODE},
    {"java-safemode", no_argument, NULL, OPT_JAVA_SAFEMODE},
    {"java-jattach-timeout", required_argument, NULL, OPT_JAVA_TIMEOUT},
    {"max-processes-runtime-profiler", required_argument, NULL,
     OPT_MAX_RUNTIME},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: profd -o DIR [-d SECONDS] [-f HZ] [-c] [--pids P,...]\n"
		"             [--perf-mode fp|dwarf|smart|disabled] "
		"[--insert-dso-name]\n"
		"             [--no-flamegraph] [--rotating-output] "
		"[--worker-dir DIR]\n"
		"             [--runtime-dir DIR] [--user NAME] [--syslog] "
		"[-v] [--version]\n"
		"             [--config FILE] [--cgroup-mode auto|v2|v1|poll]\n"
		"             [--skip-system-profilers-above N] "
		"[--perf-events EVENT]\n"
		"             [--perf-restart-rss MB] "
		"[--perf-restart-after SECONDS]\n"
		"             [--perf-no-memory-restart] "
		"[--perf-dwarf-stack-size BYTES]\n"
		"             [--java-mode ap|perfmap|disabled] [--no-java] "
		"[--java-safemode]\n"
		"             [--java-async-profiler-mode itimer|cpu|auto] "
		"[--java-jattach-timeout SECONDS]\n"
		"             [--max-processes-runtime-profiler N]\n"
		"Profiles this host and writes one flame graph per window "
		"into DIR.\nSee profd(8).\n");
}

/* Where a value came from, when it came from the configuration file. */
static const char *conf_file;
static unsigned conf_line;

static int
badarg(const char *flag, const char *arg, const char *want)
{
	if (conf_file != NULL)
		fprintf(stderr, "profd: %s:%u: ", conf_file, conf_line);
	else
		fprintf(stderr, "profd: ");
	fprintf(stderr, "invalid value '%s' for %s: expected %s\n", arg, flag,
		want);
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
	if (!worker_perf_mode_ok(arg))
		return badarg("--perf-mode", arg,
			      "fp, dwarf, smart or disabled");
	snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "%s", arg);
	return 0;
}

/* The perf worker's guard rails, passed on in its Configure. */
static int
parse_perf_guard(struct profd_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_SKIP_ABOVE:
		return opt_number("--skip-system-profilers-above", arg, 0,
				  10000000, &o->po_skip_above);
	case OPT_PERF_EVENTS:
		if (strlen(arg) == 0 ||
		    strlen(arg) >= sizeof(o->po_perf_events) ||
		    strspn(arg, WORKER_EVENT_CHARS) != strlen(arg))
			return badarg("--perf-events", arg,
				      "a perf event name");
		snprintf(o->po_perf_events, sizeof(o->po_perf_events), "%s",
			 arg);
		return 0;
	case OPT_RESTART_RSS:
		return opt_number("--perf-restart-rss", arg, 1, 1048576,
				  &o->po_restart_rss_mb);
	case OPT_RESTART_AFTER:
		return opt_number("--perf-restart-after", arg, 1, 86400 * 365,
				  &o->po_restart_after_s);
	case OPT_NO_MEMORY_RESTART:
		o->po_no_memory_restart = 1;
		return 0;
	case OPT_DWARF_STACK_SIZE:
		return opt_number("--perf-dwarf-stack-size", arg, 1, 65528,
				  &o->po_dwarf_stack_size);
	}
	return -1;
}

/* Java's options, passed on as profd-java's arguments. */
static int
parse_java(struct profd_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_JAVA_MODE:
		if (strcmp(arg, "ap") != 0 && strcmp(arg, "perfmap") != 0 &&
		    strcmp(arg, "disabled") != 0)
			return badarg("--java-mode", arg,
				      "ap, perfmap or disabled");
		snprintf(o->po_java_mode, sizeof(o->po_java_mode), "%s", arg);
		return 0;
	case OPT_NO_JAVA:
		snprintf(o->po_java_mode, sizeof(o->po_java_mode), "disabled");
		return 0;
	case OPT_JAVA_AP_MODE:
		if (strcmp(arg, "itimer") != 0 && strcmp(arg, "cpu") != 0 &&
		    strcmp(arg, "auto") != 0)
			return badarg("--java-async-profiler-mode", arg,
				      "itimer, cpu or auto");
		snprintf(o->po_java_ap_mode, sizeof(o->po_java_ap_mode), "%s",
			 arg);
		return 0;
	case OPT_JAVA_SAFEMODE:
		o->po_java_safemode = 1;
		return 0;
	case OPT_JAVA_TIMEOUT:
		return opt_number("--java-jattach-timeout", arg, 1, 3600,
				  &o->po_java_timeout);
	case OPT_MAX_RUNTIME:
		/* 0 is accepted as "no limit" (gProfiler refuses it). */
		return opt_number("--max-processes-runtime-profiler", arg, 0,
				  1024, &o->po_max_runtime);
	}
	return -1;
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
	case OPT_CONFIG:
		return 0; /* read before everything else */
	case OPT_SKIP_ABOVE:
	case OPT_PERF_EVENTS:
	case OPT_RESTART_RSS:
	case OPT_RESTART_AFTER:
	case OPT_NO_MEMORY_RESTART:
	case OPT_DWARF_STACK_SIZE:
		return parse_perf_guard(o, c, arg);
	case OPT_JAVA_MODE:
	case OPT_NO_JAVA:
	case OPT_JAVA_AP_MODE:
	case OPT_JAVA_SAFEMODE:
	case OPT_JAVA_TIMEOUT:
	case OPT_MAX_RUNTIME:
		return parse_java(o, c, arg);
	case OPT_CGROUP_MODE:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "v2") != 0 &&
		    strcmp(arg, "v1") != 0 && strcmp(arg, "poll") != 0)
			return badarg("--cgroup-mode", arg,
				      "auto, v2, v1 or poll");
		snprintf(o->po_cgroup_mode, sizeof(o->po_cgroup_mode), "%s",
			 arg);
		return 0;
	}
	return -1;
}

/* Returns -1 to go on, else an exit status. */
static int
parse_args(struct profd_opts *o, int argc, char **argv)
{
	int c;

	optind = 1;
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
	snprintf(o->po_cgroup_mode, sizeof(o->po_cgroup_mode), "auto");
	snprintf(o->po_java_mode, sizeof(o->po_java_mode), "ap");
}

/* Adds a word to the java worker's arguments, after those of profd.conf. */
static int
java_arg(struct wspec *ws, const char *word)
{
	if (ws->ws_nargs >= PROFD_ARGS_MAX || strlen(word) >= 64)
		return -1;
	snprintf(ws->ws_args[ws->ws_nargs++], 64, "%s", word);
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
	if (o->po_java_safemode)
		rv |= java_arg(ws, "--java-safemode");
	if (o->po_java_timeout != 0) {
		snprintf(w, sizeof(w), "--java-jattach-timeout=%u",
			 o->po_java_timeout);
		rv |= java_arg(ws, w);
	}
	if (o->po_max_runtime != 0) {
		snprintf(w, sizeof(w), "--max-processes-runtime-profiler=%u",
			 o->po_max_runtime);
		rv |= java_arg(ws, w);
	}
	if (rv != 0)
		snprintf(err, errlen,
			 "worker java: more than %d arguments with the Java "
			 "options",
			 PROFD_ARGS_MAX);
	return rv != 0 ? -1 : 0;
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

static const struct option *
conf_option(const char *name)
{
	static const char *const refused[] = {"help", "version", "config"};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(name, refused[i]) == 0)
			return NULL;
	for (const struct option *o = profd_longopts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Applies one "name = value" or "name" line. */
static int
conf_apply(struct profd_opts *o, char *line)
{
	char *eq = strchr(line, '='), *name = line, *value = NULL;
	const struct option *opt;

	if (eq != NULL) {
		*eq = '\0';
		value = trim(eq + 1);
	}
	name = trim(name);
	if ((opt = conf_option(name)) == NULL)
		return conf_error("unknown setting", name);
	if (opt->has_arg == required_argument &&
	    (value == NULL || *value == '\0'))
		return conf_error("a value is required (name = value)", name);
	if (opt->has_arg == no_argument && value != NULL)
		return conf_error("takes no value (write the name alone)",
				  name);
	if (value != NULL && (value = conf_keep(value)) == NULL)
		return conf_error("too many settings", name);
	return parse_opt(o, opt->val, value);
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
		conf_error("bad worker name (1 to 16 of a-z, 0-9, -) or more "
			   "than 16 workers",
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
		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[') {
			if ((sect = conf_section(o, line)) == NULL)
				return -1;
		} else if (sect != NULL) {
			if (conf_worker(sect, line) == -1)
				return -1;
		} else if (!conf_reload && conf_apply(o, line) == -1) {
			return -1;
		}
	}
	return ferror(f) ? conf_error("read error", NULL) : 0;
}

/* Reads path; a missing file is an error only when must_exist. */
static int
conf_load(struct profd_opts *o, const char *path, int must_exist)
{
	FILE *f;
	int rv;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		conf_file = path;
		conf_line = 0;
		return conf_error("cannot read the file", strerror(errno));
	}
	conf_file = path;
	conf_line = 0;
	rv = conf_read(o, f);
	fclose(f);
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

/* The command line, kept for reload. */
static int saved_argc;
static char **saved_argv;

int
options_parse(struct profd_opts *o, int argc, char **argv)
{
	const char *path = find_config(argc, argv);
	char err[160];
	int rv;

	saved_argc = argc;
	saved_argv = argv;
	defaults(o);
	table_defaults(o);
	o->po_config = path ? path : PROFD_CONFIG;
	if (conf_load(o, o->po_config, path != NULL) == -1)
		return 2;
	if ((rv = parse_args(o, argc, argv)) != -1)
		return rv;
	if (strcmp(o->po_perf_mode, "disabled") == 0)
		table_entry(o, "perf", 1)->ws_enabled = 0;
	if (options_java(o, err, sizeof(err)) == -1 ||
	    table_check(o, err, sizeof(err)) == -1) {
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
	if (rv == 0 && strcmp(fresh->po_perf_mode, "disabled") == 0)
		table_entry(fresh, "perf", 1)->ws_enabled = 0;
	if (rv == 0 &&
	    (options_java(fresh, conf_lasterr, sizeof(conf_lasterr)) == -1 ||
	     table_check(fresh, conf_lasterr, sizeof(conf_lasterr)) == -1))
		rv = -1;
	snprintf(err, errlen, "%s", conf_lasterr);
	return rv;
}
