/* profd-upload: merges the chunks of each window and writes the outputs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chunk.h"
#include "collapsed.h"
#include "ipc.h"
#include "log.h"
#include "metadata.h"
#include "pbmsg.h"
#include "sandbox.h"
#include "secret.h"
#include "upload.h"
#include "util.h"
#include "windows.h"
#include "worker.h"

/* The uploader keeps no capability and never reads /proc or execs. */
static const int upload_caps[] = {-1};
/* wait4 and alarm: the request helper and its child per HTTP request
 * (http_helper.c; their fork is a clone without namespace flags, which
 * every worker may make). */
/* memfd_secret: each request's child keeps the token and libcurl's
 * memory in secret memory (common/secret.c); mlock where the kernel has
 * no memfd_secret. */
static const char *const upload_syscalls[] = {
    "linkat", "rmdir", "wait4", "alarm", "memfd_secret", "mlock", NULL};

/* The parent-death signal of the request helper and of each HTTP
 * request's child. No ioctl beyond the base set. */
static const int upload_prctls[] = {PR_SET_PDEATHSIG, -1};

static const struct sandbox_policy upload_policy = {
    .sp_name = "upload",
    .sp_caps = upload_caps,
    .sp_syscalls = upload_syscalls,
    .sp_prctls = upload_prctls,
    .sp_unix_only = 1,
};

/* gProfiler's switches of what a window carries. */
static int
upload_gp_opt(struct upload_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_NO_CONTAINER_NAMES:
		a->ua_no_containers = 1;
		a->ua_output_flags |= OUTPUT_NO_CONTAINERS;
		return 0;
	case OPT_NO_APPIDS:
		a->ua_no_appids = 1;
		return 0;
	case OPT_NO_APPMD:
		a->ua_output_flags |= OUTPUT_NO_APPMD;
		return 0;
	case OPT_NO_METRICS:
		a->ua_output_flags |= OUTPUT_NO_METRICS;
		return 0;
	case OPT_NO_METADATA:
		a->ua_no_metadata = 1;
		return 0;
	case OPT_EXTERNAL_METADATA:
		a->ua_external = arg;
		return 0;
	}
	return -1;
}

/* With a backend: IPv4 and IPv6 sockets too, and nothing else. */
static const int upload_net_families[] = {AF_UNIX, AF_INET, AF_INET6, -1};

static const struct sandbox_policy upload_net_policy = {
    .sp_name = "upload",
    .sp_caps = upload_caps,
    .sp_syscalls = upload_syscalls,
    .sp_prctls = upload_prctls,
    .sp_families = upload_net_families,
};

static const struct option upload_longopts[] = {
    {"output-dir", required_argument, NULL, 'o'},
    {"output-fd", required_argument, NULL, OPT_OUTPUT_FD},
    {"no-flamegraph", no_argument, NULL, OPT_NO_FLAMEGRAPH},
    {"rotating-output", no_argument, NULL, OPT_ROTATING},
    {"supervised", required_argument, NULL, OPT_SUPERVISED},
    {"user", required_argument, NULL, OPT_USER},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"caps", required_argument, NULL, OPT_CAPS},
    {"channel", required_argument, NULL, OPT_CHANNEL},
    {"peer-uid", required_argument, NULL, OPT_PEER_UID},
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
    {"enable-heartbeat-server", no_argument, NULL, OPT_HEARTBEAT},
    {"heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT_INTERVAL},
    {"api-server", required_argument, NULL, OPT_API_SERVER},
    {"cloud-metadata-url", required_argument, NULL, OPT_CLOUD_METADATA_URL},
    {"disable-container-names", no_argument, NULL, OPT_NO_CONTAINER_NAMES},
    {"disable-application-identifiers", no_argument, NULL, OPT_NO_APPIDS},
    {"disable-application-metadata", no_argument, NULL, OPT_NO_APPMD},
    {"disable-metrics-collection", no_argument, NULL, OPT_NO_METRICS},
    {"disable-metadata-collection", no_argument, NULL, OPT_NO_METADATA},
    {"external-metadata", required_argument, NULL, OPT_EXTERNAL_METADATA},
    {NULL, 0, NULL, 0},
};

