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
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "perf_cgroups.h"
#include "perf_record.h"
#include "perf_jit.h"
#include "perf_procs.h"
#include "perf_script.h"
#include "procfs.h"

#define PERF_LOG     "-log" /* after pr_out: perf's stderr */
#define PERF_PROBE   "probe.fp"
#define PERF_EVENT   "event.cache"
#define PERF_MAXARGS (32 + 2 * WORKER_PERF_CGROUPS_LIMIT)

static void perf_clean_dir(struct perf_record *r);
static void perf_event_forget(struct perf_record *r);
static int perf_script_file(struct perf_record *r, const char *file,
			    const struct perf_opts *o, struct stack_table *t);

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

	snprintf(path, sizeof(path), "%s/%s" PERF_LOG, r->pr_dir, r->pr_out);
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

	snprintf(path, sizeof(path), "%s/%s" PERF_LOG, r->pr_dir, r->pr_out);
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

int
perf_record_cgroups(struct perf_record *r, const struct perf_opts *o)
{
	struct perf_cg_roots roots;
	struct perf_cg_choice *c;
	int n;

	r->pr_cgroups_fresh = 0;
	if (r->pr_cgroups == NULL &&
	    (r->pr_cgroups = malloc(sizeof(*r->pr_cgroups))) == NULL)
		return -1;
	c = r->pr_cgroups;
	if (perf_cg_roots(PERF_CG_MOUNTS, &roots) == -1) {
		log_error("--perf-use-cgroups: no cgroup hierarchy for perf "
			  "is mounted: perf is not started");
		return 0;
	}
	if ((n = perf_cg_choose(&roots, o->wo_max_cgroups, o->wo_max_docker,
				c)) <= 0) {
		if (n == 0)
			log_error("--perf-use-cgroups: no cgroup to profile in "
				  "%s (%u examined): perf is not started",
				  roots.cr_perf, c->cc_seen);
		return n;
	}
	if (c->cc_truncated)
		log_warn("--perf-use-cgroups: the scan of %s stopped at a cap; "
			 "some cgroups were not considered",
			 roots.cr_perf);
	log_info("perf profiles %u of %u cgroups in %s (%u docker "
		 "containers): %.300s%s",
		 c->cc_n, c->cc_candidates, roots.cr_perf, c->cc_docker,
		 c->cc_arg, strlen(c->cc_arg) > 300 ? "..." : "");
	r->pr_cgroups_fresh = 1;
	return n;
}

/* --perf-use-cgroups: adds -a, the event once per cgroup, and -G with
 * their names; 0, -1, or PERF_RECORD_NO_CGROUP. */
static int
perf_cgroup_args(struct perf_record *r, const struct perf_opts *o, char **argv,
		 size_t *n)
{
	struct perf_cg_choice *c;
	/* -G needs its events named: perf's default one is "cycles". */
	const char *ev = r->pr_event[0] != '\0' ? r->pr_event : "cycles";
	int rv;

	if (!r->pr_cgroups_fresh && (rv = perf_record_cgroups(r, o)) <= 0)
		return rv == 0 ? PERF_RECORD_NO_CGROUP : -1;
	r->pr_cgroups_fresh = 0;
	c = r->pr_cgroups;
	for (unsigned i = 0; i < c->cc_n; i++) {
		perf_add_arg(argv, n, "-e");
		perf_add_arg(argv, n, ev);
	}
	perf_add_arg(argv, n, "-a");
	perf_add_arg(argv, n, "-G");
	perf_add_arg(argv, n, c->cc_arg);
	/* A full argv may have lost -G: never run perf system-wide then. */
	return *n < PERF_MAXARGS - 1 ? 0 : -1;
}

/* Adds -a, or --pid with the given PIDs that still exist; -1 with errno
 * ESRCH when none does (perf would refuse to start). */
static int
perf_target_args(char **argv, size_t *n, const struct perf_opts *o,
		 char *pidbuf, size_t len)
{
	size_t off = 0;

	if (o->wo_npids == 0) {
		perf_add_arg(argv, n, "-a");
		return 0;
	}
	pidbuf[0] = '\0';
	for (size_t i = 0; i < o->wo_npids && off < len; i++) {
		if (!procfs_alive((pid_t)o->wo_pids[i])) {
			log_info("PID %u has exited: no longer profiled",
				 o->wo_pids[i]);
			continue;
		}
		off += (size_t)snprintf(pidbuf + off, len - off, "%s%u",
					off ? "," : "", o->wo_pids[i]);
	}
	if (off == 0) {
		errno = ESRCH;
		return -1;
	}
	perf_add_arg(argv, n, "--pid");
	perf_add_arg(argv, n, pidbuf);
	return 0;
}

