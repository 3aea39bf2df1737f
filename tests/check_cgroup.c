/* Per-worker cgroups: limits, usage, kill and removal, in each mode this
 * host offers (v2, v1, poll). Needs root; groups live under a parent of
 * their own, removed at the end even when a test fails. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "check_main.h"
#include "log.h"
#include "procfs.h"
#include "util.h"

#define MIB	       (1024ull * 1024)
#define MEM_MAX	       (32 * MIB) /* hard limit of the memory tests */
#define HOG_MIB	       256	  /* MiB the memory hog touches */
#define HOG_PACE_MS    4	  /* between two MiB, so polling can follow */
#define BUSY_MIB       24	  /* MiB held while the limit is lowered */
#define PIDS_MAX       8	  /* tasks */
#define THREADS	       50	  /* threads the pids test tries */
#define GRANDCHILDREN  3
#define POLL_MS	       50   /* usage polling period of the poll mode */
#define KILL_WITHIN_MS 1000 /* from crossing a limit to death, poll mode */
#define WAIT_MS	       10000
#define TEST_TIMEOUT   30 /* s */
#define ROOT	       "/sys/fs/cgroup"
#define UNIFIED	       ROOT "/unified"
#define V1_MEMORY      ROOT "/memory"
#define V1_PIDS	       ROOT "/pids"
#define HUGE_LIMIT     (1ull << 62) /* v1 shows "unlimited" as ~2^63 */

struct child_args {
	int ca_mib;	/* memory to touch, MiB */
	int ca_pace_ms; /* sleep between two MiB */
	int ca_fd;	/* pipe to report on, or -1 */
};

static char test_parent[CGROUP_NAME_MAX];
static pid_t test_pid;	       /* children exit once it is gone */
static char *hog_mem[HOG_MIB]; /* global, so the stores are kept */

/* --- helpers ------------------------------------------------------------ */

static int
fs_is(const char *path, long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

static int
mode_here(enum cgroup_mode m)
{
	if (m == CGROUP_POLL)
		return 1;
	if (m == CGROUP_V1)
		return fs_is(V1_MEMORY, CGROUP_SUPER_MAGIC) &&
		       fs_is(V1_PIDS, CGROUP_SUPER_MAGIC);
	return cgroup_detect() == CGROUP_V2;
}

/* Starts a test: returns 0 (and says so) when the mode is not here. */
static int
begin(enum cgroup_mode m)
{
	test_pid = getpid();
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	if (!mode_here(m)) {
		printf("%s: not available here, skipped\n",
		       cgroup_mode_name(m));
		return 0;
	}
	return 1;
}

/* Children idle until the test process is gone, never longer. */
static void __attribute__((noreturn)) idle(void)
{
	for (;;) {
		if (kill(test_pid, 0) == -1 && errno == ESRCH)
			_exit(0);
		sleep_ms(50);
	}
}

static void
sleeper(const struct child_args *a)
{
	(void)a;
	idle();
}

static void
say(int fd, const void *buf, size_t len)
{
	if (fd >= 0 && write_all(fd, buf, len) == -1)
		_exit(93);
}

static void
hear(int fd, void *buf, size_t len)
{
	ck_assert_int_eq(read(fd, buf, len), (ssize_t)len);
}

static void
hog(const struct child_args *a)
{
	char done = 'y';

	for (int i = 0; i < a->ca_mib && i < HOG_MIB; i++) {
		if ((hog_mem[i] = malloc(MIB)) == NULL)
			_exit(91);
		memset(hog_mem[i], i + 1, MIB);
		if (a->ca_pace_ms > 0)
			sleep_ms(a->ca_pace_ms);
	}
	say(a->ca_fd, &done, 1);
	idle();
}

static void *
thread_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void
threads(const struct child_args *a)
{
	pthread_t t;
	int msg[2] = {0, 0}; /* threads made, error of the first refusal */

	for (; msg[0] < THREADS; msg[0]++)
		if ((msg[1] = pthread_create(&t, NULL, thread_idle, NULL)) != 0)
			break;
	say(a->ca_fd, msg, sizeof(msg));
	idle();
}

static void
family(const struct child_args *a)
{
	pid_t kids[GRANDCHILDREN];

	for (int i = 0; i < GRANDCHILDREN; i++) {
		if ((kids[i] = fork()) == -1)
			_exit(92);
		if (kids[i] == 0)
			idle();
	}
	say(a->ca_fd, kids, sizeof(kids));
	idle();
}

/* Forks a child that joins cg and runs body; exit 90 if it cannot join. */
static pid_t
spawn(const struct cgroup *cg, void (*body)(const struct child_args *),
      const struct child_args *a)
{
	pid_t pid = fork();

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (cgroup_join_child(cg) == -1)
			_exit(90);
		body(a);
		_exit(0);
	}
	return pid;
}

