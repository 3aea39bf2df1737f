/* Running `perf record` with rotation, and `perf script` into the parser. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "perf_record.h"
#include "perf_procs.h"
#include "perf_script.h"
#include "procfs.h"

#define PERF_OUT     "perf.fp"
#define PERF_LOG     "perf.log"
#define PERF_PROBE   "probe.fp"
#define PERF_MAXARGS 32

static void perf_clean_dir(struct perf_record *r);

static const char *const perf_paths[] = {"/usr/bin/perf", "/usr/sbin/perf",
					 "/usr/local/bin/perf", NULL};

int
perf_find(struct perf_record *r)
{
	const char *env = getenv("PROFD_PERF");

	/* PROFD_PERF names the one perf to use, with no fallback. */
	for (size_t i = 0; env != NULL ? i == 0 : perf_paths[i] != NULL; i++) {
		const char *path = env != NULL ? env : perf_paths[i];

		if (access(path, X_OK) == 0) {
			snprintf(r->pr_perf, sizeof(r->pr_perf), "%s", path);
			return 0;
		}
	}
	log_error("perf is not installed%s%s: install it (apt-get install "
		  "linux-perf) or run with --perf-mode disabled",
		  env ? " at " : "", env ? env : "");
	return -1;
}

/* Forks and execs perf with argv; stdout to out_fd (or /dev/null), stderr
 * to the log file. Only async-signal-safe calls in the child. */
static pid_t
perf_spawn(struct perf_record *r, char *const argv[], int out_fd)
{
	char path[PATH_MAX];
	int null_fd, log_fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/" PERF_LOG, r->pr_dir);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (null_fd == -1 || log_fd == -1) {
		log_error("cannot open %s: %s", path, strerror(errno));
		pid = -1;
		goto out;
	}
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null_fd, 0);
		dup2(out_fd != -1 ? out_fd : null_fd, 1);
		dup2(log_fd, 2);
		close_from(3);
		execv(r->pr_perf, argv);
		_exit(127);
	}
	if (pid == -1)
		log_error("cannot fork perf: %s", strerror(errno));
out:
	if (null_fd != -1)
		close(null_fd);
	if (log_fd != -1)
		close(log_fd);
	return pid;
}

/* Waits up to ms for pid; returns its wait status, or -1 if it runs on. */
static int
perf_wait(pid_t pid, int64_t ms)
{
	int64_t end = now_ms() + ms;
	int status;
	pid_t rv;

	do {
		rv = waitpid(pid, &status, WNOHANG);
		if (rv == pid)
			return status;
		if (rv == -1 && errno != EINTR)
			return 0;
		sleep_ms(10);
	} while (now_ms() < end);
	return -1;
}

/* Ends pid: sig, then SIGKILL after ms; always reaps it. */
static int
perf_end(pid_t pid, int sig, int64_t ms)
{
	int status;

	kill(pid, sig);
	if ((status = perf_wait(pid, ms)) != -1)
		return status;
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return status;
}

/* Logs the last line perf wrote to its log, as the reason of a failure. */
static void
perf_log_tail(struct perf_record *r, const char *what)
{
	char path[PATH_MAX], buf[4096], *line;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/" PERF_LOG, r->pr_dir);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		off_t size = lseek(fd, 0, SEEK_END);

		lseek(fd,
		      size > (off_t)sizeof(buf) - 1
			  ? size - (off_t)sizeof(buf) + 1
			  : 0,
		      SEEK_SET);
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	while ((line = strrchr(buf, '\n')) != NULL && line[1] == '\0')
		*line = '\0';
	line = strrchr(buf, '\n');
	log_error("%s: %s", what, line ? line + 1 : buf[0] ? buf : "no output");
}

static void
perf_add_arg(char **argv, size_t *n, const char *arg)
{
	if (*n < PERF_MAXARGS - 1)
		argv[(*n)++] = (char *)arg;
	argv[*n] = NULL;
}

static void
perf_target_args(char **argv, size_t *n, const struct worker_opts *o,
		 char *pidbuf, size_t len)
{
	size_t off = 0;

	if (o->wo_npids == 0) {
		perf_add_arg(argv, n, "-a");
		return;
	}
	pidbuf[0] = '\0';
	for (size_t i = 0; i < o->wo_npids && off < len; i++)
		off += (size_t)snprintf(pidbuf + off, len - off, "%s%u",
					i ? "," : "", o->wo_pids[i]);
	perf_add_arg(argv, n, "--pid");
	perf_add_arg(argv, n, pidbuf);
}