static void
upload_usage(FILE *f)
{
	fprintf(f, "usage: profd-upload [-o DIR] [--no-flamegraph] "
		   "[--rotating-output] [-v]\n"
		   "         [-u --server-host URL --service-name NAME "
		   "--token-file FILE]\n"
		   "         [--pyroscope-url URL [--pyroscope-app NAME]] "
		   "[--spool-dir DIR] [FILE...]\n"
		   "         [--enable-heartbeat-server "
		   "[--heartbeat-interval SECONDS]\n"
		   "          [--api-server URL]] (under profd) "
		   "[--cloud-metadata-url URL]\n"
		   "Writes collapsed stacks (from FILEs or stdin, as "
		   "profd-perf prints them,\nor gProfiler's collapsed files) "
		   "into DIR and uploads them as one profile\nwindow. See "
		   "profd-upload(8).\n");
}

static int
upload_opt(struct upload_args *a, int c, char *arg)
{
	uint64_t v;
	int rv;

	if ((rv = upload_net_opt(a, c, arg)) != 1)
		return rv;
	switch (c) {
	case 'o':
		a->ua_outdir = arg;
		return 0;
	case OPT_OUTPUT_FD:
		if (parse_u64(arg, 3, 1023, &v) == -1)
			return worker_badarg("--output-fd", arg, "3 to 1023");
		a->ua_outfd = (int)v;
		return 0;
	case OPT_NO_FLAMEGRAPH:
		a->ua_out.ou_flamegraph = 0;
		return 0;
	case OPT_ROTATING:
		a->ua_out.ou_rotating = 1;
		return 0;
	case OPT_OUTPUT_FORMAT:
		a->ua_out.ou_collapsed = strcmp(arg, "collapsed") == 0 ||
					 strcmp(arg, "collapsed,pprof") == 0 ||
					 strcmp(arg, "pprof,collapsed") == 0;
		a->ua_out.ou_pprof = strstr(arg, "pprof") != NULL;
		if (!a->ua_out.ou_collapsed && strcmp(arg, "pprof") != 0)
			return worker_badarg("--output-format", arg,
					     "collapsed, pprof, or both "
					     "separated by a comma");
		return 0;
	case OPT_SUPERVISED:
		a->ua_rundir = arg;
		return 0;
	case OPT_USER:
		a->ua_user = arg;
		return 0;
	case OPT_SYSLOG:
		a->ua_syslog = 1;
		return 0;
	case OPT_CHANNEL:
		return worker_opt_channel(arg, &a->ua_channel);
	case OPT_PEER_UID:
		if (parse_u64(arg, 0, UINT32_MAX - 1, &v) == -1 ||
		    a->ua_peers.ip_nuids >= IPC_PEER_UIDS)
			return worker_badarg("--peer-uid", arg,
					     "a uid, at most 8 times");
		a->ua_peers.ip_uids[a->ua_peers.ip_nuids++] = (uid_t)v;
		return 0;
	case OPT_CAPS:
		return worker_opt_caps(arg);
	case OPT_NO_CONTAINER_NAMES:
	case OPT_NO_APPIDS:
	case OPT_NO_APPMD:
	case OPT_NO_METRICS:
	case OPT_NO_METADATA:
	case OPT_EXTERNAL_METADATA:
		return upload_gp_opt(a, c, arg);
	case 'v':
		a->ua_verbose++;
		return 0;
	}
	return -1;
}

/* Applies gProfiler's switches, before the sandbox (the external
 * metadata is a file). 0, or -1 told. */
