/* Files gProfiler's users watch: the PID file, the heartbeat file, and
 * the controller whose exit ends profd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"

#define RUNFILES_CONTROLLER_MS 1000 /* between two looks at the controller */

/* The controller's pidfd: readable once it exited, whatever PID the
 * kernel gives out meanwhile. */
static int controller_fd = -1;

/* Writes s to path through path.tmp and a rename: a reader sees the old
 * file or the new one, and a link planted at path is replaced, never
 * followed. */
static int
runfiles_replace(const char *path, const char *s)
{
	char tmp[PATH_MAX];
	size_t len = strlen(s);
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd == -1)
		return -1;
	if (write(fd, s, len) != (ssize_t)len || fchmod(fd, 0644) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
runfiles_start(struct profd *p)
{
	const struct profd_opts *o = &p->p_opts;
	char pid[32];

	if (o->po_log_file != NULL &&
	    log_file(o->po_log_file, o->po_log_max, o->po_log_backups) == -1) {
		log_error("cannot write the log file %s: %s", o->po_log_file,
			  strerror(errno));
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (o->po_pid_file != NULL &&
	    runfiles_replace(o->po_pid_file, pid) == -1) {
		log_error("cannot write the PID file %s: %s", o->po_pid_file,
			  strerror(errno));
		return -1;
	}
	if (o->po_controller_pid != 0 &&
	    (controller_fd = (int)syscall(
		 SYS_pidfd_open, (pid_t)o->po_controller_pid, 0)) == -1) {
		log_error("the controller PID %u: %s", o->po_controller_pid,
			  errno == ESRCH ? "no such process" : strerror(errno));
		return -1;
	}
	return 0;
}

void
runfiles_stop(struct profd *p)
{
	const char *path = p->p_opts.po_pid_file;
	char buf[32], mine[32];
	ssize_t n;
	int fd;

	log_file_close();
	if (controller_fd != -1)
		close(controller_fd);
	controller_fd = -1;
	if (path == NULL)
		return;
	/* Only the file that still names profd goes. */
	snprintf(mine, sizeof(mine), "%d\n", (int)getpid());
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && (buf[n] = '\0', strcmp(buf, mine) == 0))
		unlink(path);
}

void
runfiles_window(struct profd *p)
{
	const char *path = p->p_opts.po_heartbeat_file;
	char when[32];

	if (path == NULL)
		return;
	snprintf(when, sizeof(when), "%lld\n", (long long)(now_ms() / 1000));
	if (runfiles_replace(path, when) == -1)
		log_warn("cannot update the heartbeat file %s: %s", path,
			 strerror(errno));
}

int64_t
runfiles_tick(struct profd *p)
{
	static int64_t next;
	struct pollfd pfd = {controller_fd, POLLIN, 0};

	if (controller_fd == -1 || p->p_stopping)
		return -1;
	if (now_ms() < next)
		return next - now_ms();
	next = now_ms() + RUNFILES_CONTROLLER_MS;
	if (poll(&pfd, 1, 0) == 1) {
		log_info("the controller (PID %u) exited",
			 p->p_opts.po_controller_pid);
		profd_shutdown(p, 0);
		return -1;
	}
	return RUNFILES_CONTROLLER_MS;
}
