/* profd's options: the command line over the configuration file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	OPT_CGROUP_DELEGATED,
	OPT_SKIP_ABOVE,
	OPT_PERF_EVENTS,
	OPT_RESTART_RSS,
	OPT_RESTART_AFTER,
	OPT_NO_MEMORY_RESTART,
	OPT_DWARF_STACK_SIZE,
	/* Upload options (passed on to profd-upload). */
	OPT_UPLOAD,
	OPT_SERVER_HOST,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_SERVICE_NAME,
	OPT_UPLOAD_TIMEOUT,
	OPT_NO_VERIFY,
	OPT_CA_BUNDLE,
	OPT_CLIENT_CERT,
	OPT_CLIENT_KEY,
	OPT_PYRO_URL,
	OPT_PYRO_APP,
	OPT_PYRO_TENANT,
	OPT_SPOOL_DIR,
	OPT_SPOOL_FILES,
	OPT_SPOOL_SIZE,
	OPT_RETRY_MAX,
	OPT_OUTPUT_FORMAT,
	OPT_PYTHON_MODE,
	OPT_NO_PYTHON,
	OPT_PYTHON_IDLE,
	OPT_PYTHON_GIL,
	OPT_PYTHON_NO_LINES,
	OPT_MAX_PROCS,
	OPT_MIN_DURATION,
	OPT_USE_CGROUPS,
	OPT_MAX_CGROUPS,
	OPT_MAX_DOCKER,
	OPT_HEARTBEAT,
	OPT_HEARTBEAT_INTERVAL,
	OPT_JAVA_MODE,
	OPT_NO_JAVA,
	OPT_JAVA_AP_MODE,
	OPT_JAVA_SAFEMODE,
	OPT_JAVA_TIMEOUT,
	OPT_API_SERVER,
	OPT_CLOUD_METADATA_URL,
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
    {"cgroup-delegated", no_argument, NULL, OPT_CGROUP_DELEGATED},
    {"skip-system-profilers-above", required_argument, NULL, OPT_SKIP_ABOVE},
    {"perf-events", required_argument, NULL, OPT_PERF_EVENTS},
    {"perf-restart-rss", required_argument, NULL, OPT_RESTART_RSS},
    {"perf-restart-after", required_argument, NULL, OPT_RESTART_AFTER},
    {"perf-no-memory-restart", no_argument, NULL, OPT_NO_MEMORY_RESTART},
    {"perf-dwarf-stack-size", required_argument, NULL, OPT_DWARF_STACK_SIZE},
    {"upload-results", no_argument, NULL, 'u'},
    {"server-host", required_argument, NULL, OPT_SERVER_HOST},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"service-name", required_argument, NULL, OPT_SERVICE_NAME},
    {"server-upload-timeout", required_argument, NULL, OPT_UPLOAD_TIMEOUT},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"ca-bundle", required_argument, NULL, OPT_CA_BUNDLE},
    {"client-cert", required_argument, NULL, OPT_CLIENT_CERT},
    {"client-key", required_argument, NULL, OPT_CLIENT_KEY},
    {"pyroscope-url", required_argument, NULL, OPT_PYRO_URL},
    {"pyroscope-app", required_argument, NULL, OPT_PYRO_APP},
    {"pyroscope-tenant", required_argument, NULL, OPT_PYRO_TENANT},
    {"spool-dir", required_argument, NULL, OPT_SPOOL_DIR},
    {"spool-max-files", required_argument, NULL, OPT_SPOOL_FILES},
    {"spool-max-size", required_argument, NULL, OPT_SPOOL_SIZE},
    {"upload-retry-max", required_argument, NULL, OPT_RETRY_MAX},
    {"output-format", required_argument, NULL, OPT_OUTPUT_FORMAT},
    {"python-mode", required_argument, NULL, OPT_PYTHON_MODE},
    {"no-python", no_argument, NULL, OPT_NO_PYTHON},
    {"python-idle", no_argument, NULL, OPT_PYTHON_IDLE},
    {"python-gil", no_argument, NULL, OPT_PYTHON_GIL},
    {"python-no-line-numbers", no_argument, NULL, OPT_PYTHON_NO_LINES},
    {"max-processes-runtime-profiler", required_argument, NULL, OPT_MAX_PROCS},
    {"min-duration", required_argument, NULL, OPT_MIN_DURATION},
    {"perf-use-cgroups", no_argument, NULL, OPT_USE_CGROUPS},
    {"perf-max-cgroups", required_argument, NULL, OPT_MAX_CGROUPS},
    {"perf-max-docker-containers", required_argument, NULL, OPT_MAX_DOCKER},
    {"enable-heartbeat-server", no_argument, NULL, OPT_HEARTBEAT},
    {"heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT_INTERVAL},
    {"java-mode", required_argument, NULL, OPT_JAVA_MODE},
    {"no-java", no_argument, NULL, OPT_NO_JAVA},
    {"java-async-profiler-mode", required_argument, NULL, OPT_JAVA_AP_MODE},
    {"java-safemode", no_argument, NULL, OPT_JAVA_SAFEMODE},
    {"java-jattach-timeout", required_argument, NULL, OPT_JAVA_TIMEOUT},
    {"api-server", required_argument, NULL, OPT_API_SERVER},
    {"cloud-metadata-url", required_argument, NULL, OPT_CLOUD_METADATA_URL},
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
		"             [--cgroup-delegated]\n"
		"             [--skip-system-profilers-above N] "
		"[--perf-events EVENT]\n"
		"             [--perf-restart-rss MB] "
		"[--perf-restart-after SECONDS]\n"
		"             [--perf-no-memory-restart] "
		"[--perf-dwarf-stack-size BYTES]\n"
		"             [--perf-use-cgroups] [--perf-max-cgroups N] "
		"[--perf-max-docker-containers N]\n"
		"             [--python-mode auto|disabled] [--no-python] "
		"[--python-idle]\n"
		"             [--python-gil] [--python-no-line-numbers]\n"
		"             [--max-processes-runtime-profiler N] "
		"[--min-duration SECONDS]\n"
		"             [--java-mode ap|perfmap|disabled] [--no-java] "
		"[--java-safemode]\n"
		"             [--java-async-profiler-mode itimer|cpu|auto] "
		"[--java-jattach-timeout SECONDS]\n"
		"             [-u --server-host URL --service-name NAME "
		"--token-file FILE]\n"
		"             [--pyroscope-url URL] [--spool-dir DIR] "
		"[upload options]\n"
		"             [--enable-heartbeat-server "
		"[--heartbeat-interval SECONDS]]\n"
		"       profd [upload options] [-o DIR] upload-file FILE\n"
		"Profiles this host and writes one flame graph per window "
		"into DIR,\nuploads them, or both; or uploads a saved "
		"collapsed FILE. See profd(8).\n");
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
				  WORKER_MAX_SKIP_ABOVE, &o->po_skip_above);
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
		return opt_number("--perf-restart-rss", arg, 1,
				  WORKER_MAX_RESTART_RSS_MB,
				  &o->po_restart_rss_mb);
	case OPT_RESTART_AFTER:
		return opt_number("--perf-restart-after", arg, 1,
				  WORKER_MAX_RESTART_AFTER_S,
				  &o->po_restart_after_s);
	case OPT_NO_MEMORY_RESTART:
		o->po_no_memory_restart = 1;
		return 0;
	case OPT_DWARF_STACK_SIZE:
		return opt_number("--perf-dwarf-stack-size", arg, 1,
				  WORKER_MAX_DWARF_STACK,
				  &o->po_dwarf_stack_size);
	case OPT_USE_CGROUPS:
		o->po_use_cgroups = 1;
		return 0;
	case OPT_MAX_CGROUPS:
		return opt_number("--perf-max-cgroups", arg, 0,
				  WORKER_PERF_CGROUPS_LIMIT,
				  &o->po_max_cgroups);
	case OPT_MAX_DOCKER:
		return opt_number("--perf-max-docker-containers", arg, 0,
				  WORKER_PERF_CGROUPS_LIMIT, &o->po_max_docker);
	}
	return -1;
}

