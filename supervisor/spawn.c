/* Spawning a worker: its socket, fork and exec, the exec-status pipe. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "profd.h"
#include "sandbox.h"
#include "worker.h"

#define SPAWN_MAXARGS (24 + PROFD_ARGS_MAX + PROFD_UPLOAD_ARGS)
#define SPAWN_MAXENV  256 /* environment entries passed on */

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

/* Resolves the worker's user into w_uid and w_gid. */
static int
spawn_user(struct profd *p, struct worker *w)
{
	const char *user =
	    w->w_spec.ws_user[0] ? w->w_spec.ws_user : p->p_opts.po_user;

	return sandbox_lookup_user(user, &w->w_uid, &w->w_gid);
}

/* Opens the worker's socket, once: its fds stay the same for good. */
static int
spawn_socket(struct worker *w)
{
	int rv;

	if (w->w_open)
		return 0;
	if ((rv = ipc_open(&w->w_sock, IPC_PAIR, IPC_CTL_MAX, 1000)) != 0 ||
	    (rv = ipc_allow_uid(w->w_sock, w->w_uid)) != 0 ||
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
	if (w->w_listening)
		nng_listener_close(w->w_listener);
	w->w_listening = 0;
	w->w_gen++;
	snprintf(w->w_channel, sizeof(w->w_channel), "%s.%u.ctl", w->w_name,
		 w->w_gen);
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

static void
spawn_args(struct profd *p, struct worker *w, char **argv)
{
	const struct profd_opts *o = &p->p_opts;
	const struct wspec *ws = &w->w_spec;
	const char *user = ws->ws_user[0] ? ws->ws_user : o->po_user;
	size_t n = 0;

	argv[n++] = w->w_path;
	argv[n++] = "--supervised";
	argv[n++] = (char *)o->po_rundir;
	argv[n++] = "--channel";
	argv[n++] = w->w_channel;
	if (user != NULL) {
		argv[n++] = "--user";
		argv[n++] = (char *)user;
	}
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
		for (size_t i = 0; i < o->po_nupload_args; i++)
			argv[n++] = (char *)o->po_upload_args[i];
	}
	for (size_t i = 0; i < ws->ws_nargs; i++)
		argv[n++] = (char *)ws->ws_args[i];
	argv[n] = NULL;
}

/* The child between fork and exec: async-signal-safe calls only. */
/* The uploader's environment carries the token (its command line would
 * show it to every user); the other workers' does not. */
static void
spawn_env(struct profd *p, struct worker *w, char **envp)
{
	extern char **environ;
	size_t n = 0;

	for (char **e = environ; *e != NULL && n < SPAWN_MAXENV - 2; e++)
		envp[n++] = *e;
	if (!w->w_profiler && p->p_opts.po_token_env != NULL)
		envp[n++] = p->p_opts.po_token_env;
	envp[n] = NULL;
}

static void __attribute__((noreturn))
spawn_child(struct profd *p, struct worker *w, char **argv, char **envp,
	    int errfd)
{
	struct rlimit core = {0, 0};
	sigset_t none;
	int err, outfd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(127);
	setrlimit(RLIMIT_CORE, &core);
	if (w->w_cg_ok && cgroup_join_child(&w->w_cg) == -1)
		goto fail;
	/* Move both fds above the ones they go to, then into place. */
	if ((errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 10)) == -1)
		goto fail;
	if (!w->w_profiler && p->p_outfd >= 0 &&
	    ((outfd = fcntl(p->p_outfd, F_DUPFD, 10)) == -1 ||
	     dup2(outfd, PROFD_OUTFD) == -1))
		goto fail;
	if (dup3(errfd, PROFD_OUTFD + 1, O_CLOEXEC) == -1)
		goto fail;
	errfd = PROFD_OUTFD + 1;
	close_from(PROFD_OUTFD + 2);
	if (w->w_profiler || p->p_outfd < 0)
		close(PROFD_OUTFD);
	execve(w->w_path, argv, envp);
fail:
	err = errno;
	(void)write(errfd, &err, sizeof(err));
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

int
spawn_worker(struct profd *p, struct worker *w)
{
	char *argv[SPAWN_MAXARGS], *envp[SPAWN_MAXENV];
	int pfd[2];

	if (spawn_prepare(p, w) == -1 || pipe2(pfd, O_CLOEXEC) == -1)
		goto failed;
	spawn_args(p, w, argv);
	spawn_env(p, w, envp);
	if ((w->w_pid = fork()) == -1) {
		log_error("cannot fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		goto failed;
	}
	if (w->w_pid == 0)
		spawn_child(p, w, argv, envp, pfd[1]);
	close(pfd[1]);
	/* Also in the parent, so a signal sent before the child ran its
	 * setpgid still reaches the group. */
	setpgid(w->w_pid, w->w_pid);
	log_debug("started profd-%s (pid %d)", w->w_name, (int)w->w_pid);
	if (spawn_check_exec(w, pfd[0]) == 0)
		return 0;
	spawn_reap_failed(w);
failed:
	snprintf(w->w_last_exit, sizeof(w->w_last_exit), "exec-failed");
	return -1;
}

void
spawn_kill(struct worker *w, int sig)
{
	if (w->w_pid <= 0)
		return;
	kill(-w->w_pid, sig);
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
	spawn_env(p, &w, envp);
	execve(w.w_path, argv, envp);
	log_error("cannot execute %s: %s", w.w_path, strerror(errno));
	return 1;
}