/* Waits for pid at most ms; returns its status. */
static int
reap(pid_t pid, int64_t ms)
{
	int64_t end = now_ms() + ms;
	pid_t r;
	int st;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0) {
		ck_assert_msg(now_ms() < end,
			      "pid %d still there after %lld ms", (int)pid,
			      (long long)ms);
		sleep_ms(5);
	}
	ck_assert_msg(r == pid, "waitpid %d: %s", (int)pid, strerror(errno));
	return st;
}

static void
assert_killed(int st)
{
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "status %#x, not SIGKILL", st);
}

/* Polls like the supervisor until cgroup_over_hard; *under is the time of
 * the last poll below the limits. Returns 1 when over, 0 at the deadline. */
static int
watch_until_over(struct cgroup *cg, pid_t pid, int64_t *under)
{
	int64_t end = now_ms() + WAIT_MS;
	struct cgroup_usage u;

	*under = now_ms();
	while (now_ms() < end) {
		ck_assert_int_eq(cgroup_usage(cg, pid, &u), 0);
		if (cgroup_over_hard(cg, &u))
			return 1;
		*under = now_ms();
		sleep_ms(POLL_MS);
	}
	return 0;
}

static uint64_t
read_u64(const char *dir, const char *file)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_int_gt(procfs_read(path, buf, sizeof(buf)), 0);
	if (strncmp(buf, "max", 3) == 0)
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

