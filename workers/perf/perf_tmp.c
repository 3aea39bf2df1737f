/* Removing the /tmp/perf-vdso.so-XXXXXX files of killed perf records. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "perf_tmp.h"
#include "procfs.h"

#define PERF_TMP_DIR	"/tmp"
#define PERF_TMP_PREFIX "perf-vdso.so-" /* fixed in perf's source */
#define PERF_TMP_LIVE	64		/* running perfs of this uid, at most */
#define PERF_TMP_SLACK	10 /* s: a perf writes its file this soon */

/* The start times (epoch s) of this uid's running perf processes, at most
 * max; -1 when /proc cannot be read. */
static int
perf_tmp_live(uid_t uid, time_t *starts, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && n < max) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
		struct stat st;
		char comm[32];
		int64_t age;

		if (pid <= 0 || fstatat(dirfd(d), e->d_name, &st, 0) == -1 ||
		    st.st_uid != uid || procfs_comm(pid, comm, sizeof(comm)) ||
		    strcmp(comm, "perf") != 0 || (age = procfs_age_s(pid)) < 0)
			continue;
		starts[n++] = time(NULL) - (time_t)age;
	}
	closedir(d);
	return n;
}

/* Whether a file written at mtime may be one of those perfs'. */
static int
perf_tmp_owned(time_t mtime, const time_t *starts, int n)
{
	for (int i = 0; i < n; i++)
		if (mtime >= starts[i] - 2 &&
		    mtime <= starts[i] + PERF_TMP_SLACK)
			return 1;
	return 0;
}

int
perf_tmp_sweep(void)
{
	time_t starts[PERF_TMP_LIVE];
	uid_t uid = geteuid();
	struct dirent *e;
	int n, gone = 0;
	DIR *d;

	if (uid == 0 || (n = perf_tmp_live(uid, starts, PERF_TMP_LIVE)) < 0 ||
	    n == PERF_TMP_LIVE || (d = opendir(PERF_TMP_DIR)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(e->d_name, PERF_TMP_PREFIX,
			    strlen(PERF_TMP_PREFIX)) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || st.st_uid != uid ||
		    perf_tmp_owned(st.st_mtime, starts, n))
			continue;
		gone += unlinkat(dirfd(d), e->d_name, 0) == 0;
	}
	closedir(d);
	if (gone > 0)
		log_info("removed %d %s/" PERF_TMP_PREFIX "* left by killed "
			 "perf processes",
			 gone, PERF_TMP_DIR);
	return gone;
}