/* Upload options profd passes on without looking at their values. */
static const struct {
	int uf_opt;
	const char *uf_flag;
} upload_flags[] = {
    {OPT_CA_BUNDLE, "--ca-bundle"},
    {OPT_CLIENT_CERT, "--client-cert"},
    {OPT_CLIENT_KEY, "--client-key"},
    {OPT_PYRO_APP, "--pyroscope-app"},
    {OPT_PYRO_TENANT, "--pyroscope-tenant"},
    {OPT_SPOOL_DIR, "--spool-dir"},
    {OPT_SPOOL_SIZE, "--spool-max-size"},
    {OPT_OUTPUT_FORMAT, "--output-format"},
    {OPT_API_SERVER, "--api-server"},
    {OPT_CLOUD_METADATA_URL, "--cloud-metadata-url"},
};

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

static int
opt_url(const char *flag, const char *arg)
{
	if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
		return badarg(flag, arg, "an http:// or https:// URL");
	return 0;
}

/* Keeps a token and blanks it where it was given (the process title). */
static int
opt_token(struct profd_opts *o, const char *arg)
{
	free(o->po_token);
	if ((o->po_token = strdup(arg)) == NULL)
		return -1;
	memset((char *)arg, 'x', strlen(arg));
	return 0;
}

static int
parse_upload(struct profd_opts *o, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case 'u':
		o->po_upload = 1;
		return upload_arg(o, "-u", NULL);
	case OPT_SERVER_HOST:
		o->po_server_host = 1;
		if (opt_url("--server-host", arg) == -1)
			return -1;
		return upload_arg(o, "--server-host", arg);
	case OPT_PYRO_URL:
		o->po_pyroscope = 1;
		if (opt_url("--pyroscope-url", arg) == -1)
			return -1;
		return upload_arg(o, "--pyroscope-url", arg);
	case OPT_TOKEN:
		return opt_token(o, arg);
	case OPT_TOKEN_FILE:
		o->po_token_file = 1;
		return upload_arg(o, "--token-file", arg);
	case OPT_SERVICE_NAME:
		o->po_service_name = 1;
		return upload_arg(o, "--service-name", arg);
	case OPT_UPLOAD_TIMEOUT:
		if (opt_number("--server-upload-timeout", arg, 1, 3600, &v))
			return -1;
		return upload_arg(o, "--server-upload-timeout", arg);
	case OPT_NO_VERIFY:
		return upload_arg(o, "--no-verify", NULL);
	case OPT_SPOOL_FILES:
		if (opt_number("--spool-max-files", arg, 1, 1000000, &v))
			return -1;
		return upload_arg(o, "--spool-max-files", arg);
	case OPT_RETRY_MAX:
		if (opt_number("--upload-retry-max", arg, 1, 86400, &v))
			return -1;
		return upload_arg(o, "--upload-retry-max", arg);
	case OPT_HEARTBEAT:
		if (o->po_heartbeat)
			return 0;
		o->po_heartbeat = 1;
		return upload_arg(o, "--enable-heartbeat-server", NULL);
	case OPT_HEARTBEAT_INTERVAL:
		if (opt_number("--heartbeat-interval", arg, 1, 3600, &v))
			return -1;
		return upload_arg(o, "--heartbeat-interval", arg);
	}
	/* The rest is checked by profd-upload, which says what is wrong. */
	for (size_t i = 0; i < sizeof(upload_flags) / sizeof(upload_flags[0]);
	     i++)
		if (upload_flags[i].uf_opt == c)
			return upload_arg(o, upload_flags[i].uf_flag, arg);
	return -1;
}

