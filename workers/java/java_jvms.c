/* Finding JVMs and deciding which may be attached. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "java.h"
#include "procfs.h"
#include "util.h"

/* The second (effective) value of a "Uid:" or "Gid:" line. */
static int
status_id(const char *buf, const char *key, unsigned *out)
{
	const char *p = strstr(buf, key);

	return p != NULL && sscanf(p + strlen(key), "%*u %u", out) == 1 ? 0
									: -1;
}

static int
status_mask(const char *buf, const char *key, uint64_t *out)
{
	const char *p = strstr(buf, key);
	unsigned long long v;

	if (p == NULL || sscanf(p + strlen(key), "%llx", &v) != 1)
		return -1;
	*out = v;
	return 0;
}

int
java_target(pid_t pid, struct jattach_target *t)
{
	char buf[4096];
	uint64_t cgt = 0, ign = 0, quit = 1ULL << (3 - 1);
	unsigned uid, gid;

	if (procfs_read_pid(pid, "status", buf, sizeof(buf)) <= 0 ||
	    status_id(buf, "\nUid:", &uid) == -1 ||
	    status_id(buf, "\nGid:", &gid) == -1 ||
	    status_mask(buf, "\nSigCgt:", &cgt) == -1 ||
	    status_mask(buf, "\nSigIgn:", &ign) == -1 ||
	    (t->jt_nspid = procfs_nspid(pid)) == -1)
		return -1;
	t->jt_pid = pid;
	t->jt_uid = uid;
	t->jt_gid = gid;
	t->jt_sigquit = (cgt & quit) && !(ign & quit);
	return 0;
}

/* Finds the path of libjvm.so in pid's maps into path; 0 or -1. */
static int
java_libjvm(pid_t pid, char *path, size_t len)
{
	struct jattach_maps *m = malloc(sizeof(*m));
	int rv = -1;

	if (m != NULL && jattach_maps(pid, m) == 0) {
		snprintf(path, len, "%s", m->jm_libjvm);
		rv = 0;
	}
	free(m);
	return rv;
}

int
java_is_jvm(pid_t pid)
{
	char path[4096];

	return java_libjvm(pid, path, sizeof(path)) == 0;
}

/* Reads the JDK's feature release from the release file beside
 * libjvm.so (lib/server/ or jre/lib/amd64/server/), as the JVM sees it.
 * 0 when unknown. */
static int
java_version(pid_t pid)
{
	char lib[4096], buf[4096], *p, *q;
	int fd, v = 0;
	ssize_t n;

	if (java_libjvm(pid, lib, sizeof(lib)) == -1)
		return 0;
	for (int up = 0; up < 5 && (p = strrchr(lib, '/')) != NULL; up++) {
		*p = '\0';
		snprintf(buf, sizeof(buf), "%s/release", lib);
		if ((fd = procfs_open_in_root(pid, NULL, buf, 0)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return 0;
		buf[n] = '\0';
		if ((q = strstr(buf, "JAVA_VERSION=\"")) == NULL)
			return 0;
		q += 14;
		v = atoi(q);
		if (v == 1 && q[1] == '.')
			v = atoi(q + 2); /* "1.8.0_392" */
		return v;
	}
	return 0;
}

/* Returns 1 if the NUL-separated command line of pid has argument arg. */
static int
cmdline_has(const char *cmd, size_t len, const char *arg)
{
	for (size_t off = 0; off < len; off += strlen(cmd + off) + 1)
		if (strcmp(cmd + off, arg) == 0)
			return 1;
	return 0;
}

static ssize_t
read_cmdline(pid_t pid, char *buf, size_t len)
{
	ssize_t n = procfs_read_pid(pid, "cmdline", buf, len);

	return n < 0 ? -1 : n;
}

int
java_crashed(pid_t pid)
{
	char path[128];
	struct stat st;
	int64_t ns = procfs_nspid(pid);

	snprintf(path, sizeof(path), "/proc/%d/cwd/hs_err_pid%lld.log",
		 (int)pid, (long long)ns);
	if (stat(path, &st) == 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/root/tmp/hs_err_pid%lld.log",
		 (int)pid, (long long)ns);
	return stat(path, &st) == 0;
}

int
java_why_skip(pid_t pid, const struct java_opts *o, char *reason, size_t len)
{
	char cmd[16384];
	ssize_t n = read_cmdline(pid, cmd, sizeof(cmd));
	int v;

	if (n < 0) {
		snprintf(reason, len, "the process is gone");
		return 1;
	}
	if (cmdline_has(cmd, (size_t)n, "-XX:-EnableDynamicAgentLoading")) {
		snprintf(reason, len,
			 "dynamic agent loading is disabled "
			 "(-XX:-EnableDynamicAgentLoading)");
		return 1;
	}
	if (cmdline_has(cmd, (size_t)n, "-XX:+DisableAttachMechanism")) {
		snprintf(reason, len,
			 "the attach mechanism is disabled "
			 "(-XX:+DisableAttachMechanism)");
		return 1;
	}
	v = java_version(pid);
	if (v != 0 && (v < JAVA_MIN_VERSION || v > JAVA_MAX_VERSION)) {
		snprintf(reason, len, "JDK version %d is not supported", v);
		return 1;
	}
	if (o->jo_safemode && java_crashed(pid)) {
		snprintf(reason, len,
			 "safe mode: the JVM crashed "
			 "(hs_err_pid file)");
		return 1;
	}
	return 0;
}

/* FNV-1a over the whole command line. */
static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

int
java_identify(pid_t pid, struct java_jvm *j)
{
	char buf[16384];
	unsigned long long start;
	ssize_t n;

	if ((start = procfs_start_time(pid)) == 0)
		return -1;
	j->jj_pid = pid;
	j->jj_starttime = start;
	if (procfs_comm(pid, j->jj_comm, sizeof(j->jj_comm)) == -1)
		return -1;
	n = read_cmdline(pid, buf, sizeof(buf));
	j->jj_cmdhash = hash_bytes(buf, n > 0 ? (size_t)n : 0);
	return 0;
}

uint64_t
java_cpu_ticks(pid_t pid)
{
	char buf[1024], *p;
	unsigned long long ut = 0, st = 0;

	if (procfs_read_pid(pid, "stat", buf, sizeof(buf)) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return 0;
	return ut + st;
}
