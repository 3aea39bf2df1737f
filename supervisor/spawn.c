/* Spawning a worker: its socket, fork and exec, the exec-status pipe. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "profd.h"
#include "sandbox.h"
#include "secret.h"
#include "worker.h"

#define SPAWN_MAXARGS (24 + PROFD_ARGS_MAX + PROFD_UPLOAD_ARGS)
#define SPAWN_MAXENV  256 /* environment entries passed on */
/* The token's memfd in profd-upload, after the exec-status pipe. */
#define SPAWN_TOKEN_FD (PROFD_OUTFD + 2)
/* profd-upload's RLIMIT_MEMLOCK at least: its secret memory, and that of
 * each request's child (a process of its own), count against it. */
#define SPAWN_UPLOAD_MEMLOCK (16u << 20)

/* Finds the executable: the table's, or profd-NAME in the worker dir, or
 * in DIR/workers/NAME (a build tree). */
static int
spawn_path(struct profd *p, struct worker *w)
{
	const char *dir = p->p_opts.po_worker_dir;

	if (w->w_spec.ws_exec[0] != '\0') {
		snprintf(w->w_path, sizeof(w->w_path), "%s", w->w_spec.ws_exec);
		return 0;
	}
	snprintf(w->w_path, sizeof(w->w_path), "%s/profd-%s", dir, w->w_name);
	if (access(w->w_path, X_OK) == 0)
		return 0;
	snprintf(w->w_path, sizeof(w->w_path), "%s/workers/%s/profd-%s", dir,
		 w->w_name, w->w_name);
	if (access(w->w_path, X_OK) == 0)
		return 0;
	log_error("worker profd-%s not found in %s (use --worker-dir)",
		  w->w_name, dir);
	return -1;
}

int
spawn_user(struct profd *p, struct worker *w)
{
	const char *user =
	    w->w_spec.ws_user[0] ? w->w_spec.ws_user : p->p_opts.po_user;
	const struct passwd *pw;

	if (sandbox_lookup_user(user, w->w_name, &w->w_uid, &w->w_gid) == -1)
		return -1;
	/* The worker is told the very user that profd resolved. */
	if ((pw = getpwuid(w->w_uid)) == NULL ||
	    strlen(pw->pw_name) >= sizeof(w->w_user)) {
		log_error("uid %u has no usable name", (unsigned)w->w_uid);
		return -1;
	}
	snprintf(w->w_user, sizeof(w->w_user), "%s", pw->pw_name);
	return 0;
}

/* Opens the worker's socket, once: its fds stay the same for good. */
static int
spawn_socket(struct worker *w)
{
	int rv;

	if (w->w_open)
		return 0;
	/* Its own uid and the pid of its current incarnation only. */
	memset(&w->w_peer, 0, sizeof(w->w_peer));
	w->w_peer.ip_uids[0] = w->w_uid;
	w->w_peer.ip_nuids = 1;
	w->w_peer.ip_pid = &w->w_pid;
	if ((rv = ipc_open(&w->w_sock, IPC_PAIR, IPC_CTL_MAX, 1000)) != 0 ||
	    (rv = ipc_allow_peer(w->w_sock, &w->w_peer)) != 0 ||
	    (rv = ipc_watch_drops(w->w_sock)) != 0 ||
	    (rv = ipc_recv_fd(w->w_sock, &w->w_fd)) != 0) {
		log_error("cannot open a socket for profd-%s: %s", w->w_name,
			  nng_strerror(rv));
		if (rv != 0)
			nng_close(w->w_sock);
		return -1;
	}
	w->w_open = 1;
	return 0;
}

/* Names the socket of w's next incarnation NAME.<random>.ctl: nobody can
 * guess it (the runtime directory cannot be listed by others, and the
 * worker finds it in its environment, not on its command line). */
static int
spawn_channel_name(struct worker *w)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		log_error("getrandom: %s", strerror(errno));
		return -1;
	}
	snprintf(w->w_channel, sizeof(w->w_channel),
		 "%s.%02x%02x%02x%02x%02x%02x%02x%02x.ctl", w->w_name, r[0],
		 r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	snprintf(w->w_chanenv, sizeof(w->w_chanenv), WORKER_CHANNEL_ENV "=%s",
		 w->w_channel);
	return 0;
}