/* The Python worker's options, passed on in its Configure. */
static int
parse_python(struct profd_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_PYTHON_MODE:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "disabled") != 0)
			return badarg("--python-mode", arg, "auto or disabled");
		snprintf(o->po_python_mode, sizeof(o->po_python_mode), "%s",
			 arg);
		return 0;
	case OPT_NO_PYTHON:
		snprintf(o->po_python_mode, sizeof(o->po_python_mode),
			 "disabled");
		return 0;
	case OPT_PYTHON_IDLE:
		o->po_python_idle = 1;
		return 0;
	case OPT_PYTHON_GIL:
		o->po_python_gil = 1;
		return 0;
	case OPT_PYTHON_NO_LINES:
		o->po_python_no_lines = 1;
		return 0;
	case OPT_MAX_PROCS:
		return opt_number("--max-processes-runtime-profiler", arg, 0,
				  WORKER_MAX_RUNTIME_PROCS, &o->po_max_procs);
	case OPT_MIN_DURATION:
		return opt_number("--min-duration", arg, 0,
				  WORKER_MAX_MIN_DURATION, &o->po_min_duration);
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
	case OPT_USE_CGROUPS:
	case OPT_MAX_CGROUPS:
	case OPT_MAX_DOCKER:
		return parse_perf_guard(o, c, arg);
	case 'u':
	case OPT_SERVER_HOST:
	case OPT_TOKEN:
	case OPT_TOKEN_FILE:
	case OPT_SERVICE_NAME:
	case OPT_UPLOAD_TIMEOUT:
	case OPT_NO_VERIFY:
	case OPT_CA_BUNDLE:
	case OPT_CLIENT_CERT:
	case OPT_CLIENT_KEY:
	case OPT_PYRO_URL:
	case OPT_PYRO_APP:
	case OPT_PYRO_TENANT:
	case OPT_SPOOL_DIR:
	case OPT_SPOOL_FILES:
	case OPT_SPOOL_SIZE:
	case OPT_RETRY_MAX:
	case OPT_OUTPUT_FORMAT:
	case OPT_HEARTBEAT:
	case OPT_HEARTBEAT_INTERVAL:
	case OPT_API_SERVER:
	case OPT_CLOUD_METADATA_URL:
		return parse_upload(o, c, arg);
	case OPT_PYTHON_MODE:
	case OPT_NO_PYTHON:
	case OPT_PYTHON_IDLE:
	case OPT_PYTHON_GIL:
	case OPT_PYTHON_NO_LINES:
	case OPT_MAX_PROCS:
	case OPT_MIN_DURATION:
		return parse_python(o, c, arg);
	case OPT_JAVA_MODE:
	case OPT_NO_JAVA:
	case OPT_JAVA_AP_MODE:
	case OPT_JAVA_SAFEMODE:
	case OPT_JAVA_TIMEOUT:
		return parse_java(o, c, arg);
	case OPT_CGROUP_MODE:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "v2") != 0 &&
		    strcmp(arg, "v1") != 0 && strcmp(arg, "poll") != 0)
			return badarg("--cgroup-mode", arg,
				      "auto, v2, v1 or poll");
		snprintf(o->po_cgroup_mode, sizeof(o->po_cgroup_mode), "%s",
			 arg);
		return 0;
	case OPT_CGROUP_DELEGATED:
		o->po_cgroup_delegated = 1;
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
	while ((c = getopt_long(argc, argv, "d:f:o:cuvh", profd_longopts,
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
	if (optind + 2 == argc && strcmp(argv[optind], "upload-file") == 0) {
		o->po_upload_file = argv[optind + 1];
		return -1;
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
	snprintf(o->po_python_mode, sizeof(o->po_python_mode), "auto");
	snprintf(o->po_cgroup_mode, sizeof(o->po_cgroup_mode), "auto");
	o->po_max_cgroups = WORKER_PERF_MAX_CGROUPS;
	snprintf(o->po_java_mode, sizeof(o->po_java_mode), "ap");
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
	if (o->po_java_safemode)
		rv |= java_arg(ws, "--java-safemode");
	if (o->po_java_timeout != 0) {
		snprintf(w, sizeof(w), "--java-jattach-timeout=%u",
			 o->po_java_timeout);
		rv |= java_arg(ws, w);
	}
	if (o->po_max_procs != 0) {
		snprintf(w, sizeof(w), "--max-processes-runtime-profiler=%u",
			 o->po_max_procs);
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

/* Reads path; a missing file is an error only when must_exist. */
static int
conf_load(struct profd_opts *o, const char *path, int must_exist)
{
	FILE *f;
	int rv;

	conf_file = path;
	conf_line = 0;
	if ((f = conf_open(path, must_exist)) == NULL) {
		conf_file = NULL;
		return errno == ENOENT ? 0 : -1;
	}
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

/* Takes the token from the environment when none was given, so that no
 * other worker inherits it, and prepares profd-upload's copy. */
static int
upload_token(struct profd_opts *o)
{
	const char *env = getenv(PROFD_TOKEN_ENV);
	size_t len;

	if (o->po_token == NULL && env != NULL && *env != '\0' &&
	    (o->po_token = strdup(env)) == NULL)
		return -1;
	unsetenv(PROFD_TOKEN_ENV);
	if (o->po_token == NULL)
		return 0;
	len = strlen(PROFD_TOKEN_ENV) + strlen(o->po_token) + 2;
	if ((o->po_token_env = malloc(len)) == NULL)
		return -1;
	snprintf(o->po_token_env, len, "%s=%s", PROFD_TOKEN_ENV, o->po_token);
	return 0;
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
	if (upload_token(o) == -1)
		return 1;
	if (strcmp(o->po_perf_mode, "disabled") == 0)
		table_entry(o, "perf", 1)->ws_enabled = 0;
	if (strcmp(o->po_python_mode, "disabled") == 0)
		table_entry(o, "python", 1)->ws_enabled = 0;
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
	if (rv == 0 && strcmp(fresh->po_python_mode, "disabled") == 0)
		table_entry(fresh, "python", 1)->ws_enabled = 0;
	if (rv == 0 &&
	    (options_java(fresh, conf_lasterr, sizeof(conf_lasterr)) == -1 ||
	     table_check(fresh, conf_lasterr, sizeof(conf_lasterr)) == -1))
		rv = -1;
	snprintf(err, errlen, "%s", conf_lasterr);
	return rv;
}