static int
pipe_cloexec(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

/* --- tests -------------------------------------------------------------- */

START_TEST(test_detect)
{
	enum cgroup_mode m = cgroup_detect();

	ck_assert_str_eq(cgroup_mode_name(CGROUP_V2), "v2");
	ck_assert_str_eq(cgroup_mode_name(CGROUP_V1), "v1");
	ck_assert_str_eq(cgroup_mode_name(CGROUP_POLL), "poll");
	printf("detected: %s\n", cgroup_mode_name(m));
	if (!fs_is(ROOT, CGROUP2_SUPER_MAGIC))
		ck_assert_int_ne(m, CGROUP_V2);
	if (m != CGROUP_V2 && mode_here(CGROUP_V1))
		ck_assert_int_eq(m, CGROUP_V1);
}
END_TEST

START_TEST(test_names)
{
	struct cgroup cg;

	cgroup_set_parent("a/b");
	ck_assert_str_eq(cgroup_parent(), test_parent);
	cgroup_set_parent("..");
	ck_assert_str_eq(cgroup_parent(), test_parent);
	errno = 0;
	ck_assert_int_eq(cgroup_create(&cg, CGROUP_POLL, "../x", 0, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(cgroup_create(&cg, CGROUP_POLL, "", 0, 0, 0), -1);
	cgroup_destroy(&cg);
}
END_TEST

START_TEST(test_memory)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {HOG_MIB, m == CGROUP_POLL ? HOG_PACE_MS : 0, -1};
	struct cgroup_usage u;
	struct cgroup cg;
	int64_t under = 0;
	pid_t pid;
	int st;

	if (!begin(m))
		return;
	ck_assert_int_eq(cgroup_create(&cg, m, "memory", MEM_MAX, 0, 0), 0);
	pid = spawn(&cg, hog, &a);
	if (m == CGROUP_POLL) {
		ck_assert_msg(watch_until_over(&cg, pid, &under),
			      "never over the memory limit");
		ck_assert_int_ge(cgroup_kill(&cg, pid), 1);
	}
	st = reap(pid, WAIT_MS);
	assert_killed(st);
	if (m == CGROUP_POLL)
		ck_assert_int_lt(now_ms() - under, KILL_WITHIN_MS);
	ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
	if (m != CGROUP_POLL)
		ck_assert_uint_ge(u.cu_oom_kills, 1);
	ck_assert_int_eq(u.cu_populated, 0);
	cgroup_destroy(&cg);
}
END_TEST

/* A left-over group that cannot be removed (here: it has a child group)
 * is reused, and reports only the OOM kills that happen after. */
START_TEST(test_oom_base)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {HOG_MIB, 0, -1};
	char sub[PATH_MAX + 8];
	struct cgroup_usage u;
	struct cgroup cg, again;

	if (m == CGROUP_POLL || !begin(m))
		return;
	ck_assert_int_eq(cgroup_create(&cg, m, "oom", MEM_MAX, 0, 0), 0);
	assert_killed(reap(spawn(&cg, hog, &a), WAIT_MS));
	snprintf(sub, sizeof(sub), "%s/sub",
		 m == CGROUP_V1 ? cg.cg_mem : cg.cg_v2);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(cgroup_create(&again, m, "oom", MEM_MAX, 0, 0), 0);
	ck_assert_uint_ge(again.cg_oom_base, 1);
	ck_assert_int_eq(cgroup_usage(&again, 0, &u), 0);
	ck_assert_uint_eq(u.cu_oom_kills, 0);
	assert_killed(reap(spawn(&again, hog, &a), WAIT_MS));
	ck_assert_int_eq(cgroup_usage(&again, 0, &u), 0);
	ck_assert_uint_eq(u.cu_oom_kills, 1);
	ck_assert_int_eq(rmdir(sub), 0);
	cgroup_destroy(&again);
	cgroup_destroy(&cg);
}
END_TEST

START_TEST(test_pids)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {0, 0, -1};
	struct cgroup_usage u;
	struct cgroup cg;
	int fds[2], msg[2];
	int64_t under;
	pid_t pid;

	if (!begin(m))
		return;
	ck_assert_int_eq(pipe_cloexec(fds), 0);
	a.ca_fd = fds[1];
	ck_assert_int_eq(cgroup_create(&cg, m, "pids", 0, 0, PIDS_MAX), 0);
	pid = spawn(&cg, threads, &a);
	hear(fds[0], msg, sizeof(msg));
	if (m == CGROUP_POLL) {
		ck_assert_int_eq(msg[0], THREADS);
		ck_assert(watch_until_over(&cg, pid, &under));
		ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
		ck_assert_uint_gt(u.cu_pids, PIDS_MAX);
	} else {
		ck_assert_int_lt(msg[0], THREADS);
		ck_assert_int_ge(msg[0], PIDS_MAX / 2);
		ck_assert_int_eq(msg[1], EAGAIN);
		ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
		ck_assert_uint_ge(u.cu_pids_denied, 1);
		ck_assert_uint_le(u.cu_pids, PIDS_MAX);
		ck_assert_int_eq(cgroup_over_hard(&cg, &u), 0);
	}
	ck_assert_int_ge(cgroup_kill(&cg, pid), 1);
	assert_killed(reap(pid, WAIT_MS));
	close(fds[0]);
	close(fds[1]);
	cgroup_destroy(&cg);
}
END_TEST

START_TEST(test_kill)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {0, 0, -1};
	pid_t pid, kids[GRANDCHILDREN];
	struct cgroup_usage u;
	struct cgroup cg;
	int fds[2];

	if (!begin(m))
		return;
	ck_assert_int_eq(pipe_cloexec(fds), 0);
	a.ca_fd = fds[1];
	ck_assert_int_eq(cgroup_create(&cg, m, "kill", 0, 0, 0), 0);
	pid = spawn(&cg, family, &a);
	hear(fds[0], kids, sizeof(kids));
	ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
	ck_assert_int_eq(u.cu_populated, 1);
	ck_assert_uint_eq(u.cu_pids, 1 + GRANDCHILDREN);
	ck_assert_int_eq(cgroup_kill(&cg, pid), 1 + GRANDCHILDREN);
	assert_killed(reap(pid, WAIT_MS));
	/* Orphans come back to this process, a subreaper. */
	for (int i = 0; i < GRANDCHILDREN; i++) {
		assert_killed(reap(kids[i], WAIT_MS));
		ck_assert_int_eq(kill(kids[i], 0), -1);
		ck_assert_int_eq(errno, ESRCH);
	}
	ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
	ck_assert_int_eq(u.cu_populated, 0);
	ck_assert_int_eq(cgroup_populated(&cg, pid), 0);
	if (m == CGROUP_V1) {
		char buf[64];
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg.cg_mem);
		ck_assert_int_eq(procfs_read(path, buf, sizeof(buf)), 0);
	}
	close(fds[0]);
	close(fds[1]);
	cgroup_destroy(&cg);
}
END_TEST

