/* profd-upload's uploads: options, token, TLS files, spool, delivery. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudmeta.h"
#include "collapsed.h"
#include "heartbeat.h"
#include "log.h"
#include "sandbox.h"
#include "secret.h"
#include "upload.h"
#include "util.h"
#include "worker.h"

/* Moves a token into secret memory and wipes it where it was (the
 * command line, the environment), so that no copy stays in memory a
 * process with CAP_SYS_PTRACE can read. */
static char *
keep_secret(char *arg)
{
	char *s = secret_take(arg);

	if (s == NULL)
		log_error("no secret memory for the token");
	return s;
}

static int
opt_url(const char *flag, const char *arg, const char **out)
{
	if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
		return worker_badarg(flag, arg, "an http:// or https:// URL");
	if (strlen(arg) > 1024)
		return worker_badarg(flag, "(too long)", "at most 1024 bytes");
	*out = arg;
	return 0;
}

static int
opt_name(const char *flag, const char *arg, const char **out)
{
	size_t n = strlen(arg);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f)
			n = 0;
	if (n == 0 || n > 128)
		return worker_badarg(flag, arg,
				     "1 to 128 printable characters");
	*out = arg;
	return 0;
}

static int
opt_u32(const char *flag, const char *arg, uint64_t min, uint64_t max,
	uint64_t *out, const char *want)
{
	if (parse_u64(arg, min, max, out) == -1)
		return worker_badarg(flag, arg, want);
	return 0;
}

int
upload_net_opt(struct upload_args *a, int c, char *arg)
{
	struct net_conf *n = &a->ua_net;
	uint64_t v;

	switch (c) {
	case 'u':
		a->ua_upload = 1;
		return 0;
	case OPT_SERVER_HOST:
		return opt_url("--server-host", arg, &n->nc_server);
	case OPT_API_SERVER:
		return opt_url("--api-server", arg, &n->nc_api_server);
	case OPT_CLOUD_METADATA_URL:
		return opt_url("--cloud-metadata-url", arg, &a->ua_cloud_url);
	case OPT_TOKEN:
		secret_free(n->nc_token);
		n->nc_token = keep_secret(arg);
		return n->nc_token ? 0 : -1;
	case OPT_TOKEN_FILE:
		a->ua_token_file = arg;
		return 0;
	case OPT_SERVICE_NAME:
		return opt_name("--service-name", arg, &n->nc_service);
	case OPT_UPLOAD_TIMEOUT:
		if (opt_u32("--server-upload-timeout", arg, 1, 3600, &v,
			    "1 to 3600 seconds"))
			return -1;
		n->nc_timeout_s = (long)v;
		return 0;
	case OPT_NO_VERIFY:
		n->nc_tls.ht_no_verify = 1;
		return 0;
	case OPT_CA_BUNDLE:
	case OPT_CLIENT_CERT:
	case OPT_CLIENT_KEY:
		a->ua_tls_files[c - OPT_CA_BUNDLE] = arg;
		return 0;
	case OPT_PYRO_URL:
		return opt_url("--pyroscope-url", arg, &n->nc_pyro_url);
	case OPT_PYRO_APP:
		return opt_name("--pyroscope-app", arg, &n->nc_pyro_app);
	case OPT_PYRO_TENANT:
		return opt_name("--pyroscope-tenant", arg, &n->nc_pyro_tenant);
	case OPT_SPOOL_DIR:
		a->ua_spool_dir = arg;
		return 0;
	case OPT_SPOOL_FILES:
		return opt_u32("--spool-max-files", arg, 1, 1000000,
			       &a->ua_spool.sp_max_files, "1 to 1000000");
	case OPT_SPOOL_SIZE:
		if (parse_size(arg, &v) == -1 || v < 4096)
			return worker_badarg("--spool-max-size", arg,
					     "a size of at least 4K");
		a->ua_spool.sp_max_bytes = v;
		return 0;
	case OPT_RETRY_MAX:
		if (opt_u32("--upload-retry-max", arg, 1, 86400, &v,
			    "1 to 86400 seconds"))
			return -1;
		n->nc_retry_max_s = (uint32_t)v;
		return 0;
	case OPT_HEARTBEAT:
		a->ua_heartbeat = 1;
		return 0;
	case OPT_HEARTBEAT_INTERVAL:
		if (opt_u32("--heartbeat-interval", arg, 1, HB_INTERVAL_MAX, &v,
			    "1 to 3600 seconds"))
			return -1;
		a->ua_hb_interval = (uint32_t)v;
		return 0;
	}
	return 1;
}