int
perf_record_start(struct perf_record *r, const struct worker_opts *o)
{
	char freq[16], out[PATH_MAX], cg[32], pids[PROFD_MAX_PIDS * 8];
	char *argv[PERF_MAXARGS];
	size_t n = 0;
	int dwarf = strcmp(o->wo_perf_mode, "dwarf") == 0;

	snprintf(freq, sizeof(freq), "%u", o->wo_frequency);
	snprintf(out, sizeof(out), "%s/" PERF_OUT, r->pr_dir);
	snprintf(cg, sizeof(cg), "dwarf,%u",
		 o->wo_dwarf_stack_size ? o->wo_dwarf_stack_size : 8192);
	perf_add_arg(argv, &n, "perf");
	perf_add_arg(argv, &n, "record");
	perf_add_arg(argv, &n, "-F");
	perf_add_arg(argv, &n, freq);
	perf_add_arg(argv, &n, dwarf ? "--call-graph" : "-g");
	if (dwarf)
		perf_add_arg(argv, &n, cg);
	perf_add_arg(argv, &n, "-o");
	perf_add_arg(argv, &n, out);
	/* perf 6.1 takes one switch trigger: "30s,signal" would mean only
	 * the timer. profd-perf is the clock, so the signal it is. */
	perf_add_arg(argv, &n, "--switch-output=signal");
	perf_add_arg(argv, &n, "--switch-max-files=1");
	perf_add_arg(argv, &n, "-m");
	perf_add_arg(argv, &n, dwarf ? "257" : "129");
	if (r->pr_event[0] != '\0') {
		perf_add_arg(argv, &n, "-e");
		perf_add_arg(argv, &n, r->pr_event);
	}
	perf_target_args(argv, &n, o, pids, sizeof(pids));
	if ((r->pr_pid = perf_spawn(r, argv, -1)) == -1) {
		r->pr_pid = 0;
		return -1;
	}
	r->pr_started_ms = now_ms();
	/* A bad PID or event makes perf exit at once. */
	if (perf_wait(r->pr_pid, 500) != -1) {
		r->pr_pid = 0;
		perf_log_tail(r, "perf record failed to start");
		return -1;
	}
	log_info("perf record started (pid %d, %s Hz, %s)", (int)r->pr_pid,
		 freq, o->wo_npids ? pids : "all processes");
	return 0;
}

/* Counts the rotated files perf.fp.<timestamp> in the scratch dir. */
static int
perf_rotated(struct perf_record *r, char *oldest, size_t len)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir(r->pr_dir)) == NULL)
		return -1;
	oldest[0] = '\0';
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, PERF_OUT ".", sizeof(PERF_OUT)) != 0)
			continue;
		if (oldest[0] == '\0' || strcmp(d->d_name, oldest) < 0)
			snprintf(oldest, len, "%s", d->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

int
perf_pump(int fd, struct perf_parser *p)
{
	int64_t end = now_ms() + PERF_SCRIPT_TIMEOUT_MS;
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[65536];
	ssize_t n;

	for (;;) {
		int64_t left = end - now_ms();

		if (left <= 0) {
			log_error("perf script took over %d s; window dropped",
				  PERF_SCRIPT_TIMEOUT_MS / 1000);
			return -1;
		}
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) == -1 &&
		    errno != EINTR)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return perf_parser_finish(p);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (perf_parser_feed(p, buf, (size_t)n) == -1)
			return -1;
	}
}

/* Runs perf script on file and parses its output into t. */
static int
perf_script_file(struct perf_record *r, const char *file,
		 const struct worker_opts *o, struct stack_table *t)
{
	char *argv[] = {"perf", "script",     "-F", "+pid",
			"-i",	(char *)file, NULL};
	struct perf_parse_stats st;
	struct perf_procs *procs;
	struct perf_parser *p = NULL;
	int fds[2], status, rv;
	pid_t pid;

	if ((procs = perf_procs_new()) == NULL ||
	    (p = perf_parser_new(
		 t, o->wo_insert_dso_name ? PERF_INSERT_DSO_NAME : 0,
		 perf_procs_resolve, procs)) == NULL ||
	    pipe2(fds, O_CLOEXEC) == -1) {
		perf_parser_free(p);
		perf_procs_free(procs);
		return -1;
	}
	pid = perf_spawn(r, argv, fds[1]);
	close(fds[1]);
	rv = pid == -1 ? -1 : perf_pump(fds[0], p);
	close(fds[0]);
	if (pid != -1) {
		status = perf_end(pid, rv == 0 ? 0 : SIGKILL,
				  PERF_SCRIPT_TIMEOUT_MS);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			perf_log_tail(r, "perf script failed");
			rv = -1;
		}
	}
	perf_parser_stats(p, &st);
	log_debug("perf script: %llu samples, %llu skipped, %llu cut",
		  (unsigned long long)st.ps_samples,
		  (unsigned long long)st.ps_skipped,
		  (unsigned long long)st.ps_cut);
	perf_parser_free(p);
	perf_procs_free(procs);
	return rv;
}

/* Notices a perf record that died since the last window. */
static int
perf_alive(struct perf_record *r)
{
	int status;

	if (r->pr_pid == 0)
		return 0;
	if (waitpid(r->pr_pid, &status, WNOHANG) != r->pr_pid)
		return 1;
	r->pr_pid = 0;
	if (WIFSIGNALED(status))
		log_error("perf record was killed by signal %d",
			  WTERMSIG(status));
	else
		perf_log_tail(r, "perf record exited");
	return 0;
}