int
perf_record_start(struct perf_record *r, const struct perf_opts *o)
{
	char freq[16], out[PATH_MAX], cg[32], pids[PROFD_MAX_PIDS * 8];
	char *argv[PERF_MAXARGS];
	size_t n = 0;
	int dwarf = r->pr_dwarf, rv;

	snprintf(freq, sizeof(freq), "%u", o->wo_frequency);
	snprintf(out, sizeof(out), "%s/%s", r->pr_dir, r->pr_out);
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
	/* Never fill a ~/.debug cache with copies of every binary seen, and
	 * do not read every binary for its build id at each rotation: that
	 * doubles perf record's memory (26 against 14 MB here). */
	perf_add_arg(argv, &n, "--no-buildid-cache");
	perf_add_arg(argv, &n, "--no-buildid");
	perf_add_arg(argv, &n, "-m");
	perf_add_arg(argv, &n, dwarf ? "257" : "129");
	if (r->pr_event[0] != '\0' && !o->wo_use_cgroups) {
		perf_add_arg(argv, &n, "-e");
		perf_add_arg(argv, &n, r->pr_event);
	}
	if (o->wo_use_cgroups) {
		if ((rv = perf_cgroup_args(r, o, argv, &n)) != 0)
			return rv;
	} else if (perf_target_args(argv, &n, o, pids, sizeof(pids)) == -1) {
		if (!r->pr_gone)
			log_warn("every given PID has exited: perf stays "
				 "stopped, windows are empty");
		r->pr_gone = 1;
		return -1;
	}
	r->pr_npids = o->wo_npids;
	if ((r->pr_pid = perf_spawn(r, argv, -1)) == -1) {
		r->pr_pid = 0;
		return -1;
	}
	r->pr_started_ms = r->pr_rotated_ms = now_ms();
	/* A bad PID or event makes perf exit at once. */
	if (perf_wait(r->pr_pid, 500) != -1) {
		r->pr_pid = 0;
		perf_event_forget(r);
		perf_log_tail(r, "perf record failed to start");
		return -1;
	}
	log_info("perf record started (pid %d, %s, %s Hz, %s)", (int)r->pr_pid,
		 dwarf ? "dwarf" : "fp", freq,
		 o->wo_use_cgroups ? "the cgroups chosen"
		 : o->wo_npids	   ? pids
				   : "all processes");
	return 0;
}