int
upload_net_check(struct upload_args *a)
{
	struct net_conf *n = &a->ua_net;

	if (a->ua_upload && n->nc_server == NULL) {
		fprintf(stderr, "profd-upload: -u needs --server-host URL\n");
		return -1;
	}
	if (!a->ua_upload && n->nc_server != NULL) {
		fprintf(stderr, "profd-upload: --server-host needs -u\n");
		return -1;
	}
	if (a->ua_upload && n->nc_service == NULL) {
		fprintf(stderr, "profd-upload: -u needs --service-name\n");
		return -1;
	}
	if (n->nc_api_server != NULL && !a->ua_upload) {
		fprintf(stderr, "profd-upload: --api-server needs -u\n");
		return -1;
	}
	if (a->ua_heartbeat && (!a->ua_upload || a->ua_rundir == NULL)) {
		fprintf(stderr, "profd-upload: --enable-heartbeat-server needs "
				"-u and runs only under profd\n");
		return -1;
	}
	a->ua_net_on = a->ua_upload || n->nc_pyro_url != NULL;
	if (a->ua_cloud_url != NULL && !a->ua_net_on) {
		fprintf(stderr, "profd-upload: --cloud-metadata-url needs an "
				"upload (-u or --pyroscope-url)\n");
		return -1;
	}
	if (n->nc_timeout_s == 0)
		n->nc_timeout_s = SENDER_TIMEOUT_S;
	if (n->nc_retry_max_s == 0)
		n->nc_retry_max_s = SENDER_BACKOFF_MAX_S;
	if (a->ua_spool_dir == NULL) {
		a->ua_spool_dir = UPLOAD_SPOOL_DIR;
		/* On a new host the default's parent may not exist yet. */
		if (a->ua_net_on && geteuid() == 0 &&
		    mkdir(UPLOAD_SPOOL_PARENT, 0755) == -1 && errno != EEXIST)
			log_warn("cannot create %s: %s", UPLOAD_SPOOL_PARENT,
				 strerror(errno));
	}
	return 0;
}

/* Reads the token file straight into secret memory: the token, or NULL
 * told. */
