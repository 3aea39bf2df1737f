/* Reading small files under /proc. */
#ifndef PROFD_PROCFS_H
#define PROFD_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procfs_cpu {
	uint64_t pc_busy;  /* jiffies not idle */
	uint64_t pc_total; /* all jiffies */
};

/* Reads at most len-1 bytes of path into buf, NUL-terminated; returns the
 * length, or -1 with errno. */
ssize_t procfs_read(const char *path, char *buf, size_t len);
/* Same for /proc/PID/NAME. */
ssize_t procfs_read_pid(pid_t pid, const char *name, char *buf, size_t len);
/* The start time of pid in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid, it names one process for good. 0 if the
 * process is gone or its stat does not parse. */
unsigned long long procfs_start_time(pid_t pid);
/* Seconds since pid started, or -1. */
int64_t procfs_age_s(pid_t pid);
/* Stores the comm of pid (newline removed) in buf; -1 if it is gone. */
int procfs_comm(pid_t pid, char *buf, size_t len);
/* Returns 1 if pid exists and is not a zombie, else 0. */
int procfs_alive(pid_t pid);
/* Returns pid's PID in its own (innermost) PID namespace, from the NSpid
 * line of /proc/PID/status; pid itself on kernels without it; -1 if gone. */
int64_t procfs_nspid(pid_t pid);
/* Opens path (absolute, or relative to cwd when not NULL) read-only as
 * process pid sees it: through /proc/PID/root with RESOLVE_IN_ROOT, so that
 * no symbolic link leads out of the process's root; with nolinks, no
 * symbolic link is followed at all. Only a regular file is returned. fd
 * (close-on-exec, non-blocking) or -1 with errno. */
int procfs_open_in_root(pid_t pid, const char *cwd, const char *path,
			int nolinks);
/* Opens path read-only, close-on-exec and non-blocking (a FIFO does not
 * hang the caller); only a regular file is returned: fd, or -1 with errno
 * (EINVAL: not a regular file). */
int procfs_open_regular(const char *path);
/* Returns the resident set of pid in bytes, or -1. */
int64_t procfs_rss(pid_t pid);
/* Returns the number of processes on the host, or -1. */
int procfs_count_processes(void);
/* Reads the host's CPU counters from /proc/stat. */
int procfs_cpu(struct procfs_cpu *c);
/* Returns the percentage of host memory in use, or -1. */
double procfs_mem_used(void);

#endif
