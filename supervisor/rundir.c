/* The runtime directory, the one-per-host lock, the output directory. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "profd.h"
#include "sandbox.h"

#define LOCK_NAME "profd.pid"

static int
rundir_lock(struct profd *p)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/" LOCK_NAME, p->p_opts.po_rundir);
	p->p_lockfd =
	    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (p->p_lockfd == -1) {
		log_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(p->p_lockfd, LOCK_EX | LOCK_NB) == -1) {
		n = read(p->p_lockfd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_error("another profd is running (pid %s, lock %s); stop it "
			  "first (systemctl stop profd, or kill that pid)",
			  buf[0] ? buf : "?", path);
		close(p->p_lockfd);
		p->p_lockfd = -1;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(p->p_lockfd, 0) == -1 ||
	    pwrite(p->p_lockfd, buf, (size_t)n, 0) != n)
		log_warn("cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Workers run as another user: every directory above the runtime
 * directory must let them through. */
static int
rundir_reachable(const char *dir, uid_t uid)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		if (stat(path[0] ? path : "/", &st) == -1)
			return -1;
		if (st.st_uid != uid && !(st.st_mode & S_IXOTH)) {
			log_error("workers (uid %u) cannot reach %s: %s is "
				  "not searchable (chmod o+x it)",
				  (unsigned)uid, dir, path[0] ? path : "/");
			return -1;
		}
	}
	return 0;
}

/* Removes the worker sockets a profd killed before its clean-up left
 * (their names are random): the lock is ours, so their profd is gone. */
static void
rundir_remove_stale(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	size_t len;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (d->d_type != DT_SOCK || len < 5 ||
		    strcmp(d->d_name + len - 4, ".ctl") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path) == -1)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(dp);
}

int
rundir_setup(struct profd *p)
{
	const char *dir = p->p_opts.po_rundir;
	struct stat st;

	if (dir[0] != '/') {
		log_error("the runtime directory must be an absolute path");
		return -1;
	}
	if (mkdir(dir, 0711) == 0)
		p->p_made_rundir = 1;
	else if (errno != EEXIST) {
		log_error("cannot create the runtime directory %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0022) != 0) {
		log_error("%s must be a directory owned by root and writable "
			  "only by root",
			  dir);
		return -1;
	}
	if (chmod(dir, 0711) == -1)
		return -1;
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (rundir_reachable(dir, p->p_workers[i].w_uid) == -1)
			return -1;
	if (rundir_lock(p) == -1)
		return -1;
	rundir_remove_stale(dir);
	return 0;
}

/* The uploader's directory holds its chunk socket: group profd-chunks
 * (which every profiler keeps) may pass through it, and the socket made
 * in it takes that group (setgid). Without that group, only workers of
 * the uploader's own uid could reach it. */
static int
rundir_upload_group(struct profd *p, const struct worker *w, gid_t *gid,
		    mode_t *mode)
{
	struct group *gr = getgrnam(SANDBOX_CHUNK_GROUP);

	if (gr != NULL) {
		*gid = gr->gr_gid;
		*mode = 02710;
		return 0;
	}
	for (size_t i = 0; i < p->p_nworkers; i++)
		if (p->p_workers[i].w_profiler &&
		    p->p_workers[i].w_uid != w->w_uid) {
			log_error("group %s does not exist, so profd-%s cannot "
				  "reach the uploader (contrib/setup.sh or "
				  "systemd-sysusers creates it)",
				  SANDBOX_CHUNK_GROUP, p->p_workers[i].w_name);
			return -1;
		}
	return 0;
}

int
rundir_worker(struct profd *p, const struct worker *w)
{
	char path[PATH_MAX];
	gid_t gid = w->w_gid;
	mode_t mode = 0700;

	if (!w->w_profiler && rundir_upload_group(p, w, &gid, &mode) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", p->p_opts.po_rundir, w->w_name);
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_error("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (chown(path, w->w_uid, gid) == -1 || chmod(path, mode) == -1) {
		log_error("cannot hand %s to uid %u: %s", path,
			  (unsigned)w->w_uid, strerror(errno));
		return -1;
	}
	return 0;
}

/* Removes dir and the files in it (workers keep no subdirectories). */
static void
remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path) == -1)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(dp);
	if (rmdir(dir) == -1)
		log_warn("cannot remove %s: %s", dir, strerror(errno));
}

