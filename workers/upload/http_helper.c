/* The request helper: a single-threaded process forked by profd-upload
 * before its first thread, which forks one child per HTTP request (no
 * child is ever forked from the threaded uploader). The uploader hands
 * each request over as one end of a fresh socketpair, passed to the
 * helper with SCM_RIGHTS; the child reads the request from it, runs
 * libcurl and writes the answer back on it. Closing its end aborts the
 * request, as before. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "http_priv.h"
#include "log.h"
#include "util.h"
#include "worker.h"

#define HTTP_CHILDREN_MAX 8   /* requests in flight at once */
#define HTTP_HELPER_POLL  200 /* ms between two looks at the children */
#define HTTP_CALL_MAGIC	  0x70726871u

/* The control message that carries a request's socket. */
struct http_call {
	uint32_t hc_magic;
};

/* The uploader's side: the helper's control socket and pid. */
static struct {
	pthread_mutex_t hs_lock;
	int hs_fd; /* -1: no helper */
	pid_t hs_pid;
} http_helper = {PTHREAD_MUTEX_INITIALIZER, -1, -1};

/* Receives one request's socket from fd into *out: 0, 1 at the end of
 * the stream, -1 for a malformed message (nothing kept). */
static int
helper_take(int fd, int *out)
{
	struct http_call call;
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {&call, sizeof(call)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cm.b,
			   .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *c;
	ssize_t n;
	int got = -1, type = 0;
	socklen_t tl = sizeof(type);

	*out = -1;
	if ((n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC)) == 0)
		return 1;
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? -1 : 1;
	c = CMSG_FIRSTHDR(&m);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (n != (ssize_t)sizeof(call) || call.hc_magic != HTTP_CALL_MAGIC ||
	    (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || got < 0 ||
	    getsockopt(got, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
	    type != SOCK_STREAM) {
		if (got >= 0)
			close(got);
		log_error("request helper: a malformed request, refused");
		return -1;
	}
	*out = got;
	return 0;
}

/* Reaps the children that ended; says how a killed one died. */
static void
helper_reap(pid_t *kids, int block)
{
	int st;

	for (size_t i = 0; i < HTTP_CHILDREN_MAX; i++) {
		if (kids[i] <= 0 ||
		    waitpid(kids[i], &st, block ? 0 : WNOHANG) <= 0)
			continue;
		if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			log_error("the request's process was killed by signal "
				  "%d%s",
				  WTERMSIG(st),
				  WTERMSIG(st) == SIGSYS ? " (seccomp)" : "");
		kids[i] = 0;
	}
}

/* Starts a child for the request on rfd, or refuses it when full. */
static void
helper_fork(int ctl, int rfd, pid_t *kids, const struct http_tls *tls,
	    const char *token)
{
	pid_t self = getpid(), pid;
	size_t i;

	for (i = 0; i < HTTP_CHILDREN_MAX && kids[i] > 0; i++)
		;
	if (i == HTTP_CHILDREN_MAX) {
		log_warn("request helper: %d requests in flight, one refused",
			 HTTP_CHILDREN_MAX);
		close(rfd);
		return;
	}
	if ((pid = fork()) == -1) {
		log_error("request helper: cannot fork: %s", strerror(errno));
		close(rfd);
		return;
	}
	if (pid == 0) {
		close(ctl);
		http_child_serve(tls, token, rfd, self);
	}
	kids[i] = pid;
	close(rfd);
}

/* The helper's loop: ends with the uploader (end of its socket, or a
 * parent gone), its children reaped first. */
static void __attribute__((noreturn))
helper_run(int ctl, pid_t parent, const struct http_tls *tls, const char *token)
{
	pid_t kids[HTTP_CHILDREN_MAX] = {0};
	int rfd, rv;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Stopped by its uploader only: a signal to the process group
	 * leaves it to finish and reap the requests. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	for (;;) {
		struct pollfd pf = {ctl, POLLIN, 0};

		rv = poll(&pf, 1, HTTP_HELPER_POLL);
		helper_reap(kids, 0);
		if (getppid() != parent)
			break;
		if (rv <= 0 || !(pf.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((rv = helper_take(ctl, &rfd)) == 1)
			break;
		if (rv == 0)
			helper_fork(ctl, rfd, kids, tls, token);
	}
	/* Each child ends as it sees its request's socket closed (the
	 * uploader has gone or dropped it), at the latest at its alarm: no
	 * kill (the sandbox has none). */
	helper_reap(kids, 1);
	_exit(0);
}

int
http_helper_start(const struct http_tls *tls, const char *token)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_error("cannot start the request helper: %s",
			  strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("cannot start the request helper: %s",
			  strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		helper_run(sv[1], parent, tls, token);
	}
	close(sv[1]);
	http_helper.hs_fd = sv[0];
	http_helper.hs_pid = pid;
	log_info("request helper pid %d", (int)pid);
	return 0;
}

/* Tells how the helper ended, once; with the lock held. */
static void
helper_lost(void)
{
	int st = 0;

	/* Its socket closes as it exits: the wait is short. */
	if (http_helper.hs_pid > 0 &&
	    waitpid(http_helper.hs_pid, &st, 0) == http_helper.hs_pid) {
		if (WIFSIGNALED(st))
			log_error("the request helper (pid %d) was killed by "
				  "signal %d: no more requests",
				  (int)http_helper.hs_pid, WTERMSIG(st));
		else
			log_error("the request helper (pid %d) exited with "
				  "%d: no more requests",
				  (int)http_helper.hs_pid, WEXITSTATUS(st));
		http_helper.hs_pid = -1;
	}
	/* No helper can be forked once threads run: end (the windows
	 * stay in the spool), so that profd starts a new uploader. */
	log_error("profd-upload stops, to start again with a new request "
		  "helper");
	worker_stop();
}

void
http_helper_stop(void)
{
	pthread_mutex_lock(&http_helper.hs_lock);
	if (http_helper.hs_fd >= 0)
		close(http_helper.hs_fd);
	http_helper.hs_fd = -1;
	if (http_helper.hs_pid > 0)
		while (waitpid(http_helper.hs_pid, NULL, 0) == -1 &&
		       errno == EINTR)
			;
	http_helper.hs_pid = -1;
	pthread_mutex_unlock(&http_helper.hs_lock);
}

int
http_helper_call(int fd)
{
	struct http_call call = {HTTP_CALL_MAGIC};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {&call, sizeof(call)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cm.b,
			   .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n = -1;
	int saved = ESRCH;

	memset(cm.b, 0, sizeof(cm.b));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	pthread_mutex_lock(&http_helper.hs_lock);
	if (http_helper.hs_fd >= 0) {
		while ((n = sendmsg(http_helper.hs_fd, &m, MSG_NOSIGNAL)) ==
			   -1 &&
		       errno == EINTR)
			;
		saved = errno;
		if (n == -1 && saved != EAGAIN && saved != ENOBUFS) {
			helper_lost();
			close(http_helper.hs_fd);
			http_helper.hs_fd = -1;
		}
	}
	pthread_mutex_unlock(&http_helper.hs_lock);
	return n == (ssize_t)sizeof(call) ? 0 : (errno = saved, -1);
}
