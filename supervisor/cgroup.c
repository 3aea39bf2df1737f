/* Per-worker cgroups: a v2 group, a pair of v1 groups, or polling /proc.
 *
 * Each mode is a row of cgroup_backends; the public functions only record
 * what is common and dispatch. The limits are the same in every mode: what
 * the kernel cannot hold is reported by cgroup_over_hard, and the caller
 * kills. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "procfs.h"
#include "util.h"

#define CGROUP_ROOT	   "/sys/fs/cgroup"
#define CGROUP_V1_MEMORY   CGROUP_ROOT "/memory"
#define CGROUP_V1_PIDS	   CGROUP_ROOT "/pids"
#define CGROUP_CONTROLLERS "+memory +pids"
#define CGROUP_MAX_PROCS   65536 /* /proc entries read in one scan */
#define CGROUP_MAX_KILLED  4096	 /* distinct pids remembered while killing */
#define CGROUP_KILL_ROUNDS 100	 /* passes over a group while killing */
#define CGROUP_KILL_WAIT   10	 /* ms between two passes */
#define CGROUP_RMDIR_TRIES 20	 /* rmdir attempts while tasks finish exit */
#define CGROUP_RMDIR_WAIT  5	 /* ms between two attempts */
#define CGROUP_FILE_MAX	   4096	 /* bytes read of one control file */
#define CGROUP_PROCS_CHUNK 4096	 /* bytes read of cgroup.procs at a time */

struct cgroup_backend {
	int (*cb_create)(struct cgroup *);
	int (*cb_limits)(struct cgroup *);
	int (*cb_usage)(const struct cgroup *, pid_t, struct cgroup_usage *);
	int (*cb_populated)(const struct cgroup *, pid_t);
	int (*cb_kill)(struct cgroup *, pid_t);
};

/* A bounded set of pids, in insertion order. */
struct cgroup_pidset {
	pid_t *ps_pid;
	size_t ps_len;
	size_t ps_cap;
};

/* One line of /proc/N/stat, as far as poll mode needs it. */
struct cgroup_proc {
	pid_t cp_pid;
	pid_t cp_ppid;
	long cp_threads;
	char cp_state;
};

/* The process tree of one pid: all of /proc sorted by ppid, and the
 * indices of the members, root first, parents before children. */
struct cgroup_tree {
	struct cgroup_proc *ct_proc;
	size_t ct_len;
	size_t *ct_member;
	size_t ct_nmember;
};

static char cgroup_parent_name[CGROUP_NAME_MAX] = "profd";

/* The roots profd makes groups in; with a delegated subtree, profd's own
 * group in each replaces root/<parent name>. */
enum { CGROUP_R_V2, CGROUP_R_MEM, CGROUP_R_PIDS, CGROUP_NROOTS };
static const char *const cgroup_roots[CGROUP_NROOTS] = {
    CGROUP_ROOT, CGROUP_V1_MEMORY, CGROUP_V1_PIDS};
static const char *const cgroup_v1_names[CGROUP_NROOTS] = {NULL, "memory",
							   "pids"};
static char cgroup_own[CGROUP_NROOTS][PATH_MAX];
static int cgroup_delegated;

/* --- small helpers ------------------------------------------------------ */

static int
cgroup_name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' &&
	       strlen(name) < CGROUP_NAME_MAX && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Whether the comma-separated list has name in it. */