static int
upload_gp_apply(const struct upload_args *a)
{
	output_gprofiler(a->ua_output_flags |
			 (a->ua_out.ou_flamegraph ? OUTPUT_HTML : 0));
	windows_strip(a->ua_no_containers, a->ua_no_appids);
	if (a->ua_no_metadata)
		metadata_withhold();
	if (a->ua_external != NULL && metadata_external(a->ua_external) == -1)
		return -1;
	return 0;
}

/* Returns -1 to go on, else an exit status. */
static int
upload_parse(struct upload_args *a, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "o:uvh", upload_longopts, NULL)) !=
	       -1) {
		if (c == 'h') {
			upload_usage(stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("profd-upload %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (c == '?' || upload_opt(a, c, optarg) == -1) {
			if (c == '?')
				upload_usage(stderr);
			return 2;
		}
	}
	a->ua_files = argv + optind;
	a->ua_nfiles = argc - optind;
	if (a->ua_rundir != NULL && worker_env_channel(&a->ua_channel) == -1)
		return 2;
	if (upload_net_check(a) == -1)
		return 2;
	if (a->ua_outdir == NULL && a->ua_outfd == -1 && !a->ua_net_on) {
		fprintf(stderr, "profd-upload: an output directory (-o DIR) "
				"or an upload (-u, --pyroscope-url) is "
				"required\n");
		return 2;
	}
	return -1;
}

static int
upload_open_outdir(struct upload_args *a)
{
	a->ua_out.ou_dirfd = -1;
	if (a->ua_outdir == NULL && a->ua_outfd == -1)
		return 0;
	if (a->ua_outfd != -1) {
		a->ua_out.ou_dirfd = a->ua_outfd;
		a->ua_out.ou_dir = a->ua_outdir ? a->ua_outdir : "output";
		return 0;
	}
	a->ua_out.ou_dir = a->ua_outdir;
	a->ua_out.ou_dirfd =
	    open(a->ua_outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->ua_out.ou_dirfd == -1) {
		fprintf(stderr, "profd-upload: cannot open %s: %s\n",
			a->ua_outdir, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct upload_args a;
	int rv;

	memset(&a, 0, sizeof(a));
	/* Before the options: --token goes straight into it. */
	if (secret_init(UPLOAD_SECRET_SIZE) == -1) {
		fprintf(stderr, "profd-upload: no memory for secrets: %s\n",
			strerror(errno));
		return 1;
	}
	a.ua_outfd = -1;
	a.ua_out.ou_flamegraph = 1;
	a.ua_out.ou_collapsed = 1;
	if ((rv = upload_parse(&a, argc, argv)) != -1)
		return rv;
	log_init("profd-upload", a.ua_syslog,
		 a.ua_verbose >= 2 ? LOGL_DEBUG
		 : a.ua_verbose	   ? LOGL_INFO
				   : LOGL_WARN);
	worker_process_init();
	/* The host's description reads /proc, /sys and /etc and lists the
	 * interfaces: the sandbox allows none of it. */
	metadata_init();
	if (upload_gp_apply(&a) == -1 || upload_open_outdir(&a) == -1 ||
	    (a.ua_rundir == NULL && upload_open_inputs(&a) == -1) ||
	    upload_net_prepare(&a) == -1)
		return 1;
	if (sandbox_enter(a.ua_net_on ? &upload_net_policy : &upload_policy,
			  a.ua_user) == -1 ||
	    upload_net_start(&a) == -1)
		return 1;
	rv = a.ua_rundir ? upload_supervised(&a) : upload_standalone(&a);
	if (upload_net_stop(&a, a.ua_rundir ? UPLOAD_DRAIN_MS
					    : a.ua_net.nc_timeout_s * 1000) &&
	    a.ua_rundir == NULL && rv == 0)
		rv = 1;
	if (a.ua_out.ou_dirfd >= 0)
		close(a.ua_out.ou_dirfd);
	return rv;
}