/* Checks the kernel's files against the recorded limits (0 = unlimited). */
static void
assert_limits(const struct cgroup *cg, uint64_t mem, uint64_t high,
	      uint64_t pids)
{
	uint64_t want_pids = pids != 0 ? pids : UINT64_MAX;

	ck_assert_uint_eq(cg->cg_mem_max, mem);
	ck_assert_uint_eq(cg->cg_mem_high, high);
	ck_assert_uint_eq(cg->cg_pids_max, pids);
	if (cg->cg_mode == CGROUP_V1) {
		uint64_t l = read_u64(cg->cg_mem, "memory.limit_in_bytes");
		uint64_t s = read_u64(cg->cg_mem, "memory.soft_limit_in_bytes");

		ck_assert(mem != 0 ? l == mem : l >= HUGE_LIMIT);
		ck_assert(high != 0 ? s == high : s >= HUGE_LIMIT);
		ck_assert_uint_eq(read_u64(cg->cg_pids, "pids.max"), want_pids);
	} else if (cg->cg_mode == CGROUP_V2) {
		ck_assert_uint_eq(read_u64(cg->cg_v2, "memory.max"),
				  mem != 0 ? mem : UINT64_MAX);
		ck_assert_uint_eq(read_u64(cg->cg_v2, "memory.high"),
				  high != 0 ? high : UINT64_MAX);
		ck_assert_uint_eq(read_u64(cg->cg_v2, "pids.max"), want_pids);
	}
}

START_TEST(test_set_limits)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct cgroup cg;

	if (!begin(m))
		return;
	ck_assert_int_eq(
	    cgroup_create(&cg, m, "limits", MEM_MAX, MEM_MAX / 2, PIDS_MAX), 0);
	assert_limits(&cg, MEM_MAX, MEM_MAX / 2, PIDS_MAX);
	ck_assert_int_eq(cgroup_set_limits(&cg, 2 * MEM_MAX, MEM_MAX, 16), 0);
	assert_limits(&cg, 2 * MEM_MAX, MEM_MAX, 16);
	ck_assert_int_eq(cgroup_set_limits(&cg, 0, 0, 0), 0);
	assert_limits(&cg, 0, 0, 0);
	cgroup_destroy(&cg);
}
END_TEST

/* v1 refuses a memory limit below the usage: the limit is still recorded
 * and cgroup_over_hard asks for a kill. (v2 would reclaim or OOM-kill.) */
START_TEST(test_limit_below_usage)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {BUSY_MIB, 0, -1};
	struct cgroup_usage u;
	struct cgroup cg;
	int fds[2];
	char done;
	pid_t pid;

	if (m == CGROUP_V2 || !begin(m))
		return;
	ck_assert_int_eq(pipe_cloexec(fds), 0);
	a.ca_fd = fds[1];
	ck_assert_int_eq(cgroup_create(&cg, m, "busy", 2 * MEM_MAX, 0, 0), 0);
	pid = spawn(&cg, hog, &a);
	hear(fds[0], &done, 1);
	ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
	ck_assert_uint_ge(u.cu_memory, BUSY_MIB * MIB);
	ck_assert_int_eq(cgroup_over_hard(&cg, &u), 0);
	ck_assert_int_eq(cgroup_set_limits(&cg, BUSY_MIB * MIB / 4, 0, 0), 0);
	ck_assert_uint_eq(cg.cg_mem_max, BUSY_MIB * MIB / 4);
	ck_assert_int_eq(cg.cg_mem_enforced, 0);
	if (m == CGROUP_V1)
		ck_assert_uint_eq(read_u64(cg.cg_mem, "memory.limit_in_bytes"),
				  2 * MEM_MAX);
	ck_assert_int_eq(cgroup_usage(&cg, pid, &u), 0);
	ck_assert_int_eq(cgroup_over_hard(&cg, &u), 1);
	ck_assert_int_ge(cgroup_kill(&cg, pid), 1);
	assert_killed(reap(pid, WAIT_MS));
	close(fds[0]);
	close(fds[1]);
	cgroup_destroy(&cg);
}
END_TEST

