/* Reading small files under /proc. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

ssize_t
procfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n = 0, total = 0;
	int fd;

	if (len == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	if (n == -1)
		return -1;
	buf[total] = '\0';
	return total;
}

ssize_t
procfs_read_pid(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return procfs_read(path, buf, len);
}

int
procfs_comm(pid_t pid, char *buf, size_t len)
{
	ssize_t n = procfs_read_pid(pid, "comm", buf, len);

	if (n <= 0)
		return -1;
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int
procfs_alive(pid_t pid)
{
	char buf[512], *p;

	if (pid <= 0 || procfs_read_pid(pid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	/* The state follows the last ')' of the comm field. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	return p[2] != 'Z' && p[2] != 'X';
}

int64_t
procfs_rss(pid_t pid)
{
	char buf[128];
	unsigned long long size, resident;

	if (procfs_read_pid(pid, "statm", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -1;
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

int
procfs_count_processes(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (isdigit((unsigned char)d->d_name[0]))
			n++;
	closedir(dir);
	return n;
}

int
procfs_cpu(struct procfs_cpu *c)
{
	char buf[512];
	unsigned long long v[8] = {0};

	if (procfs_read("/proc/stat", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return -1;
	c->pc_total = 0;
	for (int i = 0; i < 8; i++)
		c->pc_total += v[i];
	c->pc_busy = c->pc_total - v[3] - v[4];
	return 0;
}

static uint64_t
meminfo_field(const char *buf, const char *name)
{
	const char *p = strstr(buf, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

double
procfs_mem_used(void)
{
	char buf[4096];
	uint64_t total, avail;

	if (procfs_read("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	total = meminfo_field(buf, "MemTotal:");
	avail = meminfo_field(buf, "MemAvailable:");
	if (total == 0 || avail > total)
		return -1;
	return 100.0 * (double)(total - avail) / (double)total;
}

int64_t
procfs_nspid(pid_t pid)
{
	char buf[4096], *line, *last = NULL, *tok, *save;
	uint64_t v;

	if (procfs_read_pid(pid, "status", buf, sizeof(buf)) == -1)
		return -1;
	if ((line = strstr(buf, "\nNSpid:")) == NULL)
		return pid;
	line += 7;
	line[strcspn(line, "\n")] = '\0';
	for (tok = strtok_r(line, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save))
		last = tok;
	if (last == NULL || parse_u64(last, 1, PROFD_PID_MAX, &v) == -1)
		return -1;
	return (int64_t)v;
}

/* Keeps fd only if it is a regular file; else closes it (EINVAL). */
static int
procfs_only_regular(int fd)
{
	struct stat st;
	int err;

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		err = errno;
	else if (S_ISREG(st.st_mode))
		return fd;
	else
		err = EINVAL;
	close(fd);
	errno = err;
	return -1;
}

int
procfs_open_regular(const char *path)
{
	return procfs_only_regular(
	    open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
}

int
procfs_open_in_root(pid_t pid, const char *cwd, const char *path, int nolinks)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
		       (nolinks ? RESOLVE_NO_SYMLINKS : 0),
	};
	char root[64], full[4096];
	int dir, fd, err;

	if (path[0] != '/' && cwd != NULL)
		snprintf(full, sizeof(full), "%s/%s", cwd, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	if ((dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, full, &how, sizeof(how));
	err = errno;
	close(dir);
	errno = err;
	return procfs_only_regular(fd);
}

unsigned long long
procfs_start_time(pid_t pid)
{
	char buf[1024], *p;
	unsigned long long start = 0;

	/* comm may hold anything, ')' too: the fields follow the last. */
	if (procfs_read_pid(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
		   "%*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

int64_t
procfs_age_s(pid_t pid)
{
	unsigned long long start = procfs_start_time(pid);
	long hz = sysconf(_SC_CLK_TCK);
	char buf[64];
	double up;

	if (start == 0 || hz <= 0 ||
	    procfs_read("/proc/uptime", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%lf", &up) != 1 || up * (double)hz < (double)start)
		return -1;
	return (int64_t)((up * (double)hz - (double)start) / (double)hz);
}