/* Gives each incarnation of a worker a listener and path of its own:
 * nng 1.5.2's listener stops accepting for good when a peer dies during
 * the handshake (nng issue 1518), which a worker killed while connecting
 * would do. The old listener is closed only once its worker is gone. */
static int
spawn_listen(struct profd *p, struct worker *w)
{
	char url[IPC_URL_MAX], path[PATH_MAX];
	int rv;

	if (spawn_socket(w) == -1)
		return -1;
	/* A reload may have given it another user since the socket opened. */
	w->w_peer.ip_uids[0] = w->w_uid;
	if (w->w_listening)
		nng_listener_close(w->w_listener);
	w->w_listening = 0;
	w->w_gen++;
	if (spawn_channel_name(w) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", p->p_opts.po_rundir,
		 w->w_channel);
	snprintf(url, sizeof(url), "ipc://%s", path);
	if ((rv = ipc_listen_keep(w->w_sock, url, 0600, &w->w_listener)) != 0) {
		log_error("cannot listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	w->w_listening = 1;
	if (chown(path, w->w_uid, w->w_gid) == -1) {
		log_error("cannot hand %s to uid %u: %s", path,
			  (unsigned)w->w_uid, strerror(errno));
		return -1;
	}
	return 0;
}

/* The uploader lets in the profilers' uids on its chunk socket. */
static size_t
spawn_peer_args(struct profd *p, char **argv, size_t n)
{
	static char uids[PROFD_MAX_WORKERS][16];
	size_t k = 0;

	for (size_t i = 0; i < p->p_nworkers && k < IPC_PEER_UIDS; i++) {
		const struct worker *w = &p->p_workers[i];
		int seen = 0;

		for (size_t j = 0; j < i && w->w_profiler; j++)
			seen |= p->p_workers[j].w_profiler &&
				p->p_workers[j].w_uid == w->w_uid;
		if (!w->w_profiler || seen)
			continue;
		snprintf(uids[k], sizeof(uids[k]), "%u", (unsigned)w->w_uid);
		argv[n++] = "--peer-uid";
		argv[n++] = uids[k++];
	}
	return n;
}

static void
spawn_args(struct profd *p, struct worker *w, char **argv)
{
	const struct profd_opts *o = &p->p_opts;
	const struct wspec *ws = &w->w_spec;
	size_t n = 0;

	argv[n++] = w->w_path;
	argv[n++] = "--supervised";
	argv[n++] = (char *)o->po_rundir;
	argv[n++] = "--user";
	argv[n++] = w->w_user;
	if (ws->ws_caps[0] != '\0') {
		argv[n++] = "--caps";
		argv[n++] = (char *)ws->ws_caps;
	}
	for (int i = 0; i < o->po_verbose && i < 2; i++)
		argv[n++] = "-v";
	if (o->po_syslog)
		argv[n++] = "--syslog";
	if (w->w_profiler) {
		argv[n++] = "--name";
		argv[n++] = (char *)w->w_name;
	} else {
		if (o->po_outdir != NULL) {
			argv[n++] = "--output-fd";
			argv[n++] = "3";
			argv[n++] = "--output-dir";
			argv[n++] = (char *)o->po_outdir;
		}
		if (!o->po_flamegraph)
			argv[n++] = "--no-flamegraph";
		if (o->po_rotating)
			argv[n++] = "--rotating-output";
		n = spawn_peer_args(p, argv, n);
		for (size_t i = 0; i < o->po_nupload_args; i++)
			argv[n++] = (char *)o->po_upload_args[i];
	}
	for (size_t i = 0; i < ws->ws_nargs; i++)
		argv[n++] = (char *)ws->ws_args[i];
	argv[n] = NULL;
}

/* The uploader's environment names the fd of the token's memfd (never
 * the token: an environment is ordinary memory); the other workers'
 * does not. fd: its number in the new program. */
static void
spawn_env(struct profd *p, struct worker *w, char **envp, int fd)
{
	extern char **environ;
	static char tokenv[sizeof(SECRET_TOKEN_ENV) + 16];
	size_t n = 0;

	for (char **e = environ; *e != NULL && n < SPAWN_MAXENV - 3; e++)
		if (strncmp(*e, WORKER_CHANNEL_ENV "=",
			    sizeof(WORKER_CHANNEL_ENV)) != 0)
			envp[n++] = *e;
	if (w->w_chanenv[0] != '\0')
		envp[n++] = w->w_chanenv;
	if (!w->w_profiler && p->p_opts.po_token != NULL) {
		snprintf(tokenv, sizeof(tokenv), SECRET_TOKEN_ENV "=%d", fd);
		envp[n++] = tokenv;
	}
	envp[n] = NULL;
}

/* The fds the child starts from, all close-on-exec in profd. */
struct spawn_fds {
	int sf_err;  /* the exec-status pipe */
	int sf_null; /* /dev/null, its stdin */
	int sf_log;  /* its stdout and stderr: a pipe profd reads */
};

/* Puts stdin, stdout, stderr, the output directory (uploader) and the
 * exec-status pipe in place and closes every other fd. Each is first
 * moved above 10 so that none overwrites another. */
static int
spawn_child_fds(struct profd *p, struct worker *w, struct spawn_fds *f)
{
	int outfd = -1, tokfd = -1;

	if ((f->sf_err = fcntl(f->sf_err, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (f->sf_null = fcntl(f->sf_null, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (f->sf_log = fcntl(f->sf_log, F_DUPFD_CLOEXEC, 10)) == -1)
		return -1;
	if (!w->w_profiler && p->p_outfd >= 0 &&
	    (outfd = fcntl(p->p_outfd, F_DUPFD, 10)) == -1)
		return -1;
	if (!w->w_profiler && p->p_opts.po_token != NULL &&
	    (tokfd = fcntl(p->p_opts.po_token_fd, F_DUPFD_CLOEXEC, 10)) == -1)
		return -1;
	if (dup2(f->sf_null, 0) == -1 || dup2(f->sf_log, 1) == -1 ||
	    dup2(f->sf_log, 2) == -1 ||
	    (outfd != -1 && dup2(outfd, PROFD_OUTFD) == -1) ||
	    dup3(f->sf_err, PROFD_OUTFD + 1, O_CLOEXEC) == -1 ||
	    (tokfd != -1 && dup2(tokfd, SPAWN_TOKEN_FD) == -1))
		return -1;
	f->sf_err = PROFD_OUTFD + 1;
	close_from(SPAWN_TOKEN_FD + (tokfd != -1));
	if (outfd == -1)
		close(PROFD_OUTFD);
	return 0;
}

/* Raises RLIMIT_MEMLOCK to SPAWN_UPLOAD_MEMLOCK where it is lower (the
 * uploader's secret memory); async-signal-safe. */
static void
spawn_memlock(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_MEMLOCK, &r) == -1)
		return;
	if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < SPAWN_UPLOAD_MEMLOCK)
		r.rlim_cur = SPAWN_UPLOAD_MEMLOCK;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < r.rlim_cur)
		r.rlim_max = r.rlim_cur;
	(void)setrlimit(RLIMIT_MEMLOCK, &r);
}

/* The child between fork and exec: async-signal-safe calls only. It
 * leaves profd's session (no worker keeps profd's terminal, or can reach
 * it), so it leads a new session and process group. */
static void __attribute__((noreturn))
spawn_child(struct profd *p, struct worker *w, char **argv, char **envp,
	    struct spawn_fds *f)
{
	struct rlimit core = {0, 0};
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() == -1)
		goto fail;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(127);
	setrlimit(RLIMIT_CORE, &core);
	if (!w->w_profiler)
		spawn_memlock();
	if (w->w_cg_ok && cgroup_join_child(&w->w_cg) == -1)
		goto fail;
	if (spawn_child_fds(p, w, f) == -1)
		goto fail;
	execve(w->w_path, argv, envp);
fail:
	err = errno;
	(void)write(f->sf_err, &err, sizeof(err));
	_exit(127);
}

/* Reads the exec-status pipe: EOF means exec succeeded. */
static int
spawn_check_exec(struct worker *w, int fd)
{
	int err = 0;
	ssize_t n;

	while ((n = read(fd, &err, sizeof(err))) == -1 && errno == EINTR)
		;
	close(fd);
	if (n == (ssize_t)sizeof(err)) {
		log_error("cannot execute %s: %s", w->w_path, strerror(err));
		return -1;
	}
	return 0;
}

/* Reaps a child whose exec failed, so no zombie is left. */
static void
spawn_reap_failed(struct worker *w)
{
	int status;

	while (waitpid(w->w_pid, &status, 0) == -1 && errno == EINTR)
		;
	w->w_pid = 0;
}

static int
spawn_prepare(struct profd *p, struct worker *w)
{
	if (spawn_user(p, w) == -1 || spawn_path(p, w) == -1 ||
	    rundir_worker(p, w) == -1 || spawn_listen(p, w) == -1)
		return -1;
	if (limits_setup(p, w) == -1)
		log_warn("profd-%s runs without its cgroup limits", w->w_name);
	return 0;
}

/* Opens what the child needs from profd: the exec-status pipe,
 * /dev/null and the output pipe. 0 or -1. */
static int
spawn_fds_open(struct worker *w, struct spawn_fds *f, int *errr)
{
	int pfd[2];

	f->sf_null = f->sf_log = -1;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
	*errr = pfd[0];
	f->sf_err = pfd[1];
	if ((f->sf_null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    wlog_open(w, &f->sf_log) == -1) {
		log_error("cannot prepare profd-%s's stdio: %s", w->w_name,
			  strerror(errno));
		return -1;
	}
	return 0;
}

static void
spawn_fds_close(struct spawn_fds *f)
{
	if (f->sf_err != -1)
		close(f->sf_err);
	if (f->sf_null != -1)
		close(f->sf_null);
	if (f->sf_log != -1)
		close(f->sf_log);
}

int
spawn_worker(struct profd *p, struct worker *w)
{
	char *argv[SPAWN_MAXARGS], *envp[SPAWN_MAXENV];
	struct spawn_fds f = {-1, -1, -1};
	int errr = -1;

	if (spawn_prepare(p, w) == -1 || spawn_fds_open(w, &f, &errr) == -1)
		goto failed;
	spawn_args(p, w, argv);
	spawn_env(p, w, envp, SPAWN_TOKEN_FD);
	if ((w->w_pid = fork()) == -1) {
		log_error("cannot fork: %s", strerror(errno));
		goto failed;
	}
	if (w->w_pid == 0)
		spawn_child(p, w, argv, envp, &f);
	spawn_fds_close(&f);
	log_debug("started profd-%s (pid %d)", w->w_name, (int)w->w_pid);
	if (spawn_check_exec(w, errr) == 0)
		return 0;
	spawn_reap_failed(w);
	wlog_read(w);
	goto out;
failed:
	spawn_fds_close(&f);
	if (errr != -1)
		close(errr);
	w->w_pid = 0;
out:
	return -1;
}

void
spawn_kill(struct worker *w, int sig)
{
	if (w->w_pid <= 0)
		return;
	/* Before its setsid() it leads no group yet. */
	if (kill(-w->w_pid, sig) == -1 && errno == ESRCH)
		kill(w->w_pid, sig);
	if (sig == SIGKILL && w->w_cg_ok)
		cgroup_kill(&w->w_cg, w->w_pid);
}

int
spawn_upload_file(struct profd *p, const char *file)
{
	const struct profd_opts *o = &p->p_opts;
	const struct wspec *ws = table_entry(&p->p_opts, "upload", 0);
	char *argv[SPAWN_MAXARGS], *envp[SPAWN_MAXENV];
	static struct worker w;
	size_t n = 0;

	memset(&w, 0, sizeof(w));
	w.w_name = "upload";
	if (ws != NULL)
		w.w_spec = *ws;
	if (spawn_path(p, &w) == -1)
		return 1;
	argv[n++] = w.w_path;
	if (o->po_user != NULL) {
		argv[n++] = "--user";
		argv[n++] = (char *)o->po_user;
	}
	for (int i = 0; i < o->po_verbose && i < 2; i++)
		argv[n++] = "-v";
	if (o->po_outdir != NULL) {
		argv[n++] = "--output-dir";
		argv[n++] = (char *)o->po_outdir;
		if (!o->po_flamegraph)
			argv[n++] = "--no-flamegraph";
	}
	for (size_t i = 0; i < o->po_nupload_args; i++)
		argv[n++] = (char *)o->po_upload_args[i];
	argv[n++] = "--";
	argv[n++] = (char *)file;
	argv[n] = NULL;
	spawn_env(p, &w, envp, p->p_opts.po_token_fd);
	/* Its own program in this process: the memfd stays open across. */
	if (p->p_opts.po_token != NULL)
		fcntl(p->p_opts.po_token_fd, F_SETFD, 0);
	spawn_memlock();
	execve(w.w_path, argv, envp);
	log_error("cannot execute %s: %s", w.w_path, strerror(errno));
	return 1;
}