/* A group left over (by a crashed supervisor) is emptied and reused. */
START_TEST(test_reuse)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	struct child_args a = {0, 0, -1};
	struct cgroup old, cg;
	struct cgroup_usage u;
	pid_t pid;

	if (m == CGROUP_POLL || !begin(m))
		return;
	ck_assert_int_eq(cgroup_create(&old, m, "reuse", 0, 0, 0), 0);
	pid = spawn(&old, sleeper, &a);
	for (int i = 0; cgroup_populated(&old, pid) != 1; i++) {
		ck_assert_msg(i < WAIT_MS / 5, "the child never joined");
		sleep_ms(5);
	}
	ck_assert_int_eq(cgroup_create(&cg, m, "reuse", MEM_MAX, 0, 4), 0);
	assert_killed(reap(pid, WAIT_MS));
	ck_assert_int_eq(cgroup_usage(&cg, 0, &u), 0);
	ck_assert_int_eq(u.cu_populated, 0);
	ck_assert_uint_eq(u.cu_oom_kills, 0);
	assert_limits(&cg, MEM_MAX, 0, 4);
	cgroup_destroy(&old);
	cgroup_destroy(&cg);
}
END_TEST

START_TEST(test_destroy)
{
	enum cgroup_mode m = (enum cgroup_mode)_i;
	const char *dirs[3];
	struct cgroup cg;

	if (!begin(m))
		return;
	ck_assert_int_eq(cgroup_create(&cg, m, "destroy", MEM_MAX, 0, 4), 0);
	dirs[0] = strdup(cg.cg_v2);
	dirs[1] = strdup(cg.cg_mem);
	dirs[2] = strdup(cg.cg_pids);
	ck_assert_int_eq(m == CGROUP_V1, cg.cg_join_fd[0] >= 0);
	ck_assert_int_eq(m == CGROUP_V1, cg.cg_join_fd[1] >= 0);
	for (int i = 0; i < 3; i++)
		if (dirs[i][0] != '\0')
			ck_assert_int_eq(access(dirs[i], F_OK), 0);
	ck_assert_int_eq(m != CGROUP_POLL,
			 dirs[0][0] != '\0' || dirs[1][0] != '\0');
	cgroup_destroy(&cg);
	for (int i = 0; i < 3; i++) {
		if (dirs[i][0] != '\0') {
			ck_assert_int_eq(access(dirs[i], F_OK), -1);
			ck_assert_int_eq(errno, ENOENT);
		}
		free((void *)dirs[i]);
	}
	ck_assert_int_eq(cg.cg_join_fd[0], -1);
	ck_assert_int_eq(cg.cg_join_fd[1], -1);
	cgroup_destroy(&cg);
}
END_TEST

/* This host cannot enable memory and pids in cgroup2, but its cgroup2
 * mount has cgroup.kill and cgroup.events: the v2 kill and populated paths
 * run on a group made here by hand. */