static char *
upload_token_file(const char *path)
{
	char *t = secret_malloc(UPLOAD_TOKEN_MAX + 2);
	struct stat st;
	ssize_t n = -1;
	int fd;

	if (t == NULL) {
		log_error("no secret memory for the token");
		return NULL;
	}
	/* A regular file only: a FIFO or a device could stall the read. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) !=
	    -1) {
		if (fstat(fd, &st) == -1)
			;
		else if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		else
			n = read(fd, t, UPLOAD_TOKEN_MAX + 1);
		close(fd);
	}
	if (n < 0) {
		log_error("cannot read %s: %s", path,
			  errno == EINVAL ? "not a regular file"
					  : strerror(errno));
		secret_free(t);
		return NULL;
	}
	t[n] = '\0';
	t[strcspn(t, "\r\n")] = '\0';
	return t;
}

/* The token profd passed as a memfd (its number in SECRET_TOKEN_ENV):
 * 0 (none passed, or taken), -1 told. */
static int
upload_token_fd(struct net_conf *n)
{
	const char *v = getenv(SECRET_TOKEN_ENV);
	uint64_t fd;

	if (v == NULL)
		return 0;
	if (parse_u64(v, 3, 1023, &fd) == -1 ||
	    (secret_free(n->nc_token),
	     (n->nc_token = secret_fd_read((int)fd)) == NULL)) {
		log_error("cannot take the token from fd %s", v);
		return -1;
	}
	unsetenv(SECRET_TOKEN_ENV);
	return 0;
}

/* Reads the token into secret memory: --token-file, else --token, else
 * the memfd from profd, else PROFD_TOKEN (wiped where it was). */
static int
upload_token(struct upload_args *a)
{
	struct net_conf *n = &a->ua_net;
	char *env = getenv(UPLOAD_TOKEN_ENV);

	if (a->ua_token_file != NULL) {
		secret_free(n->nc_token);
		if ((n->nc_token = upload_token_file(a->ua_token_file)) == NULL)
			return -1;
	} else if (n->nc_token == NULL && upload_token_fd(n) == -1) {
		return -1;
	} else if (n->nc_token == NULL && env != NULL) {
		n->nc_token = keep_secret(env);
	}
	if (env != NULL) /* not left for anyone to read */
		explicit_bzero(env, strlen(env));
	unsetenv(UPLOAD_TOKEN_ENV);
	if (!a->ua_upload)
		return 0;
	if (n->nc_token == NULL || n->nc_token[0] == '\0' ||
	    strlen(n->nc_token) > UPLOAD_TOKEN_MAX ||
	    strpbrk(n->nc_token, "\r\n") != NULL) {
		log_error("-u needs a token of 1 to %d bytes on one line "
			  "(--token-file FILE or " UPLOAD_TOKEN_ENV ")",
			  UPLOAD_TOKEN_MAX);
		return -1;
	}
	return 0;
}

static int
upload_tls(struct upload_args *a)
{
	struct http_blob *b[3] = {&a->ua_net.nc_tls.ht_ca,
				  &a->ua_net.nc_tls.ht_cert,
				  &a->ua_net.nc_tls.ht_key};

	for (size_t i = 0; i < 3; i++)
		if (a->ua_tls_files[i] != NULL &&
		    http_read_file(a->ua_tls_files[i], b[i],
				   b[i] == &a->ua_net.nc_tls.ht_key) == -1)
			return -1;
	return 0;
}

int
upload_net_prepare(struct upload_args *a)
{
	const char *names[SPOOL_MAX_QUEUES + 1];
	struct net_conf *n = &a->ua_net;
	struct utsname u;
	uid_t uid = 0;
	gid_t gid = 0;

	if (upload_token(a) == -1 || !a->ua_net_on)
		return a->ua_net_on ? -1 : 0;
	if (upload_tls(a) == -1 || http_init() == -1)
		return -1;
	memset(&u, 0, sizeof(u));
	uname(&u);
	snprintf(n->nc_hostname, sizeof(n->nc_hostname), "%s", u.nodename);
	fmt_iso8601(time(NULL), n->nc_spawn_time, sizeof(n->nc_spawn_time));
	if (geteuid() == 0 && !sandbox_disabled() &&
	    sandbox_lookup_user(a->ua_user, "upload", &uid, &gid) == -1)
		return -1;
	sender_queues(n, names);
	return spool_open(&a->ua_spool, a->ua_spool_dir, names, uid, gid);
}

int
upload_net_start(struct upload_args *a)
{
	if (!a->ua_net_on)
		return 0;
	/* Before the first thread (the sender's): the helper's fork is
	 * that of a single-threaded process. */
	if (http_helper_start(&a->ua_net.nc_tls, a->ua_net.nc_token) == -1)
		return -1;
	/* Before any window: every header carries what it says. */
	if (a->ua_cloud_url != NULL)
		cloudmeta_fetch(a->ua_cloud_url, &a->ua_net.nc_tls);
	return sender_start(&a->ua_sender, &a->ua_net, &a->ua_spool);
}

size_t
upload_net_stop(struct upload_args *a, int64_t drain_ms)
{
	size_t left;

	if (!a->ua_net_on)
		return 0;
	left = sender_stop(&a->ua_sender, drain_ms);
	http_helper_stop();
	spool_close(&a->ua_spool);
	http_tls_free(&a->ua_net.nc_tls);
	secret_free(a->ua_net.nc_token); /* wiped */
	a->ua_net.nc_token = NULL;
	return left;
}

struct store_ctx {
	const struct stack_table *sc_t;
	const struct window_meta *sc_m;
};

static int
store_write(FILE *f, void *arg)
{
	struct store_ctx *c = arg;

	return output_write_col(f, c->sc_t, c->sc_m);
}

int
upload_store(void *arg, const struct stack_table *t,
	     const struct window_meta *m)
{
	struct upload_args *a = arg;
	struct store_ctx c = {t, m};
	int rv = 0;

	if (a->ua_out.ou_dirfd >= 0 && output_write(&a->ua_out, t, m) == -1)
		rv = -1;
	if (a->ua_net_on) {
		if (spool_put(&a->ua_spool, m, store_write, &c) == -1)
			rv = -1;
		else
			sender_kick(&a->ua_sender);
	}
	return rv;
}