/* Counts the rotated files <pr_out>.<timestamp> in the scratch dir. */
static int
perf_rotated(struct perf_record *r, char *oldest, size_t len)
{
	size_t plen = strlen(r->pr_out);
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir(r->pr_dir)) == NULL)
		return -1;
	oldest[0] = '\0';
	while ((d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, r->pr_out, plen) != 0 ||
		    d->d_name[plen] != '.')
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
		 const struct perf_opts *o, struct stack_table *t)
{
	char *argv[] = {"perf", "script",     "-F", "+pid",
			"-i",	(char *)file, NULL};
	struct perf_parse_stats st;
	struct perf_procs *procs;
	struct perf_jit *jit = NULL;
	struct perf_parser *p = NULL;
	int fds[2], status, rv;
	pid_t pid;

	if ((procs = perf_procs_new()) == NULL ||
	    (jit = perf_jit_new()) == NULL ||
	    (p = perf_parser_new(
		 t, o->wo_insert_dso_name ? PERF_INSERT_DSO_NAME : 0,
		 perf_procs_resolve, procs)) == NULL ||
	    pipe2(fds, O_CLOEXEC) == -1) {
		perf_parser_free(p);
		perf_jit_free(jit);
		perf_procs_free(procs);
		return -1;
	}
	perf_parser_set_jit(p, perf_jit_lookup, perf_jit_dso, jit);
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
	perf_jit_free(jit);
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
	else if (WEXITSTATUS(status) == 0 && r->pr_npids > 0)
		log_info("perf record ended: the profiled processes exited");
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

/* Parses every finished output file, oldest first, and deletes it; -1 if
 * one could not be parsed. *found (if not NULL) counts the files. */
static int
perf_parse_rotated(struct perf_record *r, const struct perf_opts *o,
		   struct stack_table *t, int *found)
{
	char name[256], path[PATH_MAX];
	int rv = 0, n = 0;

	while (perf_rotated(r, name, sizeof(name)) > 0 && n++ < 64) {
		snprintf(path, sizeof(path), "%s/%s", r->pr_dir, name);
		if (perf_script_file(r, path, o, t) == -1)
			rv = -1;
		unlink(path);
	}
	if (found != NULL)
		*found = n;
	return rv;
}

/* perf record has ended (the profiled PIDs all exited, or it failed):
 * parses what it wrote up to its end, then starts it again if there is
 * still something to profile. */
static int
perf_record_ended(struct perf_record *r, const struct perf_opts *o,
		  struct stack_table *t)
{
	char path[PATH_MAX];
	int parsed = 0, rv = 0;

	/* At its end perf closes its output as a rotated file. */
	snprintf(path, sizeof(path), "%s/%s", r->pr_dir, r->pr_out);
	unlink(path);
	if (!r->pr_gone) {
		rv = perf_parse_rotated(r, o, t, &parsed);
		if (rv == -1)
			log_warn("the output of the perf record that ended "
				 "is unreadable; this window is lost");
	}
	if (!r->pr_gone && perf_record_start(r, o) == -1 && !r->pr_gone)
		log_warn("perf record does not start again; trying at the "
			 "next window");
	/* Nothing written and still something to profile: a lost window. */
	return parsed || r->pr_gone ? rv : -1;
}

/* Restarts perf record between windows once it has run long enough and
 * grown past the RSS threshold, as gProfiler's fork does. */
static void
perf_maybe_restart(struct perf_record *r, const struct perf_opts *o)
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
perf_record_rotate(struct perf_record *r, const struct perf_opts *o,
		   struct stack_table *t)
{
	char name[256];
	int before, rv;

	if (!perf_alive(r))
		return perf_record_ended(r, o, t);
	before = perf_rotated(r, name, sizeof(name));
	r->pr_rotated_ms = now_ms();
	kill(r->pr_pid, SIGUSR2);
	if (perf_wait_rotated(r, before, name, sizeof(name)) == -1) {
		log_error("perf did not rotate its output within %d ms",
			  PERF_ROTATE_WAIT_MS);
		return -1;
	}
	rv = perf_parse_rotated(r, o, t, NULL);
	perf_maybe_restart(r, o);
	return rv;
}

int64_t
perf_rotate_timeout_ms(const struct perf_opts *o)
{
	int64_t t =
	    (int64_t)o->wo_duration * (o->wo_frequency <= 11 ? 1500 : 3000);
	int64_t floor = ((int64_t)o->wo_duration + PERF_ROTATE_SLACK_S) * 1000;

	return t > floor ? t : floor;
}

void
perf_record_drop(struct perf_record *r)
{
	char name[256], path[PATH_MAX];
	int before, n = 0;

	r->pr_rotated_ms = now_ms();
	if (!perf_alive(r))
		return;
	before = perf_rotated(r, name, sizeof(name));
	kill(r->pr_pid, SIGUSR2);
	perf_wait_rotated(r, before, name, sizeof(name));
	while (perf_rotated(r, name, sizeof(name)) > 0 && n++ < 64) {
		snprintf(path, sizeof(path), "%s/%s", r->pr_dir, name);
		unlink(path);
	}
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
		if (strncmp(d->d_name, r->pr_out, strlen(r->pr_out)) != 0 &&
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
	free(r->pr_cgroups);
	r->pr_cgroups = NULL;
}

/* Reads the event an earlier start found, if it is recent; 0 or -1. The
 * file is the worker's own, but is checked like any input. */
static int
perf_event_cached(struct perf_record *r)
{
	char path[PATH_MAX], buf[sizeof(r->pr_event) + 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (!r->pr_cache)
		return -1;
	snprintf(path, sizeof(path), "%s/" PERF_EVENT, r->pr_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    time(NULL) - st.st_mtime < PERF_EVENT_CACHE_S
		? read(fd, buf, sizeof(buf) - 1)
		: -1;
	close(fd);
	if (n < 1 || buf[n - 1] != '\n')
		return -1;
	buf[n - 1] = '\0';
	if ((size_t)n - 1 != strspn(buf, WORKER_EVENT_CHARS) &&
	    strcmp(buf, "default") != 0)
		return -1;
	snprintf(r->pr_event, sizeof(r->pr_event), "%s",
		 strcmp(buf, "default") == 0 ? "" : buf);
	log_info("perf event %s, as found at an earlier start", buf);
	return 0;
}

/* Keeps the event just found for the next start. */
static void
perf_event_remember(struct perf_record *r)
{
	char path[PATH_MAX];
	FILE *f;

	if (!r->pr_cache)
		return;
	snprintf(path, sizeof(path), "%s/" PERF_EVENT, r->pr_dir);
	if ((f = fopen(path, "we")) == NULL)
		return;
	fprintf(f, "%s\n", r->pr_event[0] ? r->pr_event : "default");
	fclose(f);
}

static void
perf_event_forget(struct perf_record *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" PERF_EVENT, r->pr_dir);
	if (r->pr_cache)
		unlink(path);
}

/* Records 0.5 s system-wide with event ev and returns the sample count. */
static long
perf_probe_event(struct perf_record *r, const char *ev)
{
	char out[PATH_MAX];
	char *argv[PERF_MAXARGS];
	struct perf_opts o = {.wo_frequency = 11};
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
perf_discover_event(struct perf_record *r, const struct perf_opts *o)
{
	static const char *const events[] = {"", "cpu-clock", "task-clock"};

	(void)o;
	if (perf_event_cached(r) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		long n = perf_probe_event(r, events[i]);

		log_debug("perf event %s: %ld samples",
			  events[i][0] ? events[i] : "(default)", n);
		if (n > 0) {
			snprintf(r->pr_event, sizeof(r->pr_event), "%s",
				 events[i]);
			perf_event_remember(r);
			return 0;
		}
	}
	log_error("no perf event yields samples here (tried the default, "
		  "cpu-clock and task-clock); perf is disabled");
	return -1;
}