START_TEST(test_v2_kill_unified)
{
	struct child_args a = {0, 0, -1};
	pid_t pid, kids[GRANDCHILDREN];
	char parent[256], dir[PATH_MAX + 64];
	struct cgroup cg;
	int fds[2];

	test_pid = getpid();
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	if (fs_is(ROOT, CGROUP2_SUPER_MAGIC) ||
	    !fs_is(UNIFIED, CGROUP2_SUPER_MAGIC))
		return;
	cgroup_init(&cg);
	cg.cg_mode = CGROUP_V2;
	snprintf(parent, sizeof(parent), "%s/%s", UNIFIED, test_parent);
	ck_assert(mkdir(parent, 0755) == 0 || errno == EEXIST);
	snprintf(cg.cg_v2, sizeof(cg.cg_v2), "%s/kill", parent);
	ck_assert_int_eq(mkdir(cg.cg_v2, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/cgroup.procs", cg.cg_v2);
	ck_assert_int_ge(cg.cg_join_fd[0] = open(dir, O_WRONLY | O_CLOEXEC), 0);
	ck_assert_int_eq(cgroup_populated(&cg, 0), 0);
	ck_assert_int_eq(pipe_cloexec(fds), 0);
	a.ca_fd = fds[1];
	pid = spawn(&cg, family, &a);
	hear(fds[0], kids, sizeof(kids));
	ck_assert_int_eq(cgroup_populated(&cg, 0), 1);
	ck_assert_int_eq(cgroup_kill(&cg, 0), 1 + GRANDCHILDREN);
	assert_killed(reap(pid, WAIT_MS));
	for (int i = 0; i < GRANDCHILDREN; i++)
		assert_killed(reap(kids[i], WAIT_MS));
	ck_assert_int_eq(cgroup_populated(&cg, 0), 0);
	snprintf(dir, sizeof(dir), "%s", cg.cg_v2);
	cgroup_destroy(&cg);
	ck_assert_int_eq(access(dir, F_OK), -1);
	ck_assert_int_eq(rmdir(parent), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* --- set-up and clean-up ------------------------------------------------ */

static void
scrub_procs(const char *dir)
{
	char path[PATH_MAX], buf[4096], *p;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >=
	    (int)sizeof(path))
		return;
	for (int i = 0; i < 100 && procfs_read(path, buf, sizeof(buf)) > 0;
	     i++) {
		for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
			p += *p == '\n';
			kill((pid_t)atoi(p), SIGKILL);
		}
		sleep_ms(10);
	}
}

/* Kills and removes dir and the groups below it, deepest first. */
static void
scrub_tree(const char *dir, int depth)
{
	char sub[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if (depth > 4 || (dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.' ||
		    snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name) >=
			(int)sizeof(sub))
			continue;
		fprintf(stderr, "left over: %s\n", sub);
		scrub_tree(sub, depth + 1);
	}
	closedir(dp);
	scrub_procs(dir);
	for (int i = 0; i < 100 && rmdir(dir) == -1 && errno == EBUSY; i++)
		sleep_ms(10);
	if (access(dir, F_OK) == 0)
		fprintf(stderr, "%s: cannot remove\n", dir);
}

/* Removes what a failed test left under root/<test parent>. */
static int
scrub(const char *root)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%s", root, test_parent);
	if (access(dir, F_OK) != 0)
		return 0;
	scrub_tree(dir, 0);
	return 1;
}

static Suite *
cgroup_suite(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("cgroup");
	int last = CGROUP_POLL + 1;

	tcase_set_timeout(tc, TEST_TIMEOUT);
	tcase_add_test(tc, test_detect);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_memory, 0, last);
	tcase_add_loop_test(tc, test_oom_base, 0, last);
	tcase_add_loop_test(tc, test_pids, 0, last);
	tcase_add_loop_test(tc, test_kill, 0, last);
	tcase_add_loop_test(tc, test_set_limits, 0, last);
	tcase_add_loop_test(tc, test_limit_below_usage, 0, last);
	tcase_add_loop_test(tc, test_reuse, 0, last);
	tcase_add_loop_test(tc, test_destroy, 0, last);
	tcase_add_test(tc, test_v2_kill_unified);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	static const char *const roots[] = {ROOT, V1_MEMORY, V1_PIDS, UNIFIED};
	int failed, left = 0;

	if (geteuid() != 0 || access(ROOT, F_OK) != 0) {
		fprintf(stderr, "check_cgroup: needs root and %s\n", ROOT);
		return 77;
	}
	log_init("check_cgroup", 0, LOGL_WARN);
	snprintf(test_parent, sizeof(test_parent), "profd-test.%d",
		 (int)getpid());
	cgroup_set_parent(test_parent);
	failed = check_run(cgroup_suite(), NULL);
	cgroup_remove_parent();
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		left += scrub(roots[i]);
	if (left != 0)
		fprintf(stderr, "check_cgroup: %d parent groups left over\n",
			left);
	return failed == 0 && left == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