void
rundir_cleanup(struct profd *p)
{
	char path[PATH_MAX];

	/* Without the lock, what is there belongs to another profd. */
	if (p->p_lockfd == -1) {
		if (p->p_made_rundir)
			rmdir(p->p_opts.po_rundir);
		return;
	}
	for (size_t i = 0; i < p->p_nworkers; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->p_opts.po_rundir,
			 p->p_workers[i].w_name);
		remove_dir(path);
		snprintf(path, sizeof(path), "%s/%s", p->p_opts.po_rundir,
			 p->p_workers[i].w_channel);
		if (p->p_workers[i].w_channel[0] != '\0')
			unlink(path);
	}
	snprintf(path, sizeof(path), "%s/control.sock", p->p_opts.po_rundir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" LOCK_NAME, p->p_opts.po_rundir);
	unlink(path);
	close(p->p_lockfd);
	p->p_lockfd = -1;
	if (p->p_made_rundir)
		rmdir(p->p_opts.po_rundir);
}

/* Whether uid/gid may write into a directory with status st. */
static int
dir_writable(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & S_IWUSR) && (st->st_mode & S_IXUSR);
	if (st->st_gid == gid)
		return (st->st_mode & S_IWGRP) && (st->st_mode & S_IXGRP);
	return (st->st_mode & S_IWOTH) && (st->st_mode & S_IXOTH);
}

/* An output directory that profd did not make is used only if it is
 * owned by root, by the uploader's user (or an older install's shared
 * one) and nobody else may write in it; one the uploader cannot write in
 * becomes the uploader's. NULL, or why it is refused. */
static const char *
outdir_refused(int fd, const struct stat *st, const struct worker *up)
{
	const struct passwd *old = getpwnam(SANDBOX_SHARED_USER);

	/* An older install's shared worker user counts as profd's own. */
	if (st->st_uid != 0 && st->st_uid != up->w_uid &&
	    (old == NULL || st->st_uid != old->pw_uid))
		return "it is owned by another user";
	if (st->st_mode & S_IWOTH)
		return "others may write in it";
	if ((st->st_mode & S_IWGRP) && st->st_gid != up->w_gid &&
	    st->st_gid != 0)
		return "another group may write in it";
	if (st->st_uid != up->w_uid &&
	    !dir_writable(st, up->w_uid, up->w_gid) &&
	    fchown(fd, up->w_uid, (gid_t)-1) == -1)
		return "it cannot be handed to the uploader's user";
	return NULL;
}

int
outdir_open(struct profd *p)
{
	const char *dir = p->p_opts.po_outdir, *why;
	struct worker *up = workers_find(p, "upload");
	struct stat st;
	int made = 0;

	if (dir == NULL || up == NULL)
		return 0; /* uploads only */
	if (mkdir(dir, 0750) == 0)
		made = 1;
	else if (errno != EEXIST) {
		log_error("cannot create the output directory %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	p->p_outfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->p_outfd == -1 || fstat(p->p_outfd, &st) == -1) {
		log_error("cannot open the output directory %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	if (made && fchown(p->p_outfd, up->w_uid, up->w_gid) == -1) {
		log_error("cannot hand %s to uid %u: %s", dir,
			  (unsigned)up->w_uid, strerror(errno));
		return -1;
	}
	if (!made && (why = outdir_refused(p->p_outfd, &st, up)) != NULL) {
		log_error("the output directory %s is refused: %s (use a new "
			  "directory, or one owned by root or by the "
			  "uploader's user that only they may write in)",
			  dir, why);
		return -1;
	}
	return 0;
}
