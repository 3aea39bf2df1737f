/* Per-worker cgroups (v2, v1, or polling /proc): limits, usage, kill. */
#ifndef PROFD_CGROUP_H
#define PROFD_CGROUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_NAME_MAX 64 /* bytes of a group or parent name, with NUL */

enum cgroup_mode {
	CGROUP_V2,   /* one cgroup2 group with memory and pids controllers */
	CGROUP_V1,   /* a memory group and a pids group in the v1 trees */
	CGROUP_POLL, /* no group: the worker's process tree read from /proc */
};

struct cgroup {
	enum cgroup_mode cg_mode;
	char cg_name[CGROUP_NAME_MAX];
	char cg_v2[PATH_MAX];	/* v2 directory, "" when unused */
	char cg_mem[PATH_MAX];	/* v1 memory directory, "" when unused */
	char cg_pids[PATH_MAX]; /* v1 pids directory, "" when unused */
	int cg_join_fd[2];     /* cgroup.procs, O_WRONLY|O_CLOEXEC; -1 unused */
	uint64_t cg_mem_max;   /* hard memory limit, bytes; 0 = unlimited */
	uint64_t cg_mem_high;  /* soft memory limit, bytes; 0 = unlimited */
	uint64_t cg_pids_max;  /* tasks (threads); 0 = unlimited */
	uint64_t cg_oom_base;  /* oom_kill count when created */
	uint64_t cg_pids_base; /* pids.events max count when created */
	int cg_mem_enforced;   /* 1 when the kernel holds cg_mem_max */
	int cg_pids_enforced;  /* 1 when the kernel holds cg_pids_max */
};

struct cgroup_usage {
	uint64_t cu_memory;	 /* bytes charged (v1 without inactive file
				    cache), or summed RSS in poll mode */
	uint64_t cu_pids;	 /* tasks (threads) in the group or tree */
	uint64_t cu_oom_kills;	 /* OOM kills since cgroup_create */
	uint64_t cu_pids_denied; /* forks refused since cgroup_create */
	int cu_populated;	 /* 1 while any process is left */
};

/* Sets the parent group under which every worker group is made (default
 * "profd"); a name with '/' or "." / ".." is refused and logged. */
void cgroup_set_parent(const char *name);
/* Returns the parent group name. */
const char *cgroup_parent(void);
/* Makes every worker group inside profd's own groups (a subtree its
 * service manager delegated: systemd's Delegate=yes), in each hierarchy
 * where profd is in a group other than the root; in v2 profd moves itself
 * into a leaf "_supervisor" of its group. 0, or -1 (errno) when profd is in
 * no such group. */
int cgroup_delegate(void);
/* Detects what profd can use here: v2 when the memory and pids controllers
 * can be enabled for its groups, else v1 when the memory and pids trees are
 * writable, else poll. May create the parent group. */
enum cgroup_mode cgroup_detect(void);
/* Returns "v2", "v1" or "poll". */
const char *cgroup_mode_name(enum cgroup_mode m);
/* Clears cg so that cgroup_destroy on it is harmless. */
void cgroup_init(struct cgroup *cg);
/* Creates (or empties and reuses) the group name under the parent with the
 * limits and opens the join fds; in poll mode only records the limits.
 * 0, or -1 with errno and a logged reason. */
int cgroup_create(struct cgroup *cg, enum cgroup_mode mode, const char *name,
		  uint64_t mem_max, uint64_t mem_high, uint64_t pids_max);
/* In a forked child before exec: moves the caller into the group through
 * the join fds. Async-signal-safe; 0 or -1. No-op in poll mode. */
int cgroup_join_child(const struct cgroup *cg);
/* Changes and records the limits; a v1 memory limit below the usage
 * (EBUSY) is recorded but left to cgroup_over_hard. 0 or -1 with errno. */
int cgroup_set_limits(struct cgroup *cg, uint64_t mem_max, uint64_t mem_high,
		      uint64_t pids_max);
/* Reads the usage of the group, or of the process tree of pid in poll
 * mode. 0 or -1 with errno. */
int cgroup_usage(struct cgroup *cg, pid_t pid, struct cgroup_usage *u);
/* Returns 1 if any process is left in the group (poll: the tree of pid),
 * 0 if none, -1 with errno. */
int cgroup_populated(const struct cgroup *cg, pid_t pid);
/* Returns 1 when u is over a hard limit that the kernel does not enforce
 * (poll mode, or a memory limit the kernel refused), else 0. */
int cgroup_over_hard(const struct cgroup *cg, const struct cgroup_usage *u);
/* SIGKILLs every process of the group (poll: the tree of pid); returns how
 * many were signalled, or -1 with errno. */
int cgroup_kill(struct cgroup *cg, pid_t pid);
/* Removes the group's directories once empty and closes its fds; safe to
 * call twice. */
void cgroup_destroy(struct cgroup *cg);
/* Removes the parent groups if empty (at exit). */
void cgroup_remove_parent(void);

#endif