static int
cgroup_has_name(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

static int
cgroup_fail(const struct cgroup *cg, const char *what)
{
	log_error("cgroup %s (%s): %s: %s", cg->cg_name,
		  cgroup_mode_name(cg->cg_mode), what, strerror(errno));
	return -1;
}

static int
cgroup_join(char *out, size_t len, const char *dir, const char *file)
{
	int n = snprintf(out, len, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The directory the worker groups of root go in: profd's own group
 * there when delegated, else root/<parent name>. */
static int
cgroup_parent_dir(char *out, size_t len, const char *root)
{
	for (int i = 0; cgroup_delegated && i < CGROUP_NROOTS; i++)
		if (strcmp(root, cgroup_roots[i]) == 0) {
			if (cgroup_own[i][0] == '\0') {
				errno = ENOENT;
				return -1;
			}
			return cgroup_join(out, len, cgroup_own[i], ".");
		}
	return cgroup_join(out, len, root, cgroup_parent_name);
}

static int
cgroup_open(const char *dir, const char *file, int flags)
{
	char path[PATH_MAX];

	if (cgroup_join(path, sizeof(path), dir, file) == -1)
		return -1;
	return open(path, flags | O_CLOEXEC);
}

static int
cgroup_write(const char *dir, const char *file, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, saved;

	if ((fd = cgroup_open(dir, file, O_WRONLY)) == -1)
		return -1;
	do
		n = write(fd, s, len);
	while (n == -1 && errno == EINTR);
	if (n >= 0 && (size_t)n != len)
		errno = EIO;
	saved = errno;
	close(fd);
	errno = saved;
	return n >= 0 && (size_t)n == len ? 0 : -1;
}

/* Writes v, or unlimited when v is 0. */
static int
cgroup_write_limit(const char *dir, const char *file, uint64_t v,
		   const char *unlimited)
{
	char buf[32];

	if (v == 0)
		return cgroup_write(dir, file, unlimited);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cgroup_write(dir, file, buf);
}

static ssize_t
cgroup_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (cgroup_join(path, sizeof(path), dir, file) == -1)
		return -1;
	return procfs_read(path, buf, len);
}

static int
cgroup_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (strncmp(s, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (end == s || errno != 0 ||
	    (*end != '\0' && !isspace((unsigned char)*end))) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Reads a file holding one number or "max" (UINT64_MAX). */
static int
cgroup_read_u64(const char *dir, const char *file, uint64_t *out)
{
	char buf[64];

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return -1;
	return cgroup_parse_u64(buf, out);
}

/* Reads the value of "key N" in a flat keyed file; ENOENT if absent. */
static int
cgroup_read_key(const char *dir, const char *file, const char *key,
		uint64_t *out)
{
	char buf[CGROUP_FILE_MAX], *line, *save = NULL;
	size_t klen = strlen(key);

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return cgroup_parse_u64(line + klen + 1, out);
	errno = ENOENT;
	return -1;
}

/* Returns 1 if the space-separated file lists word, 0 if not, -1. */
static int
cgroup_has_word(const char *dir, const char *file, const char *word)
{
	char buf[CGROUP_FILE_MAX], *w, *save = NULL;

	if (cgroup_read(dir, file, buf, sizeof(buf)) == -1)
		return -1;
	for (w = strtok_r(buf, " \n", &save); w != NULL;
	     w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, word) == 0)
			return 1;
	return 0;
}

static int
cgroup_fs_is(const char *path, long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

static int
cgroup_is_group(const char *path)
{
	return cgroup_fs_is(path, CGROUP2_SUPER_MAGIC) ||
	       cgroup_fs_is(path, CGROUP_SUPER_MAGIC);
}

static int
cgroup_mkdir(const char *path)
{
	return mkdir(path, 0755) == -1 && errno != EEXIST ? -1 : 0;
}

/* Removes an empty group, waiting a little for exiting tasks. */
static int
cgroup_rmdir(const char *path)
{
	for (int i = 0; i < CGROUP_RMDIR_TRIES; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		sleep_ms(CGROUP_RMDIR_WAIT);
	}
	return -1;
}

/* --- pid sets and cgroup.procs ------------------------------------------ */

/* Returns 1 if pid was added, 0 if already there, -1 when full. */
static int
cgroup_pidset_add(struct cgroup_pidset *s, pid_t pid)
{
	pid_t *p;
	size_t cap;

	for (size_t i = 0; i < s->ps_len; i++)
		if (s->ps_pid[i] == pid)
			return 0;
	if (s->ps_len == s->ps_cap) {
		cap = s->ps_cap != 0 ? s->ps_cap * 2 : 64;
		if (cap > CGROUP_MAX_KILLED) {
			errno = E2BIG;
			return -1;
		}
		if ((p = realloc(s->ps_pid, cap * sizeof(*p))) == NULL)
			return -1;
		s->ps_pid = p;
		s->ps_cap = cap;
	}
	s->ps_pid[s->ps_len++] = pid;
	return 1;
}

/* The state of a walk over cgroup.procs. */
struct cgroup_walk {
	int (*w_fn)(pid_t, void *); /* called on each pid, NULL to count */
	void *w_arg;
	long w_pid; /* digits read so far */
	int w_n;    /* pids seen */
	int w_stop; /* w_fn asked to stop */
};

static void
cgroup_walk_char(struct cgroup_walk *w, char c)
{
	if (isdigit((unsigned char)c)) {
		if (w->w_pid < INT_MAX / 10)
			w->w_pid = w->w_pid * 10 + (c - '0');
		return;
	}
	if (w->w_pid > 0) {
		w->w_n++;
		w->w_stop =
		    w->w_fn != NULL && w->w_fn((pid_t)w->w_pid, w->w_arg) != 0;
	}
	w->w_pid = 0;
}

/* Calls fn on every pid of dir/cgroup.procs (fn may be NULL) until it
 * returns nonzero; returns the number of pids seen, 0 if dir is gone. */
static int
cgroup_procs_each(const char *dir, int (*fn)(pid_t, void *), void *arg)
{
	struct cgroup_walk w = {fn, arg, 0, 0, 0};
	char buf[CGROUP_PROCS_CHUNK];
	ssize_t len = 0;
	int fd, saved;

	if ((fd = cgroup_open(dir, "cgroup.procs", O_RDONLY)) == -1)
		return errno == ENOENT ? 0 : -1;
	while (!w.w_stop && (len = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < len && !w.w_stop; i++)
			cgroup_walk_char(&w, buf[i]);
	if (len == 0)
		cgroup_walk_char(&w, '\n'); /* a last pid without newline */
	saved = errno;
	close(fd);
	errno = saved;
	return len == -1 ? -1 : w.w_n;
}

static int
cgroup_kill_one(pid_t pid, void *arg)
{
	struct cgroup_pidset *killed = arg;

	(void)kill(pid, SIGKILL);
	(void)cgroup_pidset_add(killed, pid);
	return 0;
}

/* SIGKILLs the tasks of the groups in dirs until they are all gone (new
 * forks may appear while killing); returns the number of distinct pids. */
static int
cgroup_procs_kill(const char *const *dirs, size_t ndirs)
{
	struct cgroup_pidset killed = {NULL, 0, 0};
	int n, found = 0, count;

	for (int round = 0; round < CGROUP_KILL_ROUNDS; round++) {
		found = 0;
		for (size_t i = 0; i < ndirs; i++) {
			n = cgroup_procs_each(dirs[i], cgroup_kill_one,
					      &killed);
			if (n == -1) {
				free(killed.ps_pid);
				return -1;
			}
			found += n;
		}
		if (found == 0)
			break;
		sleep_ms(CGROUP_KILL_WAIT);
	}
	if (found != 0)
		log_warn("%s: %d tasks left after killing", dirs[0], found);
	count = (int)killed.ps_len;
	free(killed.ps_pid);
	return count;
}

static int
cgroup_stop_at_first(pid_t pid, void *arg)
{
	(void)pid;
	(void)arg;
	return 1;
}

static int
cgroup_procs_any(const char *dir)
{
	int n = cgroup_procs_each(dir, cgroup_stop_at_first, NULL);

	return n == -1 ? -1 : n > 0;
}

/* Makes dir; a left-over one is emptied and made again, or reused. */
static int
cgroup_dir_fresh(const char *dir)
{
	const char *dirs[1] = {dir};

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST || cgroup_procs_kill(dirs, 1) == -1)
		return -1;
	if (cgroup_rmdir(dir) == -1) {
		log_warn("%s: left over and kept: %s", dir, strerror(errno));
		return 0;
	}
	return mkdir(dir, 0755);
}

/* Makes root/<parent>/<name> into out (left "" on failure). */
static int
cgroup_group_dir(char *out, const char *root, const char *name)
{
	char parent[PATH_MAX];

	out[0] = '\0';
	if (cgroup_parent_dir(parent, sizeof(parent), root) == -1 ||
	    cgroup_mkdir(parent) == -1 ||
	    cgroup_join(out, PATH_MAX, parent, name) == -1 ||
	    cgroup_dir_fresh(out) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static void
cgroup_remove(char *dir)
{
	if (dir[0] == '\0')
		return;
	if (cgroup_rmdir(dir) == -1) {
		log_warn("%s: %s", dir, strerror(errno));
		return;
	}
	dir[0] = '\0';
}

/* --- cgroup v2 ---------------------------------------------------------- */

/* Enables the memory and pids controllers for the children of dir. */
static int
cgroup_v2_enable(const char *dir)
{
	if (cgroup_has_word(dir, "cgroup.subtree_control", "memory") == 1 &&
	    cgroup_has_word(dir, "cgroup.subtree_control", "pids") == 1)
		return 0;
	return cgroup_write(dir, "cgroup.subtree_control", CGROUP_CONTROLLERS);
}

/* In a delegated v2 group, profd moves itself into a leaf of it
 * ("_supervisor", a name no worker can have): a group with processes
 * cannot give its children controllers. */
static int
cgroup_v2_leave(const char *own)
{
	char leaf[PATH_MAX], pid[24];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (cgroup_join(leaf, sizeof(leaf), own, "_supervisor") == -1 ||
	    cgroup_mkdir(leaf) == -1 ||
	    cgroup_write(leaf, "cgroup.procs", pid) == -1)
		return -1;
	return 0;
}

static int
cgroup_v2_usable(void)
{
	char parent[PATH_MAX];

	if (cgroup_parent_dir(parent, sizeof(parent), CGROUP_ROOT) == -1 ||
	    !cgroup_fs_is(CGROUP_ROOT, CGROUP2_SUPER_MAGIC) ||
	    cgroup_has_word(cgroup_delegated ? parent : CGROUP_ROOT,
			    "cgroup.controllers", "memory") != 1 ||
	    cgroup_has_word(cgroup_delegated ? parent : CGROUP_ROOT,
			    "cgroup.controllers", "pids") != 1)
		return 0;
	if ((!cgroup_delegated && cgroup_v2_enable(CGROUP_ROOT) == -1) ||
	    (cgroup_delegated && cgroup_v2_leave(parent) == -1) ||
	    cgroup_mkdir(parent) == -1 || cgroup_v2_enable(parent) == -1) {
		log_info("cgroup v2: cannot enable memory and pids: %s",
			 strerror(errno));
		return 0;
	}
	return 1;
}

static int
cgroup_v2_create(struct cgroup *cg)
{
	char parent[PATH_MAX];

	if (cgroup_parent_dir(parent, sizeof(parent), CGROUP_ROOT) == -1 ||
	    cgroup_mkdir(parent) == -1 || cgroup_v2_enable(parent) == -1)
		return cgroup_fail(cg, "enabling memory and pids");
	if (cgroup_group_dir(cg->cg_v2, CGROUP_ROOT, cg->cg_name) == -1)
		return cgroup_fail(cg, "making the group");
	if (cgroup_read_key(cg->cg_v2, "memory.events", "oom_kill",
			    &cg->cg_oom_base) == -1 ||
	    cgroup_read_key(cg->cg_v2, "pids.events", "max",
			    &cg->cg_pids_base) == -1)
		return cgroup_fail(cg, "reading events");
	/* An OOM kill takes the whole worker, perf included. */
	if (cgroup_write(cg->cg_v2, "memory.oom.group", "1") == -1)
		log_debug("cgroup %s: memory.oom.group: %s", cg->cg_name,
			  strerror(errno));
	cg->cg_join_fd[0] = cgroup_open(cg->cg_v2, "cgroup.procs", O_WRONLY);
	if (cg->cg_join_fd[0] == -1)
		return cgroup_fail(cg, "opening the group");
	return 0;
}

/* memory.high stays "max": the kernel would throttle the worker above
 * it, while profd wants it to finish its window and restart cleanly, so the
 * supervisor watches the soft limit itself. */
static int
cgroup_v2_limits(struct cgroup *cg)
{
	if (cgroup_write_limit(cg->cg_v2, "memory.max", cg->cg_mem_max,
			       "max") == -1 ||
	    cgroup_write_limit(cg->cg_v2, "pids.max", cg->cg_pids_max, "max") ==
		-1)
		return -1;
	cg->cg_mem_enforced = cg->cg_mem_max != 0;
	cg->cg_pids_enforced = cg->cg_pids_max != 0;
	return 0;
}

static int
cgroup_v2_populated(const struct cgroup *cg, pid_t pid)
{
	uint64_t v;

	(void)pid;
	if (cgroup_read_key(cg->cg_v2, "cgroup.events", "populated", &v) == -1)
		return -1;
	return v != 0;
}

/* Stores the event counters relative to those at create, and whether the
 * group still holds a process. */
static void
cgroup_counters(const struct cgroup *cg, struct cgroup_usage *u, uint64_t oom,
		uint64_t denied, int populated)
{
	u->cu_oom_kills = oom >= cg->cg_oom_base ? oom - cg->cg_oom_base : 0;
	u->cu_pids_denied =
	    denied >= cg->cg_pids_base ? denied - cg->cg_pids_base : 0;
	u->cu_populated = populated;
}

static int
cgroup_v2_usage(const struct cgroup *cg, pid_t pid, struct cgroup_usage *u)
{
	uint64_t oom, denied;
	int populated;

	if (cgroup_read_u64(cg->cg_v2, "memory.current", &u->cu_memory) == -1 ||
	    cgroup_read_u64(cg->cg_v2, "pids.current", &u->cu_pids) == -1 ||
	    cgroup_read_key(cg->cg_v2, "memory.events", "oom_kill", &oom) ==
		-1 ||
	    cgroup_read_key(cg->cg_v2, "pids.events", "max", &denied) == -1 ||
	    (populated = cgroup_v2_populated(cg, pid)) == -1)
		return -1;
	cgroup_counters(cg, u, oom, denied, populated);
	return 0;
}

static int
cgroup_v2_kill(struct cgroup *cg, pid_t pid)
{
	const char *dirs[1] = {cg->cg_v2};
	int n;

	(void)pid;
	if ((n = cgroup_procs_each(cg->cg_v2, NULL, NULL)) == -1)
		return -1;
	/* cgroup.kill (Linux 5.14) also catches tasks forked meanwhile. */
	if (cgroup_write(cg->cg_v2, "cgroup.kill", "1") == 0)
		return n;
	return cgroup_procs_kill(dirs, 1);
}

/* --- cgroup v1 ---------------------------------------------------------- */

static int
cgroup_v1_usable(void)
{
	char parent[PATH_MAX];

	if (!cgroup_fs_is(CGROUP_V1_MEMORY, CGROUP_SUPER_MAGIC) ||
	    !cgroup_fs_is(CGROUP_V1_PIDS, CGROUP_SUPER_MAGIC))
		return 0;
	if (cgroup_parent_dir(parent, sizeof(parent), CGROUP_V1_MEMORY) == -1 ||
	    cgroup_mkdir(parent) == -1 ||
	    cgroup_parent_dir(parent, sizeof(parent), CGROUP_V1_PIDS) == -1 ||
	    cgroup_mkdir(parent) == -1) {
		log_info("cgroup v1: %s: %s", parent, strerror(errno));
		return 0;
	}
	return 1;
}

static int
cgroup_v1_create(struct cgroup *cg)
{
	if (cgroup_group_dir(cg->cg_mem, CGROUP_V1_MEMORY, cg->cg_name) == -1 ||
	    cgroup_group_dir(cg->cg_pids, CGROUP_V1_PIDS, cg->cg_name) == -1)
		return cgroup_fail(cg, "making the groups");
	if (cgroup_read_key(cg->cg_mem, "memory.oom_control", "oom_kill",
			    &cg->cg_oom_base) == -1 ||
	    cgroup_read_key(cg->cg_pids, "pids.events", "max",
			    &cg->cg_pids_base) == -1)
		return cgroup_fail(cg, "reading events");
	cg->cg_join_fd[0] = cgroup_open(cg->cg_mem, "cgroup.procs", O_WRONLY);
	cg->cg_join_fd[1] = cgroup_open(cg->cg_pids, "cgroup.procs", O_WRONLY);
	if (cg->cg_join_fd[0] == -1 || cg->cg_join_fd[1] == -1)
		return cgroup_fail(cg, "opening cgroup.procs");
	return 0;
}

/* memory.memsw.* is left alone: without swap it would break failcnt. */
static int
cgroup_v1_limits(struct cgroup *cg)
{
	if (cgroup_write_limit(cg->cg_mem, "memory.limit_in_bytes",
			       cg->cg_mem_max, "-1") == 0)
		cg->cg_mem_enforced = cg->cg_mem_max != 0;
	else if (errno == EBUSY)
		log_warn(
		    "cgroup %s: usage above the new memory limit of %" PRIu64
		    " bytes: enforced by polling",
		    cg->cg_name, cg->cg_mem_max);
	else
		return -1;
	if (cgroup_write_limit(cg->cg_mem, "memory.soft_limit_in_bytes",
			       cg->cg_mem_high, "-1") == -1 ||
	    cgroup_write_limit(cg->cg_pids, "pids.max", cg->cg_pids_max,
			       "max") == -1)
		return -1;
	cg->cg_pids_enforced = cg->cg_pids_max != 0;
	return 0;
}

static int
cgroup_v1_populated(const struct cgroup *cg, pid_t pid)
{
	int a, b;

	(void)pid;
	if ((a = cgroup_procs_any(cg->cg_mem)) == -1 ||
	    (b = cgroup_procs_any(cg->cg_pids)) == -1)
		return -1;
	return a || b;
}

/* Usage without the inactive file cache, which reclaim drops first. */
static int
cgroup_v1_memory(const struct cgroup *cg, uint64_t *out)
{
	uint64_t usage, inactive;

	if (cgroup_read_u64(cg->cg_mem, "memory.usage_in_bytes", &usage) == -1)
		return -1;
	if (cgroup_read_key(cg->cg_mem, "memory.stat", "total_inactive_file",
			    &inactive) == -1)
		inactive = 0;
	*out = usage > inactive ? usage - inactive : 0;
	return 0;
}

static int
cgroup_v1_usage(const struct cgroup *cg, pid_t pid, struct cgroup_usage *u)
{
	uint64_t oom, denied;
	int populated;

	if (cgroup_v1_memory(cg, &u->cu_memory) == -1 ||
	    cgroup_read_u64(cg->cg_pids, "pids.current", &u->cu_pids) == -1 ||
	    cgroup_read_key(cg->cg_mem, "memory.oom_control", "oom_kill",
			    &oom) == -1 ||
	    cgroup_read_key(cg->cg_pids, "pids.events", "max", &denied) == -1 ||
	    (populated = cgroup_v1_populated(cg, pid)) == -1)
		return -1;
	cgroup_counters(cg, u, oom, denied, populated);
	return 0;
}

static int
cgroup_v1_kill(struct cgroup *cg, pid_t pid)
{
	const char *dirs[2] = {cg->cg_mem, cg->cg_pids};

	(void)pid;
	return cgroup_procs_kill(dirs, 2);
}

/* --- polling /proc ------------------------------------------------------ */

static int
cgroup_proc_stat(pid_t pid, struct cgroup_proc *p)
{
	char buf[1024], *s, *f, *save = NULL;
	int field = 3;

	if (procfs_read_pid(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    (s = strrchr(buf, ')')) == NULL)
		return -1;
	/* Fields 3 (state), 4 (ppid) and 20 (num_threads) follow the comm. */
	for (f = strtok_r(s + 1, " ", &save); f != NULL && field <= 20;
	     f = strtok_r(NULL, " ", &save), field++) {
		if (field == 3)
			p->cp_state = f[0];
		else if (field == 4)
			p->cp_ppid = (pid_t)strtol(f, NULL, 10);
		else if (field == 20)
			p->cp_threads = strtol(f, NULL, 10);
	}
	p->cp_pid = pid;
	return field > 20 ? 0 : -1;
}

static int
cgroup_tree_add(struct cgroup_tree *t, size_t *cap, pid_t pid)
{
	struct cgroup_proc *p;
	size_t ncap;

	if (t->ct_len == *cap) {
		ncap = *cap != 0 ? *cap * 2 : 256;
		if (ncap > CGROUP_MAX_PROCS)
			return 0;
		if ((p = realloc(t->ct_proc, ncap * sizeof(*p))) == NULL)
			return -1;
		t->ct_proc = p;
		*cap = ncap;
	}
	if (cgroup_proc_stat(pid, &t->ct_proc[t->ct_len]) == 0)
		t->ct_len++;
	return 0;
}

/* Reads every process of /proc (at most CGROUP_MAX_PROCS). */
static int
cgroup_tree_scan(struct cgroup_tree *t)
{
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;
	int rc = 0;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while (rc == 0 && t->ct_len < CGROUP_MAX_PROCS &&
	       (d = readdir(dir)) != NULL)
		if (isdigit((unsigned char)d->d_name[0]))
			rc = cgroup_tree_add(t, &cap, (pid_t)atoi(d->d_name));
	closedir(dir);
	return rc;
}

static int
cgroup_proc_by_ppid(const void *a, const void *b)
{
	const struct cgroup_proc *x = a, *y = b;

	return (x->cp_ppid > y->cp_ppid) - (x->cp_ppid < y->cp_ppid);
}

/* Appends the children of ppid (ct_proc sorted by ppid) to the members. */
static void
cgroup_tree_children(struct cgroup_tree *t, pid_t ppid)
{
	size_t lo = 0, hi = t->ct_len, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->ct_proc[mid].cp_ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->ct_len && t->ct_proc[lo].cp_ppid == ppid; lo++)
		if (t->ct_nmember < t->ct_len)
			t->ct_member[t->ct_nmember++] = lo;
}

/* Builds the tree of root from one scan of /proc. */
static int
cgroup_tree_build(struct cgroup_tree *t, pid_t root)
{
	memset(t, 0, sizeof(*t));
	if (root <= 1) {
		errno = EINVAL;
		return -1;
	}
	if (cgroup_tree_scan(t) == -1 ||
	    (t->ct_member = calloc(t->ct_len + 1, sizeof(size_t))) == NULL)
		return -1;
	qsort(t->ct_proc, t->ct_len, sizeof(*t->ct_proc), cgroup_proc_by_ppid);
	for (size_t i = 0; i < t->ct_len; i++)
		if (t->ct_proc[i].cp_pid == root)
			t->ct_member[t->ct_nmember++] = i;
	for (size_t i = 0; i < t->ct_nmember; i++)
		cgroup_tree_children(t, t->ct_proc[t->ct_member[i]].cp_pid);
	return 0;
}

static void
cgroup_tree_free(struct cgroup_tree *t)
{
	free(t->ct_proc);
	free(t->ct_member);
	memset(t, 0, sizeof(*t));
}

static int
cgroup_proc_live(const struct cgroup_proc *p)
{
	return p->cp_state != 'Z' && p->cp_state != 'X';
}

static int
cgroup_poll_create(struct cgroup *cg)
{
	(void)cg;
	return 0;
}

static int
cgroup_poll_limits(struct cgroup *cg)
{
	(void)cg;
	return 0;
}

static int
cgroup_poll_usage(const struct cgroup *cg, pid_t pid, struct cgroup_usage *u)
{
	struct cgroup_tree t;
	const struct cgroup_proc *p;
	int64_t rss;

	(void)cg;
	if (cgroup_tree_build(&t, pid) == -1) {
		cgroup_tree_free(&t);
		return -1;
	}
	for (size_t i = 0; i < t.ct_nmember; i++) {
		p = &t.ct_proc[t.ct_member[i]];
		if (!cgroup_proc_live(p))
			continue;
		if ((rss = procfs_rss(p->cp_pid)) > 0)
			u->cu_memory += (uint64_t)rss;
		u->cu_pids += p->cp_threads > 0 ? (uint64_t)p->cp_threads : 0;
		u->cu_populated = 1;
	}
	cgroup_tree_free(&t);
	return 0;
}

static int
cgroup_poll_populated(const struct cgroup *cg, pid_t pid)
{
	struct cgroup_usage u;

	memset(&u, 0, sizeof(u));
	if (cgroup_poll_usage(cg, pid, &u) == -1)
		return -1;
	return u.cu_populated;
}

/* SIGSTOPs the members of the tree of pid not stopped yet, so that none
 * can fork while the tree is read again; returns how many, or -1. */
static int
cgroup_poll_stop(pid_t pid, struct cgroup_pidset *stopped)
{
	struct cgroup_tree t;
	const struct cgroup_proc *p;
	int n = 0, added;

	if (cgroup_tree_build(&t, pid) == -1) {
		cgroup_tree_free(&t);
		return -1;
	}
	for (size_t i = 0; i < t.ct_nmember; i++) {
		p = &t.ct_proc[t.ct_member[i]];
		if (!cgroup_proc_live(p))
			continue;
		if ((added = cgroup_pidset_add(stopped, p->cp_pid)) == 1)
			(void)kill(p->cp_pid, SIGSTOP);
		else if (added == -1)
			(void)kill(p->cp_pid, SIGKILL);
		n += added != 0;
	}
	cgroup_tree_free(&t);
	return n;
}

/* Stops the whole tree first (a parent killed first would orphan its
 * children out of reach), then kills it, deepest first. */
static int
cgroup_poll_kill(struct cgroup *cg, pid_t pid)
{
	struct cgroup_pidset stopped = {NULL, 0, 0};
	int n = 0;

	(void)cg;
	for (int round = 0; round < CGROUP_KILL_ROUNDS; round++)
		if ((n = cgroup_poll_stop(pid, &stopped)) <= 0)
			break;
	for (size_t i = stopped.ps_len; i-- > 0;)
		(void)kill(stopped.ps_pid[i], SIGKILL);
	if (n != -1 || stopped.ps_len != 0)
		n = (int)stopped.ps_len;
	free(stopped.ps_pid);
	return n;
}

/* --- public ------------------------------------------------------------- */

static const struct cgroup_backend cgroup_backends[] = {
    [CGROUP_V2] = {cgroup_v2_create, cgroup_v2_limits, cgroup_v2_usage,
		   cgroup_v2_populated, cgroup_v2_kill},
    [CGROUP_V1] = {cgroup_v1_create, cgroup_v1_limits, cgroup_v1_usage,
		   cgroup_v1_populated, cgroup_v1_kill},
    [CGROUP_POLL] = {cgroup_poll_create, cgroup_poll_limits, cgroup_poll_usage,
		     cgroup_poll_populated, cgroup_poll_kill},
};

void
cgroup_set_parent(const char *name)
{
	if (!cgroup_name_ok(name)) {
		log_error("cgroup: bad parent name, keeping %s",
			  cgroup_parent_name);
		return;
	}
	snprintf(cgroup_parent_name, sizeof(cgroup_parent_name), "%s", name);
}

const char *
cgroup_parent(void)
{
	return cgroup_parent_name;
}

enum cgroup_mode
cgroup_detect(void)
{
	if (cgroup_v2_usable())
		return CGROUP_V2;
	if (cgroup_v1_usable())
		return CGROUP_V1;
	return CGROUP_POLL;
}

const char *
cgroup_mode_name(enum cgroup_mode m)
{
	static const char *const names[] = {
	    [CGROUP_V2] = "v2",
	    [CGROUP_V1] = "v1",
	    [CGROUP_POLL] = "poll",
	};

	return (unsigned)m <= CGROUP_POLL ? names[m] : "?";
}

void
cgroup_init(struct cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->cg_mode = CGROUP_POLL;
	cg->cg_join_fd[0] = cg->cg_join_fd[1] = -1;
}

int
cgroup_create(struct cgroup *cg, enum cgroup_mode mode, const char *name,
	      uint64_t mem_max, uint64_t mem_high, uint64_t pids_max)
{
	int saved;

	cgroup_init(cg);
	if (!cgroup_name_ok(name) || (unsigned)mode > CGROUP_POLL) {
		errno = EINVAL;
		log_error("cgroup: bad group name or mode");
		return -1;
	}
	cg->cg_mode = mode;
	snprintf(cg->cg_name, sizeof(cg->cg_name), "%s", name);
	if (cgroup_backends[mode].cb_create(cg) == -1 ||
	    cgroup_set_limits(cg, mem_max, mem_high, pids_max) == -1) {
		saved = errno;
		cgroup_destroy(cg);
		errno = saved;
		return -1;
	}
	return 0;
}

int
cgroup_join_child(const struct cgroup *cg)
{
	for (int i = 0; i < 2; i++)
		if (cg->cg_join_fd[i] >= 0 &&
		    write(cg->cg_join_fd[i], "0", 1) != 1)
			return -1;
	return 0;
}

int
cgroup_set_limits(struct cgroup *cg, uint64_t mem_max, uint64_t mem_high,
		  uint64_t pids_max)
{
	cg->cg_mem_max = mem_max;
	cg->cg_mem_high = mem_high;
	cg->cg_pids_max = pids_max;
	cg->cg_mem_enforced = 0;
	cg->cg_pids_enforced = 0;
	if (cgroup_backends[cg->cg_mode].cb_limits(cg) == -1)
		return cgroup_fail(cg, "setting limits");
	return 0;
}

int
cgroup_usage(struct cgroup *cg, pid_t pid, struct cgroup_usage *u)
{
	memset(u, 0, sizeof(*u));
	return cgroup_backends[cg->cg_mode].cb_usage(cg, pid, u);
}

int
cgroup_populated(const struct cgroup *cg, pid_t pid)
{
	return cgroup_backends[cg->cg_mode].cb_populated(cg, pid);
}

int
cgroup_over_hard(const struct cgroup *cg, const struct cgroup_usage *u)
{
	if (cg->cg_mem_max != 0 && !cg->cg_mem_enforced &&
	    u->cu_memory > cg->cg_mem_max)
		return 1;
	return cg->cg_pids_max != 0 && !cg->cg_pids_enforced &&
	       u->cu_pids > cg->cg_pids_max;
}

int
cgroup_kill(struct cgroup *cg, pid_t pid)
{
	return cgroup_backends[cg->cg_mode].cb_kill(cg, pid);
}

void
cgroup_destroy(struct cgroup *cg)
{
	for (int i = 0; i < 2; i++) {
		if (cg->cg_join_fd[i] >= 0)
			close(cg->cg_join_fd[i]);
		cg->cg_join_fd[i] = -1;
	}
	cgroup_remove(cg->cg_v2);
	cgroup_remove(cg->cg_mem);
	cgroup_remove(cg->cg_pids);
}

void
cgroup_remove_parent(void)
{
	char path[PATH_MAX];

	if (cgroup_delegated)
		return; /* profd's own groups: its service manager's */
	for (size_t i = 0; i < CGROUP_NROOTS; i++)
		if (cgroup_join(path, sizeof(path), cgroup_roots[i],
				cgroup_parent_name) == 0 &&
		    cgroup_is_group(path))
			(void)rmdir(path);
}

/* Takes profd's group in hierarchy i from one line of /proc/self/cgroup
 * ("ID:CONTROLLERS:PATH"). */
static void
cgroup_own_line(char *line)
{
	char *ctl = strchr(line, ':'), *path;

	if (ctl == NULL || (path = strchr(++ctl, ':')) == NULL)
		return;
	*path++ = '\0';
	path[strcspn(path, "\n")] = '\0';
	for (int i = 0; i < CGROUP_NROOTS; i++) {
		int hit = i == CGROUP_R_V2
			      ? ctl[0] == '\0'
			      : cgroup_has_name(ctl, cgroup_v1_names[i]);

		if (!hit || strcmp(path, "/") == 0 ||
		    strstr(path, "..") != NULL)
			continue;
		snprintf(cgroup_own[i], PATH_MAX, "%s%s", cgroup_roots[i],
			 path);
		if (!cgroup_is_group(cgroup_own[i]))
			cgroup_own[i][0] = '\0';
	}
}

int
cgroup_delegate(void)
{
	char line[PATH_MAX + 64];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		cgroup_own_line(line);
	fclose(f);
	/* A v2 group, or both v1 groups: what a mode can work in. */
	if (cgroup_own[CGROUP_R_V2][0] != '\0' ||
	    (cgroup_own[CGROUP_R_MEM][0] != '\0' &&
	     cgroup_own[CGROUP_R_PIDS][0] != '\0')) {
		cgroup_delegated = 1;
		for (int i = 0; i < CGROUP_NROOTS; i++)
			if (cgroup_own[i][0] != '\0')
				log_info("cgroups: inside profd's own %s",
					 cgroup_own[i]);
		return 0;
	}
	cgroup_delegated = 0;
	errno = ENOENT;
	return -1;
}