/* Waits for a rotated file beyond the `before` already there. */
static int
perf_wait_rotated(struct perf_record *r, int before, char *name, size_t len)
{
	int64_t end = now_ms() + PERF_ROTATE_WAIT_MS;
	int n;

	while ((n = perf_rotated(r, name, len)) <= before) {
		if (n == -1 || now_ms() >= end || !perf_alive(r))
			return n > 0 ? 0 : -1;
		sleep_ms(20);
	}
	return 0;
}

/* Restarts perf record between windows once it has run long enough and
 * grown past the RSS threshold, as gProfiler's fork does. */
static void
perf_maybe_restart(struct perf_record *r, const struct worker_opts *o)
{
	int64_t ran_s = (now_ms() - r->pr_started_ms) / 1000;
	int64_t rss = procfs_rss(r->pr_pid);

	if (o->wo_no_memory_restart || ran_s < (int64_t)o->wo_restart_after_s ||
	    rss < (int64_t)o->wo_restart_rss_mb * 1024 * 1024)
		return;
	log_info("restarting perf record: %lld MB of RSS after %lld s",
		 (long long)(rss >> 20), (long long)ran_s);
	perf_end(r->pr_pid, SIGINT, PERF_STOP_WAIT_MS);
	r->pr_pid = 0;
	perf_clean_dir(r);
	perf_record_start(r, o);
}

int
perf_record_rotate(struct perf_record *r, const struct worker_opts *o,
		   struct stack_table *t)
{
	char name[256], path[PATH_MAX];
	int before, rv = 0;

	if (!perf_alive(r)) {
		log_warn("restarting perf record; this window is lost");
		perf_record_start(r, o);
		return -1;
	}
	before = perf_rotated(r, name, sizeof(name));
	kill(r->pr_pid, SIGUSR2);
	if (perf_wait_rotated(r, before, name, sizeof(name)) == -1) {
		log_error("perf did not rotate its output within %d ms",
			  PERF_ROTATE_WAIT_MS);
		return -1;
	}
	/* Oldest first: a timed rotation may have left one more. */
	while (rv == 0 && perf_rotated(r, name, sizeof(name)) > 0) {
		snprintf(path, sizeof(path), "%s/%s", r->pr_dir, name);
		rv = perf_script_file(r, path, o, t);
		unlink(path);
	}
	perf_maybe_restart(r, o);
	return rv;
}

/* Removes every file perf left in the scratch directory. */
static void
perf_clean_dir(struct perf_record *r)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir(r->pr_dir)) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, PERF_OUT, strlen(PERF_OUT)) != 0 &&
		    strcmp(d->d_name, PERF_LOG) != 0 &&
		    strncmp(d->d_name, PERF_PROBE, strlen(PERF_PROBE)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->pr_dir, d->d_name);
		unlink(path);
	}
	closedir(dir);
}

void
perf_record_stop(struct perf_record *r)
{
	if (r->pr_pid != 0)
		perf_end(r->pr_pid, SIGINT, PERF_STOP_WAIT_MS);
	r->pr_pid = 0;
	perf_clean_dir(r);
}

/* Records 0.5 s system-wide with event ev and returns the sample count. */
static long
perf_probe_event(struct perf_record *r, const char *ev)
{
	char out[PATH_MAX];
	char *argv[PERF_MAXARGS];
	struct worker_opts o = {.wo_frequency = 11};
	struct stack_table *t;
	size_t n = 0;
	long samples = -1;
	int status;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/" PERF_PROBE, r->pr_dir);
	perf_add_arg(argv, &n, "perf");
	perf_add_arg(argv, &n, "record");
	perf_add_arg(argv, &n, "-F");
	perf_add_arg(argv, &n, "11");
	perf_add_arg(argv, &n, "-g");
	perf_add_arg(argv, &n, "-a");
	perf_add_arg(argv, &n, "-o");
	perf_add_arg(argv, &n, out);
	if (ev[0] != '\0') {
		perf_add_arg(argv, &n, "-e");
		perf_add_arg(argv, &n, ev);
	}
	perf_add_arg(argv, &n, "--");
	perf_add_arg(argv, &n, "sleep");
	perf_add_arg(argv, &n, "0.5");
	if ((pid = perf_spawn(r, argv, -1)) == -1)
		return -1;
	status = perf_end(pid, 0, 10000);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			log_debug("perf probe killed by signal %d",
				  WTERMSIG(status));
		else
			perf_log_tail(r, "perf probe failed");
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    (t = stacks_new(4u << 20)) != NULL) {
		if (perf_script_file(r, out, &o, t) == 0)
			samples = (long)stacks_total(t);
		stacks_free(t);
	}
	unlink(out);
	return samples;
}

int
perf_discover_event(struct perf_record *r, const struct worker_opts *o)
{
	static const char *const events[] = {"", "cpu-clock", "task-clock"};

	(void)o;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		long n = perf_probe_event(r, events[i]);

		log_debug("perf event %s: %ld samples",
			  events[i][0] ? events[i] : "(default)", n);
		if (n > 0) {
			snprintf(r->pr_event, sizeof(r->pr_event), "%s",
				 events[i]);
			return 0;
		}
	}
	log_error("no perf event yields samples here (tried the default, "
		  "cpu-clock and task-clock); perf is disabled");
	return -1;
}
